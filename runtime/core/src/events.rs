//! The events of a run (Dagster's event log) and the run's status.
//!
//! A run's history is an append-only list of [`Event`]s; the run's status is a function of
//! that list ([`RunStatus::after`]). Event type names are Dagster's (`STEP_START`,
//! `STEP_UP_FOR_RETRY`, `ASSET_MATERIALIZATION`, ...), so a Dagster user reads them as is.

use serde::{Deserialize, Serialize};

use crate::checks::{CheckEvaluation, CheckSeverity};
use crate::defs::{AssetKey, Tags};
use crate::metadata::Metadata;

pub use crate::status::RunStatus;

impl RunStatus {
    /// The status a run has after `event`, given the one it had. A finished run stays as
    /// it ended: what reaches it late (a cancel from another replica, the success of a
    /// process the run monitor had given up on) is recorded but changes nothing.
    pub fn after(self, event: &EventKind) -> RunStatus {
        if self.is_finished() {
            return self;
        }
        match event {
            EventKind::RunStarting => RunStatus::Starting,
            EventKind::RunStart => RunStatus::Started,
            EventKind::RunSuccess => RunStatus::Success,
            EventKind::RunFailure { .. } => RunStatus::Failure,
            EventKind::RunCanceling => RunStatus::Canceling,
            EventKind::RunCanceled => RunStatus::Canceled,
            _ => self,
        }
    }
}

/// A log level, as the guest's `log` import has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warning,
    Error,
}

/// How a step attempt failed: by the guest's own word, or by the sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The op returned an error.
    Error,
    /// The guest trapped (a panic, an unreachable, a stack overflow).
    Trap,
    /// The step ran past its deadline.
    Timeout,
    /// The step asked for more memory than its limit.
    OutOfMemory,
    /// An input could not be loaded or an output could not be stored.
    Io,
    /// The run was canceled while the step ran, and the step was stopped.
    Canceled,
    /// The step pushed more through the host than its budget allows (an output's size).
    Budget,
}

/// What one step attempt cost, measured by the host that ran its guest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepCost {
    /// From the call's start (a fresh instance) to its end.
    pub wall_ms: f64,
    /// Time the guest's own code ran: the call's time in wasm, host calls excluded.
    pub guest_ms: f64,
    /// The most linear memory and tables the guest held at once, over all its instances.
    pub peak_memory_bytes: u64,
    /// Calls the guest made into the host (WASI and Weft's imports), and their time.
    pub host_calls: u64,
    pub host_call_ms: f64,
    /// Bytes the guest wrote to its log (kept or not), and of its outputs.
    pub log_bytes: u64,
    pub output_bytes: u64,
    /// HTTP requests and TCP connections the guest made, the body bytes it received and
    /// sent, and the requests and connections the grant or the budget refused.
    #[serde(default)]
    pub network_requests: u64,
    #[serde(default)]
    pub network_bytes_in: u64,
    #[serde(default)]
    pub network_bytes_out: u64,
    #[serde(default)]
    pub network_refused: u64,
}

impl StepCost {
    /// One line for terminals: `guest 1.20 ms of 2.31 ms, peak memory 1.1 MiB, ...`.
    pub fn summary(&self) -> String {
        fn bytes(n: u64) -> String {
            match n {
                n if n < 1 << 10 => format!("{n} B"),
                n if n < 1 << 20 => format!("{:.1} KiB", n as f64 / 1024.0),
                n => format!("{:.1} MiB", n as f64 / (1 << 20) as f64),
            }
        }
        let mut line = format!(
            "guest {:.2} ms of {:.2} ms, peak memory {}, {} host calls ({:.2} ms), logged {}, output {}",
            self.guest_ms,
            self.wall_ms,
            bytes(self.peak_memory_bytes),
            self.host_calls,
            self.host_call_ms,
            bytes(self.log_bytes),
            bytes(self.output_bytes)
        );
        if self.network_requests > 0 || self.network_refused > 0 {
            line += &format!(
                ", network {} requests (in {}, out {}), {} refused",
                self.network_requests,
                bytes(self.network_bytes_in),
                bytes(self.network_bytes_out),
                self.network_refused
            );
        }
        line
    }
}

