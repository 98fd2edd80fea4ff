//! The commands of the processes Weft starts for itself: `weft execute-run` (a run's own
//! process or pod), `weft step` (a step's) and `weft worker` (the queue executor's), each
//! a thin shell over `weft_server`.

use std::sync::Arc;

use weft_core::events::RunStatus;
use weft_server::Instance;
use weft_server::execute_run::{AnswerTo, answer_step};
use weft_server::execute_run::{Executed, execute_run};

use crate::{Answer, Failure};

/// `weft execute-run RUN_ID`: exits 0 when the run succeeded (or had already ended).
pub async fn execute(instance: Instance, run_id: String) -> Result<(), Failure> {
    match execute_run(instance, &run_id).await {
        Ok(Executed::AlreadyEnded(status)) => {
            println!("run {run_id} already ended {status}");
            Ok(())
        }
        Ok(Executed::Ended(status)) => {
            println!("run {run_id} ended {status}");
            match status {
                RunStatus::Success => Ok(()),
                _ => Err(Failure::Failed(None)),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// `weft step RUN_ID STEP_KEY --attempt N --answer stdout|db`.
pub async fn step(
    instance: Instance,
    run_id: String,
    step_key: String,
    attempt: u32,
    answer: Answer,
) -> Result<(), Failure> {
    let to = match answer {
        Answer::Stdout => AnswerTo::Stdout,
        Answer::Db => AnswerTo::Db,
    };
    println!(
        "{}",
        answer_step(instance, &run_id, &step_key, attempt, to).await?
    );
    Ok(())
}

/// `weft worker --slots N`: until Ctrl-C or SIGTERM.
pub async fn worker(instance: Instance, slots: u32, name: Option<String>) -> Result<(), Failure> {
    let say = Arc::new(|line: String| println!("{line}"));
    weft_server::worker::worker(instance, slots, name, say, weft_server::shutdown()).await?;
    Ok(())
}
