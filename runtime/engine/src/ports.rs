//! The ports the engine talks through: the code location that runs steps (implemented by
//! `weft-wasm`), the event log and run storage (implemented by `weft-store`), the I/O
//! manager and the compute-log store. The engine never sees wasmtime or sqlx.

use std::future::Future;

use serde::{Deserialize, Serialize};

use weft_core::defs::{AssetKey, StepTarget, Tags, Value};
use weft_core::events::{Event, FailureKind, LogLevel};
use weft_core::run::{RunFilter, RunRecord};

/// The value handed to one input of a step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum InputArg {
    Single(Value),
    FanIn(Vec<Value>),
}

/// Everything a step attempt is told.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepRequest {
    pub run_id: String,
    pub job: String,
    pub step_key: String,
    pub target: StepTarget,
    pub attempt: u32,
    /// The op's or asset's tags with the run's over them (what the guest is told).
    pub tags: Tags,
    /// The op's or asset's own tags, before the run's.
    #[serde(default)]
    pub step_tags: Tags,
    pub config: Option<String>,
    pub inputs: Vec<(String, InputArg)>,
}

/// One output a step produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepOutput {
    pub name: String,
    pub value: Value,
    pub metadata: Tags,
}

/// Why a step attempt failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct StepFailure {
    pub message: String,
    pub kind: FailureKind,
    pub retryable: bool,
}

/// A log line the guest wrote during the attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub timestamp_ms: i64,
    pub level: LogLevel,
    pub message: String,
    pub fields: Tags,
}

/// What came of one step attempt: its result, its log lines, and what it printed. (It
/// crosses a process boundary as JSON when a step runs in a process of its own.)
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepAttempt {
    pub result: Result<Vec<StepOutput>, StepFailure>,
    pub logs: Vec<LogLine>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// A loaded code-location version that runs steps. Calls are blocking (they run guest code
/// to completion or to its deadline) and may come from several threads at once.
pub trait StepRunner: Send + Sync {
    fn run_step(&self, request: &StepRequest) -> StepAttempt;
}

/// Why storage failed. The message says what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

/// Durable run storage: runs and their append-only event logs.
pub trait RunStorage: Send + Sync + 'static {
    /// Records a new run.
    fn create_run(&self, run: &RunRecord) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Appends events in one transaction, updating each affected run's status and times
    /// (from `RUN_*` events) and the asset materialization history in that transaction.
    fn append(&self, events: &[Event]) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// The run with id `run_id`, if any.
    fn run(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StorageError>> + Send;

    /// Runs matching `filter`, newest first.
    fn runs(
        &self,
        filter: &RunFilter,
    ) -> impl Future<Output = Result<Vec<RunRecord>, StorageError>> + Send;

    /// Events of a run in order, with their storage ids, after id `after` (0 for all).
    fn events(
        &self,
        run_id: &str,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(i64, Event)>, StorageError>> + Send;
}

/// Why an I/O manager could not load or store a value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IoError(pub String);

/// Where step outputs and asset values live between steps and runs (Dagster's I/O manager).
pub trait IoManager: Send + Sync {
    fn store_output(
        &self,
        run_id: &str,
        step_key: &str,
        output: &str,
        value: &Value,
    ) -> Result<(), IoError>;
    fn load_output(&self, run_id: &str, step_key: &str, output: &str) -> Result<Value, IoError>;
    fn store_asset(&self, key: &AssetKey, value: &Value) -> Result<(), IoError>;
    fn load_asset(&self, key: &AssetKey) -> Result<Value, IoError>;
}

/// Where a step's stdout and stderr go (Dagster's compute log manager).
pub trait ComputeLogStore: Send + Sync {
    fn store(
        &self,
        run_id: &str,
        step_key: &str,
        stdout: &[u8],
        stderr: &[u8],
    ) -> Result<(), IoError>;
    /// `(stdout, stderr)` of a step; empty when it printed nothing.
    fn load(&self, run_id: &str, step_key: &str) -> Result<(Vec<u8>, Vec<u8>), IoError>;
}

/// A Kubernetes Job an op's step asked to run (`k8s-jobs.execute`; Dagster's
/// `execute_k8s_job`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExternalJob {
    pub image: String,
    /// The entrypoint; empty keeps the image's.
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// `(requests, limits)`, replacing the inherited resources when given.
    pub resources: Option<(Tags, Tags)>,
    /// JSON text shaped as a `weft/k8s` tag, merged last.
    pub config: Option<String>,
    /// How long to wait, at most; the step's deadline bounds it too.
    pub timeout: Option<std::time::Duration>,
}

/// The step an external Job is started from: what its pod inherits and how it is named.
#[derive(Clone, Copy, Debug)]
pub struct ExternalJobStep<'a> {
    pub run_id: &'a str,
    pub step_key: &'a str,
    pub attempt: u32,
    /// The step's tags with the run's over them, and its own (their `weft/k8s` tags shape
    /// the Job's pod as they shape a step pod).
    pub tags: &'a Tags,
    pub step_tags: &'a Tags,
    /// The environment the step's location is granted.
    pub env: &'a [(String, String)],
    /// 0 for the first Job this attempt starts, 1 for the second...
    pub index: u32,
    /// When the step's deadline passes.
    pub deadline: std::time::Instant,
}

/// Why an external Job did not succeed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExternalJobError {
    /// The Job's name, once it was created.
    pub name: Option<String>,
    /// Its container's exit code, when it exited non-zero.
    pub exit_code: Option<i32>,
    pub message: String,
}

/// Where external Jobs run (implemented over the Kubernetes client by the `weft` binary).
/// Blocking: called from the step's thread while the guest waits.
pub trait ExternalJobs: Send + Sync {
    /// Starts `job` for `step`, hands each line of its pod's log to `line` as it is
    /// written, and waits for the Job to end. Returns the Job's name when its container
    /// exited 0.
    fn execute(
        &self,
        job: &ExternalJob,
        step: &ExternalJobStep<'_>,
        line: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<String, ExternalJobError>;
}
