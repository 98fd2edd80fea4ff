//! [`WasmLocation`]: one component version, loaded, ready to run steps, sensors and
//! schedules (the core's [`CodeLocation`] and [`StepRunner`]). Every call gets a fresh store and instance from
//! the pre-instance, so no state leaks between steps, and runs under the location's sandbox.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::{Store, Trap};
use weft_core::defs::Definitions;
use weft_core::events::FailureKind;
use weft_core::grants::Sandbox;
use weft_core::ports::{
    CodeLocation, LogLine, ScheduleTick, SensorTick, StepAttempt, StepFailure, StepRequest,
    StepRunner,
};
use weft_core::run::EndedRun;
use weft_core::validate::validate;

use crate::bindings::{CodeLocation as World, CodeLocationPre, schedules, sensors, types as t};
use crate::convert;
use crate::engine::{HostInner, TICK};
use crate::error::LoadError;
use crate::sandbox::{CallState, StepScope};

/// One version of a code location, compiled and validated.
pub struct WasmLocation {
    host: Arc<HostInner>,
    name: String,
    digest: String,
    pre: CodeLocationPre<CallState>,
    sandbox: Sandbox,
    resources: Arc<Vec<(String, weft_core::defs::Value)>>,
    env: Arc<Vec<(String, String)>>,
    definitions: Definitions,
}

impl std::fmt::Debug for WasmLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmLocation")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// The outcome of one call into the guest, with what it logged and printed.
struct Call<R> {
    result: Result<R, StepFailure>,
    logs: Vec<LogLine>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl WasmLocation {
    pub(crate) fn new(
        host: Arc<HostInner>,
        name: String,
        digest: String,
        pre: CodeLocationPre<CallState>,
        sandbox: Sandbox,
    ) -> Result<Self, LoadError> {
        let resources = Arc::new(sandbox.resources.clone());
        let env = Arc::new(sandbox.env.clone());
        let mut location = WasmLocation {
            host,
            name,
            digest,
            pre,
            sandbox,
            resources,
            env,
            definitions: Definitions::default(),
        };
        let call = location.call(None, |store, world| {
            world.weft_plugin_definitions().call_get(store)
        });
        let defs = match call.result {
            Ok(Ok(defs)) => defs,
            Ok(Err(failure)) => return Err(LoadError::Definitions(failure.message)),
            Err(failure) => return Err(LoadError::Definitions(failure.message)),
        };
        location.definitions = convert::definitions(defs);
        validate(&location.definitions)?;
        Ok(location)
    }
}

impl CodeLocation for WasmLocation {
    /// The location's name.
    fn name(&self) -> &str {
        &self.name
    }

    /// The sha256 of the component.
    fn digest(&self) -> &str {
        &self.digest
    }

    /// What the location defines.
    fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// Evaluates the sensor `name` with the stored `cursor`; a run-status sensor is told
    /// of the one `run` it is evaluated for.
    fn evaluate_sensor(
        &self,
        name: &str,
        cursor: Option<String>,
        last_evaluation_ms: Option<u64>,
        run: Option<&EndedRun>,
    ) -> Result<SensorTick, StepFailure> {
        let ctx = sensors::SensorContext {
            cursor,
            last_evaluation_ms,
            run: run.and_then(convert::ended_run),
        };
        let call = self.call(None, |store, world| {
            world.weft_plugin_sensors().call_evaluate(store, name, &ctx)
        });
        match call.result {
            Ok(Ok(result)) => Ok(SensorTick {
                run_requests: convert::run_requests(result.run_requests),
                skip_reason: result.skip_reason,
                cursor: result.cursor,
                logs: call.logs,
            }),
            Ok(Err(failure)) => Err(guest_failure(failure)),
            Err(failure) => Err(failure),
        }
    }

