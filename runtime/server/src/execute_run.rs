//! `weft execute-run RUN_ID` and `weft step RUN_ID STEP_KEY`: one stored run, or one attempt
//! of one of its steps, executed in this process. `weft execute-run` is what a run's own
//! process does (the process launcher starts one per run; a Kubernetes Job's pod
//! runs the same command). The run, its pinned code-location versions and their grants are
//! read from the database, so it needs nothing but the instance (its `weft.yaml` and
//! database) and writes its events there: it finishes even if the server or daemon that
//! launched it has stopped.

use weft_core::events::RunStatus;
use weft_core::run::RunRecord;
use weft_wasm::Allocation;

use crate::config::RunLauncherConfig;
use crate::control::Control;
use crate::error::Error;
use crate::instance::Instance;
use crate::services::Services;
use crate::step_process::{OnTerminate, run_stored_step};

/// The services of a process that works on stored run `run_id` itself (a run's or a
/// step's process: it launches nothing elsewhere), its control plane, and the run; a
/// step's process, which runs one step, allocates its instance on demand.
pub async fn open_for_run(
    mut instance: Instance,
    run_id: &str,
    allocation: Allocation,
) -> Result<(Services, Control, RunRecord), Error> {
    instance.config.run_launcher = RunLauncherConfig::InProcess;
    let services = Services::open_with(instance, allocation).await?;
    let control = services.control();
    let run = services
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("there is no run {run_id:?}")))?;
    Ok((services, control, run))
}

/// How `weft execute-run` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executed {
    /// The run had ended before: nothing was done.
    AlreadyEnded(RunStatus),
    /// The run was executed here and ended so.
    Ended(RunStatus),
}

/// Executes run `run_id`: one not started yet (or marked starting by its launcher).
pub async fn execute_run(instance: Instance, run_id: &str) -> Result<Executed, Error> {
    let (services, control, run) = open_for_run(instance, run_id, Allocation::Pooled).await?;
    let record_starting = match run.status {
        RunStatus::NotStarted | RunStatus::Queued => true,
        RunStatus::Starting => false,
        status if status.is_finished() => return Ok(Executed::AlreadyEnded(status)),
        status => {
            return Err(Error::new(
                crate::ErrorKind::Conflict,
                format!(
                    "run {run_id} is {status}: another process executes it (re-execute it \
                     instead)"
                ),
            ));
        }
    };
    control
        .start_stored(&run, record_starting)
        .await
        .map_err(|e| Error::internal(format!("run {run_id}: {}", e.message)))?;
    services.launcher.wait_for_runs().await;
    let status = services
        .store
        .run(run_id)
        .await?
        .map_or(RunStatus::Failure, |r| r.status);
    Ok(Executed::Ended(status))
}

/// Where `weft step` puts its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerTo {
    /// Printed as JSON (the multiprocess executor reads it).
    Stdout,
    /// Stored in the database's step tasks (a step's pod, whose stdout is only a log).
    Db,
}

/// `weft step RUN_ID STEP_KEY --attempt N`: runs one attempt of a step of a stored run in
/// this process and answers with it; returns the line to print (the attempt as JSON, or
/// what became of it once stored). Failures of the step are in the answer; an error means
/// there is nothing to answer (no such run or step) or the answer could not be stored.
pub async fn answer_step(
    instance: Instance,
    run_id: &str,
    step_key: &str,
    attempt: u32,
    answer_to: AnswerTo,
) -> Result<String, Error> {
    let io = instance.io_manager()?;
    let (services, control, run) = open_for_run(instance, run_id, Allocation::OnDemand).await?;
    let io = io.open(&services.store)?;
    let stop = OnTerminate::StopStep;
    let answer = run_stored_step(&control, io.as_ref(), &run, step_key, attempt, stop).await?;
    let text = serde_json::to_string(&answer)
        .map_err(|e| Error::internal(format!("encoding the attempt: {e}")))?;
    match answer_to {
        AnswerTo::Stdout => Ok(text),
        AnswerTo::Db => {
            services
                .store
                .answer_step(run_id, step_key, attempt, &text, weft_core::now_ms())
                .await?;
            let outcome = match answer.result.is_ok() {
                true => "succeeded",
                false => "failed",
            };
            Ok(format!(
                "step {step_key} of run {run_id}: attempt {attempt} {outcome}"
            ))
        }
    }
}
