//! Typed metadata (Dagster's `MetadataValue`): what a step attaches to an output, a
//! materialization or a check result — row counts, paths, links, a table's schema.
//!
//! Stored and served as `{"type": "int", "value": 3}` per key, so the UI knows how to show
//! a value and which ones it can plot over materializations (`int`, `float`). Events
//! written before metadata was typed held plain strings; they read back as `text`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Metadata by key, ordered by key.
pub type Metadata = BTreeMap<String, MetadataValue>;

/// One column of a table schema (Dagster's `TableColumn`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A typed metadata value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum MetadataValue {
    Text(String),
    Int(i64),
    /// Always finite: [`MetadataValue::float`] keeps NaN and infinities as text.
    Float(f64),
    Bool(bool),
    Json(serde_json::Value),
    Url(String),
    Path(String),
    Markdown(String),
    TableSchema(Vec<TableColumn>),
}

impl MetadataValue {
    /// A float, or its text when it is not finite (JSON has no NaN).
    pub fn float(value: f64) -> Self {
        if value.is_finite() {
            MetadataValue::Float(value)
        } else {
            MetadataValue::Text(value.to_string())
        }
    }

    /// JSON from its text, or the text itself when it is not JSON.
    pub fn json_text(text: &str) -> Self {
        match serde_json::from_str(text) {
            Ok(json) => MetadataValue::Json(json),
            Err(_) => MetadataValue::Text(text.to_owned()),
        }
    }

    /// The value as a number, for plotting: `int` and `float` only.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            MetadataValue::Int(n) => Some(*n as f64),
            MetadataValue::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// How a person reads it on one line.
    pub fn display(&self) -> String {
        match self {
            MetadataValue::Text(s)
            | MetadataValue::Url(s)
            | MetadataValue::Path(s)
            | MetadataValue::Markdown(s) => s.clone(),
            MetadataValue::Int(n) => n.to_string(),
            MetadataValue::Float(x) => x.to_string(),
            MetadataValue::Bool(b) => b.to_string(),
            MetadataValue::Json(j) => j.to_string(),
            MetadataValue::TableSchema(columns) => columns
                .iter()
                .map(|c| format!("{}: {}", c.name, c.type_name))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The typed form, or (events stored before 0.5.0) a plain string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Typed(Typed),
    Plain(String),
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
enum Typed {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Json(serde_json::Value),
    Url(String),
    Path(String),
    Markdown(String),
    TableSchema(Vec<TableColumn>),
}

impl<'de> Deserialize<'de> for MetadataValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Stored::deserialize(d)? {
            Stored::Plain(text) => MetadataValue::Text(text),
            Stored::Typed(t) => match t {
                Typed::Text(s) => MetadataValue::Text(s),
                Typed::Int(n) => MetadataValue::Int(n),
                Typed::Float(x) => MetadataValue::float(x),
                Typed::Bool(b) => MetadataValue::Bool(b),
                Typed::Json(j) => MetadataValue::Json(j),
                Typed::Url(s) => MetadataValue::Url(s),
                Typed::Path(s) => MetadataValue::Path(s),
                Typed::Markdown(s) => MetadataValue::Markdown(s),
                Typed::TableSchema(c) => MetadataValue::TableSchema(c),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_round_trip_and_plain_strings_read_as_text() {
        let mut m = Metadata::new();
        m.insert("rows".into(), MetadataValue::Int(3));
        m.insert("ratio".into(), MetadataValue::float(0.5));
        m.insert("nan".into(), MetadataValue::float(f64::NAN));
        m.insert(
            "schema".into(),
            MetadataValue::TableSchema(vec![TableColumn {
                name: "id".into(),
                type_name: "int".into(),
                description: None,
            }]),
        );
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["rows"], serde_json::json!({"type": "int", "value": 3}));
        assert_eq!(
            json["nan"],
            serde_json::json!({"type": "text", "value": "NaN"})
        );
        assert_eq!(json["schema"]["value"][0]["type"], "int");
        let back: Metadata = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
        let old: Metadata = serde_json::from_str(r#"{"path": "/tmp/x"}"#).unwrap();
        assert_eq!(old["path"], MetadataValue::Text("/tmp/x".into()));
        assert_eq!(back["rows"].as_number(), Some(3.0));
        assert_eq!(back["schema"].display(), "id: int");
    }
}
