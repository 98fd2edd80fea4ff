//! Executors: run the steps of a plan in dependency order, in-process (one at a time, on
//! the calling thread) or in parallel (up to N at once on worker threads), retrying failed
//! attempts by the step's retry policy and skipping the steps downstream of a failure.
//!
//! Every attempt becomes one batch of events (`STEP_START`, logs, `LOGS_CAPTURED`,
//! `STEP_OUTPUT`s, `ASSET_MATERIALIZATION`, then `STEP_SUCCESS`, `STEP_UP_FOR_RETRY` or
//! `STEP_FAILURE`), sent to the [`EventSink`] as one unit so storage writes it atomically.
//! Outputs pass to downstream steps in memory and are stored through the I/O manager.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use weft_core::Cancel;
use weft_core::config::RunConfig;
use weft_core::defs::Tags;
use weft_core::events::{Event, EventKind, FailureKind, RunStatus};
use weft_core::plan::{ExecutionPlan, Step};

use crate::attempt::Produced;
use crate::board::{Board, State};
use crate::hooks::{Ended, Printed};
use crate::inputs::{collect_inputs, missing_input, request_for};
use crate::writer::EventSink;
use weft_core::now_ms;
use weft_core::ports::{ComputeLogStore, HookRunner, InputArg, IoManager, StepRunner};

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
        let mut board = Board::new(spec.plan);
        // A step with nothing to wait for runs at once, unless it reads an output that an
        // earlier run did not produce (a re-execution from failure).
        let roots = (0..steps.len()).filter(|&i| steps[i].upstream.is_empty());
        self.admit(spec, roots.collect(), &mut board);
        // Mapped steps are made as the run goes: any number may come to run at once.
        let dynamic = steps.iter().any(|s| s.mapped_over.is_some());
        let workers = match dynamic {
            true => kind.workers(),
            false => kind.workers().min(steps.len().max(1)),
        };
        let shared = (Mutex::new(board), Condvar::new());
        std::thread::scope(|scope| {
            for _ in 1..workers {
                scope.spawn(|| self.work(spec, &shared));
            }
            self.work(spec, &shared);
        });
        let board = shared.0.into_inner().unwrap_or_else(|p| p.into_inner());
        let canceled = self.cancel.is_canceled();
        let mut skipped = board.skipped;
        // Whatever never ran (a cancel) is reported as skipped too.
        let mut never_ran = Vec::new();
        for (i, s) in board.state.iter().enumerate() {
            if *s == State::Waiting {
                let key = board.plan.steps[i].shown_key();
                skipped.push(key.clone());
                never_ran.push(Event {
                    step_key: Some(key),
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
    fn work(&self, spec: &RunSpec<'_>, shared: &(Mutex<Board>, Condvar)) {
        let (lock, wake) = shared;
        let Ok(mut board) = lock.lock() else { return };
        loop {
            if self.cancel.is_canceled() {
                board.ready.clear();
            }
            if let Some(i) = board.ready.pop_front() {
                board.state[i] = State::Running;
                board.running += 1;
                let plan = board.plan.clone();
                let step = &plan.steps[i];
                let inputs = collect_inputs(step, &board.outputs, self.io);
                drop(board);
                let result = self.run_step(spec, &plan, step, inputs);
                let dynamic = step.outputs.iter().any(|o| o.dynamic);
                if dynamic && result.is_ok() {
                    // A step run in a process of its own reads the run's plan, and so
                    // these keys, from the database: they are written before it starts.
                    self.sink.written(spec.run_id);
                }
                board = match lock.lock() {
                    Ok(b) => b,
                    Err(_) => return,
                };
                board.running -= 1;
                match result {
                    Ok(produced) => {
                        board.state[i] = State::Succeeded;
                        board.outputs[i] = produced.values;
                        if step.outputs.iter().any(|o| o.dynamic) {
                            // A step run in a process of its own reads the run's plan, and
                            // so these keys, from the database.
                            self.sink.written(spec.run_id);
                            let free = board.expand(i, &produced.keys);
                            self.admit(spec, free, &mut board);
                        }
                        self.release_readers(spec, i, &mut board);
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
    fn release_readers(&self, spec: &RunSpec<'_>, done: usize, board: &mut Board) {
        let mut free = VecDeque::new();
        board.count_down(done, &mut free);
        self.admit(spec, free, board);
    }

    /// Steps that wait on nothing now: each is ready to run, unless an output it reads was
    /// not produced — then it is skipped, and its own readers are released in turn.
    fn admit(&self, spec: &RunSpec<'_>, mut todo: VecDeque<usize>, board: &mut Board) {
        let mut events = Vec::new();
        while let Some(i) = todo.pop_front() {
            if board.state[i] != State::Waiting {
                continue;
            }
            let plan = board.plan.clone();
            let step = &plan.steps[i];
            let missing = missing_input(step, &plan, &board.outputs);
            // A template runs only as the steps made of it; one that is free before its
            // keys are known is not mapped at all (its dynamic step did not run).
            let reason = match (missing, &step.mapped_over) {
                (None, None) => {
                    board.ready.push_back(i);
                    continue;
                }
                (Some(reason), _) => reason,
                (None, Some(over)) => format!(
                    "step {} produced no keys to map over",
                    plan.steps[over.step].key
                ),
            };
            board.state[i] = State::Skipped;
            board.skipped.push(step.shown_key());
            events.push(Event {
                run_id: spec.run_id.to_owned(),
                step_key: Some(step.shown_key()),
                timestamp_ms: now_ms(),
                kind: EventKind::StepSkipped { reason },
            });
            board.count_down(i, &mut todo);
        }
        if !events.is_empty() {
            self.sink.emit(events);
        }
    }

    fn skip_downstream(&self, spec: &RunSpec<'_>, failed: usize, board: &mut Board) {
        let plan = board.plan.clone();
        let failed_key = &plan.steps[failed].key;
        let mut events = Vec::new();
        for j in plan.downstream_of(failed) {
            if board.state[j] == State::Waiting {
                board.state[j] = State::Skipped;
                let key = plan.steps[j].shown_key();
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
        plan: &ExecutionPlan,
        step: &Step,
        inputs: Result<Vec<(String, InputArg)>, String>,
    ) -> Result<Produced, (String, FailureKind)> {
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
        let mut request = request_for(spec, plan, step, inputs, 1);
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
}