impl EventKind {
    /// What the step attempt this event ends cost, if it says.
    pub fn cost(&self) -> Option<&StepCost> {
        match self {
            EventKind::StepSuccess { cost, .. }
            | EventKind::StepFailure { cost, .. }
            | EventKind::StepUpForRetry { cost, .. } => cost.as_ref(),
            _ => None,
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// The launcher took the run.
    RunStarting,
    /// The executor began the run.
    RunStart,
    RunSuccess,
    RunFailure {
        message: String,
    },
    /// Someone asked the run to stop: steps under way finish, no new step starts.
    RunCanceling,
    RunCanceled,
    StepStart {
        attempt: u32,
    },
    /// A step produced a named output (stored by the I/O manager).
    StepOutput {
        output: String,
        codec: String,
        size: u64,
        /// The value as a person sees it (JSON text, cut short).
        preview: String,
        #[serde(default, skip_serializing_if = "Metadata::is_empty")]
        metadata: Metadata,
        /// Of a dynamic output's value, its mapping key (Dagster's `mapping_key`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mapping_key: Option<String>,
    },
    /// An asset step stored a new version of its asset.
    AssetMaterialization {
        asset_key: AssetKey,
        #[serde(default, skip_serializing_if = "Metadata::is_empty")]
        metadata: Metadata,
    },
    /// An asset check evaluated its asset (Dagster's `ASSET_CHECK_EVALUATION`).
    AssetCheckEvaluation {
        asset_key: AssetKey,
        check: String,
        #[serde(flatten)]
        evaluation: CheckEvaluation,
    },
    StepSuccess {
        duration_ms: f64,
        /// What the attempt cost, when a guest ran.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<StepCost>,
    },
    StepFailure {
        message: String,
        kind: FailureKind,
        attempt: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<StepCost>,
    },
    /// A failed attempt will be tried again after `delay_ms`.
    StepUpForRetry {
        message: String,
        attempt: u32,
        delay_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost: Option<StepCost>,
    },
    /// A step did not run because a step it depends on failed.
    StepSkipped {
        reason: String,
    },
    /// A log line written by the guest or the engine.
    Log {
        level: LogLevel,
        message: String,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        fields: Tags,
    },
    /// The step's stdout and stderr were stored as compute logs.
    LogsCaptured {
        stdout_bytes: u64,
        stderr_bytes: u64,
    },
    /// A hook of the step's node ran after the step ended (Dagster's `HOOK_COMPLETED`).
    HookCompleted {
        hook: String,
    },
    /// A hook failed; the step's outcome stands (Dagster's `HOOK_ERRORED`).
    HookErrored {
        hook: String,
        message: String,
    },
    /// A hook did not run: the step's outcome was not the one it waits for (a success
    /// hook after a failure, any hook after an attempt to be retried).
    HookSkipped {
        hook: String,
    },
}

impl EventKind {
    /// The Dagster-style type name (`STEP_START`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::RunStarting => "RUN_STARTING",
            EventKind::RunStart => "RUN_START",
            EventKind::RunSuccess => "RUN_SUCCESS",
            EventKind::RunFailure { .. } => "RUN_FAILURE",
            EventKind::RunCanceling => "RUN_CANCELING",
            EventKind::RunCanceled => "RUN_CANCELED",
            EventKind::StepStart { .. } => "STEP_START",
            EventKind::StepOutput { .. } => "STEP_OUTPUT",
            EventKind::AssetMaterialization { .. } => "ASSET_MATERIALIZATION",
            EventKind::AssetCheckEvaluation { .. } => "ASSET_CHECK_EVALUATION",
            EventKind::StepSuccess { .. } => "STEP_SUCCESS",
            EventKind::StepFailure { .. } => "STEP_FAILURE",
            EventKind::StepUpForRetry { .. } => "STEP_UP_FOR_RETRY",
            EventKind::StepSkipped { .. } => "STEP_SKIPPED",
            EventKind::Log { .. } => "LOG",
            EventKind::LogsCaptured { .. } => "LOGS_CAPTURED",
            EventKind::HookCompleted { .. } => "HOOK_COMPLETED",
            EventKind::HookErrored { .. } => "HOOK_ERRORED",
            EventKind::HookSkipped { .. } => "HOOK_SKIPPED",
        }
    }
}

