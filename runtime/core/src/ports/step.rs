//! The step port: what one step attempt is told ([`StepRequest`]), what comes of it
//! ([`StepAttempt`]), and [`StepRunner`], whatever runs it — a loaded code location, a
//! process, a Kubernetes Job, a worker.

use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::checks::CheckEvaluation;
use crate::defs::{StepTarget, Tags, Value};
pub use crate::events::StepCost;
use crate::events::{FailureKind, LogLevel};
use crate::metadata::Metadata;

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
    /// The mapping key of a step mapped over a dynamic output (`square[k1]`: `k1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_key: Option<String>,
}

/// One output a step produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepOutput {
    pub name: String,
    pub value: Value,
    pub metadata: Metadata,
    /// Of a dynamic output's value, its mapping key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_key: Option<String>,
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

impl From<LogLine> for crate::events::EventKind {
    /// The line as a `LOG` event (its timestamp is the event's).
    fn from(line: LogLine) -> Self {
        crate::events::EventKind::Log {
            level: line.level,
            message: line.message,
            fields: line.fields,
        }
    }
}

/// What came of one step attempt: its result, its log lines, what it printed, and what it
/// cost. (It crosses a process boundary as JSON when a step runs in a process of its own.)
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepAttempt {
    pub result: Result<Vec<StepOutput>, StepFailure>,
    pub logs: Vec<LogLine>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `None` when no guest ran (the attempt failed before, or its runner measures none).
    #[serde(default)]
    pub cost: Option<StepCost>,
    /// What an asset check's step evaluated (its `result` is then no outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckEvaluation>,
}

/// A loaded code-location version that runs steps. Calls are blocking (they run guest code
/// to completion or to its deadline) and may come from several threads at once.
pub trait StepRunner: Send + Sync {
    /// Runs one attempt. When `cancel` is raised meanwhile, the attempt is stopped where
    /// it is (the guest interrupted, its process killed, its Job deleted) and fails with
    /// [`FailureKind::Canceled`].
    fn run_step(&self, request: &StepRequest, cancel: &Cancel) -> StepAttempt;
}

impl StepAttempt {
    /// An attempt that failed before the op ran (its process, pod or worker failed, or its
    /// inputs could not be read): nothing logged or printed.
    pub fn failed(message: impl Into<String>, kind: FailureKind, retryable: bool) -> Self {
        StepAttempt {
            result: Err(StepFailure {
                message: message.into(),
                kind,
                retryable,
            }),
            logs: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            cost: None,
            check: None,
        }
    }

    /// An attempt whose process, pod or worker failed before answering, not the op (an
    /// error, retried when `retryable` under the step's policy).
    pub fn lost(message: impl Into<String>, retryable: bool) -> Self {
        Self::failed(message, FailureKind::Error, retryable)
    }
}

/// Where a step attempt that ran elsewhere left its answer (a step's pod or a worker
/// stores it in the database): what the Kubernetes and queue step runners read.
pub trait StepAnswers: Send + Sync {
    /// The code locations of run `run_id` (`a+b` across locations), if it is stored.
    fn location_of(&self, run_id: &str) -> Option<String>;

    /// The attempt stored for `request`: `None` while there is none, `Err` when it cannot
    /// be read or is not an attempt.
    fn answer(&self, request: &StepRequest) -> Option<Result<StepAttempt, String>>;
}
