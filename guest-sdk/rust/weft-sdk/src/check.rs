//! Asset checks (Dagster's `@asset_check`): `#[asset_check(asset = "orders")]` on a
//! function that takes the asset's value (and optionally `ctx: &OpContext` first) and
//! returns an [`AssetCheckResult`] (or `Result<AssetCheckResult, E>`). The host runs it as
//! a step of its own after each materialization of its asset in a run; a `blocking` check
//! that fails at [`AssetCheckSeverity::Error`] stops the assets downstream.

use crate::bindings::weft::plugin::types as wit;
use crate::codec::Inputs;
use crate::context::OpContext;
use crate::failure::Failure;
use crate::metadata::MetadataValue;
use std::fmt::Display;

/// How serious a failed check is (Dagster's `AssetCheckSeverity`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssetCheckSeverity {
    /// A failure of a blocking check stops what is downstream of its asset.
    #[default]
    Error,
    /// A failure is reported; nothing stops.
    Warn,
}

/// What a check found (Dagster's `AssetCheckResult`):
/// `AssetCheckResult::new(rows > 0).metadata("rows", rows)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetCheckResult {
    pub passed: bool,
    pub severity: AssetCheckSeverity,
    pub description: Option<String>,
    pub metadata: Vec<(String, MetadataValue)>,
}

impl AssetCheckResult {
    /// A result that passed or not, at severity `Error`, with no metadata.
    pub fn new(passed: bool) -> Self {
        Self {
            passed,
            severity: AssetCheckSeverity::Error,
            description: None,
            metadata: Vec::new(),
        }
    }

    /// Sets how serious a failure is.
    pub fn severity(mut self, severity: AssetCheckSeverity) -> Self {
        self.severity = severity;
        self
    }

    /// Says what was found.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds metadata shown with the result.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<MetadataValue>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    pub(crate) fn to_wit(&self) -> wit::CheckResult {
        wit::CheckResult {
            passed: self.passed,
            severity: match self.severity {
                AssetCheckSeverity::Error => wit::CheckSeverity::Error,
                AssetCheckSeverity::Warn => wit::CheckSeverity::Warn,
            },
            description: self.description.clone(),
            metadata: self
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.to_wit()))
                .collect(),
        }
    }
}

/// A check's description and function, made by `#[asset_check]`.
#[doc(hidden)]
#[derive(Debug)]
pub struct CheckSpec {
    pub name: &'static str,
    /// The asset's key, its parts joined by `/`.
    pub asset: &'static str,
    pub description: Option<&'static str>,
    pub blocking: bool,
    /// The parameter that receives the asset's value, if any.
    pub input: Option<&'static str>,
    pub evaluate: fn(&OpContext, &mut Inputs) -> Result<AssetCheckResult, Failure>,
}

impl CheckSpec {
    /// The asset's key as its parts.
    pub fn asset_key(&self) -> Vec<String> {
        self.asset.split('/').map(str::to_owned).collect()
    }

    pub(crate) fn to_wit(&self) -> wit::AssetCheckDef {
        wit::AssetCheckDef {
            name: self.name.into(),
            asset: self.asset_key(),
            description: self.description.map(Into::into),
            blocking: self.blocking,
            input: self.input.map(Into::into),
        }
    }
}

/// What a check function may return: an [`AssetCheckResult`], or a `Result` of one.
#[doc(hidden)]
pub trait IntoCheckResult {
    fn into_check_result(self) -> Result<AssetCheckResult, Failure>;
}

impl IntoCheckResult for AssetCheckResult {
    fn into_check_result(self) -> Result<AssetCheckResult, Failure> {
        Ok(self)
    }
}

impl<E: Display + 'static> IntoCheckResult for Result<AssetCheckResult, E> {
    fn into_check_result(self) -> Result<AssetCheckResult, Failure> {
        self.map_err(Failure::from_error)
    }
}

/// Evaluates check `spec` for one step.
pub(crate) fn run_check(
    spec: &CheckSpec,
    ctx: wit::StepContext,
    inputs: Vec<wit::StepInput>,
) -> Result<wit::CheckResult, Failure> {
    let what = format!("check `{}` of asset `{}`", spec.name, spec.asset);
    let ctx = OpContext::from_wit(ctx);
    let mut inputs = Inputs::new(what, inputs);
    (spec.evaluate)(&ctx, &mut inputs).map(|r| r.to_wit())
}
