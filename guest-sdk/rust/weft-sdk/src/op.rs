//! What `#[op]` and `#[asset]` generate: a static description of the op (its [`OpSpec`])
//! and an executor that decodes the inputs, calls the function and encodes its output.

use crate::bindings::weft::plugin::types as wit;
use crate::codec::{self, Inputs};
use crate::context::OpContext;
use crate::failure::Failure;
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

/// The executor `#[op]` generates.
#[doc(hidden)]
pub type Execute = fn(&OpContext, &mut Inputs) -> Result<wit::Value, Failure>;

/// An op (or an asset's compute function) as `#[op]`/`#[asset]` describe it.
#[doc(hidden)]
#[derive(Debug)]
pub struct OpSpec {
    pub name: &'static str,
    pub description: Option<&'static str>,
    pub inputs: &'static [InputSpec],
    pub output_type: &'static str,
    pub config_schema: Option<&'static str>,
    pub tags: &'static [(&'static str, &'static str)],
    pub retry_policy: Option<RetryPolicy>,
    pub execute: Execute,
}

impl OpSpec {
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
            outputs: vec![wit::OutputDef {
                name: RESULT.into(),
                description: None,
                type_name: Some(self.output_type.into()),
            }],
            config_schema: self.config_schema.map(Into::into),
            tags: tags_to_wit(self.tags),
            retry_policy: self.retry_policy.map(retry_to_wit),
        }
    }
}

/// The name of an op's one output.
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

/// What an op may return: `Result<T, E>` with `E: Display` (an op returning a plain `T`
/// is wrapped in `Ok` by `#[op]`).
#[doc(hidden)]
pub trait IntoOpResult {
    /// The value the op produced.
    type Output: Serialize;
    /// The value, or the failure the error becomes.
    fn into_op_result(self) -> Result<Self::Output, Failure>;
}

impl<T: Serialize, E: Display + 'static> IntoOpResult for Result<T, E> {
    type Output = T;
    fn into_op_result(self) -> Result<T, Failure> {
        self.map_err(Failure::from_error)
    }
}

/// Turns what the op returned into its encoded output.
#[doc(hidden)]
pub fn finish<R: IntoOpResult>(ctx: &OpContext, result: R) -> Result<wit::Value, Failure> {
    let value = result.into_op_result()?;
    codec::encode(ctx.step_key(), &value)
}
