//! Executors: run the steps of a plan in dependency order, in-process (one at a time, on
//! the calling thread) or in parallel (up to N at once on worker threads), retrying failed
//! attempts by the step's retry policy and skipping the steps downstream of a failure.
//!
//! Every attempt becomes one batch of events (`STEP_START`, logs, `LOGS_CAPTURED`,
//! `STEP_OUTPUT`s, `ASSET_MATERIALIZATION`, then `STEP_SUCCESS`, `STEP_UP_FOR_RETRY` or
//! `STEP_FAILURE`), sent to the [`EventSink`] as one unit so storage writes it atomically.
//! Outputs pass to downstream steps in memory and are stored through the I/O manager.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use weft_core::Cancel;
use weft_core::config::RunConfig;
use weft_core::defs::{StepTarget, Tags, Value};
use weft_core::events::{Event, EventKind, FailureKind, LogLevel, RunStatus};
use weft_core::plan::{ExecutionPlan, Step};

use crate::checks::finish_check;
use crate::hooks::{Ended, Printed};
use crate::inputs::{collect_inputs, missing_input, request_for};
use crate::writer::EventSink;
use weft_core::now_ms;
use weft_core::ports::{
    ComputeLogStore, HookRunner, InputArg, IoManager, StepAttempt, StepFailure, StepRunner,
};

/// Which executor runs the steps of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutorKind {
    /// One step at a time, on the calling thread (Dagster's `in_process_executor`).
    InProcess,
    /// Up to `max_concurrent` steps at once (Dagster's `multiprocess_executor`, in threads).
    Parallel { max_concurrent: usize },
}

impl ExecutorKind {
    fn workers(self) -> usize {
        match self {
            ExecutorKind::InProcess => 1,
            ExecutorKind::Parallel { max_concurrent } => max_concurrent.max(1),
        }
    }
}

/// What to run.
pub struct RunSpec<'a> {
    pub run_id: &'a str,
    pub plan: &'a ExecutionPlan,
    pub config: &'a RunConfig,
    /// The run's tags, overlaid on each step's.
    pub tags: &'a Tags,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    pub status: RunStatus,
    /// Steps that failed, with their last message.
    pub failed: Vec<(String, String)>,
    /// Steps that did not run because an upstream step failed (or the run was canceled).
    pub skipped: Vec<String>,
}

/// The parts an executor works with.
pub struct Executor<'a> {
    pub runner: &'a dyn StepRunner,
    /// Runs the hooks of a step's node after it ends (in this process, whatever ran the
    /// step).
    pub hooks: &'a dyn HookRunner,
    pub io: &'a dyn IoManager,
    pub compute_logs: &'a dyn ComputeLogStore,
    pub sink: &'a dyn EventSink,
    /// Raised to stop the run: no new step starts, and the steps under way are stopped
    /// where they are (each runner watches it).
    pub cancel: &'a Cancel,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

struct Board {
    state: Vec<State>,
    waiting_on: Vec<usize>,
    ready: VecDeque<usize>,
    running: usize,
    outputs: Vec<HashMap<String, Value>>,
    failed: Vec<(String, String)>,
    skipped: Vec<String>,
    /// Steps stopped in flight by a cancel.
    interrupted: Vec<String>,
}

impl Board {
    /// Step `done` no longer holds up its readers: those that now wait on nothing join
    /// `free`.
    fn count_down(&mut self, readers: &[Vec<usize>], done: usize, free: &mut VecDeque<usize>) {
        for &r in &readers[done] {
            self.waiting_on[r] -= 1;
            if self.waiting_on[r] == 0 {
                free.push_back(r);
            }
        }
    }
}

