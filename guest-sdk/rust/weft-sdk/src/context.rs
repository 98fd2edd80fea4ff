//! [`OpContext`]: what an op (or asset) knows about its step — run id, step key, attempt,
//! tags, config — and what it may use: the log and the location's resources.

use crate::bindings::weft::plugin::types as wit;
use crate::failure::Failure;
use crate::log::Logger;
use crate::metadata::MetadataValue;
use serde::de::DeserializeOwned;
use std::cell::RefCell;

/// The context of one step, taken by an op as its first parameter: `ctx: &OpContext`.
#[derive(Debug, Default)]
pub struct OpContext {
    run_id: String,
    job: String,
    step_key: String,
    attempt: u32,
    partition: Option<String>,
    tags: Vec<(String, String)>,
    config: Option<String>,
    /// A mapped step's mapping key (`square[k1]`: `k1`).
    mapping_key: Option<String>,
    /// The assets the step materializes (`a/b`): an asset's own, a multi-asset's selected.
    selected: Vec<String>,
    /// Metadata added during the step: (the output it is for, or every output; key; value).
    metadata: RefCell<Vec<(Option<String>, String, MetadataValue)>>,
}

/// Dagster's name for the context of an asset: the same as [`OpContext`].
pub type AssetExecutionContext = OpContext;

impl OpContext {
    /// A context for calling an op directly in a unit test: run `test`, step `test`, attempt 1.
    pub fn for_test() -> Self {
        Self {
            run_id: "test".into(),
            job: "test".into(),
            step_key: "test".into(),
            attempt: 1,
            ..Self::default()
        }
    }

    /// Sets the attempt (1 for the first try), for tests.
    pub fn with_attempt(mut self, attempt: u32) -> Self {
        self.attempt = attempt;
        self
    }

    /// Sets the mapping key of a mapped step, for tests.
    pub fn with_mapping_key(mut self, key: impl Into<String>) -> Self {
        self.mapping_key = Some(key.into());
        self
    }

    /// Sets the step's config (JSON text), for tests.
    pub fn with_config(mut self, json: impl Into<String>) -> Self {
        self.config = Some(json.into());
        self
    }

    pub(crate) fn from_wit(ctx: wit::StepContext) -> Self {
        let selected = match &ctx.target {
            wit::StepTarget::Asset(key) => vec![key.join("/")],
            wit::StepTarget::MultiAsset(target) => {
                target.selected.iter().map(|k| k.join("/")).collect()
            }
            wit::StepTarget::Op(_) | wit::StepTarget::Check(_) => Vec::new(),
        };
        Self {
            selected,
            run_id: ctx.run_id,
            job: ctx.job,
            step_key: ctx.step_key,
            attempt: ctx.attempt,
            partition: ctx.partition,
            tags: ctx.tags,
            config: ctx.config,
            mapping_key: ctx.mapping_key,
            metadata: RefCell::default(),
        }
    }

    /// The mapping key of a step mapped over a dynamic output (Dagster's
    /// `context.get_mapping_key()`): `Some("k1")` in step `square[k1]`, `None` elsewhere.
    pub fn mapping_key(&self) -> Option<&str> {
        self.mapping_key.as_deref()
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Whether the step materializes asset `key` (`a/b`): what a multi-asset that can be
    /// subset asks before returning an output (Dagster's `context.selected_asset_keys`).
    pub fn is_selected(&self, key: &str) -> bool {
        self.selected.iter().any(|k| k == key)
    }

    /// Selects the assets `keys` (`a/b`), for tests of a multi-asset.
    pub fn with_selected<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.selected = keys.into_iter().map(Into::into).collect();
        self
    }

    /// The job (or asset job) being run.
    pub fn job_name(&self) -> &str {
        &self.job
    }

    /// The step's key: the node name (e.g. `add_7`), or an asset's key joined with `/`.
    pub fn step_key(&self) -> &str {
        &self.step_key
    }

