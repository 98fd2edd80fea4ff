//! `weft execute-run RUN_ID`: executes one stored run in this process and exits with its
//! outcome — what a run's own process does (the process launcher starts one per run; a
//! Kubernetes Job's pod runs the same command). The run, its pinned code-location versions
//! and their grants are read from the database, so it needs nothing but the instance (its
//! `weft.yaml` and database) and writes its events there: it finishes even if the server
//! or daemon that launched it has stopped.

use weft_core::events::RunStatus;
use weft_core::run::RunRecord;

use crate::Failure;
use crate::instance::{Instance, RunLauncherConfig};
use crate::serve::Services;
use crate::serve::control::Control;

/// The services of a process that works on stored run `run_id` itself (a run's or a
/// step's process: it launches nothing elsewhere), its control plane, and the run; a
/// step's process, which runs one step, allocates its instance on demand.
pub(crate) async fn open_for_run(
    mut instance: Instance,
    run_id: &str,
    allocation: weft_wasm::Allocation,
) -> Result<(Services, Control, RunRecord), Failure> {
    instance.config.run_launcher = RunLauncherConfig::InProcess;
    let services = Services::open_with(instance, allocation).await?;
    let control = services.control();
    let run = services
        .store
        .run(run_id)
        .await
        .map_err(|e| Failure::Failed(Some(anyhow::anyhow!("{e}"))))?
        .ok_or_else(|| Failure::BadInput(anyhow::anyhow!("there is no run {run_id:?}")))?;
    Ok((services, control, run))
}

/// Executes run `run_id`: one not started yet (or marked starting by its launcher).
pub async fn command(instance: Instance, run_id: String) -> Result<(), Failure> {
    let failed = |e: String| Failure::Failed(Some(anyhow::anyhow!(e)));
    let (services, control, run) =
        open_for_run(instance, &run_id, weft_wasm::Allocation::Pooled).await?;
    let record_starting = match run.status {
        RunStatus::NotStarted | RunStatus::Queued => true,
        RunStatus::Starting => false,
        status if status.is_finished() => {
            println!("run {run_id} already ended {status}");
            return Ok(());
        }
        status => {
            return Err(Failure::BadInput(anyhow::anyhow!(
                "run {run_id} is {status}: another process executes it (re-execute it instead)"
            )));
        }
    };
    control
        .start_stored(&run, record_starting)
        .await
        .map_err(|e| failed(format!("run {run_id}: {}", e.message)))?;
    services.launcher.wait_for_runs().await;
    let status = services
        .store
        .run(&run_id)
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_or(RunStatus::Failure, |r| r.status);
    println!("run {run_id} ended {status}");
    if status == RunStatus::Success {
        Ok(())
    } else {
        Err(Failure::Failed(None))
    }
}
