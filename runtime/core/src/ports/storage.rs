//! The run-storage port: runs and their append-only event logs (the store implements it
//! over SQLite or PostgreSQL).

use std::future::Future;

use crate::events::Event;
use crate::run::{RunFilter, RunRecord};

/// Why storage failed. The message says what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

/// Durable run storage: runs and their append-only event logs.
pub trait RunStorage: Send + Sync + 'static {
    /// Records a new run.
    fn create_run(&self, run: &RunRecord) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Appends events in one transaction, updating each affected run's status and times
    /// (from `RUN_*` events) and the asset materialization history in that transaction.
    fn append(&self, events: &[Event]) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// The run with id `run_id`, if any.
    fn run(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StorageError>> + Send;

    /// Runs matching `filter`, newest first.
    fn runs(
        &self,
        filter: &RunFilter,
    ) -> impl Future<Output = Result<Vec<RunRecord>, StorageError>> + Send;

    /// Events of a run in order, with their storage ids, after id `after` (0 for all).
    fn events(
        &self,
        run_id: &str,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(i64, Event)>, StorageError>> + Send;
}
