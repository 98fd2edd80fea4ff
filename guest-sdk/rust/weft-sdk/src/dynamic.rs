//! Dynamic fan-out (Dagster's `DynamicOut`, `DynamicOutput`, `.map` and `.collect`): an op
//! returning `Vec<DynamicOutput<T>>` produces any number of values, each under its own
//! mapping key; in a job body, `.map(op)` invokes `op` once per key (the host runs step
//! `op[key]` for each) and `.collect()` gathers what was mapped into a `Vec<T>` input.
//!
//! ```
//! use weft_sdk::prelude::*;
//!
//! #[op]
//! fn fan_out() -> Vec<DynamicOutput<i64>> {
//!     (1..=3).map(|i| DynamicOutput::new(i, format!("k{i}"))).collect()
//! }
//!
//! #[op]
//! fn square(x: i64) -> i64 {
//!     x * x
//! }
//!
//! #[op]
//! fn total(values: Vec<i64>) -> i64 {
//!     values.iter().sum()
//! }
//!
//! #[job]
//! fn fanout_job() {
//!     total(fan_out().map(square).collect());
//! }
//!
//! fn main() {
//!     // `square` reads the dynamic output (the host maps it); `total` collects it.
//!     let job = fanout_job();
//!     let square = job.node("square").unwrap();
//!     assert_eq!(square.inputs[0].sources, ["fan_out"]);
//!     assert!(job.node("total").unwrap().inputs[0].collect);
//! }
//! ```

use crate::codec;
use crate::context::OpContext;
use crate::failure::Failure;
use crate::job::{IntoInput, Output, Sources};
use crate::op::{IntoOpResult, Produced, RESULT};
use serde::Serialize;
use std::collections::HashSet;

/// One value of a dynamic output and its mapping key (letters, digits and `_`, unique
/// within the output). (`Serialize` only so that an op may return a list of them.)
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DynamicOutput<T> {
    pub value: T,
    pub mapping_key: String,
}

impl<T> DynamicOutput<T> {
    /// `value` under `mapping_key`.
    pub fn new(value: T, mapping_key: impl Into<String>) -> Self {
        Self {
            value,
            mapping_key: mapping_key.into(),
        }
    }
}

/// Encodes a dynamic output's values, each with its key, refusing a key that is not one
/// or is repeated (not retryably: trying again gives the same keys).
#[doc(hidden)]
pub fn finish_dynamic<T: Serialize, R>(ctx: &OpContext, result: R) -> Result<Vec<Produced>, Failure>
where
    R: IntoOpResult<Output = Vec<DynamicOutput<T>>>,
{
    let values = result.into_op_result()?;
    let mut seen = HashSet::new();
    let mut produced = Vec::with_capacity(values.len());
    for value in values {
        let key = value.mapping_key;
        let valid = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(Failure::fatal(format!(
                "{}: mapping key {key:?} is not a key: use letters, digits and _",
                ctx.step_key()
            )));
        }
        if !seen.insert(key.clone()) {
            return Err(Failure::fatal(format!(
                "{}: mapping key {key:?} is produced twice: each value of a dynamic output \
                 needs its own key",
                ctx.step_key()
            )));
        }
        let encoded = codec::encode(ctx.step_key(), &value.value)?;
        produced.push((RESULT, Some(key), encoded));
    }
    Ok(produced)
}

impl<T> Output<Vec<DynamicOutput<T>>> {
    /// Invokes `op` once per mapping key (Dagster's `.map`): `op` is an op (or a closure
    /// invoking ops) taking this output's values one at a time.
    pub fn map<U>(self, op: impl FnOnce(Output<T>) -> Output<U>) -> Mapped<U> {
        Mapped(op(self.cast()))
    }

    /// Every value, as a list in the order their keys were produced (Dagster's
    /// `.collect()`).
    pub fn collect(self) -> Collected<T> {
        Collected(self.cast())
    }
}

/// The output of a node mapped over a dynamic output: it can be mapped again (key by key)
/// or collected.
pub struct Mapped<T>(Output<T>);

impl<T> Mapped<T> {
    /// Invokes `op` on each key's value (Dagster's `.map` after a `.map`).
    pub fn map<U>(self, op: impl FnOnce(Output<T>) -> Output<U>) -> Mapped<U> {
        Mapped(op(self.0))
    }

    /// Every key's value, as a list in the order the keys were produced.
    pub fn collect(self) -> Collected<T> {
        Collected(self.0)
    }
}

/// Every value of a dynamic or mapped output, fed to an op's `Vec<T>` input.
pub struct Collected<T>(Output<T>);

impl<T> IntoInput<Vec<T>> for Collected<T> {
    fn into_sources(self) -> Sources {
        Sources::collect(self.0.node(), self.0.name())
    }
}
