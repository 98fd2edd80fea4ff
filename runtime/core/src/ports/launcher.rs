//! The run-launcher port: somewhere a launched run executes other than the threads of the
//! process that launched it (Dagster's run launcher) — a `weft execute-run` process, or a
//! Kubernetes Job whose pod runs that command. The server's launcher keeps the bookkeeping
//! (cancel requests, heartbeats, failing a run whose workload ended first).

use crate::run::RunRecord;

/// Executes launched runs elsewhere.
pub trait RunLauncher: Send + Sync {
    /// Runs `run` (already recorded) to its end, blocking; says how its workload ended, or
    /// why it could not start.
    fn execute(&self, run: &RunRecord) -> Result<String, String>;
}