/// One entry of a run's event log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_key: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// A one-line description for terminals and logs.
    pub fn summary(&self) -> String {
        match &self.kind {
            EventKind::RunFailure { message } => format!("run failed: {message}"),
            EventKind::StepStart { attempt } if *attempt > 1 => {
                format!("started (attempt {attempt})")
            }
            EventKind::StepOutput {
                output,
                preview,
                mapping_key: Some(key),
                ..
            } => format!("output {output}[{key}] = {preview}"),
            EventKind::StepOutput {
                output, preview, ..
            } => format!("output {output} = {preview}"),
            EventKind::AssetMaterialization { asset_key, .. } => {
                format!("materialized {asset_key}")
            }
            EventKind::AssetCheckEvaluation {
                asset_key,
                check,
                evaluation,
            } => {
                let verdict = match (evaluation.passed, evaluation.severity) {
                    (true, _) => "passed",
                    (false, CheckSeverity::Error) => "failed",
                    (false, CheckSeverity::Warn) => "failed (warning)",
                };
                format!("check {check} of {asset_key} {verdict}")
            }
            EventKind::StepSuccess { duration_ms, .. } => {
                format!("succeeded in {duration_ms:.2} ms")
            }
            EventKind::StepFailure { message, .. } => format!("failed: {message}"),
            EventKind::StepUpForRetry {
                message,
                attempt,
                delay_ms,
                ..
            } => {
                format!("attempt {attempt} failed ({message}); retrying in {delay_ms} ms")
            }
            EventKind::StepSkipped { reason } => format!("skipped: {reason}"),
            EventKind::HookCompleted { hook } => format!("hook {hook} completed"),
            EventKind::HookErrored { hook, message } => format!("hook {hook} failed: {message}"),
            EventKind::HookSkipped { hook } => format!("hook {hook} skipped"),
            EventKind::Log { level, message, .. } => format!("{level:?}: {message}").to_lowercase(),
            other => other.type_name().to_lowercase().replace('_', " "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_with_dagster_type_names() {
        let e = Event {
            run_id: "r".into(),
            step_key: Some("s".into()),
            timestamp_ms: 1,
            kind: EventKind::StepUpForRetry {
                message: "boom".into(),
                attempt: 1,
                delay_ms: 10,
                cost: Some(StepCost {
                    guest_ms: 1.5,
                    ..StepCost::default()
                }),
            },
        };
        assert_eq!(
            e.kind.cost().map(StepCost::summary).as_deref(),
            Some(
                "guest 1.50 ms of 0.00 ms, peak memory 0 B, 0 host calls (0.00 ms), logged 0 B, output 0 B"
            )
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], "STEP_UP_FOR_RETRY");
        assert_eq!(json["attempt"], 1);
        assert_eq!(json["cost"]["guest_ms"], 1.5);
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn status_follows_run_events() {
        let s = RunStatus::NotStarted.after(&EventKind::RunStart);
        assert_eq!(s, RunStatus::Started);
        assert_eq!(
            s.after(&EventKind::StepStart { attempt: 1 }),
            RunStatus::Started
        );
        let done = s.after(&EventKind::RunFailure {
            message: "x".into(),
        });
        assert!(done.is_finished());
        assert_eq!(RunStatus::parse(done.as_str()), Some(done));
        // A finished run stays as it ended, whatever comes late.
        for late in [
            EventKind::RunStarting,
            EventKind::RunStart,
            EventKind::RunSuccess,
            EventKind::RunCanceling,
            EventKind::RunCanceled,
        ] {
            assert_eq!(done.after(&late), done, "{late:?}");
            assert_eq!(
                RunStatus::Canceled.after(&late),
                RunStatus::Canceled,
                "{late:?}"
            );
        }
        assert_eq!(
            s.after(&EventKind::RunCanceling),
            RunStatus::Canceling,
            "a cancel stops a run under way"
        );
    }
}
