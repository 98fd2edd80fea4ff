//! The hook port: what a hook call is told ([`HookRequest`]), what comes of it
//! ([`HookAttempt`]), and [`HookRunner`], what runs it (a loaded code location). The
//! executor calls hooks after a step's attempt, in the run's process, whatever ran the step.

use std::time::Instant;

use crate::cancel::Cancel;
use crate::ports::step::{LogLine, StepFailure};

/// One call of a hook after a step (Dagster's `HookContext`).
#[derive(Clone, Debug)]
pub struct HookRequest {
    pub run_id: String,
    pub job: String,
    pub step_key: String,
    /// The op the step's node invokes.
    pub op: String,
    /// The hook's name.
    pub hook: String,
    /// Why the step failed, for a failure hook.
    pub failure: Option<String>,
    /// When the step's attempt began: a hook runs within what is left of the step's
    /// deadline.
    pub step_started: Instant,
}

/// What came of one hook call: its result, what it logged and printed.
#[derive(Clone, Debug)]
pub struct HookAttempt {
    pub result: Result<(), StepFailure>,
    pub logs: Vec<LogLine>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs hooks (blocking, from any thread), in the sandbox of the location defining them.
pub trait HookRunner: Send + Sync {
    /// Calls the hook; when `cancel` is raised meanwhile, the call is stopped where it is.
    fn run_hook(&self, request: &HookRequest, cancel: &Cancel) -> HookAttempt;
}
