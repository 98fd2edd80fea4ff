//! Sensors (`#[sensor]`): a function the daemon calls every `minimum_interval_seconds`
//! that asks for runs ([`RunRequest`]) or says why not ([`SkipReason`]), and may move a cursor.
//! Run-status sensors (`#[run_status_sensor]`, `#[run_failure_sensor]`) are called once for
//! each run of a watched job that ended with their status ([`RunStatusSensorContext`]).

use crate::bindings::weft::plugin::types as wit;
use crate::failure::Failure;
use crate::log::Logger;

/// Whether a schedule or sensor runs as soon as its location is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultStatus {
    /// Started when the location loads.
    Running,
    /// Started by hand (Dagster's default).
    #[default]
    Stopped,
}

impl DefaultStatus {
    pub(crate) fn to_wit(self) -> wit::DefaultStatus {
        match self {
            Self::Running => wit::DefaultStatus::Running,
            Self::Stopped => wit::DefaultStatus::Stopped,
        }
    }
}

/// A request for a run (Dagster's `RunRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunRequest {
    run_key: Option<String>,
    job: Option<String>,
    config: Option<String>,
    tags: Vec<(String, String)>,
}

impl RunRequest {
    /// A request for a run of the sensor's (or schedule's) job.
    pub fn new() -> Self {
        Self::default()
    }
    /// De-duplicates: at most one run per sensor and run key.
    pub fn run_key(mut self, key: impl Into<String>) -> Self {
        self.run_key = Some(key.into());
        self
    }
    /// Runs another job than the sensor's.
    pub fn job(mut self, job: impl Into<String>) -> Self {
        self.job = Some(job.into());
        self
    }
    /// The run config, e.g. `json!({"ops": {"scale": {"config": {"factor": 3}}}})`.
    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = Some(config.to_string());
        self
    }
    /// Adds a run tag.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }
    pub(crate) fn to_wit(&self) -> wit::RunRequest {
        wit::RunRequest {
            run_key: self.run_key.clone(),
            job: self.job.clone(),
            config: self.config.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// Why a sensor or schedule requested no run (Dagster's `SkipReason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipReason(pub String);

impl SkipReason {
    /// A skip with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

/// What the daemon tells a sensor.
#[derive(Debug, Clone, Default)]
pub struct SensorContext {
    /// The cursor the previous evaluation returned.
    pub cursor: Option<String>,
    /// When the previous evaluation happened, in milliseconds since the Unix epoch.
    pub last_evaluation_ms: Option<u64>,
    /// For a run-status sensor: the run that ended.
    pub run: Option<EndedRun>,
}

impl SensorContext {
    /// The cursor the previous evaluation returned.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
    /// The log of this evaluation.
    pub fn log(&self) -> Logger {
        Logger
    }
}

/// How a run ended (the ends of Dagster's `DagsterRunStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Success,
    Failure,
    Canceled,
}

impl RunStatus {
    /// The status as Weft and Dagster name it: `SUCCESS`, `FAILURE`, `CANCELED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Failure => "FAILURE",
            Self::Canceled => "CANCELED",
        }
    }
    fn to_wit(self) -> wit::RunEnd {
        match self {
            Self::Success => wit::RunEnd::Success,
            Self::Failure => wit::RunEnd::Failure,
            Self::Canceled => wit::RunEnd::Canceled,
        }
    }
    fn from_wit(end: wit::RunEnd) -> Self {
        match end {
            wit::RunEnd::Success => Self::Success,
            wit::RunEnd::Failure => Self::Failure,
            wit::RunEnd::Canceled => Self::Canceled,
        }
    }
}

/// A run that ended, as a run-status sensor sees it (Dagster's `context.dagster_run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedRun {
    pub run_id: String,
    /// The job (or asset job) that ran.
    pub job: String,
    /// The code location it belongs to.
    pub location: String,
    pub status: RunStatus,
    pub tags: Vec<(String, String)>,
    /// Why it failed, for a failed run.
    pub error: Option<String>,
    /// When it ended, in milliseconds since the Unix epoch.
    pub ended_ms: u64,
}

impl EndedRun {
    /// The value of the run's tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn from_wit(run: wit::EndedRun) -> Self {
        Self {
            run_id: run.run_id,
            job: run.job,
            location: run.location,
            status: RunStatus::from_wit(run.status),
            tags: run.tags,
            error: run.error,
            ended_ms: run.ended_ms,
        }
    }
}

/// What the daemon tells a run-status sensor: the run that ended (Dagster's
/// `RunStatusSensorContext`).
#[derive(Debug, Clone)]
pub struct RunStatusSensorContext {
    run: EndedRun,
}

