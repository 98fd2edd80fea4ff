//! Sensors (`#[sensor]`): a function the daemon calls every `minimum_interval_seconds`
//! that asks for runs ([`RunRequest`]) or says why not ([`SkipReason`]), and may move a cursor.

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
    pub evaluate: fn(&SensorContext) -> Result<SensorResult, Failure>,
}

impl SensorSpec {
    pub(crate) fn to_wit(&self) -> wit::SensorDef {
        wit::SensorDef {
            name: self.name.into(),
            job: self.job.map(Into::into),
            minimum_interval_seconds: self.minimum_interval_seconds,
            description: self.description.map(Into::into),
            default_status: self.default_status.to_wit(),
        }
    }
}