    /// Decides the tick of schedule `name` scheduled at `scheduled_ms` (a schedule whose
    /// definition `evaluates`): run requests, or a skip with its reason.
    fn evaluate_schedule(
        &self,
        name: &str,
        scheduled_ms: u64,
    ) -> Result<ScheduleTick, StepFailure> {
        let ctx = schedules::ScheduleContext {
            scheduled_time_ms: scheduled_ms,
        };
        let call = self.call(None, |store, world| {
            world
                .weft_plugin_schedules()
                .call_evaluate(store, name, ctx)
        });
        match call.result {
            Ok(Ok(schedules::ScheduleResult::RunRequests(list))) => {
                Ok(ScheduleTick::Run(convert::run_requests(list)))
            }
            Ok(Ok(schedules::ScheduleResult::Skip(reason))) => Ok(ScheduleTick::Skip(reason)),
            Ok(Err(failure)) => Err(guest_failure(failure)),
            Err(failure) => Err(failure),
        }
    }
}

impl WasmLocation {
    /// Makes a store under the sandbox, instantiates, runs `f`, and classifies what went
    /// wrong: a guest trap, a timeout, the memory limit, a grant that could not be opened.
    /// A step's call passes its `step` (what the Jobs it may start inherit).
    fn call<R>(
        &self,
        step: Option<&StepRequest>,
        f: impl FnOnce(&mut Store<CallState>, &World) -> wasmtime::Result<R>,
    ) -> Call<R> {
        let (state, captured) = match CallState::new(&self.sandbox, self.resources.clone()) {
            Ok(pair) => pair,
            Err(message) => {
                let failure = StepFailure {
                    message,
                    kind: FailureKind::Io,
                    retryable: false,
                };
                return Call {
                    result: Err(failure),
                    logs: Vec::new(),
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                };
            }
        };
        let mut state = state;
        if let Some(request) = step {
            state.step = Some(StepScope {
                run_id: request.run_id.clone(),
                step_key: request.step_key.clone(),
                attempt: request.attempt,
                tags: request.tags.clone(),
                step_tags: request.step_tags.clone(),
                env: self.env.clone(),
                deadline: Instant::now() + self.sandbox.timeout,
                started: 0,
                jobs: self.host.external_jobs.get().cloned(),
                stdout: captured.stdout.clone(),
            });
        }
        let mut store = Store::new(&self.host.engine, state);
        store.limiter(|s| &mut s.limits);
        let ticks = (self.sandbox.timeout.as_millis() / TICK.as_millis()).max(1) as u64 + 1;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        let outcome = self
            .pre
            .instantiate(&mut store)
            .and_then(|world| f(&mut store, &world));
        let stdout = captured.stdout.take();
        let stderr = captured.stderr.take();
        let state = store.into_data();
        let result = outcome.map_err(|e| self.classify(e, &state, &stderr));
        Call {
            result,
            logs: state.logs,
            stdout,
            stderr,
        }
    }

    fn classify(&self, error: wasmtime::Error, state: &CallState, stderr: &[u8]) -> StepFailure {
        if let Some(asked) = state.limits.exceeded {
            return StepFailure {
                message: format!(
                    "out of memory: the guest asked for {} MiB, over its limit of {} MiB",
                    asked >> 20,
                    state.limits.limit() >> 20
                ),
                kind: FailureKind::OutOfMemory,
                retryable: false,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => StepFailure {
                message: format!(
                    "timed out: still running after its deadline of {:?}, and stopped",
                    self.sandbox.timeout
                ),
                kind: FailureKind::Timeout,
                retryable: false,
            },
            Some(Trap::StackOverflow) => StepFailure {
                message: "stack overflow: the guest recursed too deep (wasm call stack exhausted)"
                    .into(),
                kind: FailureKind::Trap,
                retryable: true,
            },
            Some(trap) => {
                let message = match panic_message(stderr) {
                    Some(panic) => format!("panicked: {panic}"),
                    // A Rust, C or Go guest keeps its stack in linear memory: running off
                    // its bottom is an out-of-bounds access, not a wasm stack overflow.
                    None if *trap == Trap::MemoryOutOfBounds => format!(
                        "trapped: {trap} (a stack overflow from unbounded recursion, or a bad pointer)"
                    ),
                    None => format!("trapped: {trap}"),
                };
                StepFailure {
                    message,
                    kind: FailureKind::Trap,
                    retryable: true,
                }
            }
            None => StepFailure {
                message: format!("{error:#}"),
                kind: FailureKind::Trap,
                retryable: true,
            },
        }
    }
}

fn guest_failure(failure: t::Failure) -> StepFailure {
    StepFailure {
        message: failure.message,
        kind: FailureKind::Error,
        retryable: failure.retryable,
    }
}

/// The panic message a Rust guest printed to stderr (`panicked at src/lib.rs:3:5:\nboom`).
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let at = text.rfind("panicked at ")?;
    let rest = &text[at + "panicked at ".len()..];
    let rest = rest.split("\nnote: ").next().unwrap_or(rest).trim();
    Some(match rest.split_once(":\n") {
        Some((place, message)) => format!("{} (at {place})", message.trim()),
        None => rest.to_owned(),
    })
}

impl StepRunner for WasmLocation {
    fn run_step(&self, request: &StepRequest) -> StepAttempt {
        let (ctx, inputs) = convert::step_call(request);
        let call = self.call(Some(request), |store, world| {
            world.weft_plugin_ops().call_execute(store, &ctx, &inputs)
        });
        let result = match call.result {
            Ok(Ok(outputs)) => Ok(convert::outputs(outputs)),
            Ok(Err(failure)) => Err(guest_failure(failure)),
            Err(failure) => Err(failure),
        };
        StepAttempt {
            result,
            logs: call.logs,
            stdout: call.stdout,
            stderr: call.stderr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn panic_messages_are_extracted() {
        let stderr = b"\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom (at src/lib.rs:10:5)")
        );
        assert_eq!(panic_message(b"nothing"), None);
    }
}
