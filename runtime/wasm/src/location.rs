//! [`WasmLocation`]: one component version, loaded, ready to run steps (ops, assets and
//! asset checks), hooks, sensors and schedules (the core's [`CodeLocation`], [`StepRunner`] and [`HookRunner`]). Every call gets a fresh store
//! and instance from the pre-instance, so no state leaks between steps, and runs under the
//! location's sandbox, within its deadline (`call.rs`).

use std::sync::Arc;

use weft_core::Cancel;
use weft_core::defs::{Definitions, StepTarget};
use weft_core::events::FailureKind;
use weft_core::grants::Sandbox;
use weft_core::ports::{
    CodeLocation, HookAttempt, HookRequest, HookRunner, ScheduleTick, SensorTick, StepAttempt,
    StepFailure, StepRequest, StepRunner,
};
use weft_core::run::EndedRun;
use weft_core::validate::validate;

use crate::bindings::{CodeLocationPre, schedules, sensors, types as t};
use crate::call::{Guest, Purpose};
use crate::convert;
use crate::engine::HostInner;
use crate::error::LoadError;
use crate::sandbox::CallState;

/// One version of a code location, compiled and validated.
pub struct WasmLocation {
    guest: Guest,
    name: String,
    digest: String,
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

impl WasmLocation {
    /// Asks the component for its definitions (within the sandbox's deadline, like any
    /// call) and validates them.
    pub(crate) fn new(
        host: Arc<HostInner>,
        name: String,
        digest: String,
        pre: CodeLocationPre<CallState>,
        sandbox: Sandbox,
    ) -> Result<Self, LoadError> {
        let guest = Guest::new(host, &name, pre, sandbox)?;
        let call = guest.call(
            Purpose::Evaluation,
            &Cancel::new(),
            async |store, exported| exported.definitions(store)?.call_get(store).await,
        );
        let defs = match call.result {
            Ok(Ok(defs)) => defs,
            Ok(Err(failure)) => return Err(LoadError::Definitions(failure.message)),
            Err(failure) => return Err(LoadError::Definitions(failure.message)),
        };
        let definitions = convert::definitions(defs);
        validate(&definitions)?;
        Ok(WasmLocation {
            guest,
            name,
            digest,
            definitions,
        })
    }

    /// What the location is granted and allowed, as its calls run under it.
    pub fn sandbox(&self) -> &Sandbox {
        &self.guest.sandbox
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
        let call = self.guest.call(
            Purpose::Evaluation,
            &Cancel::new(),
            async |store, exported| {
                exported
                    .sensors(store)?
                    .call_evaluate(store, name, &ctx)
                    .await
            },
        );
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
        let call = self.guest.call(
            Purpose::Evaluation,
            &Cancel::new(),
            async |store, exported| {
                exported
                    .schedules(store)?
                    .call_evaluate(store, name, ctx)
                    .await
            },
        );
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

fn guest_failure(failure: t::Failure) -> StepFailure {
    StepFailure {
        message: failure.message,
        kind: FailureKind::Error,
        retryable: failure.retryable,
    }
}

impl StepRunner for WasmLocation {
    fn run_step(&self, request: &StepRequest, cancel: &Cancel) -> StepAttempt {
        let (ctx, inputs) = convert::step_call(request);
        if let StepTarget::Check { .. } = request.target {
            return self.run_check(request, &ctx, &inputs, cancel);
        }
        let call = self
            .guest
            .call(Purpose::Step(request), cancel, async |store, exported| {
                exported
                    .ops(store)?
                    .call_execute(store, &ctx, &inputs)
                    .await
            });
        let mut cost = call.cost;
        let result = match call.result {
            Ok(Ok(outputs)) => {
                let bytes: usize = outputs.iter().map(|o| o.value.data.len()).sum();
                cost.output_bytes = bytes as u64;
                let budget = self.guest.sandbox.budgets.output_bytes;
                if bytes > budget {
                    Err(StepFailure {
                        message: format!(
                            "its outputs are {bytes} bytes, over the step's output budget of \
                             {} MiB (limit output_mb)",
                            budget >> 20
                        ),
                        kind: FailureKind::Budget,
                        retryable: false,
                    })
                } else {
                    Ok(convert::outputs(outputs))
                }
            }
            Ok(Err(failure)) => Err(guest_failure(failure)),
            Err(failure) => Err(failure),
        };
        StepAttempt {
            result,
            logs: call.logs,
            stdout: call.stdout,
            stderr: call.stderr,
            cost: Some(cost),
            check: None,
        }
    }
}

impl WasmLocation {
    /// An asset check's step: `checks.evaluate`, whose result is the attempt's `check`.
    fn run_check(
        &self,
        request: &StepRequest,
        ctx: &t::StepContext,
        inputs: &[t::StepInput],
        cancel: &Cancel,
    ) -> StepAttempt {
        let call = self
            .guest
            .call(Purpose::Step(request), cancel, async |store, exported| {
                exported
                    .checks(store)?
                    .call_evaluate(store, ctx, inputs)
                    .await
            });
        let (result, check) = match call.result {
            Ok(Ok(evaluated)) => (Ok(Vec::new()), Some(convert::check_result(evaluated))),
            Ok(Err(failure)) => (Err(guest_failure(failure)), None),
            Err(failure) => (Err(failure), None),
        };
        StepAttempt {
            result,
            logs: call.logs,
            stdout: call.stdout,
            stderr: call.stderr,
            cost: Some(call.cost),
            check,
        }
    }
}

impl HookRunner for WasmLocation {
    /// Calls the hook within what is left of its step's deadline (none left: it fails
    /// without running), without the step's Kubernetes Jobs.
    fn run_hook(&self, request: &HookRequest, cancel: &Cancel) -> HookAttempt {
        let timeout = self.guest.sandbox.timeout;
        if request.step_started.elapsed() >= timeout {
            return HookAttempt {
                result: Err(StepFailure {
                    message: format!(
                        "not run: its step's deadline ({}s) had passed",
                        timeout.as_secs_f64()
                    ),
                    kind: FailureKind::Timeout,
                    retryable: false,
                }),
                logs: Vec::new(),
                stdout: Vec::new(),
                stderr: Vec::new(),
            };
        }
        let ctx = convert::hook_context(request);
        let purpose = Purpose::Hook(request.step_started);
        let call = self.guest.call(purpose, cancel, async |store, exported| {
            exported
                .hooks(store)?
                .call_run(store, &request.hook, &ctx)
                .await
        });
        let result = match call.result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => Err(guest_failure(failure)),
            Err(failure) if failure.kind == FailureKind::Timeout => Err(StepFailure {
                message: format!(
                    "still running at its step's deadline ({}s), and stopped",
                    timeout.as_secs_f64()
                ),
                ..failure
            }),
            Err(failure) => Err(failure),
        };
        HookAttempt {
            result,
            logs: call.logs,
            stdout: call.stdout,
            stderr: call.stderr,
        }
    }
}
