//! Run-status sensors (Dagster's `@run_status_sensor`, `@run_failure_sensor`): each pass,
//! the ends of runs written since the sensor's cursor (the id of the last end it handled)
//! and since it was turned on are read in order; for each run of a job it watches that
//! ended with its status, its function is called with the run, and its run requests are
//! launched under run keys (the ended run's id by default, so a daemon killed mid-tick
//! launches nothing twice). A guest error fails the tick and leaves the cursor before that
//! run: it is seen again once the location is fixed, never lost.

use crate::error::Error;
use weft_core::defs::{RunStatusFilter, SensorDef};
use weft_core::events::{EventKind, RunStatus};
use weft_core::instigator::{InstigatorState, TickRecord, TickStatus};
use weft_core::run::EndedRun;
use weft_store::LocationRecord;

use super::ticks::sensor_tick_at;
use super::{Daemon, TRIGGERING_RUN_TAG};

/// How many ends of runs one tick reads at most; the next tick reads on.
const ENDS_PER_TICK: u32 = 100;

impl Daemon {
    pub(super) async fn run_status_tick(
        &self,
        record: &LocationRecord,
        sensor: &SensorDef,
        filter: &RunStatusFilter,
        state: &InstigatorState,
        now_ms: i64,
    ) -> Result<TickRecord, Error> {
        let mut tick = sensor_tick_at(record, sensor, now_ms);
        // A cursor that is not an event id (a sensor that changed kind) starts from when
        // the sensor was turned on.
        let after = state
            .cursor
            .as_deref()
            .and_then(|c| c.parse::<i64>().ok())
            .unwrap_or(0);
        let ends = self
            .store
            .run_ends(after, state.updated_ms, ENDS_PER_TICK)
            .await
            .map_err(Error::from)?;
        let mut cursor = after;
        let mut seen = 0usize;
        let mut skips = Vec::new();
        let mut failed = None;
        let mut location = None;
        for (id, event) in ends {
            let (status, error) = match event.kind {
                EventKind::RunSuccess => (RunStatus::Success, None),
                EventKind::RunFailure { message } => (RunStatus::Failure, Some(message)),
                EventKind::RunCanceled => (RunStatus::Canceled, None),
                // `run_ends` reads no other kind.
                _ => {
                    cursor = id;
                    continue;
                }
            };
            let run = if status == filter.status {
                self.store.run(&event.run_id).await.map_err(Error::from)?
            } else {
                None
            };
            let Some(run) = run.filter(|r| filter.watches(&record.name, &r.location, &r.job))
            else {
                cursor = id;
                continue;
            };
            // Loaded once per tick, and only when a run is to be handled.
            let loaded = match &location {
                Some(loaded) => std::sync::Arc::clone(loaded),
                None => match self.location(record).await {
                    Ok(loaded) => location.insert(loaded).clone(),
                    Err(e) => {
                        failed = Some(e.message);
                        break;
                    }
                },
            };
            let ended = EndedRun {
                run_id: run.run_id.clone(),
                job: run.job.clone(),
                location: run.location.clone(),
                status,
                tags: run.tags.clone(),
                error,
                ended_ms: run.finished_ms.unwrap_or(event.timestamp_ms),
            };
            let name = sensor.name.clone();
            let evaluated = tokio::task::spawn_blocking(move || {
                loaded.evaluate_sensor(&name, None, None, Some(&ended))
            })
            .await
            .map_err(|e| Error::internal(format!("evaluating the sensor: {e}")))?;
            let result = match evaluated {
                Ok(result) => result,
                Err(failure) => {
                    failed = Some(format!("on run {}: {}", run.run_id, failure.message));
                    break;
                }
            };
            // One run per ended run unless a request names its key.
            let requests = result
                .run_requests
                .into_iter()
                .map(|mut r| {
                    r.tags.insert(TRIGGERING_RUN_TAG.into(), run.run_id.clone());
                    r
                })
                .collect();
            let errors = self
                .launch_requests(record, sensor, requests, &mut tick.run_ids, || {
                    run.run_id.clone()
                })
                .await;
            if !errors.is_empty() {
                failed = Some(format!("on run {}: {}", run.run_id, errors.join("; ")));
                break;
            }
            skips.extend(result.skip_reason);
            seen += 1;
            cursor = id;
        }
        if cursor != after {
            tick.cursor = Some(cursor.to_string());
        }
        if let Some(error) = failed {
            tick.status = TickStatus::Failure;
            tick.error = Some(error);
        } else if tick.run_ids.is_empty() {
            tick.status = TickStatus::Skipped;
            tick.skip_reason = Some(if !skips.is_empty() {
                skips.join("; ")
            } else if seen == 0 {
                format!(
                    "no run of a watched job ended {} since the last tick",
                    filter.status
                )
            } else {
                format!(
                    "handled {seen} run(s) that ended {}; no run requested",
                    filter.status
                )
            });
        }
        self.store
            .record_tick(&tick, now_ms)
            .await
            .map_err(Error::from)?;
        Ok(tick)
    }
}
