//! What the daemon keeps (Dagster's schedule storage): each schedule's and sensor's state
//! (on or off, cursor, last tick handled), the ticks it evaluated, the run keys its runs
//! were launched under — unique per schedule or sensor, so a tick fires once and a run
//! request is launched once however often a daemon restarts — and leases, so that of
//! several daemons on one database one does each job at a time.

use weft_core::instigator::{
    InstigatorKind, InstigatorState, InstigatorStatus, TickRecord, TickStatus,
};

use crate::Store;
use crate::db::Row;
use crate::error::StoreError;

impl Store {
    /// Every stored schedule and sensor state, by location and name.
    pub async fn instigator_states(&self) -> Result<Vec<InstigatorState>, StoreError> {
        let doing = || "reading schedule and sensor states".to_owned();
        let statement = self.db.statement(
            "SELECT location, name, kind, status, cursor, last_tick_ms, updated_ms \
             FROM instigators ORDER BY location, name",
        );
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter()
            .map(state_from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// The stored state of schedule or sensor `name` of `location`, if any.
    pub async fn instigator_state(
        &self,
        location: &str,
        name: &str,
    ) -> Result<Option<InstigatorState>, StoreError> {
        let doing = || format!("reading the state of {location}/{name}");
        let statement = self
            .db
            .statement(
                "SELECT location, name, kind, status, cursor, last_tick_ms, updated_ms \
                 FROM instigators WHERE location = $1 AND name = $2",
            )
            .bind(location)
            .bind(name);
        let row = self.db.fetch_optional(statement, doing).await?;
        row.as_ref()
            .map(state_from_row)
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// Turns schedule or sensor `name` of `location` on (`RUNNING`) or off (`STOPPED`) at
    /// `now_ms`. Turning a schedule on that was off restarts its clock at `now_ms`: ticks
    /// missed while it was off do not fire. A sensor turned on is evaluated at once.
    pub async fn set_instigator_status(
        &self,
        location: &str,
        name: &str,
        kind: InstigatorKind,
        status: InstigatorStatus,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let doing = || format!("setting {location}/{name} {status}");
        // A schedule turned on counts its ticks from now; a sensor is evaluated at once.
        let clock = (kind != InstigatorKind::Sensor && status == InstigatorStatus::Running)
            .then_some(now_ms);
        let statement = self
            .db
            .statement(
                "INSERT INTO instigators (location, name, kind, status, last_tick_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (location, name) DO UPDATE SET kind = excluded.kind, \
                 status = excluded.status, updated_ms = excluded.updated_ms, \
                 last_tick_ms = CASE WHEN excluded.status = 'RUNNING' \
                 AND instigators.status <> 'RUNNING' \
                 THEN excluded.last_tick_ms ELSE instigators.last_tick_ms END",
            )
            .bind(location)
            .bind(name)
            .bind(kind.as_str())
            .bind(status.as_str())
            .bind(clock)
            .bind(now_ms);
        self.db.transaction(vec![statement], doing).await
    }

    /// Records `tick` and moves its schedule's or sensor's `last_tick_ms` (and, when the
    /// tick returned one, its cursor) in one transaction.
    pub async fn record_tick(
        &self,
        tick: &TickRecord,
        last_tick_ms: i64,
    ) -> Result<(), StoreError> {
        let doing = || format!("recording a tick of {}/{}", tick.location, tick.name);
        let run_ids = serde_json::to_string(&tick.run_ids)
            .map_err(|e| StoreError::data(doing(), e.to_string()))?;
        let insert = self
            .db
            .statement(
                "INSERT INTO ticks (location, name, kind, timestamp_ms, scheduled_ms, status, \
                 run_ids, skip_reason, error, cursor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(tick.location.as_str())
            .bind(tick.name.as_str())
            .bind(tick.kind.as_str())
            .bind(tick.timestamp_ms)
            .bind(tick.scheduled_ms)
            .bind(tick.status.as_str())
            .bind(run_ids)
            .bind(tick.skip_reason.as_deref())
            .bind(tick.error.as_deref())
            .bind(tick.cursor.as_deref());
        let update = self
            .db
            .statement(
                "UPDATE instigators SET last_tick_ms = $1, cursor = COALESCE($2, cursor) \
                 WHERE location = $3 AND name = $4",
            )
            .bind(last_tick_ms)
            .bind(tick.cursor.as_deref())
            .bind(tick.location.as_str())
            .bind(tick.name.as_str());
        self.db.transaction(vec![insert, update], doing).await
    }

    /// The newest `limit` ticks of `name` of `location` evaluated before `before_ms` (any,
    /// when `None`), newest first.
    pub async fn ticks(
        &self,
        location: &str,
        name: &str,
        before_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<TickRecord>, StoreError> {
        let doing = || format!("reading the ticks of {location}/{name}");
        let statement = self
            .db
            .statement(
                "SELECT location, name, kind, timestamp_ms, scheduled_ms, status, run_ids, \
                 skip_reason, error, cursor FROM ticks WHERE location = $1 AND name = $2 \
                 AND timestamp_ms < $3 ORDER BY id DESC LIMIT $4",
            )
            .bind(location)
            .bind(name)
            .bind(before_ms.unwrap_or(i64::MAX))
            .bind(i64::from(limit));
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter()
            .map(|row| {
                let run_ids: String = row.get(6).map_err(|e| StoreError::new(doing(), e))?;
                let run_ids = serde_json::from_str(&run_ids).map_err(|e| {
                    StoreError::data(doing(), format!("a tick's run ids are invalid: {e}"))
                })?;
                tick_from_row(row, run_ids).map_err(|e| StoreError::new(doing(), e))
            })
            .collect()
    }

    /// Claims `run_key` of `name` of `location` for `run_id`, and returns the run id that
    /// owns the key: `run_id`, or the one it was claimed for before. A daemon launches a
    /// key's run only under the owning id and only if no such run exists yet, so a run
    /// request is launched once even by a daemon killed between claiming and launching.
    pub async fn claim_run_key(
        &self,
        location: &str,
        name: &str,
        run_key: &str,
        run_id: &str,
    ) -> Result<String, StoreError> {
        let doing = || format!("claiming run key {run_key:?} of {location}/{name}");
        let insert = self
            .db
            .statement(
                "INSERT INTO run_keys (location, name, run_key, run_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (location, name, run_key) DO NOTHING",
            )
            .bind(location)
            .bind(name)
            .bind(run_key)
            .bind(run_id);
        self.db.transaction(vec![insert], doing).await?;
        let owner = self
            .db
            .statement(
                "SELECT run_id FROM run_keys WHERE location = $1 AND name = $2 AND run_key = $3",
            )
            .bind(location)
            .bind(name)
            .bind(run_key);
        let row = self.db.fetch_optional(owner, doing).await?;
        let owner: Option<String> = row
            .map(|r| r.get(0))
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))?;
        owner.ok_or_else(|| StoreError::data(doing(), "the claimed key is not stored"))
    }

    /// Takes or renews lease `name` for `holder` until `now_ms + ttl_ms`. Returns whether
    /// `holder` has it: it is free, expired, or already held by `holder`.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let doing = || format!("taking lease {name}");
        let upsert = self
            .db
            .statement(
                "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                 expires_ms = excluded.expires_ms \
                 WHERE leases.expires_ms < $4 OR leases.holder = excluded.holder",
            )
            .bind(name)
            .bind(holder)
            .bind(now_ms.saturating_add(ttl_ms))
            .bind(now_ms);
        self.db.transaction(vec![upsert], doing).await?;
        let row = self
            .db
            .fetch_optional(
                self.db
                    .statement("SELECT holder FROM leases WHERE name = $1")
                    .bind(name),
                doing,
            )
            .await?;
        let current: Option<String> = row
            .map(|r| r.get(0))
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))?;
        Ok(current.as_deref() == Some(holder))
    }