impl RunStatusSensorContext {
    /// A context for `run` (for testing a sensor's function).
    pub fn new(run: EndedRun) -> Self {
        Self { run }
    }
    /// The run that ended.
    pub fn run(&self) -> &EndedRun {
        &self.run
    }
    /// The log of this evaluation.
    pub fn log(&self) -> Logger {
        Logger
    }
    #[doc(hidden)]
    pub fn __of(ctx: &SensorContext) -> Result<Self, Failure> {
        ctx.run.clone().map(Self::new).ok_or_else(|| {
            Failure::fatal("a run-status sensor was evaluated without the run that ended")
        })
    }
}

/// What a sensor returns: run requests, or a skip reason, and optionally a new cursor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorResult {
    /// The runs asked for.
    pub run_requests: Vec<RunRequest>,
    /// Why none, if none.
    pub skip_reason: Option<String>,
    /// The cursor to store, if it moves.
    pub cursor: Option<String>,
}

impl SensorResult {
    /// Sets the new cursor.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }
    pub(crate) fn to_wit(&self) -> wit::SensorResult {
        wit::SensorResult {
            run_requests: self.run_requests.iter().map(RunRequest::to_wit).collect(),
            skip_reason: self.skip_reason.clone(),
            cursor: self.cursor.clone(),
        }
    }
}

impl From<RunRequest> for SensorResult {
    fn from(request: RunRequest) -> Self {
        Self {
            run_requests: vec![request],
            ..Self::default()
        }
    }
}

impl From<Vec<RunRequest>> for SensorResult {
    fn from(run_requests: Vec<RunRequest>) -> Self {
        Self {
            run_requests,
            ..Self::default()
        }
    }
}

impl From<SkipReason> for SensorResult {
    fn from(reason: SkipReason) -> Self {
        Self {
            skip_reason: Some(reason.0),
            ..Self::default()
        }
    }
}

/// What `#[sensor]` returns from the user's function: a result, or a failure.
#[doc(hidden)]
pub trait IntoSensorResult {
    fn into_sensor_result(self) -> Result<SensorResult, Failure>;
}

/// A run-status sensor that only acts (logs, notifies) and asks for nothing.
impl IntoSensorResult for () {
    fn into_sensor_result(self) -> Result<SensorResult, Failure> {
        Ok(SensorResult::default())
    }
}

impl<E: std::fmt::Display + 'static> IntoSensorResult for Result<(), E> {
    fn into_sensor_result(self) -> Result<SensorResult, Failure> {
        self.map(|()| SensorResult::default())
            .map_err(Failure::from_error)
    }
}

impl<E: std::fmt::Display + 'static> IntoSensorResult for Result<RunRequest, E> {
    fn into_sensor_result(self) -> Result<SensorResult, Failure> {
        self.map(SensorResult::from).map_err(Failure::from_error)
    }
}

impl IntoSensorResult for RunRequest {
    fn into_sensor_result(self) -> Result<SensorResult, Failure> {
        Ok(self.into())
    }
}

impl IntoSensorResult for SensorResult {
    fn into_sensor_result(self) -> Result<SensorResult, Failure> {
        Ok(self)
    }
}

impl<E: std::fmt::Display + 'static> IntoSensorResult for Result<SensorResult, E> {
    fn into_sensor_result(self) -> Result<SensorResult, Failure> {
        self.map_err(Failure::from_error)
    }
}

/// A sensor as `#[sensor]` describes it.
#[doc(hidden)]
#[derive(Debug)]
pub struct SensorSpec {
    pub name: &'static str,
    pub job: Option<&'static str>,
    pub minimum_interval_seconds: u32,
    pub description: Option<&'static str>,
    pub default_status: DefaultStatus,
    /// What a run-status sensor watches; `None` for a plain sensor.
    pub run_status: Option<RunStatusSpec>,
    pub evaluate: fn(&SensorContext) -> Result<SensorResult, Failure>,
}

/// What `#[run_status_sensor]` watches.
#[doc(hidden)]
#[derive(Debug)]
pub struct RunStatusSpec {
    pub status: RunStatus,
    pub monitored_jobs: &'static [&'static str],
    pub all_locations: bool,
}

impl SensorSpec {
    pub(crate) fn to_wit(&self) -> wit::SensorDef {
        wit::SensorDef {
            name: self.name.into(),
            job: self.job.map(Into::into),
            minimum_interval_seconds: self.minimum_interval_seconds,
            description: self.description.map(Into::into),
            default_status: self.default_status.to_wit(),
            kind: match &self.run_status {
                None => wit::SensorKind::Standard,
                Some(spec) => wit::SensorKind::RunStatus(wit::RunStatusFilter {
                    status: spec.status.to_wit(),
                    monitored_jobs: spec.monitored_jobs.iter().map(|j| (*j).into()).collect(),
                    all_locations: spec.all_locations,
                }),
            },
        }
    }
}