impl Executor<'_> {
    /// Runs `spec` to the end and returns how it ended. Emits `RUN_START` first and
    /// `RUN_SUCCESS`, `RUN_FAILURE` or `RUN_CANCELED` last.
    pub fn execute(&self, spec: &RunSpec<'_>, kind: ExecutorKind) -> RunOutcome {
        let run_event = |kind: EventKind| Event {
            run_id: spec.run_id.to_owned(),
            step_key: None,
            timestamp_ms: now_ms(),
            kind,
        };
        self.sink.emit(vec![run_event(EventKind::RunStart)]);
        let steps = &spec.plan.steps;
        let mut readers: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, s) in steps.iter().enumerate() {
            for &u in &s.upstream {
                readers[u].push(i);
            }
        }
        let mut board = Board {
            state: vec![State::Waiting; steps.len()],
            waiting_on: steps.iter().map(|s| s.upstream.len()).collect(),
            ready: VecDeque::new(),
            running: 0,
            outputs: vec![HashMap::new(); steps.len()],
            failed: Vec::new(),
            skipped: Vec::new(),
            interrupted: Vec::new(),
        };
        // A step with nothing to wait for runs at once, unless it reads an output that an
        // earlier run did not produce (a re-execution from failure).
        let roots = (0..steps.len()).filter(|&i| steps[i].upstream.is_empty());
        self.admit(spec, &readers, roots.collect(), &mut board);
        let shared = (Mutex::new(board), Condvar::new());
        let workers = kind.workers().min(steps.len().max(1));
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(|| self.work(spec, &readers, &shared));
            }
            self.work(spec, &readers, &shared);
        });
        let board = shared.0.into_inner().unwrap_or_else(|p| p.into_inner());
        let canceled = self.cancel.is_canceled();
        let mut skipped = board.skipped;
        // Whatever never ran (a cancel) is reported as skipped too.
        let mut never_ran = Vec::new();
        for (i, s) in board.state.iter().enumerate() {
            if *s == State::Waiting {
                skipped.push(steps[i].key.clone());
                never_ran.push(Event {
                    step_key: Some(steps[i].key.clone()),
                    ..run_event(EventKind::StepSkipped {
                        reason: "the run was canceled".into(),
                    })
                });
            }
        }
        if !never_ran.is_empty() {
            self.sink.emit(never_ran);
        }
        let (status, last) = if canceled && !(skipped.is_empty() && board.interrupted.is_empty()) {
            (RunStatus::Canceled, EventKind::RunCanceled)
        } else if !board.failed.is_empty() {
            let names: Vec<&str> = board.failed.iter().map(|(k, _)| k.as_str()).collect();
            let message = match board.failed.as_slice() {
                [(step, msg)] => format!("step {step} failed: {msg}"),
                _ => format!("steps {} failed", names.join(", ")),
            };
            (RunStatus::Failure, EventKind::RunFailure { message })
        } else {
            (RunStatus::Success, EventKind::RunSuccess)
        };
        self.sink.emit(vec![run_event(last)]);
        RunOutcome {
            status,
            failed: board.failed,
            skipped,
        }
    }

    /// One worker: takes ready steps until none can become ready.
    fn work(&self, spec: &RunSpec<'_>, readers: &[Vec<usize>], shared: &(Mutex<Board>, Condvar)) {
        let (lock, wake) = shared;
        let Ok(mut board) = lock.lock() else { return };
        loop {
            if self.cancel.is_canceled() {
                board.ready.clear();
            }
            if let Some(i) = board.ready.pop_front() {
                board.state[i] = State::Running;
                board.running += 1;
                let step = &spec.plan.steps[i];
                let inputs = collect_inputs(step, &board.outputs, self.io);
                drop(board);
                let result = self.run_step(spec, step, inputs);
                board = match lock.lock() {
                    Ok(b) => b,
                    Err(_) => return,
                };
                board.running -= 1;
                match result {
                    Ok(outputs) => {
                        board.state[i] = State::Succeeded;
                        board.outputs[i] = outputs;
                        self.release_readers(spec, readers, i, &mut board);
                    }
                    // A step stops so only when its run is canceled, which its runner may
                    // have seen first (a step's process watches the run itself): the run
                    // stops here too. What never ran is reported as canceled at the end.
                    Err((_, FailureKind::Canceled)) => {
                        self.cancel.cancel();
                        board.state[i] = State::Failed;
                        board.interrupted.push(step.key.clone());
                    }
                    Err((message, _)) => {
                        board.state[i] = State::Failed;
                        board.failed.push((step.key.clone(), message));
                        self.skip_downstream(spec, i, &mut board);
                    }
                }
                wake.notify_all();
            } else if board.running == 0 {
                wake.notify_all();
                return;
            } else {
                board = match wake.wait(board) {
                    Ok(b) => b,
                    Err(_) => return,
                };
            }
        }
    }

    /// Step `done` ended without failing (it succeeded, or was skipped for want of an
    /// input): the steps reading it that now wait on nothing are admitted.
    fn release_readers(
        &self,
        spec: &RunSpec<'_>,
        readers: &[Vec<usize>],
        done: usize,
        board: &mut Board,
    ) {
        let mut free = VecDeque::new();
        board.count_down(readers, done, &mut free);
        self.admit(spec, readers, free, board);
    }

    /// Steps that wait on nothing now: each is ready to run, unless an output it reads was
    /// not produced — then it is skipped, and its own readers are released in turn.
    fn admit(
        &self,
        spec: &RunSpec<'_>,
        readers: &[Vec<usize>],
        mut todo: VecDeque<usize>,
        board: &mut Board,
    ) {
        let mut events = Vec::new();
        while let Some(i) = todo.pop_front() {
            if board.state[i] != State::Waiting {
                continue;
            }
            let step = &spec.plan.steps[i];
            let Some(reason) = missing_input(step, spec.plan, &board.outputs) else {
                board.ready.push_back(i);
                continue;
            };
            board.state[i] = State::Skipped;
            board.skipped.push(step.key.clone());
            events.push(Event {
                run_id: spec.run_id.to_owned(),
                step_key: Some(step.key.clone()),
                timestamp_ms: now_ms(),
                kind: EventKind::StepSkipped { reason },
            });
            board.count_down(readers, i, &mut todo);
        }
        if !events.is_empty() {
            self.sink.emit(events);
        }
    }

    fn skip_downstream(&self, spec: &RunSpec<'_>, failed: usize, board: &mut Board) {
        let failed_key = &spec.plan.steps[failed].key;
        let mut events = Vec::new();
        for j in spec.plan.downstream_of(failed) {
            if board.state[j] == State::Waiting {
                board.state[j] = State::Skipped;
                let key = spec.plan.steps[j].key.clone();
                events.push(Event {
                    run_id: spec.run_id.to_owned(),
                    step_key: Some(key.clone()),
                    timestamp_ms: now_ms(),
                    kind: EventKind::StepSkipped {
                        reason: format!("upstream step {failed_key} failed"),
                    },
                });
                board.skipped.push(key);
            }
        }
        if !events.is_empty() {
            self.sink.emit(events);
        }
    }

    /// Runs every attempt of one step. Returns its outputs, or the last failure's message
    /// and kind.
    fn run_step(
        &self,
        spec: &RunSpec<'_>,
        step: &Step,
        inputs: Result<Vec<(String, InputArg)>, String>,
    ) -> Result<HashMap<String, Value>, (String, FailureKind)> {
        let event = |kind: EventKind, at: i64| Event {
            run_id: spec.run_id.to_owned(),
            step_key: Some(step.key.clone()),
            timestamp_ms: at,
            kind,
        };
        let inputs = match inputs {
            Ok(inputs) => inputs,
            Err(message) => {
                let at = now_ms();
                self.sink.emit(vec![
                    event(EventKind::StepStart { attempt: 1 }, at),
                    event(
                        EventKind::StepFailure {
                            message: message.clone(),
                            kind: FailureKind::Io,
                            attempt: 1,
                            cost: None,
                        },
                        at,
                    ),
                ]);
                let ended = Ended::Failed(&message);
                self.run_hooks(spec, step, ended, Instant::now(), Printed::default());
                return Err((message, FailureKind::Io));
            }
        };
        let mut request = request_for(spec, step, inputs, 1);
        loop {
            // STEP_START goes out before the attempt runs, so that a watcher sees the step
            // under way; the rest of the attempt's events follow as one batch.
            self.sink.emit(vec![event(
                EventKind::StepStart {
                    attempt: request.attempt,
                },
                now_ms(),
            )]);
            let clock = Instant::now();
            let attempt = self.runner.run_step(&request, self.cancel);
            let cost = attempt.cost;
            // What it printed, which its hooks' output joins in the compute logs.
            let printed: Printed = match step.hooks.is_empty() {
                true => Printed::default(),
                false => (attempt.stdout.clone(), attempt.stderr.clone()),
            };
            let mut events = Vec::new();
            let result = self.finish_attempt(spec, step, attempt, &mut events, &event);
            match result {
                Ok(outputs) => {
                    let duration_ms = clock.elapsed().as_secs_f64() * 1e3;
                    events.push(event(
                        EventKind::StepSuccess { duration_ms, cost },
                        now_ms(),
                    ));
                    self.sink.emit(events);
                    self.run_hooks(spec, step, Ended::Succeeded, clock, printed);
                    return Ok(outputs);
                }
                Err(failure) => {
                    let retry = step
                        .retry_policy
                        .filter(|p| failure.retryable && request.attempt <= p.max_retries)
                        .map(|p| p.delay_before(request.attempt));
                    let message = failure.message;
                    if let Some(delay_ms) = retry.filter(|_| !self.cancel.is_canceled()) {
                        let kind = EventKind::StepUpForRetry {
                            message,
                            attempt: request.attempt,
                            delay_ms,
                            cost,
                        };
                        events.push(event(kind, now_ms()));
                        self.sink.emit(events);
                        self.run_hooks(spec, step, Ended::Retrying, clock, printed);
                        request.attempt += 1;
                        if self.cancel.wait_timeout(Duration::from_millis(delay_ms)) {
                            let message = format!(
                                "canceled: the run was canceled before attempt {}",
                                request.attempt
                            );
                            let kind = EventKind::StepFailure {
                                message: message.clone(),
                                kind: FailureKind::Canceled,
                                attempt: request.attempt - 1,
                                cost: None,
                            };
                            self.sink.emit(vec![event(kind, now_ms())]);
                            return Err((message, FailureKind::Canceled));
                        }
                        continue;
                    }
                    let kind = EventKind::StepFailure {
                        message: message.clone(),
                        kind: failure.kind,
                        attempt: request.attempt,
                        cost,
                    };
                    events.push(event(kind, now_ms()));
                    self.sink.emit(events);
                    if failure.kind != FailureKind::Canceled {
                        let ended = Ended::Failed(&message);
                        self.run_hooks(spec, step, ended, clock, printed);
                    }
                    return Err((message, failure.kind));
                }
            }
        }
    }

    /// Turns an attempt's logs and outputs into events, stores its outputs and compute logs.
    fn finish_attempt(
        &self,
        spec: &RunSpec<'_>,
        step: &Step,
        attempt: StepAttempt,
        events: &mut Vec<Event>,
        event: &dyn Fn(EventKind, i64) -> Event,
    ) -> Result<HashMap<String, Value>, StepFailure> {
        for line in attempt.logs {
            let at = line.timestamp_ms;
            events.push(event(line.into(), at));
        }
        if !attempt.stdout.is_empty() || !attempt.stderr.is_empty() {
            let kind = self.store_compute_logs(spec, step, &attempt.stdout, &attempt.stderr);
            events.push(event(kind, now_ms()));
        }
        if let StepTarget::Check {
            asset,
            name,
            blocking,
        } = &step.target
        {
            attempt.result?;
            return finish_check(asset, name, *blocking, attempt.check, events, event);
        }
        let outputs = attempt.result?;
        let io_failure = |message: String| StepFailure {
            message,
            kind: FailureKind::Io,
            retryable: false,
        };
        if let Some(extra) = outputs.iter().find(|o| step.output(&o.name).is_none()) {
            return Err(io_failure(format!(
                "returned output {:?}, which the op does not declare",
                extra.name
            )));
        }
        let mut stored = HashMap::with_capacity(outputs.len());
        for declared in &step.outputs {
            let Some(output) = outputs.iter().find(|o| o.name == declared.name) else {
                if declared.required {
                    return Err(io_failure(format!(
                        "did not return its output {:?}, which is required (declare it \
                         optional to leave it out)",
                        declared.name
                    )));
                }
                continue;
            };
            let at = now_ms();
            // An asset's new value (an asset's or a multi-asset's output), or an op's output.
            let saved = match &declared.asset {
                Some(key) => self.io.store_asset(key, &output.value),
                None => self
                    .io
                    .store_output(spec.run_id, &step.key, &output.name, &output.value),
            };
            let name = &declared.name;
            saved.map_err(|e| io_failure(format!("storing output {name:?}: {e}")))?;
            events.push(event(
                EventKind::StepOutput {
                    output: output.name.clone(),
                    codec: output.value.codec.clone(),
                    size: output.value.data.len() as u64,
                    preview: output.value.preview(200),
                    metadata: output.metadata.clone(),
                },
                at,
            ));
            if let Some(key) = &declared.asset {
                let kind = EventKind::AssetMaterialization {
                    asset_key: key.clone(),
                    metadata: output.metadata.clone(),
                };
                events.push(event(kind, at));
            }
        }
        for output in outputs {
            stored.insert(output.name, output.value);
        }
        Ok(stored)
    }

    /// Stores what a step printed as its compute logs: `LOGS_CAPTURED`, or a warning that
    /// they were lost.
    pub(crate) fn store_compute_logs(
        &self,
        spec: &RunSpec<'_>,
        step: &Step,
        stdout: &[u8],
        stderr: &[u8],
    ) -> EventKind {
        match self
            .compute_logs
            .store(spec.run_id, &step.key, stdout, stderr)
        {
            Ok(()) => EventKind::LogsCaptured {
                stdout_bytes: stdout.len() as u64,
                stderr_bytes: stderr.len() as u64,
            },
            Err(e) => EventKind::Log {
                level: LogLevel::Warning,
                message: format!("compute logs lost: {e}"),
                fields: Tags::new(),
            },
        }
    }
}
