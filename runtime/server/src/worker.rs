//! `weft worker --slots N`: Celery's worker without Celery. It claims attempts from the
//! database's step queue (the `queue` executor puts them there, `step_queue.rs`), runs each
//! as a step's own process would (the run's pinned versions by digest, inputs from the I/O
//! manager), stores the answer, and says it is alive every second for what it holds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use weft_core::events::RunStatus;
use weft_core::now_ms;
use weft_core::ports::{IoManager, StepAttempt};
use weft_store::{StepTask, Store};

use crate::control::Control;
use crate::error::Error;
use crate::instance::Instance;

/// How often a worker says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// How long an idle worker waits before looking at the queue again.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// `weft worker --slots N`: takes attempts from the queue and runs them until stopped.
/// It says what it does through `say` (a line each), and stops once `stop` resolves and
/// the steps under way have answered.
pub async fn worker(
    mut instance: Instance,
    slots: u32,
    name: Option<String>,
    say: Arc<dyn Fn(String) + Send + Sync>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    if slots == 0 {
        return Err(Error::bad_request("--slots must be at least 1"));
    }
    let name = name.unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
        format!("{host}-{}", std::process::id())
    });
    let io = instance.io_manager()?;
    if instance.outputs_stay_in_process() {
        return Err(Error::bad_request(
            "a worker passes outputs to other steps through the I/O manager: use io_manager: \
             filesystem (or database, or s3), not in-memory",
        ));
    }
    instance.config.run_launcher = crate::config::RunLauncherConfig::InProcess;
    instance.config.executor = None;
    let services = crate::Services::open(instance).await?;
    let io: Arc<dyn IoManager> = Arc::from(io.open(&services.store)?);
    let control = Arc::new(services.control());
    let store = services.store.clone();
    let busy = Arc::new(AtomicU32::new(0));
    say(format!("worker {name}: taking steps, {slots} at once"));
    let mut stop = std::pin::pin!(stop);
    let mut beat = Instant::now();
    loop {
        if beat.elapsed() >= HEARTBEAT {
            beat = Instant::now();
            if let Err(e) = store.renew_step_claims(&name, now_ms()).await {
                tracing::warn!("worker {name}: {e}");
            }
        }
        let free = slots.saturating_sub(busy.load(Ordering::SeqCst));
        let claimed = match free {
            0 => Vec::new(),
            n => store
                .claim_steps(&name, n, now_ms())
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!("worker {name}: {e}");
                    Vec::new()
                }),
        };
        let idle = claimed.is_empty();
        for task in claimed {
            busy.fetch_add(1, Ordering::SeqCst);
            let (control, store, io, busy, say) = (
                control.clone(),
                store.clone(),
                io.clone(),
                busy.clone(),
                say.clone(),
            );
            let runtime = tokio::runtime::Handle::current();
            let name = name.clone();
            say(format!(
                "worker {name}: took step {} of run {} (attempt {})",
                task.step_key, task.run_id, task.attempt
            ));
            tokio::task::spawn_blocking(move || {
                let outcome = runtime.block_on(work(&control, &store, io.as_ref(), &task));
                say(format!(
                    "worker {name}: step {} of run {} (attempt {}) {outcome}",
                    task.step_key, task.run_id, task.attempt
                ));
                busy.fetch_sub(1, Ordering::SeqCst);
            });
        }
        if idle {
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
    // Let the steps under way finish and answer, still saying this worker is alive.
    while busy.load(Ordering::SeqCst) > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if beat.elapsed() >= HEARTBEAT {
            beat = Instant::now();
            let _ = store.renew_step_claims(&name, now_ms()).await;
        }
    }
    say(format!("worker {name}: stopped"));
    Ok(())
}

/// Runs one claimed attempt and stores its answer; says how it went.
async fn work(
    control: &Control,
    store: &Store,
    io: &dyn IoManager,
    task: &StepTask,
) -> &'static str {
    let (run_id, step) = (&task.run_id, &task.step_key);
    let answer = match store.run(run_id).await {
        Ok(Some(run)) if run.status.is_finished() || run.status == RunStatus::Canceling => {
            StepAttempt::lost(
                format!("run {run_id} is {}: the step was not run", run.status),
                false,
            )
        }
        Ok(Some(run)) => {
            // A SIGTERM stops the worker once its steps have answered; it does not stop them.
            let finish = crate::step_process::OnTerminate::Finish;
            match crate::step_process::run_stored_step(
                control,
                io,
                &run,
                step,
                task.attempt,
                finish,
            )
            .await
            {
                Ok(answer) => answer,
                Err(failure) => StepAttempt::lost(failure.to_string(), false),
            }
        }
        Ok(None) => StepAttempt::lost(format!("there is no run {run_id}"), false),
        Err(e) => StepAttempt::lost(format!("reading run {run_id}: {e}"), true),
    };
    let outcome = if answer.result.is_ok() {
        "succeeded"
    } else {
        "failed"
    };
    let text = match serde_json::to_string(&answer) {
        Ok(text) => text,
        Err(e) => {
            tracing::error!("step {step} of run {run_id}: encoding the attempt: {e}");
            return "could not answer";
        }
    };
    // Keep trying: the run waits for this answer.
    for wait in [0, 100, 500, 2_000, 5_000] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        match store
            .answer_step(run_id, step, task.attempt, &text, now_ms())
            .await
        {
            Ok(()) => return outcome,
            Err(e) => tracing::warn!("step {step} of run {run_id}: storing the answer: {e}"),
        }
    }
    "could not answer"
}
