//! One call into a guest ([`Guest::call`]): a fresh store and instance under the location's
//! sandbox, driven on the host's runtime until it ends, its deadline passes or its run is
//! canceled, whichever comes first. Guest code is interrupted at the next epoch tick;
//! a host call that waits (a WASI sleep, a Kubernetes Job) is dropped where it waits. The
//! outcome is classified (a trap, a timeout, the memory budget, a cancel), and what the
//! call spent is measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap, UpdateDeadline};
use weft_core::Cancel;
use weft_core::events::FailureKind;
use weft_core::grants::Sandbox;
use weft_core::ports::{LogLine, StepCost, StepFailure, StepRequest};

use wasmtime::component::InstancePre;

use crate::bindings::CodeLocationPre;
use crate::engine::{HostInner, runtime};
use crate::error::LoadError;
use crate::exports::{Exported, Exports};
use crate::imports::StepScope;
use crate::network::Network;
use crate::sandbox::CallState;

/// What one transfer from the guest may carry beyond the output budget (names, metadata).
const HANDOVER_SLACK: usize = 1 << 20;

/// How long a call that ended waits for the Jobs it started to be deleted.
const SETTLE: Duration = Duration::from_secs(10);

/// How wasmtime says a transfer went over the store's hostcall fuel.
const HANDOVER_REFUSED: &str = "fuel allocated for hostcalls has been exhausted";

/// Why the host stopped a call.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("the call's deadline passed")]
    Deadline,
    #[error("the run was canceled")]
    Canceled,
}

/// What a call is for, which sets its deadline.
pub(crate) enum Purpose<'a> {
    /// Definitions, a sensor or a schedule: the evaluation deadline.
    Evaluation,
    /// A step: the step's deadline, and what the Jobs it may start inherit.
    Step(&'a StepRequest),
    /// A hook after a step that began at this instant: what is left of the step's deadline.
    Hook(Instant),
}

/// What a location's calls share: the engine, the pre-instance and where its exports
/// are, the sandbox.
pub(crate) struct Guest {
    pub(crate) host: Arc<HostInner>,
    pre: InstancePre<CallState>,
    exports: Exports,
    pub(crate) sandbox: Sandbox,
    /// The location's name and its `hosts` grant, for the network of each call.
    location: Arc<str>,
    hosts: Arc<[weft_core::hosts::HostPattern]>,
    resources: Arc<Vec<(String, weft_core::defs::Value)>>,
    env: Arc<Vec<(String, String)>>,
}

/// The outcome of one call into the guest, with what it logged, printed and cost.
pub(crate) struct Call<R> {
    pub(crate) result: Result<R, StepFailure>,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) cost: StepCost,
}

impl<R> Call<R> {
    fn failed(message: String, kind: FailureKind) -> Self {
        Call {
            result: Err(StepFailure {
                message,
                kind,
                retryable: false,
            }),
            logs: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            cost: StepCost::default(),
        }
    }
}

impl Guest {
    /// The calls of the location `pre` instantiates, under `sandbox`.
    pub(crate) fn new(
        host: Arc<HostInner>,
        location: &str,
        pre: CodeLocationPre<CallState>,
        sandbox: Sandbox,
    ) -> Result<Self, LoadError> {
        let exports = Exports::new(pre.instance_pre())
            .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        Ok(Guest {
            host,
            pre: pre.instance_pre().clone(),
            exports,
            location: location.into(),
            hosts: sandbox.hosts.clone().into(),
            resources: Arc::new(sandbox.resources.clone()),
            env: Arc::new(sandbox.env.clone()),
            sandbox,
        })
    }

