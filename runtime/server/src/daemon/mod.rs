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
//!   skip reasons and guest errors become ticks and never stop the daemon;
//! - each run-status sensor that is on is evaluated once for each run of a job it watches
//!   that ended with its status since its cursor (an event id), oldest first.
//!
//! Each pass also does run monitoring (a run whose process stopped sending heartbeats, or
//! that never started, is marked failed with a clear event), run retries (a failed run with
//! retries left is re-executed, from failure by default), and, when runs queue, the queued
//! run coordinator (`max_concurrent_runs`, tag concurrency limits, `weft/priority`).
//!
//! A schedule or sensor with no stored state has its definition's default status; turning
//! one on starts its clock then. Runs are launched in this process (the in-process
//! launcher), pinned to the version the pass loaded.

mod evaluations;
mod run_status;
mod runs;
mod ticks;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use weft_core::clock::{Clock, SystemClock};
use weft_core::coordinator::QueueLimits;
use weft_core::defs::{ScheduleDef, SensorDef, SensorKind};
use weft_core::instigator::{InstigatorKind, InstigatorState, TickRecord, TickStatus};
use weft_core::schedule::CatchUp;
use weft_store::{LocationRecord, Store};

use self::evaluations::Evaluations;
use crate::control::Control;
use crate::launcher::Launcher;
use crate::registry::Registry;

/// The lease a daemon holds while it works.
const LEASE: &str = "daemon";

/// How long a lease lasts without renewal: a daemon that stops is replaced after this.
const LEASE_TTL_MS: i64 = 30_000;

/// The tags a daemon's runs carry.
const SCHEDULE_TAG: &str = "weft/schedule_name";
const SENSOR_TAG: &str = "weft/sensor_name";
const RUN_KEY_TAG: &str = "weft/run_key";
use weft_core::tags::MAX_RETRIES as MAX_RETRIES_TAG;
const RETRY_NUMBER_TAG: &str = "weft/retry_number";
const PARENT_TAG: &str = "weft/parent_run_id";
/// On a run a run-status sensor launched: the run whose end it reacted to.
const TRIGGERING_RUN_TAG: &str = "weft/triggering_run_id";

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

/// The daemon of one process (cheap to clone: its evaluations in flight are shared).
#[derive(Clone)]
pub struct Daemon {
    store: Arc<Store>,
    registry: Arc<Registry>,
    launcher: Arc<Launcher>,
    control: Arc<Control>,
    policies: Policies,
    /// Who holds the lease: this process.
    holder: String,
    /// What time it is for [`Daemon::run_forever`] (each pass is told its time).
    clock: Arc<dyn Clock>,
    /// The schedule and sensor evaluations still under way, outliving the pass that
    /// started them.
    evaluations: Arc<Evaluations>,
    /// How long the lease lasts without renewal ([`LEASE_TTL_MS`] but in tests).
    lease_ttl_ms: i64,
}

/// Renews the daemon's lease while a pass runs (see [`Daemon::keep_lease`]); stops when
/// dropped.
struct LeaseRenewal(tokio::task::JoinHandle<()>);

impl Drop for LeaseRenewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Daemon {
    pub fn new(services: &crate::Services, control: Arc<Control>) -> Self {
        Daemon {
            store: services.store.clone(),
            registry: services.registry.clone(),
            launcher: services.launcher.clone(),
            control,
            policies: Policies::of(&services.instance),
            holder: uuid::Uuid::now_v7().to_string(),
            clock: Arc::new(SystemClock),
            evaluations: Arc::new(Evaluations::default()),
            lease_ttl_ms: LEASE_TTL_MS,
        }
    }

    /// The same daemon with a lease of `ttl_ms` (tests, which cannot wait 30 s).
    #[cfg(test)]
    pub(crate) fn with_lease_ttl(mut self, ttl_ms: i64) -> Self {
        self.lease_ttl_ms = ttl_ms;
        self
    }

