//! Typed metadata (Dagster's `MetadataValue`): what an op attaches to its outputs with
//! [`OpContext::add_output_metadata`](crate::OpContext::add_output_metadata) — a number the
//! UI plots over materializations, a link, a path, a table's schema.

use crate::bindings::weft::plugin::types as wit;
use serde::Serialize;

/// One column of a table schema (Dagster's `TableColumn`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableColumn {
    pub name: String,
    /// The column's type as the table names it (`string`, `int`...).
    pub type_name: String,
    pub description: Option<String>,
}

impl TableColumn {
    /// A column with no description.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            type_name: type_name.into(),
            description: None,
        }
    }
}

/// A metadata value. Numbers, booleans and strings convert with `into()`; the other kinds
/// have constructors (`MetadataValue::url(...)`, `::path`, `::md`, `::json`, `::table_schema`).
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// JSON text.
    Json(String),
    Url(String),
    Path(String),
    Markdown(String),
    TableSchema(Vec<TableColumn>),
}

impl MetadataValue {
    /// A link.
    pub fn url(url: impl Into<String>) -> Self {
        Self::Url(url.into())
    }
    /// A filesystem or object-store path.
    pub fn path(path: impl Into<String>) -> Self {
        Self::Path(path.into())
    }
    /// Markdown text.
    pub fn md(text: impl Into<String>) -> Self {
        Self::Markdown(text.into())
    }
    /// Any serializable value, as JSON (`null` if it cannot be serialized).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        Self::Json(serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
    }
    /// A table's columns.
    pub fn table_schema(columns: impl IntoIterator<Item = TableColumn>) -> Self {
        Self::TableSchema(columns.into_iter().collect())
    }

    pub(crate) fn to_wit(&self) -> wit::MetadataValue {
        match self {
            Self::Text(s) => wit::MetadataValue::Text(s.clone()),
            Self::Int(n) => wit::MetadataValue::Int(*n),
            Self::Float(x) => wit::MetadataValue::Float(*x),
            Self::Bool(b) => wit::MetadataValue::Bool(*b),
            Self::Json(s) => wit::MetadataValue::Json(s.clone()),
            Self::Url(s) => wit::MetadataValue::Url(s.clone()),
            Self::Path(s) => wit::MetadataValue::Path(s.clone()),
            Self::Markdown(s) => wit::MetadataValue::Markdown(s.clone()),
            Self::TableSchema(columns) => wit::MetadataValue::TableSchema(
                columns
                    .iter()
                    .map(|c| wit::TableColumn {
                        name: c.name.clone(),
                        type_: c.type_name.clone(),
                        description: c.description.clone(),
                    })
                    .collect(),
            ),
        }
    }
}

impl From<&str> for MetadataValue {
    fn from(s: &str) -> Self {
        Self::Text(s.into())
    }
}
impl From<String> for MetadataValue {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}
impl From<bool> for MetadataValue {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}
impl From<f64> for MetadataValue {
    fn from(x: f64) -> Self {
        Self::Float(x)
    }
}
impl From<f32> for MetadataValue {
    fn from(x: f32) -> Self {
        Self::Float(x.into())
    }
}

macro_rules! ints {
    ($($t:ty),*) => {$(
        impl From<$t> for MetadataValue {
            fn from(n: $t) -> Self {
                Self::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
ints!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
