//! Assets (`#[asset]`), asset jobs ([`define_asset_job`]) and [`AssetSelection`]s.

use crate::bindings::weft::plugin::types as wit;
use crate::op::OpSpec;

/// An asset as `#[asset]` describes it: its key, group, kinds, extra deps and compute op.
#[doc(hidden)]
#[derive(Debug)]
pub struct AssetSpec {
    pub key_prefix: &'static [&'static str],
    pub group: &'static str,
    pub kinds: &'static [&'static str],
    /// Ordering-only dependencies, as keys joined with `/`.
    pub deps: &'static [&'static str],
    pub op: OpSpec,
}

impl AssetSpec {
    /// The asset's key: its prefix, then its name.
    pub fn key(&self) -> Vec<String> {
        self.key_prefix
            .iter()
            .chain([&self.op.name])
            .map(|s| s.to_string())
            .collect()
    }
}

/// Which assets an asset job materializes (Dagster's `AssetSelection`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetSelection {
    terms: Vec<String>,
}

impl AssetSelection {
    /// Every asset.
    pub fn all() -> Self {
        Self {
            terms: vec!["*".into()],
        }
    }

    /// The assets of these groups.
    pub fn groups<S: AsRef<str>>(groups: impl IntoIterator<Item = S>) -> Self {
        Self {
            terms: groups
                .into_iter()
                .map(|g| format!("group:{}", g.as_ref()))
                .collect(),
        }
    }

    /// The assets with these keys, written `a/b`.
    pub fn keys<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Self {
        Self {
            terms: keys
                .into_iter()
                .map(|k| format!("key:{}", k.as_ref()))
                .collect(),
        }
    }

    /// Adds everything downstream of the selection.
    pub fn downstream(mut self) -> Self {
        self.terms.iter_mut().for_each(|t| t.push('+'));
        self
    }

    /// Adds everything upstream of the selection.
    pub fn upstream(mut self) -> Self {
        self.terms.iter_mut().for_each(|t| t.insert(0, '+'));
        self
    }

    /// The union of two selections.
    pub fn or(mut self, other: AssetSelection) -> Self {
        self.terms.extend(other.terms);
        self
    }

    /// The selection in Weft's syntax, e.g. `group:numbers`.
    pub fn to_selection_string(&self) -> String {
        self.terms.join(",")
    }
}

/// An asset job (Dagster's `define_asset_job`): the assets a selection picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetJob {
    name: String,
    selection: AssetSelection,
    description: Option<String>,
    tags: Vec<(String, String)>,
}

/// Defines an asset job named `name` over `selection`.
pub fn define_asset_job(name: impl Into<String>, selection: AssetSelection) -> AssetJob {
    AssetJob {
        name: name.into(),
        selection,
        description: None,
        tags: Vec::new(),
    }
}

impl AssetJob {
    /// Sets its description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds a tag to its runs.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn to_wit(&self) -> wit::AssetJobDef {
        wit::AssetJobDef {
            name: self.name.clone(),
            description: self.description.clone(),
            selection: self.selection.to_selection_string(),
            tags: self.tags.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_use_weft_syntax() {
        assert_eq!(
            AssetSelection::groups(["numbers"]).to_selection_string(),
            "group:numbers"
        );
        let s = AssetSelection::keys(["a/b"])
            .downstream()
            .or(AssetSelection::groups(["x", "y"]).upstream());
        assert_eq!(s.to_selection_string(), "key:a/b+,+group:x,+group:y");
    }
}
