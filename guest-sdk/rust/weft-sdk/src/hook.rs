//! Hooks (Dagster's `@success_hook` and `@failure_hook`): `#[success_hook]` or
//! `#[failure_hook]` on `fn h(ctx: &HookContext)` (returning `()` or `Result<(), E>`)
//! makes a hook, given to every node of a job by `#[job(hooks = [h])]` or to one
//! invocation by `op.with_hooks([h])(...)` in a job body. The host calls it after the
//! node's step ends: a success hook after a step that succeeded, a failure hook after one
//! that failed for good. A hook that fails is reported and fails nothing.

use crate::bindings::weft::plugin::types as wit;
use crate::failure::Failure;
use crate::log::Logger;
use std::fmt::Display;

/// When a hook runs.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookOn {
    Success,
    Failure,
}

/// A hook's description and function, made by `#[success_hook]` / `#[failure_hook]`.
#[doc(hidden)]
#[derive(Debug)]
pub struct HookSpec {
    pub name: &'static str,
    pub description: Option<&'static str>,
    pub on: HookOn,
    pub run: fn(&HookContext) -> Result<(), Failure>,
}

impl HookSpec {
    pub(crate) fn to_wit(&self) -> wit::HookDef {
        wit::HookDef {
            name: self.name.into(),
            description: self.description.map(Into::into),
            on: match self.on {
                HookOn::Success => wit::HookTrigger::Success,
                HookOn::Failure => wit::HookTrigger::Failure,
            },
        }
    }
}

/// What a hook is told (Dagster's `HookContext`): the step that ended, and why it failed.
#[derive(Debug, Clone, Default)]
pub struct HookContext {
    run_id: String,
    job: String,
    step_key: String,
    op: String,
    failure: Option<String>,
}

impl HookContext {
    /// A context for calling a hook directly in a unit test: run, job and step `test`, op
    /// `op`, no failure.
    pub fn for_test(op: impl Into<String>) -> Self {
        Self {
            run_id: "test".into(),
            job: "test".into(),
            step_key: "test".into(),
            op: op.into(),
            failure: None,
        }
    }

    /// Sets the step's failure message, for tests.
    pub fn with_failure(mut self, message: impl Into<String>) -> Self {
        self.failure = Some(message.into());
        self
    }

    pub(crate) fn from_wit(ctx: wit::HookContext) -> Self {
        Self {
            run_id: ctx.run_id,
            job: ctx.job,
            step_key: ctx.step_key,
            op: ctx.op,
            failure: ctx.failure,
        }
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The job being run.
    pub fn job_name(&self) -> &str {
        &self.job
    }

    /// The step that ended: its node's name.
    pub fn step_key(&self) -> &str {
        &self.step_key
    }

    /// The op its node invokes (Dagster's `context.op.name`).
    pub fn op_name(&self) -> &str {
        &self.op
    }

    /// Why the step failed, for a failure hook (Dagster's `context.op_exception`).
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The log, as an op's: lines are events of the run, under the step.
    pub fn log(&self) -> Logger {
        Logger
    }
}

/// What a hook function may return: `()` or `Result<(), E: Display>`.
#[doc(hidden)]
pub trait IntoHookResult {
    fn into_hook_result(self) -> Result<(), Failure>;
}

impl IntoHookResult for () {
    fn into_hook_result(self) -> Result<(), Failure> {
        Ok(())
    }
}

impl<E: Display + 'static> IntoHookResult for Result<(), E> {
    fn into_hook_result(self) -> Result<(), Failure> {
        self.map_err(Failure::from_error)
    }
}

/// How one invocation in a job body is made: its alias (`.alias("name")`) and its own
/// hooks (`.with_hooks([h])`). Built by `#[job]`'s rewriting.
#[doc(hidden)]
#[derive(Default)]
pub struct NodeOptions {
    pub alias: Option<String>,
    pub hooks: Vec<&'static HookSpec>,
}

/// The names of `own` and `more` hooks, each once, sorted: a node's hooks as every SDK
/// lists them.
pub(crate) fn hook_names<'a>(
    hooks: impl IntoIterator<Item = &'a &'static HookSpec>,
) -> Vec<String> {
    let mut names: Vec<String> = hooks.into_iter().map(|h| h.name.to_owned()).collect();
    names.sort();
    names.dedup();
    names
}