    /// 1 for the first attempt, 2 for the first retry, ...
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The partition being materialized, if any.
    pub fn partition(&self) -> Option<&str> {
        self.partition.as_deref()
    }

    /// The run's tags merged with the op's tags.
    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }

    /// The value of one tag.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The step's config (run config `ops.<step-key>.config`) decoded from JSON. With no
    /// config given, `T` is decoded from `null` (so `Option<_>` works); otherwise that is a
    /// fatal failure saying so.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        let type_name = std::any::type_name::<T>();
        match &self.config {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                Failure::fatal(format!("step `{}`: cannot decode its config as `{type_name}`: {e}", self.step_key))
            }),
            None => serde_json::from_str("null").map_err(|_| {
                Failure::fatal(format!(
                    "step `{}` needs config (`{type_name}`) but the run gave none: set `ops.{}.config` in the run config",
                    self.step_key, self.step_key
                ))
            }),
        }
    }

    /// The log of this step.
    pub fn log(&self) -> Logger {
        Logger
    }

    /// The resource `name` set for the location in `weft.yaml`, if any.
    pub fn resource(&self, name: &str) -> Option<Resource> {
        resource(name)
    }

    /// Adds a typed value shown beside the step's outputs (row counts, paths, links...):
    /// `ctx.add_output_metadata("rows", 3)`. An int or float is plotted over an asset's
    /// materializations. For an op with several outputs it goes to every output; see
    /// [`add_metadata_to`](Self::add_metadata_to).
    pub fn add_output_metadata(&self, key: impl Into<String>, value: impl Into<MetadataValue>) {
        self.metadata
            .borrow_mut()
            .push((None, key.into(), value.into()));
    }

    /// Adds a typed value to the output `output` only (Dagster's
    /// `add_output_metadata(..., output_name=...)`).
    pub fn add_metadata_to(
        &self,
        output: &str,
        key: impl Into<String>,
        value: impl Into<MetadataValue>,
    ) {
        self.metadata
            .borrow_mut()
            .push((Some(output.to_owned()), key.into(), value.into()));
    }

    /// The metadata added for `output`, in the order it was added.
    pub(crate) fn metadata_for(&self, output: &str) -> Vec<(String, wit::MetadataValue)> {
        self.metadata
            .borrow()
            .iter()
            .filter(|(to, _, _)| to.as_deref().is_none_or(|to| to == output))
            .map(|(_, key, value)| (key.clone(), value.to_wit()))
            .collect()
    }
}

/// A resource's value as the host handed it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// How `data` is encoded (`json` for resources set as JSON or text).
    pub codec: String,
    /// The raw bytes.
    pub data: Vec<u8>,
}

impl Resource {
    /// Decodes the resource from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        serde_json::from_slice(&self.data).map_err(|e| {
            Failure::fatal(format!(
                "cannot decode resource as `{}`: {e}",
                std::any::type_name::<T>()
            ))
        })
    }

    /// The resource as text: a JSON string's content, or else the raw bytes as UTF-8.
    pub fn as_text(&self) -> Option<String> {
        serde_json::from_slice::<String>(&self.data)
            .ok()
            .or_else(|| String::from_utf8(self.data.clone()).ok())
    }
}

/// The resource `name` set for the location, if any (outside WebAssembly: none).
pub fn resource(name: &str) -> Option<Resource> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::weft::plugin::resources::get(name).map(|v| Resource {
            codec: v.codec,
            data: v.data,
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = name;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_decodes_or_says_what_is_missing() {
        #[derive(serde::Deserialize)]
        struct Cfg {
            factor: i64,
        }
        let ctx = OpContext::for_test().with_config(r#"{"factor": 3}"#);
        assert_eq!(ctx.config::<Cfg>().map(|c| c.factor), Ok(3));
        let err = OpContext::for_test()
            .config::<Cfg>()
            .err()
            .map(|f| f.to_string())
            .unwrap_or_default();
        assert!(err.contains("needs config"), "{err}");
        assert_eq!(OpContext::for_test().config::<Option<i64>>(), Ok(None));
    }
}
