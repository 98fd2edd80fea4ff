//! `weft daemon`: schedules and sensors (Dagster's daemon). Each pass, at a time the caller
//! gives (the clock is injected: `weft daemon --once --now T` runs one pass at `T`), the
//! daemon takes the `daemon` lease in the database — of several daemons on one database,
//! one works at a time — then, for the current version of every live location:
//!
//! - each schedule that is on gets the ticks due since the last one it handled
//!   ([`due_ticks`], catching up only the latest by default); each tick's run carries the
//!   tick's time as its run key, claimed in the database before the run is created, so a
//!   tick fires once even across restarts and a daemon killed mid-tick loses none;
//! - each sensor that is on and whose `minimum_interval_seconds` has passed is evaluated
//!   with its stored cursor; its run requests are de-duplicated by run key the same way;
//!   skip reasons and guest errors become ticks and never stop the daemon.
//!
//! Each pass also does run monitoring (a run whose process stopped sending heartbeats, or
//! that never started, is marked failed with a clear event), run retries (a failed run with
//! retries left is re-executed, from failure by default), and, when runs queue, the queued
//! run coordinator (`max_concurrent_runs`, tag concurrency limits, `weft/priority`).
//!
//! A schedule or sensor with no stored state has its definition's default status; turning
//! one on starts its clock then. Runs are launched in this process (the in-process
//! launcher), pinned to the version the pass loaded.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use weft_api::{ApiError, Grants, Reexecute};
use weft_core::coordinator::{QueueLimits, dequeue};
use weft_core::defs::DefaultStatus;
use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::run::{RunFilter, RunRecord};
use weft_core::schedule::{CatchUp, CronSchedule, due_ticks, tick_run_key};
use weft_store::{InstigatorState, LocationRecord, Store, TickRecord};
use weft_wasm::{CodeLocation, RunRequest, ScheduleTick};

use crate::launch::{Target, prepare};
use crate::serve::control::Control;
use crate::serve::launcher::Launcher;
use crate::serve::registry::Registry;
use crate::serve::store_error;

/// The lease a daemon holds while it works.
const LEASE: &str = "daemon";

/// How long a lease lasts without renewal: a daemon that stops is replaced after this.
const LEASE_TTL_MS: i64 = 30_000;

/// The tags a daemon's runs carry.
const SCHEDULE_TAG: &str = "weft/schedule_name";
const SENSOR_TAG: &str = "weft/sensor_name";
const RUN_KEY_TAG: &str = "weft/run_key";
const MAX_RETRIES_TAG: &str = "weft/max_retries";
const RETRY_NUMBER_TAG: &str = "weft/retry_number";
const PARENT_TAG: &str = "weft/parent_run_id";

/// What one pass did.
#[derive(Debug, Default)]
pub struct Pass {
    /// Whether this daemon held the lease (else it did nothing).
    pub leader: bool,
    /// The ticks it recorded.
    pub ticks: Vec<TickRecord>,
}

/// What the daemon does beyond schedules and sensors, from weft.yaml.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    /// The run coordinator's limits, when runs queue.
    pub queue: Option<QueueLimits>,
    /// Retries of failed runs without a `weft/max_retries` tag.
    pub max_retries: u32,
    /// Retries re-execute all steps rather than from failure.
    pub retry_all_steps: bool,
    /// A run whose process has not said it is alive for this long has failed.
    pub heartbeat_timeout_ms: i64,
    /// A run not started this long after it was launched has failed.
    pub start_timeout_ms: i64,
    /// Which missed ticks of a schedule run.
    pub catch_up: CatchUp,
}

impl Policies {
    /// The policies weft.yaml sets.
    pub fn of(instance: &crate::instance::Instance) -> Self {
        let config = &instance.config;
        let ms = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
        Policies {
            queue: config.run_coordinator.clone(),
            max_retries: config.run_retries.max_retries,
            retry_all_steps: config.run_retries.all_steps,
            heartbeat_timeout_ms: ms(config.run_monitoring.heartbeat_timeout_seconds),
            start_timeout_ms: ms(config.run_monitoring.start_timeout_seconds),
            catch_up: config.schedule_catch_up,
        }
    }
}

