//! Hooks after a step (Dagster's `@success_hook`, `@failure_hook`): which of a step's hooks
//! an attempt's end calls, calling them through the [`HookRunner`](weft_core::ports::HookRunner)
//! in the node's order, and their events (`HOOK_COMPLETED`, `HOOK_ERRORED`, `HOOK_SKIPPED`,
//! their log lines). A hook that fails changes nothing of its step's outcome.

use std::time::Instant;

use weft_core::defs::{HookTrigger, StepTarget};
use weft_core::events::{Event, EventKind};
use weft_core::now_ms;
use weft_core::plan::Step;
use weft_core::ports::HookRequest;

use crate::executor::{Executor, RunSpec};

/// How a step's attempt ended, as its hooks see it.
pub(crate) enum Ended<'a> {
    Succeeded,
    /// It failed and will be tried again: no hook runs (Dagster skips them all).
    Retrying,
    /// It failed for good, with this message.
    Failed(&'a str),
}

/// What the attempt printed, to which the hooks' output is added.
pub(crate) type Printed = (Vec<u8>, Vec<u8>);

impl Executor<'_> {
    /// Calls the hooks of `step` that `ended` asks for, skips the others, and emits their
    /// events as one batch. A canceled run calls none. `printed` is what the attempt
    /// printed: when a hook prints too, the step's compute logs are stored again with it.
    pub(crate) fn run_hooks(
        &self,
        spec: &RunSpec<'_>,
        step: &Step,
        ended: Ended<'_>,
        started: Instant,
        printed: Printed,
    ) {
        let StepTarget::Op(op) = &step.target else {
            return;
        };
        if step.hooks.is_empty() || self.cancel.is_canceled() {
            return;
        }
        let event = |kind: EventKind, at: i64| Event {
            run_id: spec.run_id.to_owned(),
            step_key: Some(step.key.clone()),
            timestamp_ms: at,
            kind,
        };
        let (mut stdout, mut stderr) = printed;
        let before = (stdout.len(), stderr.len());
        let mut events = Vec::new();
        for hook in &step.hooks {
            let failure = match (&ended, hook.on) {
                (Ended::Succeeded, HookTrigger::Success) => None,
                (Ended::Failed(message), HookTrigger::Failure) => Some((*message).to_owned()),
                _ => {
                    let kind = EventKind::HookSkipped {
                        hook: hook.name.clone(),
                    };
                    events.push(event(kind, now_ms()));
                    continue;
                }
            };
            let request = HookRequest {
                run_id: spec.run_id.to_owned(),
                job: spec.plan.job.clone(),
                step_key: step.key.clone(),
                op: op.clone(),
                hook: hook.name.clone(),
                failure,
                step_started: started,
            };
            let attempt = self.hooks.run_hook(&request, self.cancel);
            events.extend(attempt.logs.into_iter().map(|line| {
                let at = line.timestamp_ms;
                event(line.into(), at)
            }));
            stdout.extend(attempt.stdout);
            stderr.extend(attempt.stderr);
            let hook = hook.name.clone();
            let kind = match attempt.result {
                Ok(()) => EventKind::HookCompleted { hook },
                Err(failure) => EventKind::HookErrored {
                    hook,
                    message: failure.message,
                },
            };
            events.push(event(kind, now_ms()));
        }
        if (stdout.len(), stderr.len()) != before {
            let kind = self.store_compute_logs(spec, step, &stdout, &stderr);
            events.push(event(kind, now_ms()));
        }
        self.sink.emit(events);
    }
}