    /// Renews the lease every third of its term until the returned guard is dropped: a pass
    /// may outlast one term (its evaluations wait up to their deadline), and another daemon
    /// must not take the lease meanwhile. Each renewal's time is the pass's `now_ms`, moved
    /// on by the time elapsed since.
    fn keep_lease(&self, now_ms: i64) -> LeaseRenewal {
        let (store, holder, ttl) = (self.store.clone(), self.holder.clone(), self.lease_ttl_ms);
        let started = tokio::time::Instant::now();
        let every = Duration::from_millis(u64::try_from(ttl / 3).unwrap_or(1).max(1));
        LeaseRenewal(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                match store
                    .acquire_lease(LEASE, &holder, now_ms.saturating_add(elapsed), ttl)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("another daemon took the lease during this pass");
                        return;
                    }
                    Err(e) => tracing::warn!("renewing the daemon lease: {e}"),
                }
            }
        }))
    }

    /// The same daemon, its passes timed by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs passes every `interval` of the system clock until the process stops.
    /// A pass waits up to `interval` for its evaluations; a slower one goes on in the
    /// background (its ticks are told by a later pass) while the next passes handle every
    /// other schedule and sensor on time.
    pub async fn run_forever(&self, interval: Duration) {
        loop {
            let started = tokio::time::Instant::now();
            match self.pass_within(self.clock.now_ms(), Some(interval)).await {
                Ok(pass) => {
                    for tick in &pass.ticks {
                        tracing::info!("{}", describe(tick));
                    }
                }
                Err(e) => tracing::error!("daemon pass failed (trying again): {e}"),
            }
            tokio::time::sleep_until(started + interval).await;
        }
    }

    /// Gives up the lease, so another daemon can take over at once.
    pub async fn release(&self) {
        if let Err(e) = self.store.release_lease(LEASE, &self.holder).await {
            tracing::warn!("releasing the daemon lease: {e}");
        }
    }

    /// One pass at `now_ms`, waiting for every evaluation it starts.
    pub async fn pass(&self, now_ms: i64) -> Result<Pass, Error> {
        self.pass_within(now_ms, None).await
    }

    /// One pass at `now_ms`, waiting up to `patience` (else until they end) for its
    /// evaluations; its ticks include those of evaluations earlier passes left under way.
    pub async fn pass_within(
        &self,
        now_ms: i64,
        patience: Option<Duration>,
    ) -> Result<Pass, Error> {
        let leader = self
            .store
            .acquire_lease(LEASE, &self.holder, now_ms, self.lease_ttl_ms)
            .await
            .map_err(Error::from)?;
        if !leader {
            return Ok(Pass::default());
        }
        let _renewal = self.keep_lease(now_ms);
        let states: BTreeMap<(String, String), InstigatorState> = self
            .store
            .instigator_states()
            .await
            .map_err(Error::from)?
            .into_iter()
            .map(|s| ((s.location.clone(), s.name.clone()), s))
            .collect();
        let mut pass = Pass {
            leader,
            ticks: Vec::new(),
        };
        self.monitor(now_ms).await?;
        self.retry_failed().await?;
        // Every schedule and sensor is evaluated at once, each on its own task within its
        // own deadline; one still under way from an earlier pass is left to finish.
        for record in self.store.location_records().await.map_err(Error::from)? {
            let Some(definitions) = self.control.stored_definitions(&record).await? else {
                continue;
            };
            let record = Arc::new(record);
            for schedule in definitions.schedules {
                let key = (record.name.clone(), schedule.name.clone());
                let state = states.get(&key).cloned();
                let (daemon, record) = (self.clone(), record.clone());
                self.evaluations.start(key, async move {
                    daemon
                        .schedule_due(&record, &schedule, state.as_ref(), now_ms)
                        .await
                });
            }
            for sensor in definitions.sensors {
                let key = (record.name.clone(), sensor.name.clone());
                let state = states.get(&key).cloned();
                let (daemon, record) = (self.clone(), record.clone());
                self.evaluations.start(key, async move {
                    daemon
                        .sensor_due(&record, &sensor, state.as_ref(), now_ms)
                        .await
                });
            }
        }
        let mut failed = None;
        for ticks in self.evaluations.finished(patience).await {
            match ticks {
                Ok(ticks) => pass.ticks.extend(ticks),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        self.coordinate().await?;
        match failed {
            Some(e) => Err(e),
            None => Ok(pass),
        }
    }
}

impl Daemon {
    /// The ticks schedule `schedule` has due at `now_ms`, if it is on.
    async fn schedule_due(
        &self,
        record: &LocationRecord,
        schedule: &ScheduleDef,
        state: Option<&InstigatorState>,
        now_ms: i64,
    ) -> Result<Vec<TickRecord>, Error> {
        let since = self
            .running_since(
                &record.name,
                &schedule.name,
                InstigatorKind::Schedule,
                state,
                schedule.default_status,
                now_ms,
            )
            .await?;
        match since {
            Some(last) => self.schedule_ticks(record, schedule, last, now_ms).await,
            None => Ok(Vec::new()),
        }
    }

    /// The tick of sensor `sensor` at `now_ms`, if it is on and its interval has passed.
    async fn sensor_due(
        &self,
        record: &LocationRecord,
        sensor: &SensorDef,
        state: Option<&InstigatorState>,
        now_ms: i64,
    ) -> Result<Vec<TickRecord>, Error> {
        let Some(last) = self
            .running_since(
                &record.name,
                &sensor.name,
                InstigatorKind::Sensor,
                state,
                sensor.default_status,
                now_ms,
            )
            .await?
        else {
            return Ok(Vec::new());
        };
        let interval_ms = i64::from(sensor.minimum_interval_seconds.max(1)) * 1000;
        let evaluated_before = state.is_some_and(|s| s.last_tick_ms.is_some());
        if evaluated_before && now_ms < last + interval_ms {
            return Ok(Vec::new());
        }
        let cursor = state.and_then(|s| s.cursor.clone());
        let tick = match (&sensor.kind, state) {
            (SensorKind::RunStatus(filter), Some(state)) => {
                self.run_status_tick(record, sensor, filter, state, now_ms)
                    .await?
            }
            // Never stored, so never turned on.
            (SensorKind::RunStatus(_), None) => return Ok(Vec::new()),
            (SensorKind::Standard, _) => {
                let previous = evaluated_before.then_some(last);
                self.sensor_tick(record, sensor, cursor, previous, now_ms)
                    .await?
            }
        };
        Ok(vec![tick])
    }
}

/// A tick as one line of the daemon's log.
pub fn describe(tick: &TickRecord) -> String {
    let what = format!(
        "{} {}/{}",
        tick.kind.as_str().to_lowercase(),
        tick.location,
        tick.name
    );
    match tick.status {
        TickStatus::Success => format!("{what}: launched {}", tick.run_ids.join(", ")),
        TickStatus::Skipped => format!(
            "{what}: skipped ({})",
            tick.skip_reason.as_deref().unwrap_or("no run requested")
        ),
        _ => format!(
            "{what}: failed: {}",
            tick.error.as_deref().unwrap_or("unknown error")
        ),
    }
}