/// The daemon of one process.
pub struct Daemon {
    store: Arc<Store>,
    registry: Arc<Registry>,
    launcher: Arc<Launcher>,
    control: Arc<Control>,
    policies: Policies,
    /// Who holds the lease: this process.
    holder: String,
}

impl Daemon {
    pub fn new(services: &crate::serve::Services, control: Arc<Control>) -> Self {
        Daemon {
            store: services.store.clone(),
            registry: services.registry.clone(),
            launcher: services.launcher.clone(),
            control,
            policies: Policies::of(&services.instance),
            holder: uuid::Uuid::now_v7().to_string(),
        }
    }

    /// Runs passes every `interval` of the system clock until the process stops.
    pub async fn run_forever(&self, interval: Duration) {
        loop {
            match self.pass(weft_engine::now_ms()).await {
                Ok(pass) => {
                    for tick in &pass.ticks {
                        tracing::info!("{}", describe(tick));
                    }
                }
                Err(e) => tracing::error!("daemon pass failed (trying again): {e}"),
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Gives up the lease, so another daemon can take over at once.
    pub async fn release(&self) {
        if let Err(e) = self.store.release_lease(LEASE, &self.holder).await {
            tracing::warn!("releasing the daemon lease: {e}");
        }
    }

    /// Waits until every run this daemon launched has ended.
    pub async fn wait_for_runs(&self) {
        while self.launcher.has_runs() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// One pass at `now_ms`.
    pub async fn pass(&self, now_ms: i64) -> Result<Pass, ApiError> {
        let leader = self
            .store
            .acquire_lease(LEASE, &self.holder, now_ms, LEASE_TTL_MS)
            .await
            .map_err(store_error)?;
        if !leader {
            return Ok(Pass::default());
        }
        let states: BTreeMap<(String, String), InstigatorState> = self
            .store
            .instigator_states()
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|s| ((s.location.clone(), s.name.clone()), s))
            .collect();
        let mut pass = Pass {
            leader,
            ticks: Vec::new(),
        };
        self.monitor(now_ms).await?;
        self.retry_failed().await?;
        for record in self.store.location_records().await.map_err(store_error)? {
            let Some(definitions) = self.control.stored_definitions(&record).await? else {
                continue;
            };
            if definitions.schedules.is_empty() && definitions.sensors.is_empty() {
                continue;
            }
            for schedule in &definitions.schedules {
                let key = (record.name.clone(), schedule.name.clone());
                let state = states.get(&key);
                let Some(last) = self
                    .running_since(
                        &record.name,
                        &schedule.name,
                        "SCHEDULE",
                        state,
                        schedule.default_status,
                        now_ms,
                    )
                    .await?
                else {
                    continue;
                };
                pass.ticks
                    .extend(self.schedule_ticks(&record, schedule, last, now_ms).await?);
            }
            for sensor in &definitions.sensors {
                let key = (record.name.clone(), sensor.name.clone());
                let state = states.get(&key);
                let Some(last) = self
                    .running_since(
                        &record.name,
                        &sensor.name,
                        "SENSOR",
                        state,
                        sensor.default_status,
                        now_ms,
                    )
                    .await?
                else {
                    continue;
                };
                let interval_ms = i64::from(sensor.minimum_interval_seconds.max(1)) * 1000;
                let evaluated_before = state.is_some_and(|s| s.last_tick_ms.is_some());
                if evaluated_before && now_ms < last + interval_ms {
                    continue;
                }
                let cursor = state.and_then(|s| s.cursor.clone());
                let previous = evaluated_before.then_some(last);
                pass.ticks.push(
                    self.sensor_tick(&record, sensor, cursor, previous, now_ms)
                        .await?,
                );
            }
        }
        self.coordinate().await?;
        Ok(pass)
    }

    /// Run monitoring: a run under way whose process stopped saying it is alive, or a run
    /// that never started, has failed; a clear event says why (and a retry may follow).
    async fn monitor(&self, now_ms: i64) -> Result<(), ApiError> {
        let under_way = [
            RunStatus::Starting,
            RunStatus::Started,
            RunStatus::Canceling,
        ];
        let runs = self.store.runs_in(&under_way).await.map_err(store_error)?;
        let not_started = self
            .store
            .runs_in(&[RunStatus::NotStarted])
            .await
            .map_err(store_error)?;
        let mut failures = Vec::new();
        for (run, heartbeat) in runs {
            if self.launcher.runs_here(&run.run_id) {
                continue;
            }
            let alive = heartbeat.or(run.started_ms).unwrap_or(run.created_ms);
            let silent = now_ms - alive;
            if silent > self.policies.heartbeat_timeout_ms {
                failures.push((
                    run.run_id,
                    format!(
                        "the process running it stopped: no heartbeat for {} s (run monitoring)",
                        silent / 1000
                    ),
                ));
            }
        }
        for (run, _) in not_started {
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
            .map_err(|e| ApiError::new(weft_api::ErrorKind::Unavailable, e))
    }

    /// Run retries: each failed run with retries left (`weft/max_retries`, else weft.yaml's
    /// default) is re-executed once, tagged with its retry number.
    async fn retry_failed(&self) -> Result<(), ApiError> {
        let failed = self
            .store
            .runs(&RunFilter {
                status: Some(RunStatus::Failure),
                limit: Some(100),
                ..RunFilter::default()
            })
            .await
            .map_err(store_error)?;
        for run in failed {
            let max = run
                .tags
                .get(MAX_RETRIES_TAG)
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
                .map_err(store_error)?;
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
    async fn coordinate(&self) -> Result<(), ApiError> {
        let Some(limits) = &self.policies.queue else {
            return Ok(());
        };
        let queued: Vec<RunRecord> = self
            .store
            .runs_in(&[RunStatus::Queued])
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|(r, _)| r)
            .collect();
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
            .map_err(store_error)?
            .into_iter()
            .map(|(r, _)| r)
            .collect();
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
                        timestamp_ms: weft_engine::now_ms(),
                        kind: EventKind::RunFailure { message: e.message },
                    }])
                    .await;
            }
        }
        Ok(())
    }

