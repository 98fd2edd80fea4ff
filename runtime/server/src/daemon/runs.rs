//! The daemon's run policies, one pass at a time: run monitoring (a run whose process
//! stopped sending heartbeats, or that never started, has failed), run retries (a failed
//! run with retries left is re-executed), and the queued run coordinator.

use std::collections::BTreeMap;

use weft_api::Reexecute;

use crate::error::{Error, ErrorKind};
use weft_core::coordinator::dequeue;
use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::run::{RunFilter, RunRecord};

use super::{Daemon, MAX_RETRIES_TAG, PARENT_TAG, RETRY_NUMBER_TAG};

impl Daemon {
    /// Run monitoring: a run under way whose process stopped saying it is alive, or a run
    /// that never started, has failed; a clear event says why (and a retry may follow).
    pub(super) async fn monitor(&self, now_ms: i64) -> Result<(), Error> {
        let under_way = [
            RunStatus::Starting,
            RunStatus::Started,
            RunStatus::Canceling,
        ];
        let runs = self.store.runs_in(&under_way).await.map_err(Error::from)?;
        let not_started = self
            .store
            .runs_in(&[RunStatus::NotStarted])
            .await
            .map_err(Error::from)?;
        let mut failures = Vec::new();
        for run in runs {
            if self.launcher.runs_here(&run.run_id) {
                continue;
            }
            let alive = run
                .heartbeat_ms
                .or(run.started_ms)
                .unwrap_or(run.created_ms);
            let silent = now_ms - alive;
            if silent > self.policies.heartbeat_timeout_ms {
                let progress = match run.progress_ms {
                    Some(at) => format!("; its last progress was {} s ago", (now_ms - at) / 1000),
                    None => String::new(),
                };
                failures.push((
                    run.run_id,
                    format!(
                        "the process running it stopped: no heartbeat for {} s{progress} \
                         (run monitoring)",
                        silent / 1000
                    ),
                ));
            }
        }
        for run in not_started {
            let waited = now_ms - run.created_ms;
            if !self.launcher.runs_here(&run.run_id) && waited > self.policies.start_timeout_ms {
                failures.push((
                    run.run_id,
                    format!(
                        "it did not start within {} s (run monitoring)",
                        waited / 1000
                    ),
                ));
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        let events = failures
            .into_iter()
            .map(|(run_id, message)| {
                tracing::warn!("run {run_id} failed: {message}");
                Event {
                    run_id,
                    step_key: None,
                    timestamp_ms: now_ms,
                    kind: EventKind::RunFailure { message },
                }
            })
            .collect();
        self.launcher
            .record(events)
            .await
            .map_err(|e| Error::new(ErrorKind::Unavailable, e))
    }

    /// Run retries: each failed run with retries left (`weft/max_retries`, else weft.yaml's
    /// default) is re-executed once, tagged with its retry number.
    pub(super) async fn retry_failed(&self) -> Result<(), Error> {
        let failed = self
            .store
            .runs(&RunFilter {
                status: Some(RunStatus::Failure),
                limit: Some(100),
                ..RunFilter::default()
            })
            .await
            .map_err(Error::from)?;
        for run in failed {
            let max = weft_core::tags::get(&run.tags, MAX_RETRIES_TAG)
                .and_then(|m| m.parse::<u32>().ok())
                .unwrap_or(self.policies.max_retries);
            let number = run
                .tags
                .get(RETRY_NUMBER_TAG)
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0);
            if number >= max {
                continue;
            }
            let retried = self
                .store
                .runs(&RunFilter {
                    tag: Some((PARENT_TAG.into(), run.run_id.clone())),
                    limit: Some(1),
                    ..RunFilter::default()
                })
                .await
                .map_err(Error::from)?;
            if !retried.is_empty() {
                continue;
            }
            let how = Reexecute {
                from_failure: !self.policies.retry_all_steps,
            };
            let extra = BTreeMap::from([(RETRY_NUMBER_TAG.to_owned(), (number + 1).to_string())]);
            match self.control.reexecute_with(&run.run_id, how, extra).await {
                Ok(child) => tracing::info!(
                    "run {} failed: retry {} is run {child}",
                    run.run_id,
                    number + 1
                ),
                Err(e) => tracing::warn!("retrying run {}: {e}", run.run_id),
            }
        }
        Ok(())
    }

    /// The queued run coordinator: starts the queued runs the limits let through.
    pub(super) async fn coordinate(&self) -> Result<(), Error> {
        let Some(limits) = &self.policies.queue else {
            return Ok(());
        };
        let queued: Vec<RunRecord> = self
            .store
            .runs_in(&[RunStatus::Queued])
            .await
            .map_err(Error::from)?;
        if queued.is_empty() {
            return Ok(());
        }
        let under_way: Vec<RunRecord> = self
            .store
            .runs_in(&[
                RunStatus::Starting,
                RunStatus::Started,
                RunStatus::Canceling,
            ])
            .await
            .map_err(Error::from)?;
        for run_id in dequeue(&queued, &under_way, limits) {
            let Some(run) = queued.iter().find(|r| r.run_id == run_id) else {
                continue;
            };
            if let Err(e) = self.control.start_queued(run).await {
                // A run that cannot start fails with the reason, rather than block the queue.
                let _ = self
                    .launcher
                    .record(vec![Event {
                        run_id: run.run_id.clone(),
                        step_key: None,
                        timestamp_ms: weft_core::now_ms(),
                        kind: EventKind::RunFailure { message: e.message },
                    }])
                    .await;
            }
        }
        Ok(())
    }
}
