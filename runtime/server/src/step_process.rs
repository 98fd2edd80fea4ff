//! The multiprocess executor (`executor: multiprocess` in weft.yaml; Dagster's
//! `multiprocess_executor`): each step attempt runs in a `weft step RUN_ID STEP_KEY
//! --attempt N` process of its own. The run's executor is unchanged — it schedules steps
//! as the graph allows (up to `max_concurrent` at once), applies retry policies and writes
//! the events — and reaches the step's process through [`ProcessStepRunner`], a
//! `StepRunner` like a loaded location. The step's process reads the run from the database,
//! its inputs from the I/O manager (so the filesystem, database or S3 one is needed, not
//! the in-memory one), runs the attempt and answers with it as JSON on stdout. A process
//! that dies first (killed, out of memory) fails the attempt retryably, and the step's retry
//! policy decides. (The `k8s-job` executor runs the same command in a Job per step,
//! answering through the database.)

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use std::sync::Arc;

use weft_core::Cancel;
use weft_core::events::{FailureKind, RunStatus};
use weft_core::ports::{CodeLocation, IoManager, StepAttempt, StepRequest, StepRunner};
use weft_core::run::RunRecord;
use weft_engine::executor::RunSpec;
use weft_engine::router::AssetRouter;
use weft_engine::stored_step_request;
use weft_store::Store;

use crate::control::Control;
use crate::error::Error;

/// Runs each step attempt in a `program step ...` process, in instance `home`.
pub struct ProcessStepRunner {
    pub program: PathBuf,
    pub home: PathBuf,
}

impl StepRunner for ProcessStepRunner {
    fn run_step(&self, request: &StepRequest, cancel: &Cancel) -> StepAttempt {
        let child = Command::new(&self.program)
            .arg("step")
            .arg(&request.run_id)
            .arg(&request.step_key)
            .arg("--attempt")
            .arg(request.attempt.to_string())
            .env("WEFT_HOME", &self.home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let output = match child.and_then(|child| wait_or_kill(child, cancel)) {
            Ok(output) => output,
            Err(e) => {
                return failed(format!("cannot start the step's process: {e}"), Vec::new());
            }
        };
        if cancel.is_canceled() && !output.status.success() {
            return StepAttempt {
                stderr: output.stderr,
                ..StepAttempt::failed(
                    "canceled: the run was canceled while the step ran, and its process was \
                     killed",
                    FailureKind::Canceled,
                    false,
                )
            };
        }
        if output.status.success() {
            return serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
                failed(
                    format!("the step's process answered something else than an attempt: {e}"),
                    output.stderr,
                )
            });
        }
        let how = exit_of(output.status);
        let last = String::from_utf8_lossy(&output.stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(": {}", l.trim()))
            .unwrap_or_default();
        failed(
            format!("the step's process {how} before it answered{last}"),
            output.stderr,
        )
    }
}

/// Waits for `child` to exit, reading its stdout and stderr meanwhile; kills it if
/// `cancel` is raised first.
fn wait_or_kill(mut child: Child, cancel: &Cancel) -> std::io::Result<Output> {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let mut poll = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if cancel.wait_timeout(poll) {
            break stop(&mut child)?;
        }
        poll = (poll * 2).min(Duration::from_millis(50));
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// How long a canceled step's process has to stop by itself (it watches its run too, and
/// deletes the Jobs its op started) before it is killed.
const STOP_GRACE: Duration = Duration::from_millis(1500);

/// Waits up to [`STOP_GRACE`] for a canceled step's process to end, then kills it.
fn stop(child: &mut Child) -> std::io::Result<std::process::ExitStatus> {
    let until = std::time::Instant::now() + STOP_GRACE;
    while std::time::Instant::now() < until {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    child.wait()
}

/// A failed attempt that may succeed when tried again (the process, not the op, failed),
/// with what the process printed on stderr.
fn failed(message: String, stderr: Vec<u8>) -> StepAttempt {
    StepAttempt {
        stderr,
        ..StepAttempt::lost(message, true)
    }
}

fn exit_of(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended".to_owned(),
    }
}

/// What a SIGTERM to the process running a step means for the step.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnTerminate {
    /// Stop it (a step's own process or pod, whose Job was deleted: a cancel).
    StopStep,
    /// Nothing: the process stops once its steps have answered (a worker).
    Finish,
}

/// Runs attempt `attempt` of step `step_key` of stored run `run` here: its plan from the
/// pinned versions (loaded by digest through `control`'s registry), its inputs from `io`.
pub(crate) async fn run_stored_step(
    control: &Control,
    io: &dyn IoManager,
    run: &RunRecord,
    step_key: &str,
    attempt: u32,
    on_terminate: OnTerminate,
) -> Result<StepAttempt, Error> {
    let run_id = &run.run_id;
    let (prepared, locations) = control
        .stored_plan(run)
        .await
        .map_err(|e| Error::internal(format!("run {run_id}: {}", e.message)))?;
    if !prepared.plan.steps.iter().any(|s| s.key == step_key) {
        return Err(Error::not_found(format!(
            "run {run_id} has no step {step_key:?}"
        )));
    }
    let spec = RunSpec {
        run_id,
        plan: &prepared.plan,
        config: &prepared.config,
        tags: &prepared.record.tags,
    };
    let cancel = Cancel::new();
    let watch = tokio::spawn(watch_for_cancel(
        control.store().clone(),
        run_id.clone(),
        cancel.clone(),
        on_terminate,
    ));
    let attempt = match stored_step_request(&spec, step_key, attempt, io) {
        Err(message) => StepAttempt::failed(message, FailureKind::Io, false),
        Ok(request) => crate::off_runtime(|| {
            let locations: Vec<&dyn CodeLocation> = locations.iter().map(|l| l.as_ref()).collect();
            AssetRouter::new(locations, prepared.owners.clone()).run_step(&request, &cancel)
        }),
    };
    watch.abort();
    Ok(attempt)
}

/// How often a step run apart from its run's executor looks for a cancel of its run.
const WATCH: Duration = Duration::from_millis(200);

/// Raises `cancel` when run `run_id` is being canceled (in the database, by any replica),
/// or, with [`OnTerminate::StopStep`], when this process is asked to terminate (a step pod
/// whose Job was deleted): the step then stops where it is and deletes the Jobs it started
/// before the process exits. A worker asked to terminate lets its steps finish instead.
async fn watch_for_cancel(store: Arc<Store>, run_id: String, cancel: Cancel, on: OnTerminate) {
    let mut terminate = match on {
        OnTerminate::StopStep => {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
        }
        OnTerminate::Finish => None,
    };
    loop {
        let terminated = async {
            match terminate.as_mut() {
                Some(signal) => drop(signal.recv().await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = terminated => break,
            () = tokio::time::sleep(WATCH) => {}
        }
        if let Ok(Some(run)) = store.run(&run_id).await
            && run.status == RunStatus::Canceling
        {
            break;
        }
    }
    cancel.cancel();
}