    /// Whether schedule or sensor `name` is on, and since when it counts its ticks. One
    /// that is on by default and was never stored is stored as on from now.
    async fn running_since(
        &self,
        location: &str,
        name: &str,
        kind: &str,
        state: Option<&InstigatorState>,
        default: DefaultStatus,
        now_ms: i64,
    ) -> Result<Option<i64>, ApiError> {
        match state {
            Some(s) if s.status == "RUNNING" => Ok(Some(s.last_tick_ms.unwrap_or(s.updated_ms))),
            Some(_) => Ok(None),
            None if default == DefaultStatus::Running => {
                self.store
                    .set_instigator_status(location, name, kind, "RUNNING", now_ms)
                    .await
                    .map_err(store_error)?;
                // Its clock starts now: nothing is due yet, and a sensor waits its interval.
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// The current version of a location, loaded under its grants.
    async fn location(&self, record: &LocationRecord) -> Result<Arc<CodeLocation>, ApiError> {
        let grants: Grants = serde_json::from_str(&record.grants).map_err(|e| {
            ApiError::internal(format!("the grants of {} are unreadable: {e}", record.name))
        })?;
        self.registry
            .get(&record.name, &record.current_digest, &grants)
            .await
    }

    async fn schedule_ticks(
        &self,
        record: &LocationRecord,
        schedule: &weft_core::defs::ScheduleDef,
        last_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<TickRecord>, ApiError> {
        let tick = |scheduled_ms: Option<i64>| TickRecord {
            location: record.name.clone(),
            name: schedule.name.clone(),
            kind: "SCHEDULE".into(),
            timestamp_ms: now_ms,
            scheduled_ms,
            status: "SUCCESS".into(),
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
                    status: "FAILURE".into(),
                    error: Some(e.to_string()),
                    ..tick(None)
                };
                self.store
                    .record_tick(&failed, now_ms)
                    .await
                    .map_err(store_error)?;
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
                .map_err(store_error)?;
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
                    tick.status = "SKIPPED".into();
                    tick.skip_reason = Some(reason);
                    return tick;
                }
                Err(message) => {
                    tick.status = "FAILURE".into();
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
        for request in requests {
            let mut tags = schedule.tags.clone();
            tags.extend(request.tags);
            tags.insert(SCHEDULE_TAG.into(), schedule.name.clone());
            let key = request
                .run_key
                .unwrap_or_else(|| tick_run_key(scheduled_ms));
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
            tick.status = "FAILURE".into();
            tick.error = Some(errors.join("; "));
        } else if tick.run_ids.is_empty() {
            tick.status = "SKIPPED".into();
            tick.skip_reason = Some("the schedule asked for no run".into());
        }
        tick
    }

    async fn sensor_tick(
        &self,
        record: &LocationRecord,
        sensor: &weft_core::defs::SensorDef,
        cursor: Option<String>,
        previous_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<TickRecord, ApiError> {
        let mut tick = TickRecord {
            location: record.name.clone(),
            name: sensor.name.clone(),
            kind: "SENSOR".into(),
            timestamp_ms: now_ms,
            scheduled_ms: None,
            status: "SUCCESS".into(),
            run_ids: Vec::new(),
            skip_reason: None,
            error: None,
            cursor: None,
        };
        let evaluated = match self.location(record).await {
            Ok(location) => {
                let name = sensor.name.clone();
                let last = previous_ms.and_then(|ms| u64::try_from(ms).ok());
                tokio::task::spawn_blocking(move || location.evaluate_sensor(&name, cursor, last))
                    .await
                    .map_err(|e| ApiError::internal(format!("evaluating the sensor: {e}")))?
                    .map_err(|failure| failure.message)
            }
            Err(e) => Err(e.message),
        };
        match evaluated {
            Err(message) => {
                tick.status = "FAILURE".into();
                tick.error = Some(message);
            }
            Ok(result) => {
                tick.cursor = result.cursor;
                if result.run_requests.is_empty() {
                    tick.status = "SKIPPED".into();
                    tick.skip_reason = result.skip_reason;
                }
                let mut errors = Vec::new();
                for request in result.run_requests {
                    let Some(job) = request.job.clone().or_else(|| sensor.job.clone()) else {
                        errors
                            .push("a run request names no job, and the sensor has none".to_owned());
                        continue;
                    };
                    let mut tags = request.tags.clone();
                    tags.insert(SENSOR_TAG.into(), sensor.name.clone());
                    // A request without a run key always runs.
                    let key = request
                        .run_key
                        .clone()
                        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
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
                        Ok((run_id, true)) => tick.run_ids.push(run_id),
                        // Launched before: de-duplicated by its run key.
                        Ok((_, false)) => {}
                        Err(e) => errors.push(e.message),
                    }
                }
                if !errors.is_empty() {
                    tick.status = "FAILURE".into();
                    tick.error = Some(errors.join("; "));
                } else if tick.run_ids.is_empty() && tick.skip_reason.is_none() {
                    tick.status = "SKIPPED".into();
                    tick.skip_reason =
                        Some("every run request was launched before (run keys)".into());
                }
            }
        }
        self.store
            .record_tick(&tick, now_ms)
            .await
            .map_err(store_error)?;
        Ok(tick)
    }

    /// Launches `job` of `record` under `run_key` of instigator `name`, once: the key is
    /// claimed first, and the run created under the id that owns it, unless it exists.
    /// Returns the key's run id and whether this call launched it.
    async fn launch_keyed(
        &self,
        record: &LocationRecord,
        name: &str,
        run_key: &str,
        job: &str,
        config: Option<&str>,
        mut tags: BTreeMap<String, String>,
    ) -> Result<(String, bool), ApiError> {
        let location = self.location(record).await?;
        tags.insert(RUN_KEY_TAG.into(), run_key.to_owned());
        let refs = [location.as_ref()];
        let mut prepared = prepare(&refs, &Target::Job(job.to_owned()), config, tags)
            .map_err(|e| ApiError::unprocessable(e.to_string()))?;
        let owner = self
            .store
            .claim_run_key(&record.name, name, run_key, &prepared.record.run_id)
            .await
            .map_err(store_error)?;
        if owner != prepared.record.run_id {
            if self.store.run(&owner).await.map_err(store_error)?.is_some() {
                return Ok((owner, false));
            }
            // Claimed by a daemon that stopped before it created the run: finish its work.
            prepared.record.run_id = owner;
        }
        let run_id = prepared.record.run_id.clone();
        self.store
            .create_run(&prepared.record)
            .await
            .map_err(store_error)?;
        self.launcher.start(prepared, vec![location]);
        Ok((run_id, true))
    }
}

/// A tick as one line of the daemon's log.
pub fn describe(tick: &TickRecord) -> String {
    let what = format!(
        "{} {}/{}",
        tick.kind.to_lowercase(),
        tick.location,
        tick.name
    );
    match tick.status.as_str() {
        "SUCCESS" => format!("{what}: launched {}", tick.run_ids.join(", ")),
        "SKIPPED" => format!(
            "{what}: skipped ({})",
            tick.skip_reason.as_deref().unwrap_or("no run requested")
        ),
        _ => format!(
            "{what}: failed: {}",
            tick.error.as_deref().unwrap_or("unknown error")
        ),
    }
}

/// `weft daemon`: passes every `interval` seconds until stopped, or one pass (`--once`) at
/// `now` (default: the clock), waiting for the runs it launched.
pub async fn command(
    instance: crate::instance::Instance,
    once: bool,
    now: Option<String>,
    interval: f64,
    json: bool,
) -> Result<(), crate::Failure> {
    let bad = |e: String| crate::Failure::BadInput(anyhow::anyhow!(e));
    if !(interval > 0.0 && interval.is_finite()) {
        return Err(bad(format!(
            "--interval must be a positive number of seconds, got {interval}"
        )));
    }
    let now_ms = match now.as_deref() {
        None => weft_engine::now_ms(),
        Some(text) => parse_time(text).map_err(bad)?,
    };
    let services = crate::serve::Services::open(instance).await?;
    let daemon = Daemon::new(&services, Arc::new(services.control()));
    if !once {
        eprintln!("weft daemon: a pass every {interval} s (Ctrl-C to stop)");
        tokio::select! {
            () = daemon.run_forever(Duration::from_secs_f64(interval)) => {}
            () = crate::serve::shutdown() => {}
        }
        daemon.release().await;
        return Ok(());
    }
    let pass = daemon
        .pass(now_ms)
        .await
        .map_err(|e| crate::Failure::Failed(Some(anyhow::anyhow!(e.message))))?;
    daemon.wait_for_runs().await;
    daemon.release().await;
    if json {
        let ticks: Vec<serde_json::Value> = pass
            .ticks
            .iter()
            .map(|t| {
                serde_json::json!({
                    "location": t.location, "name": t.name, "kind": t.kind,
                    "timestamp_ms": t.timestamp_ms, "scheduled_ms": t.scheduled_ms,
                    "status": t.status, "run_ids": t.run_ids, "skip_reason": t.skip_reason,
                    "error": t.error, "cursor": t.cursor,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "leader": pass.leader, "ticks": ticks })
        );
    } else if !pass.leader {
        println!("another daemon holds the lease: nothing done");
    } else if pass.ticks.is_empty() {
        println!("nothing due");
    } else {
        for tick in &pass.ticks {
            println!("{}", describe(tick));
        }
    }
    Ok(())
}

/// RFC 3339 or milliseconds since the Unix epoch.
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            format!(
                "--now {text:?} is neither RFC 3339 (2026-12-01T09:00:00Z) nor milliseconds: {e}"
            )
        })
}
