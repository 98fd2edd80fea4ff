//! The `queue` executor (with `weft worker`, `worker.rs`): Celery's role without Celery. The run's executor
//! schedules steps as the graph allows and puts each attempt in the database's step queue
//! ([`QueueStepRunner`]); long-running workers (`weft worker --slots N`, a Deployment on
//! Kubernetes) claim attempts (`FOR UPDATE SKIP LOCKED` on PostgreSQL), run them as a step's
//! own process would (the run and its pinned versions by digest from the database, inputs
//! from the I/O manager), and store the answer. Parallelism is workers × slots. A worker
//! says it is alive every second for what it holds; an attempt whose worker went silent is
//! given up and fails retryably, so the step's retry policy sends it to another worker.
//! Workers load a new version the first time a step needs its digest: nothing restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_core::Cancel;
use weft_core::events::RunStatus;
use weft_core::now_ms;
use weft_core::ports::{StepAnswers, StepAttempt, StepRequest, StepRunner};
use weft_store::{StepTask, Store};

/// The `queue` executor's step runner: each attempt through the queue.
pub struct QueueStepRunner {
    store: Arc<Store>,
    answers: Arc<StoredAnswers>,
    runtime: tokio::runtime::Handle,
    /// A claimed attempt whose worker has been silent this long is given up.
    worker_timeout_ms: i64,
}

impl QueueStepRunner {
    /// A runner on the current tokio runtime.
    pub fn new(store: Arc<Store>, answers: Arc<StoredAnswers>, worker_timeout: Duration) -> Self {
        QueueStepRunner {
            store,
            answers,
            runtime: tokio::runtime::Handle::current(),
            worker_timeout_ms: i64::try_from(worker_timeout.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Waits for the answer to `request`, queued; `None` while there is none yet.
    fn poll(
        &self,
        request: &StepRequest,
        warned: &mut bool,
        since: Instant,
    ) -> Option<StepAttempt> {
        let (run_id, step, attempt) = (&request.run_id, &request.step_key, request.attempt);
        let task = match self
            .runtime
            .block_on(self.store.step_task(run_id, step, attempt))
        {
            Ok(task) => task,
            Err(e) => {
                // The database may come back: keep waiting, loudly.
                tracing::warn!("step {step} of run {run_id}: reading the queue: {e}");
                return None;
            }
        };
        let Some(task) = task else {
            return Some(StepAttempt::lost(
                format!("the queued attempt {attempt} of step {step} disappeared from the queue"),
                true,
            ));
        };
        match task.state.as_str() {
            "DONE" => self.answers.answer(request),
            "LOST" => Some(Err(format!(
                "attempt {attempt} of step {step} was given up"
            ))),
            "CLAIMED" => self.check_worker(request, &task),
            _ => {
                if !*warned && since.elapsed() > Duration::from_secs(30) {
                    *warned = true;
                    tracing::warn!(
                        "no worker took step {step} of run {run_id} in 30 s: is a `weft worker` \
                         running on this database?"
                    );
                }
                self.check_canceled(request)
            }
        }
        .map(|answer| answer.unwrap_or_else(|message| StepAttempt::lost(message, true)))
    }

    /// Gives the attempt up if its worker went silent.
    fn check_worker(
        &self,
        request: &StepRequest,
        task: &StepTask,
    ) -> Option<Result<StepAttempt, String>> {
        let silent_ms = now_ms() - task.heartbeat_ms.unwrap_or(0);
        if silent_ms < self.worker_timeout_ms {
            return None;
        }
        let (run_id, step, attempt) = (&request.run_id, &request.step_key, request.attempt);
        match self
            .runtime
            .block_on(self.store.give_up_step(run_id, step, attempt))
        {
            Ok(true) => Some(Err(format!(
                "worker {} took the step and stopped answering (no heartbeat for {} s)",
                task.worker.as_deref().unwrap_or("?"),
                silent_ms / 1000
            ))),
            // It answered meanwhile.
            Ok(false) => self.answers.answer(request),
            Err(e) => {
                tracing::warn!("step {step} of run {run_id}: giving up a silent worker: {e}");
                None
            }
        }
    }

    /// Gives a still queued attempt up if its run is being canceled.
    fn check_canceled(&self, request: &StepRequest) -> Option<Result<StepAttempt, String>> {
        let (run_id, step, attempt) = (&request.run_id, &request.step_key, request.attempt);
        let run = self
            .runtime
            .block_on(self.store.run(run_id))
            .ok()
            .flatten()?;
        if run.status != RunStatus::Canceling {
            return None;
        }
        match self
            .runtime
            .block_on(self.store.give_up_step(run_id, step, attempt))
        {
            Ok(true) => Some(Ok(StepAttempt::lost(
                "the run was canceled before a worker took the step",
                false,
            ))),
            _ => None,
        }
    }
}

impl StepRunner for QueueStepRunner {
    fn run_step(&self, request: &StepRequest, cancel: &Cancel) -> StepAttempt {
        let (run_id, step, attempt) = (&request.run_id, &request.step_key, request.attempt);
        let queued =
            self.runtime
                .block_on(self.store.enqueue_step(run_id, step, attempt, now_ms()));
        if let Err(e) = queued {
            return StepAttempt::lost(format!("queuing the step: {e}"), true);
        }
        let since = Instant::now();
        let mut warned = false;
        let mut wait = Duration::from_millis(2);
        loop {
            // A cancel wakes this at once; a queued step is then given up (`poll`).
            cancel.wait_timeout(wait);
            wait = (wait * 2).min(Duration::from_millis(100));
            if let Some(answer) = self.poll(request, &mut warned, since) {
                return answer;
            }
        }
    }
}

/// The answers steps' pods and workers store in the database's step tasks: what the
/// `k8s-job` and `queue` step runners read.
pub struct StoredAnswers {
    store: Arc<Store>,
    runtime: tokio::runtime::Handle,
}

impl StoredAnswers {
    /// Answers read from `store` on the current tokio runtime (from step threads, off it).
    pub fn new(store: Arc<Store>) -> Self {
        StoredAnswers {
            store,
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

impl StepAnswers for StoredAnswers {
    fn location_of(&self, run_id: &str) -> Option<String> {
        let run = self.runtime.block_on(self.store.run(run_id)).ok().flatten();
        run.map(|r| r.location)
    }

    fn answer(&self, request: &StepRequest) -> Option<Result<StepAttempt, String>> {
        let (run_id, step, attempt) = (&request.run_id, &request.step_key, request.attempt);
        match self
            .runtime
            .block_on(self.store.step_task(run_id, step, attempt))
        {
            Err(e) => Some(Err(format!("reading the step's answer: {e}"))),
            Ok(task) => task.and_then(|t| t.answer).map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| format!("the step's answer is not an attempt: {e}"))
            }),
        }
    }
}
