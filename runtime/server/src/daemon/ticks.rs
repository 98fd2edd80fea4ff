//! The daemon's schedules and sensors, one pass at a time: whether each is on, the ticks
//! due (a schedule's function may decide each), sensor evaluations with their cursors, and
//! launching each run request once under its run key.

use std::collections::BTreeMap;
use std::sync::Arc;

use weft_core::defs::DefaultStatus;
use weft_core::grants::Grants;
use weft_core::instigator::{
    InstigatorKind, InstigatorState, InstigatorStatus, TickRecord, TickStatus,
};
use weft_core::ports::{CodeLocation, RunRequest, ScheduleTick};
use weft_core::schedule::{CronSchedule, due_ticks, tick_run_key};
use weft_store::LocationRecord;

use crate::error::Error;

use super::{Daemon, RUN_KEY_TAG, SCHEDULE_TAG, SENSOR_TAG};
use crate::launch::{Target, prepare};

impl Daemon {
    /// Whether schedule or sensor `name` is on, and since when it counts its ticks. One
    /// that is on by default and was never stored is stored as on from now.
    pub(super) async fn running_since(
        &self,
        location: &str,
        name: &str,
        kind: InstigatorKind,
        state: Option<&InstigatorState>,
        default: DefaultStatus,
        now_ms: i64,
    ) -> Result<Option<i64>, Error> {
        match state {
            Some(s) if s.status == InstigatorStatus::Running => {
                Ok(Some(s.last_tick_ms.unwrap_or(s.updated_ms)))
            }
            Some(_) => Ok(None),
            None if default == DefaultStatus::Running => {
                self.store
                    .set_instigator_status(location, name, kind, InstigatorStatus::Running, now_ms)
                    .await
                    .map_err(Error::from)?;
                // Its clock starts now: nothing is due yet, and a sensor waits its interval.
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// The current version of a location, loaded under its grants.
    pub(super) async fn location(
        &self,
        record: &LocationRecord,
    ) -> Result<Arc<dyn CodeLocation>, Error> {
        let grants: Grants = serde_json::from_str(&record.grants).map_err(|e| {
            Error::internal(format!("the grants of {} are unreadable: {e}", record.name))
        })?;
        self.registry
            .get(&record.name, &record.current_digest, &grants)
            .await
    }

    pub(super) async fn schedule_ticks(
        &self,
        record: &LocationRecord,
        schedule: &weft_core::defs::ScheduleDef,
        last_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<TickRecord>, Error> {
        let tick = |scheduled_ms: Option<i64>| TickRecord {
            location: record.name.clone(),
            name: schedule.name.clone(),
            kind: InstigatorKind::Schedule,
            timestamp_ms: now_ms,
            scheduled_ms,
            status: TickStatus::Success,
            run_ids: Vec::new(),
            skip_reason: None,
            error: None,
            cursor: None,
        };
        let cron = match CronSchedule::parse(&schedule.cron, schedule.timezone.as_deref()) {
            Ok(cron) => cron,
            Err(e) => {
                // Recorded once per interval of the daemon, not stopping it.
                let failed = TickRecord {
                    status: TickStatus::Failure,
                    error: Some(e.to_string()),
                    ..tick(None)
                };
                self.store
                    .record_tick(&failed, now_ms)
                    .await
                    .map_err(Error::from)?;
                return Ok(vec![failed]);
            }
        };
        let mut ticks = Vec::new();
        for scheduled_ms in due_ticks(&cron, last_ms, now_ms, self.policies.catch_up) {
            let done = self
                .schedule_tick(record, schedule, scheduled_ms, tick(Some(scheduled_ms)))
                .await;
            self.store
                .record_tick(&done, scheduled_ms)
                .await
                .map_err(Error::from)?;
            ticks.push(done);
        }
        Ok(ticks)
    }

    /// One tick of a schedule: its job with no config, or, for a schedule whose function
    /// decides (`evaluates`), what the guest asks for (run requests with config, or a skip).
    /// Each run's key is the tick's time unless the request names one; a run launched
    /// before under its key (by a daemon stopped before it recorded the tick) is this
    /// tick's run all the same.
    async fn schedule_tick(
        &self,
        record: &LocationRecord,
        schedule: &weft_core::defs::ScheduleDef,
        scheduled_ms: i64,
        mut tick: TickRecord,
    ) -> TickRecord {
        let requests = if schedule.evaluates {
            let evaluated = match self.location(record).await {
                Ok(location) => {
                    let name = schedule.name.clone();
                    let at = u64::try_from(scheduled_ms).unwrap_or_default();
                    tracing::debug!(
                        "schedule {}/{name}: the guest decides the tick of {scheduled_ms} ms",
                        record.name
                    );
                    tokio::task::spawn_blocking(move || location.evaluate_schedule(&name, at))
                        .await
                        .map_err(|e| format!("evaluating the schedule: {e}"))
                        .and_then(|r| r.map_err(|failure| failure.message))
                }
                Err(e) => Err(e.message),
            };
            match evaluated {
                Ok(ScheduleTick::Run(requests)) => requests,
                Ok(ScheduleTick::Skip(reason)) => {
                    tick.status = TickStatus::Skipped;
                    tick.skip_reason = Some(reason);
                    return tick;
                }
                Err(message) => {
                    tick.status = TickStatus::Failure;
                    tick.error = Some(message);
                    return tick;
                }
            }
        } else {
            vec![RunRequest {
                run_key: None,
                job: None,
                config: None,
                tags: BTreeMap::new(),
            }]
        };
        let mut errors = Vec::new();
        let mut keyless = 0;
        for request in requests {
            let mut tags = schedule.tags.clone();
            tags.extend(request.tags);
            tags.insert(SCHEDULE_TAG.into(), schedule.name.clone());
            let key = request
                .run_key
                .unwrap_or_else(|| nth_key(tick_run_key(scheduled_ms), &mut keyless));
            let job = request.job.unwrap_or_else(|| schedule.job.clone());
            match self
                .launch_keyed(
                    record,
                    &schedule.name,
                    &key,
                    &job,
                    request.config.as_deref(),
                    tags,
                )
                .await
            {
                Ok((run_id, _)) => tick.run_ids.push(run_id),
                Err(e) => errors.push(e.message),
            }
        }
        if !errors.is_empty() {
            tick.status = TickStatus::Failure;
            tick.error = Some(errors.join("; "));
        } else if tick.run_ids.is_empty() {
            tick.status = TickStatus::Skipped;
            tick.skip_reason = Some("the schedule asked for no run".into());
        }
        tick
    }

    pub(super) async fn sensor_tick(
        &self,
        record: &LocationRecord,
        sensor: &weft_core::defs::SensorDef,
        cursor: Option<String>,
        previous_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<TickRecord, Error> {
        let mut tick = sensor_tick_at(record, sensor, now_ms);
        let evaluated = match self.location(record).await {
            Ok(location) => {
                let name = sensor.name.clone();
                let last = previous_ms.and_then(|ms| u64::try_from(ms).ok());
                tokio::task::spawn_blocking(move || {
                    location.evaluate_sensor(&name, cursor, last, None)
                })
                .await
                .map_err(|e| Error::internal(format!("evaluating the sensor: {e}")))?
                .map_err(|failure| failure.message)
            }
            Err(e) => Err(e.message),
        };
        match evaluated {
            Err(message) => {
                tick.status = TickStatus::Failure;
                tick.error = Some(message);
            }
            Ok(result) => {
                tick.cursor = result.cursor;
                if result.run_requests.is_empty() {
                    tick.status = TickStatus::Skipped;
                    tick.skip_reason = result.skip_reason;
                }
                // A request without a run key always runs.
                let errors = self
                    .launch_requests(
                        record,
                        sensor,
                        result.run_requests,
                        &mut tick.run_ids,
                        || uuid::Uuid::now_v7().to_string(),
                    )
                    .await;
                if !errors.is_empty() {
                    tick.status = TickStatus::Failure;
                    tick.error = Some(errors.join("; "));
                } else if tick.run_ids.is_empty() && tick.skip_reason.is_none() {
                    tick.status = TickStatus::Skipped;
                    tick.skip_reason =
                        Some("every run request was launched before (run keys)".into());
                }
            }
        }
        self.store
            .record_tick(&tick, now_ms)
            .await
            .map_err(Error::from)?;
        Ok(tick)
    }

    /// Launches the run `requests` of `sensor` (each `job` defaulting to the sensor's, its
    /// run key to `default_key()`, numbered after the first: [`nth_key`]), adding the runs
    /// launched now to `launched`
    /// (those launched before under their keys are not); returns why any could not be.
    pub(super) async fn launch_requests(
        &self,
        record: &LocationRecord,
        sensor: &weft_core::defs::SensorDef,
        requests: Vec<RunRequest>,
        launched: &mut Vec<String>,
        default_key: impl Fn() -> String,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let mut keyless = 0;
        for request in requests {
            let Some(job) = request.job.clone().or_else(|| sensor.job.clone()) else {
                errors.push("a run request names no job, and the sensor has none".to_owned());
                continue;
            };
            let key = match request.run_key.clone() {
                Some(key) => key,
                None => nth_key(default_key(), &mut keyless),
            };
            let mut tags = request.tags;
            tags.insert(SENSOR_TAG.into(), sensor.name.clone());
            match self
                .launch_keyed(
                    record,
                    &sensor.name,
                    &key,
                    &job,
                    request.config.as_deref(),
                    tags,
                )
                .await
            {
                Ok((run_id, true)) => launched.push(run_id),
                // Launched before: de-duplicated by its run key.
                Ok((_, false)) => {}
                Err(e) => errors.push(e.message),
            }
        }
        errors
    }

    /// Launches `job` of `record` under `run_key` of instigator `name`, once: the key is
    /// claimed first, and the run created under the id that owns it, unless it exists.
    /// Returns the key's run id and whether this call launched it.
    pub(super) async fn launch_keyed(
        &self,
        record: &LocationRecord,
        name: &str,
        run_key: &str,
        job: &str,
        config: Option<&str>,
        mut tags: BTreeMap<String, String>,
    ) -> Result<(String, bool), Error> {
        let location = self.location(record).await?;
        tags.insert(RUN_KEY_TAG.into(), run_key.to_owned());
        let refs = [location.as_ref()];
        let mut prepared = prepare(&refs, &Target::Job(job.to_owned()), config, tags)
            .map_err(|e| Error::unprocessable(e.to_string()))?;
        let owner = self
            .store
            .claim_run_key(&record.name, name, run_key, &prepared.record.run_id)
            .await
            .map_err(Error::from)?;
        if owner != prepared.record.run_id {
            if self.store.run(&owner).await.map_err(Error::from)?.is_some() {
                return Ok((owner, false));
            }
            // Claimed by a daemon that stopped before it created the run: finish its work.
            prepared.record.run_id = owner;
        }
        let run_id = prepared.record.run_id.clone();
        self.store
            .create_run(&prepared.record)
            .await
            .map_err(Error::from)?;
        self.launcher.start(prepared, vec![location]);
        Ok((run_id, true))
    }
}

/// A tick of `sensor` at `now_ms`, successful until it is told otherwise.
pub(super) fn sensor_tick_at(
    record: &LocationRecord,
    sensor: &weft_core::defs::SensorDef,
    now_ms: i64,
) -> TickRecord {
    TickRecord {
        location: record.name.clone(),
        name: sensor.name.clone(),
        kind: InstigatorKind::Sensor,
        timestamp_ms: now_ms,
        scheduled_ms: None,
        status: TickStatus::Success,
        run_ids: Vec::new(),
        skip_reason: None,
        error: None,
        cursor: None,
    }
}

/// The run key of the next request without one, from `base` (the tick's or the evaluation's
/// own key): `base` for the first, then `base/1`, `base/2`... so that several such requests
/// of one evaluation are several runs, each launched once (the keys are the same when the
/// evaluation is repeated).
fn nth_key(base: String, keyless: &mut usize) -> String {
    let key = match *keyless {
        0 => base,
        n => format!("{base}/{n}"),
    };
    *keyless += 1;
    key
}
