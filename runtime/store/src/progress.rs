//! How far runs have come, for the API's live streams: one query tells, for every run
//! followed at once, its status and the id of its last event, read together (a run's last
//! event and its final status are written in one transaction, so a finished run read here
//! has no event after that id to come).

use weft_core::events::RunStatus;

use crate::Store;
use crate::error::StoreError;

/// How far a run has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunProgress {
    /// The run's status.
    pub status: RunStatus,
    /// The storage id of its last event (0 when it has none).
    pub last_event_id: i64,
}

impl Store {
    /// The progress of each of `run_ids` that exists, as `(run id, progress)`.
    pub async fn progress(
        &self,
        run_ids: &[&str],
    ) -> Result<Vec<(String, RunProgress)>, StoreError> {
        let doing = || format!("reading the progress of {} runs", run_ids.len());
        if run_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = self.db.statement(
            "SELECT r.run_id, r.status, \
             COALESCE((SELECT MAX(e.id) FROM events e WHERE e.run_id = r.run_id), 0) \
             FROM runs r WHERE r.run_id IN (",
        );
        for (i, id) in run_ids.iter().enumerate() {
            if i > 0 {
                query = query.push(", ");
            }
            query = query.push_bind(*id);
        }
        query = query.push(")");
        let rows = self.db.fetch_all(query, doing).await?;
        rows.iter()
            .map(|row| {
                let status: String = row.get(1).map_err(|e| StoreError::new(doing(), e))?;
                let status = RunStatus::parse(&status).ok_or_else(|| {
                    StoreError::data(doing(), format!("unknown run status {status:?}"))
                })?;
                Ok((
                    row.get(0).map_err(|e| StoreError::new(doing(), e))?,
                    RunProgress {
                        status,
                        last_event_id: row.get(2).map_err(|e| StoreError::new(doing(), e))?,
                    },
                ))
            })
            .collect()
    }
}
