//! The code-location port: one loaded version of a code location ([`CodeLocation`]: its
//! definitions, its steps, hooks, sensors and schedules) and what loads one from its bytes
//! ([`LocationLoader`]). The wasm host implements both; the control plane, the launchers
//! and the daemon see only these traits, so their tests run Rust code in place of guests.

use std::path::PathBuf;
use std::sync::Arc;

use crate::defs::{Definitions, Tags};
use crate::grants::Sandbox;
use crate::ports::hooks::HookRunner;
use crate::ports::step::{LogLine, StepFailure, StepRunner};
use crate::run::EndedRun;

/// A run a sensor or schedule asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRequest {
    pub run_key: Option<String>,
    pub job: Option<String>,
    pub config: Option<String>,
    pub tags: Tags,
}

/// What one sensor evaluation returned.
#[derive(Clone, Debug, PartialEq)]
pub struct SensorTick {
    pub run_requests: Vec<RunRequest>,
    pub skip_reason: Option<String>,
    pub cursor: Option<String>,
    pub logs: Vec<LogLine>,
}

/// What one schedule evaluation decided.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleTick {
    /// Launch these runs.
    Run(Vec<RunRequest>),
    /// Launch nothing, for this reason.
    Skip(String),
}

/// One version of a code location, loaded and validated. Calls are blocking (they run
/// guest code to its end or its deadline) and may come from several threads at once.
pub trait CodeLocation: StepRunner + HookRunner + std::fmt::Debug {
    /// The location's name.
    fn name(&self) -> &str;

    /// The sha256 of its component: the version.
    fn digest(&self) -> &str;

    /// What it defines.
    fn definitions(&self) -> &Definitions;

    /// Evaluates sensor `name` with the stored `cursor`; a run-status sensor is told of
    /// the one `run` it is evaluated for.
    fn evaluate_sensor(
        &self,
        name: &str,
        cursor: Option<String>,
        last_evaluation_ms: Option<u64>,
        run: Option<&EndedRun>,
    ) -> Result<SensorTick, StepFailure>;

    /// Decides the tick of schedule `name` scheduled at `scheduled_ms`.
    fn evaluate_schedule(&self, name: &str, scheduled_ms: u64)
    -> Result<ScheduleTick, StepFailure>;
}

/// Why bytes could not be loaded as a code location.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The component is not a usable code location (not a component, the wrong world or
    /// contract version, definitions that fail or do not validate): the uploader's fault.
    #[error("{0}")]
    Component(String),
    /// The host failed (its engine or its cache).
    #[error("{0}")]
    Host(String),
}

/// Loads code locations from their bytes, compiling each version once (blocking).
pub trait LocationLoader: Send + Sync + 'static {
    /// Validates and loads `bytes` as location `name` under `sandbox`.
    fn load(
        &self,
        name: &str,
        bytes: &[u8],
        sandbox: Sandbox,
    ) -> Result<Arc<dyn CodeLocation>, LoadError>;

    /// Compiles `bytes` into the precompile cache, without loading it.
    fn precompile(&self, bytes: &[u8]) -> Result<(), LoadError>;

    /// The compatibility key of this host's engine: which precompiled forms it can use.
    fn engine_key(&self) -> &str;

    /// Where the precompiled form of component `digest` for this engine is cached.
    fn cache_path(&self, digest: &str) -> PathBuf;
}

/// The sha256 of a component's bytes, in hex: its digest, the name of its version.
pub fn digest_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
