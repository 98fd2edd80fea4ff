//! `weft execute-run RUN_ID`: executes one stored run in this process, to its end — what a
//! run's own process does (the process launcher starts one per run; a Kubernetes Job's pod
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
