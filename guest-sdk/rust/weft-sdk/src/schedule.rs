//! Schedules: [`ScheduleDefinition`] launches a job on a cron schedule; `#[schedule]` makes
//! one whose function decides each tick (run requests with config, or a skip).

use crate::bindings::weft::plugin::types as wit;
use crate::failure::Failure;
use crate::sensor::{DefaultStatus, RunRequest, SkipReason};

/// What the daemon tells a schedule evaluation.
#[derive(Debug, Clone, Default)]
pub struct ScheduleContext {
    /// The tick's scheduled time, in milliseconds since the Unix epoch.
    pub scheduled_time_ms: u64,
}

/// What a schedule evaluation returns for one tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleResult {
    /// Launch these runs.
    RunRequests(Vec<RunRequest>),
    /// Launch nothing, for this reason.
    Skip(String),
}

impl From<RunRequest> for ScheduleResult {
    fn from(request: RunRequest) -> Self {
        Self::RunRequests(vec![request])
    }
}

impl From<Vec<RunRequest>> for ScheduleResult {
    fn from(requests: Vec<RunRequest>) -> Self {
        Self::RunRequests(requests)
    }
}

impl From<SkipReason> for ScheduleResult {
    fn from(reason: SkipReason) -> Self {
        Self::Skip(reason.0)
    }
}

impl ScheduleResult {
    pub(crate) fn to_wit(&self) -> wit::ScheduleResult {
        match self {
            Self::RunRequests(r) => {
                wit::ScheduleResult::RunRequests(r.iter().map(RunRequest::to_wit).collect())
            }
            Self::Skip(reason) => wit::ScheduleResult::Skip(reason.clone()),
        }
    }
}

/// What `#[schedule]` accepts from the user's function: a result, or a failure.
#[doc(hidden)]
pub trait IntoScheduleResult {
    fn into_schedule_result(self) -> Result<ScheduleResult, Failure>;
}

impl IntoScheduleResult for ScheduleResult {
    fn into_schedule_result(self) -> Result<ScheduleResult, Failure> {
        Ok(self)
    }
}

impl<E: std::fmt::Display + 'static> IntoScheduleResult for Result<ScheduleResult, E> {
    fn into_schedule_result(self) -> Result<ScheduleResult, Failure> {
        self.map_err(Failure::from_error)
    }
}

/// The function that decides a tick of a `#[schedule]`.
type Evaluator = fn(&ScheduleContext) -> Result<ScheduleResult, Failure>;

/// A schedule (Dagster's `ScheduleDefinition`).
#[derive(Debug, Clone)]
pub struct ScheduleDefinition {
    name: String,
    job: String,
    cron: String,
    timezone: Option<String>,
    description: Option<String>,
    tags: Vec<(String, String)>,
    default_status: DefaultStatus,
    evaluate: Option<Evaluator>,
}

impl ScheduleDefinition {
    /// A schedule named `name` launching `job` on the five-field `cron` (in UTC).
    pub fn new(name: impl Into<String>, job: impl Into<String>, cron: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            job: job.into(),
            cron: cron.into(),
            timezone: None,
            description: None,
            tags: Vec::new(),
            default_status: DefaultStatus::Stopped,
            evaluate: None,
        }
    }
    /// The IANA time zone the cron is read in.
    pub fn timezone(mut self, tz: impl Into<String>) -> Self {
        self.timezone = Some(tz.into());
        self
    }
    /// Its description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// Adds a tag to its runs.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }
    /// Whether it runs as soon as the location loads.
    pub fn default_status(mut self, status: DefaultStatus) -> Self {
        self.default_status = status;
        self
    }
    #[doc(hidden)]
    pub fn __evaluator(
        mut self,
        f: fn(&ScheduleContext) -> Result<ScheduleResult, Failure>,
    ) -> Self {
        self.evaluate = Some(f);
        self
    }
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Decides a tick: the `#[schedule]` function's answer, or one plain run request.
    pub fn evaluate(&self, ctx: &ScheduleContext) -> Result<ScheduleResult, Failure> {
        match self.evaluate {
            Some(f) => f(ctx),
            None => Ok(RunRequest::new().into()),
        }
    }
    pub(crate) fn to_wit(&self) -> wit::ScheduleDef {
        wit::ScheduleDef {
            name: self.name.clone(),
            job: self.job.clone(),
            cron: self.cron.clone(),
            timezone: self.timezone.clone(),
            description: self.description.clone(),
            tags: self.tags.clone(),
            default_status: self.default_status.to_wit(),
            evaluates: self.evaluate.is_some(),
        }
    }
}