    /// Gives lease `name` up if `holder` has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let doing = || format!("releasing lease {name}");
        let delete = self
            .db
            .statement("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder);
        self.db.transaction(vec![delete], doing).await
    }
}

fn state_from_row(row: &Row) -> Result<InstigatorState, sqlx::Error> {
    Ok(InstigatorState {
        location: row.get(0)?,
        name: row.get(1)?,
        kind: parsed(row, 2, InstigatorKind::parse)?,
        status: parsed(row, 3, InstigatorStatus::parse)?,
        cursor: row.get(4)?,
        last_tick_ms: row.get(5)?,
        updated_ms: row.get(6)?,
    })
}

fn tick_from_row(row: &Row, run_ids: Vec<String>) -> Result<TickRecord, sqlx::Error> {
    Ok(TickRecord {
        location: row.get(0)?,
        name: row.get(1)?,
        kind: parsed(row, 2, InstigatorKind::parse)?,
        timestamp_ms: row.get(3)?,
        scheduled_ms: row.get(4)?,
        status: parsed(row, 5, TickStatus::parse)?,
        run_ids,
        skip_reason: row.get(7)?,
        error: row.get(8)?,
        cursor: row.get(9)?,
    })
}

/// Column `index` of `row` read by its stored name.
fn parsed<T>(row: &Row, index: usize, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    let text: String = row.get(index)?;
    parse(&text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: format!("unknown name {text:?}").into(),
    })
}
