//! What `#[op]` and `#[asset]` generate: a static description of the op (its [`OpSpec`])
//! and an executor that decodes the inputs, calls the function and encodes its output.

use crate::bindings::weft::plugin::types as wit;
use crate::codec::{self, Inputs};
use crate::context::OpContext;
use crate::failure::Failure;
use crate::metadata::MetadataValue;
use serde::Serialize;
use std::fmt::Display;

/// How the delay between two attempts grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The same delay before every retry.
    Constant,
    /// The delay doubles after every retry.
    Exponential,
}

/// An op's retry policy (Dagster's `RetryPolicy`), set with
/// `#[op(retry_policy(max_retries = 3, delay_ms = 10, backoff = "exponential"))]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many more times a failed step is tried.
    pub max_retries: u32,
    /// Delay before the first retry, in milliseconds.
    pub delay_ms: u64,
    /// How the delay grows.
    pub backoff: Backoff,
}

/// One input of an op: its parameter name and Rust type (for display and error messages).
#[doc(hidden)]
#[derive(Debug)]
pub struct InputSpec {
    pub name: &'static str,
    pub type_name: &'static str,
}

/// One output of an op: `result`, or each of `#[op(outs(...))]`.
#[doc(hidden)]
#[derive(Debug)]
pub struct OutputSpec {
    pub name: &'static str,
    pub type_name: &'static str,
    pub required: bool,
    /// A dynamic output (`Vec<DynamicOutput<T>>`): one value per mapping key.
    pub dynamic: bool,
}

/// One value an op's executor produced: the output, the mapping key of a dynamic output's
/// value, the value encoded.
#[doc(hidden)]
pub type Produced = (&'static str, Option<String>, wit::Value);

/// The executor `#[op]` generates: the outputs it produced, encoded, by name.
#[doc(hidden)]
pub type Execute = fn(&OpContext, &mut Inputs) -> Result<Vec<Produced>, Failure>;

/// An op (or an asset's compute function) as `#[op]`/`#[asset]` describe it.
#[doc(hidden)]
#[derive(Debug)]
pub struct OpSpec {
    pub name: &'static str,
    pub description: Option<&'static str>,
    pub inputs: &'static [InputSpec],
    pub outputs: &'static [OutputSpec],
    pub config_schema: Option<&'static str>,
    /// `#[op(config = T)]`: the schema of `T` (a `schemars::JsonSchema`), made when the
    /// definitions are.
    pub config_type: Option<fn() -> String>,
    pub tags: &'static [(&'static str, &'static str)],
    pub retry_policy: Option<RetryPolicy>,
    pub execute: Execute,
}

impl OpSpec {
    /// The config schema's JSON text: `config_schema`, or the schema of `config`'s type.
    pub(crate) fn schema(&self) -> Option<String> {
        self.config_type
            .map(|schema| schema())
            .or_else(|| self.config_schema.map(Into::into))
    }

    pub(crate) fn to_wit(&self) -> wit::OpDef {
        wit::OpDef {
            name: self.name.into(),
            description: self.description.map(Into::into),
            inputs: self
                .inputs
                .iter()
                .map(|i| wit::InputDef {
                    name: i.name.into(),
                    description: None,
                    type_name: Some(i.type_name.into()),
                })
                .collect(),
            outputs: self
                .outputs
                .iter()
                .map(|o| wit::OutputDef {
                    name: o.name.into(),
                    description: None,
                    type_name: Some(o.type_name.into()),
                    required: o.required,
                    dynamic: o.dynamic,
                })
                .collect(),
            config_schema: self.schema(),
            tags: tags_to_wit(self.tags),
            retry_policy: self.retry_policy.map(retry_to_wit),
        }
    }
}

/// The JSON Schema of `T` as text (`#[op(config = T)]`).
#[doc(hidden)]
pub fn schema_of<T: schemars::JsonSchema>() -> String {
    serde_json::to_string(&schemars::schema_for!(T)).unwrap_or_else(|_| "{}".into())
}

/// The name of an op's output when it has one.
pub const RESULT: &str = "result";

pub(crate) fn tags_to_wit(tags: &[(&str, &str)]) -> Vec<(String, String)> {
    tags.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) fn retry_to_wit(p: RetryPolicy) -> wit::RetryPolicy {
    wit::RetryPolicy {
        max_retries: p.max_retries,
        delay_ms: p.delay_ms,
        backoff: match p.backoff {
            Backoff::Constant => wit::Backoff::Constant,
            Backoff::Exponential => wit::Backoff::Exponential,
        },
    }
}

/// What an output may be: any `Serialize` value, or a [`MaterializeResult`] (JSON `null`
/// and the materialization's metadata).
#[doc(hidden)]
pub trait OutputValue {
    /// The value encoded as output `output` of the step `ctx` runs.
    fn encode_for(&self, ctx: &OpContext, output: &str) -> Result<wit::Value, Failure>;
}

impl<T: Serialize> OutputValue for T {
    fn encode_for(&self, ctx: &OpContext, _output: &str) -> Result<wit::Value, Failure> {
        codec::encode(ctx.step_key(), self)
    }
}

/// What an asset returns when it stores no value of its own (Dagster's
/// `MaterializeResult`): its materialization's metadata. Its value is JSON `null`.
///
/// ```
/// use weft_sdk::prelude::*;
///
/// #[asset]
/// fn audit() -> MaterializeResult {
///     MaterializeResult::new().metadata("audited", true)
/// }
///
/// fn main() {
///     // Called directly (a unit test), the function gives the result it returns.
///     assert!(format!("{:?}", audit()).contains("audited"));
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MaterializeResult {
    metadata: Vec<(String, MetadataValue)>,
}

impl MaterializeResult {
    /// A materialization with no metadata yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the typed value `value` under `key` to the materialization's metadata.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<MetadataValue>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }
}

impl OutputValue for MaterializeResult {
    fn encode_for(&self, ctx: &OpContext, output: &str) -> Result<wit::Value, Failure> {
        for (key, value) in &self.metadata {
            ctx.add_metadata_to(output, key.clone(), value.clone());
        }
        codec::encode(ctx.step_key(), &())
    }
}

/// What an op may return: `Result<T, E>` with `E: Display` (an op returning a plain `T`
/// is wrapped in `Ok` by `#[op]`).
#[doc(hidden)]
pub trait IntoOpResult {
    /// The value the op produced.
    type Output: OutputValue;
    /// The value, or the failure the error becomes.
    fn into_op_result(self) -> Result<Self::Output, Failure>;
}

impl<T: OutputValue, E: Display + 'static> IntoOpResult for Result<T, E> {
    type Output = T;
    fn into_op_result(self) -> Result<T, Failure> {
        self.map_err(Failure::from_error)
    }
}

/// Turns what the op returned into its encoded output `result`.
#[doc(hidden)]
pub fn finish<R: IntoOpResult>(ctx: &OpContext, result: R) -> Result<Vec<Produced>, Failure> {
    let value = result.into_op_result()?;
    Ok(vec![(RESULT, None, value.encode_for(ctx, RESULT)?)])
}

/// The failure an op's error becomes (`#[op(outs(...))]` on a function returning `Result`).
#[doc(hidden)]
pub fn failure_of<E: Display + 'static>(error: E) -> Failure {
    Failure::from_error(error)
}

/// Encodes one of several outputs (`#[op(outs(...))]`).
#[doc(hidden)]
pub fn encode_output<T: OutputValue>(
    ctx: &OpContext,
    output: &str,
    value: &T,
) -> Result<wit::Value, Failure> {
    value.encode_for(ctx, output)
}