    /// Makes a store under the sandbox, instantiates, runs `f` until it ends, the deadline
    /// passes (the `purpose`'s) or `cancel` is raised, and classifies what went wrong.
    pub(crate) fn call<R>(
        &self,
        purpose: Purpose<'_>,
        cancel: &Cancel,
        f: impl AsyncFnOnce(&mut Store<CallState>, &Exported<'_>) -> wasmtime::Result<R>,
    ) -> Call<R> {
        let start = Instant::now();
        let (timeout, deadline) = match purpose {
            Purpose::Evaluation => (
                self.sandbox.evaluation_timeout,
                start + self.sandbox.evaluation_timeout,
            ),
            Purpose::Step(_) => (self.sandbox.timeout, start + self.sandbox.timeout),
            Purpose::Hook(step_started) => {
                (self.sandbox.timeout, step_started + self.sandbox.timeout)
            }
        };
        let step = match purpose {
            Purpose::Step(request) => Some(request),
            _ => None,
        };
        let ended = Cancel::new();
        let captured = crate::sandbox::Captured::new(self.sandbox.output_limit_bytes);
        let scope = step.map(|request| StepScope {
            run_id: request.run_id.clone(),
            step_key: request.step_key.clone(),
            attempt: request.attempt,
            tags: request.tags.clone(),
            step_tags: request.step_tags.clone(),
            env: self.env.clone(),
            deadline,
            cancel: ended.clone(),
            jobs: self.host.external_jobs.get().cloned(),
            stdout: captured.stdout.clone(),
        });
        let network = Network::new(
            self.location.clone(),
            self.hosts.clone(),
            &self.sandbox,
            self.host.tls.clone(),
        );
        let state = match CallState::new(
            &self.sandbox,
            self.resources.clone(),
            &captured,
            scope,
            network,
        ) {
            Ok(state) => state,
            Err(message) => return Call::failed(message, FailureKind::Io),
        };
        let runtime = match runtime() {
            Ok(runtime) => runtime,
            Err(message) => return Call::failed(message.to_owned(), FailureKind::Io),
        };
        let mut store = Store::new(&self.host.engine, state);
        store.limiter(|s| &mut s.memory);
        // What the guest may hand the host in one transfer (its outputs, a log line): the
        // output budget, and a little for the rest.
        store.set_hostcall_fuel(
            self.sandbox
                .budgets
                .output_bytes
                .saturating_add(HANDOVER_SLACK),
        );
        store.call_hook(|mut ctx, hook| {
            ctx.data_mut().meter.cross(hook);
            Ok(())
        });
        // One deadline signal for guest code (looked at on each epoch tick) and for a host
        // call that waits (awaited below): the epoch thread raises it.
        let passed = Cancel::new();
        let watch = self.host.deadlines.watch(deadline, passed.clone());
        let (watched, expired) = (cancel.clone(), passed.clone());
        store.epoch_deadline_callback(move |_| {
            if watched.is_canceled() {
                return Err(Stop::Canceled.into());
            }
            if expired.is_canceled() {
                return Err(Stop::Deadline.into());
            }
            Ok(UpdateDeadline::Continue(1))
        });
        store.set_epoch_deadline(1);
        let outcome = runtime.block_on(async {
            let work = async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                let exported = Exported {
                    instance,
                    exports: &self.exports,
                };
                f(&mut store, &exported).await
            };
            tokio::select! {
                biased;
                result = work => result,
                () = passed.canceled() => Err(Stop::Deadline.into()),
                () = cancel.canceled() => Err(Stop::Canceled.into()),
            }
        });
        drop(watch);
        // Whatever the call started and still waits on (a Job) is stopped with it.
        ended.cancel();
        let mut state = store.into_data();
        state.k8s_jobs.settle(SETTLE);
        let network = state.network.finish(&mut state.log);
        let stdout = captured.stdout.take();
        let stderr = captured.stderr.take();
        let result = outcome.map_err(|e| self.classify(e, &state, &stderr, timeout));
        let cost = StepCost {
            wall_ms: start.elapsed().as_secs_f64() * 1e3,
            guest_ms: state.meter.guest_time.as_secs_f64() * 1e3,
            peak_memory_bytes: state.memory.peak() as u64,
            host_calls: state.meter.host_calls,
            host_call_ms: state.meter.host_time.as_secs_f64() * 1e3,
            log_bytes: state.log.written(),
            output_bytes: 0,
            network_requests: network.requests,
            network_bytes_in: network.bytes_in,
            network_bytes_out: network.bytes_out,
            network_refused: network.denied,
        };
        Call {
            result,
            logs: state.log.into_lines(),
            stdout,
            stderr,
            cost,
        }
    }

    fn classify(
        &self,
        error: wasmtime::Error,
        state: &CallState,
        stderr: &[u8],
        timeout: Duration,
    ) -> StepFailure {
        if let Some(asked) = state.memory.exceeded {
            return StepFailure {
                message: format!(
                    "out of memory: the guest asked for {} MiB, over its limit of {} MiB \
                     (all its memories and tables together)",
                    asked >> 20,
                    state.memory.limit() >> 20
                ),
                kind: FailureKind::OutOfMemory,
                retryable: false,
            };
        }
        match error.downcast_ref::<Stop>() {
            Some(Stop::Deadline) => {
                return StepFailure {
                    message: format!(
                        "timed out after {}: still running at its deadline, and stopped",
                        seconds(timeout)
                    ),
                    kind: FailureKind::Timeout,
                    retryable: false,
                };
            }
            Some(Stop::Canceled) => {
                return StepFailure {
                    message: "canceled: the run was canceled while the step ran, and the step \
                              was stopped"
                        .into(),
                    kind: FailureKind::Canceled,
                    retryable: false,
                };
            }
            None => {}
        }
        if format!("{error:#}").contains(HANDOVER_REFUSED) {
            return StepFailure {
                message: format!(
                    "the guest handed the host more than {} MiB at once (its outputs or a log \
                     line), over the step's output budget (limit output_mb)",
                    self.sandbox
                        .budgets
                        .output_bytes
                        .saturating_add(HANDOVER_SLACK)
                        >> 20
                ),
                kind: FailureKind::Budget,
                retryable: false,
            };
        }
        match error.downcast_ref::<Trap>() {
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

/// `2s`, `1.5s`.
fn seconds(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
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

#[cfg(test)]
mod tests {
    use super::{panic_message, seconds};
    use std::time::Duration;

    #[test]
    fn panic_messages_are_extracted() {
        let stderr = b"\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom (at src/lib.rs:10:5)")
        );
        assert_eq!(panic_message(b"nothing"), None);
    }

    #[test]
    fn deadlines_read_as_seconds() {
        assert_eq!(seconds(Duration::from_secs(2)), "2s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
    }
}
