//! Runs and their event logs: creating a run, appending events (the engine's hot path),
//! reading runs with filters and events after a cursor, and the
//! [`RunStorage`] port implemented on [`Store`].
//!
//! [`Store::append`] writes a whole batch in one transaction without reading anything: the
//! events by multi-row inserts ([`crate::bulk`]), then the asset materializations they
//! announce, then each affected run's status and times. The new status is folded with
//! [`RunStatus::after`] from every status the run might have, and the `UPDATE` picks the
//! one for the status it has (`CASE status WHEN ...`), so the batch is all writes: for the
//! common batch of step events, one statement and one round trip.

use std::collections::BTreeMap;

use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::ports::{RunStorage, StorageError};
use weft_core::run::{RunFilter, RunRecord};

use crate::Store;
use crate::bulk::{self, BulkInsert};
use crate::db::{Database, Dialect, PerDialect, Row, Statement};
use crate::error::StoreError;

/// The columns of `runs` in the order [`run_from_row`] reads them.
macro_rules! run_columns {
    () => {
        "run_id, job, location, digest, status, tags, config, asset_selection, created_ms, started_ms, finished_ms"
    };
}

/// What a run read back has beyond [`run_columns!`]: its last heartbeat, and the time of its
/// last event (its progress; found through the `(run_id, id)` index of `events`).
macro_rules! run_liveness {
    () => {
        ", heartbeat_ms, (SELECT e.timestamp_ms FROM events e WHERE e.run_id = runs.run_id \
         ORDER BY e.id DESC LIMIT 1)"
    };
}

static INSERT_EVENTS: BulkInsert = BulkInsert::new(
    "events",
    &["run_id", "step_key", "type", "timestamp_ms", "body"],
);

static INSERT_TAGS: BulkInsert = BulkInsert::new("run_tags", &["run_id", "key", "value"]);

static INSERT_MATERIALIZATIONS: BulkInsert = BulkInsert::new(
    "asset_materializations",
    &[
        "asset_key",
        "run_id",
        "step_key",
        "timestamp_ms",
        "metadata",
    ],
);

impl Store {
    /// Records a new run and its tags. A run id that exists already is an error
    /// ([`ErrorKind::Conflict`](crate::ErrorKind::Conflict)).
    pub async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        let doing = || format!("creating run {} of job {}", run.run_id, run.job);
        let tags = serde_json::to_string(&run.tags)
            .map_err(|e| StoreError::data(doing(), e.to_string()))?;
        let config = serde_json::to_string(&run.config)
            .map_err(|e| StoreError::data(doing(), e.to_string()))?;
        let mut statements = vec![
            self.db
                .statement(concat!(
                    "INSERT INTO runs (",
                    run_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ))
                .bind(run.run_id.as_str())
                .bind(run.job.as_str())
                .bind(run.location.as_str())
                .bind(run.digest.as_str())
                .bind(run.status.as_str())
                .bind(tags)
                .bind(config)
                .bind(run.asset_selection.as_deref())
                .bind(run.created_ms)
                .bind(run.started_ms)
                .bind(run.finished_ms),
        ];
        let tags: Vec<_> = run.tags.iter().collect();
        for range in bulk::chunks(tags.len()) {
            let mut statement = INSERT_TAGS.statement(&self.db, range.len());
            for (key, value) in &tags[range] {
                statement = statement
                    .bind(run.run_id.as_str())
                    .bind(key.as_str())
                    .bind(value.as_str());
            }
            statements.push(statement);
        }
        self.db.transaction(statements, doing).await
    }

    /// Appends `events` in one transaction, with their effects: each run's status and
    /// start/finish times from `RUN_*` events, a materialization record for each
    /// `ASSET_MATERIALIZATION` and an evaluation record for each `ASSET_CHECK_EVALUATION`. Either all of it is stored or none of it.
    pub async fn append(&self, events: &[Event]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let doing = || describe_append(events);

        let mut bodies = Vec::with_capacity(events.len());
        for event in events {
            bodies.push(
                serde_json::to_string(event)
                    .map_err(|e| StoreError::data(doing(), e.to_string()))?,
            );
        }

        let mut statements = Vec::new();
        let mut bodies = bodies.into_iter();
        for range in bulk::chunks(events.len()) {
            let mut statement = INSERT_EVENTS.statement(&self.db, range.len());
            for (event, body) in events[range].iter().zip(bodies.by_ref()) {
                statement = statement
                    .bind(event.run_id.as_str())
                    .bind(event.step_key.as_deref())
                    .bind(event.kind.type_name())
                    .bind(event.timestamp_ms)
                    .bind(body);
            }
            statements.push(statement);
        }

        let materializations: Vec<(&Event, String, String)> = events
            .iter()
            .filter_map(|event| match &event.kind {
                EventKind::AssetMaterialization {
                    asset_key,
                    metadata,
                } => Some((event, asset_key, metadata)),
                _ => None,
            })
            .map(|(event, key, metadata)| {
                let metadata = serde_json::to_string(metadata)
                    .map_err(|e| StoreError::data(doing(), e.to_string()))?;
                Ok((event, key.to_string(), metadata))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut materializations = materializations.into_iter();
        for range in bulk::chunks(materializations.len()) {
            let mut statement = INSERT_MATERIALIZATIONS.statement(&self.db, range.len());
            for (event, key, metadata) in materializations.by_ref().take(range.len()) {
                statement = statement
                    .bind(key)
                    .bind(event.run_id.as_str())
                    .bind(event.step_key.as_deref())
                    .bind(event.timestamp_ms)
                    .bind(metadata);
            }
            statements.push(statement);
        }

        statements.extend(crate::checks::evaluation_rows(&self.db, events, doing)?);

        // Each run's RUN_* events in order; most batches have none.
        let mut run_events: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
        for event in events.iter().filter(|e| is_run_event(&e.kind)) {
            run_events
                .entry(event.run_id.as_str())
                .or_default()
                .push(event);
        }
        for (run_id, changes) in run_events {
            statements.push(run_update(&self.db, run_id, &changes));
        }

        self.db.transaction(statements, doing).await
    }

    /// The run with id `run_id`, if any.
    pub async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let doing = || format!("reading run {run_id}");
        let statement = self
            .db
            .statement(concat!(
                "SELECT ",
                run_columns!(),
                run_liveness!(),
                " FROM runs WHERE run_id = $1"
            ))
            .bind(run_id);
        let row = self.db.fetch_optional(statement, doing).await?;
        row.map(|row| run_from_row(&row).map_err(|e| StoreError::data(doing(), e)))
            .transpose()
    }

    /// Runs matching `filter`, newest first.
    pub async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        let doing = || format!("listing runs{}", describe_filter(filter));
        let mut query = self.db.statement(concat!(
            "SELECT ",
            run_columns!(),
            run_liveness!(),
            " FROM runs WHERE 1 = 1"
        ));
        if let Some(status) = filter.status {
            query = query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(job) = &filter.job {
            query = query.push(" AND job = ").push_bind(job.as_str());
        }
        if let Some(location) = &filter.location {
            query = query.push(" AND location = ").push_bind(location.as_str());
        }
        if let Some((key, value)) = &filter.tag {
            query = query
                .push(" AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.run_id AND t.key = ")
                .push_bind(key.as_str())
                .push(" AND t.value = ")
                .push_bind(value.as_str())
                .push(")");
        }
        if let Some(before) = &filter.before {
            query = query
                .push(" AND (created_ms, run_id) < (SELECT created_ms, run_id FROM runs WHERE run_id = ")
                .push_bind(before.as_str())
                .push(")");
        }
        query = query.push(" ORDER BY created_ms DESC, run_id DESC");
        if let Some(limit) = filter.limit {
            query = query.push(" LIMIT ").push_bind(i64::from(limit));
        }
        let rows = self.db.fetch_all(query, doing).await?;
        rows.iter()
            .map(|row| run_from_row(row).map_err(|e| StoreError::data(doing(), e)))
            .collect()
    }

    /// Every run in one of `statuses`, oldest first, with its heartbeat and progress.
    pub async fn runs_in(&self, statuses: &[RunStatus]) -> Result<Vec<RunRecord>, StoreError> {
        let doing = || format!("listing runs in {statuses:?}");
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = self.db.statement(concat!(
            "SELECT ",
            run_columns!(),
            run_liveness!(),
            " FROM runs WHERE status IN ("
        ));
        for (i, status) in statuses.iter().enumerate() {
            if i > 0 {
                query = query.push(", ");
            }
            query = query.push_bind(status.as_str());
        }
        query = query.push(") ORDER BY created_ms, run_id");
        let rows = self.db.fetch_all(query, doing).await?;
        rows.iter()
            .map(|row| run_from_row(row).map_err(|e| StoreError::data(doing(), e)))
            .collect()
    }

    /// Records that the process executing `run_ids` is alive at `now_ms`.
    pub async fn heartbeat(&self, run_ids: &[String], now_ms: i64) -> Result<(), StoreError> {
        let doing = || format!("recording the heartbeat of {} runs", run_ids.len());
        let statements = run_ids
            .iter()
            .map(|id| {
                self.db
                    .statement("UPDATE runs SET heartbeat_ms = $1 WHERE run_id = $2")
                    .bind(now_ms)
                    .bind(id.as_str())
            })
            .collect();
        self.db.transaction(statements, doing).await
    }

    /// Up to `limit` events of run `run_id` in order, with their ids, after id `after`
    /// (0 for all). Pass the last id seen to read on from there.
    pub async fn events(
        &self,
        run_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        let doing = || format!("reading events of run {run_id} after id {after}");
        let statement = self
            .db
            .statement(
                "SELECT id, body FROM events WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(run_id)
            .bind(after)
            .bind(i64::from(limit));
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter().map(|row| event_row(row, &doing)).collect()
    }
}

impl Store {
    /// The events of run `run_id` that say how its steps went: starts, retries, ends and
    /// skips, in order; what a summary of its steps needs, however much its steps logged.
    pub async fn step_events(&self, run_id: &str) -> Result<Vec<Event>, StoreError> {
        let doing = || format!("reading the step events of run {run_id}");
        let statement = self
            .db
            .statement(
                "SELECT id, body FROM events WHERE run_id = $1 AND type IN ('STEP_START', \
                 'STEP_UP_FOR_RETRY', 'STEP_SUCCESS', 'STEP_FAILURE', 'STEP_SKIPPED') ORDER BY id",
            )
            .bind(run_id);
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter()
            .map(|row| event_row(row, &doing).map(|(_, e)| e))
            .collect()
    }

    /// Up to `limit` ends of runs (`RUN_SUCCESS`, `RUN_FAILURE`, `RUN_CANCELED`) of any run,
    /// in the order they were written, with their ids: those after id `after` written at
    /// or after `since_ms`. What a run-status sensor reads on from its cursor.
    pub async fn run_ends(
        &self,
        after: i64,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, StoreError> {
        let doing = || format!("reading the ends of runs after event {after}");
        let statement = self
            .db
            .statement(
                "SELECT id, body FROM events \
                 WHERE type IN ('RUN_SUCCESS', 'RUN_FAILURE', 'RUN_CANCELED') \
                 AND id > $1 AND timestamp_ms >= $2 ORDER BY id LIMIT $3",
            )
            .bind(after)
            .bind(since_ms)
            .bind(i64::from(limit));
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter().map(|row| event_row(row, &doing)).collect()
    }
}

/// Every status, so that a status change can be written for each one a run may be in.
const ALL_STATUSES: [RunStatus; 8] = [
    RunStatus::Queued,
    RunStatus::NotStarted,
    RunStatus::Starting,
    RunStatus::Started,
    RunStatus::Success,
    RunStatus::Failure,
    RunStatus::Canceling,
    RunStatus::Canceled,
];

/// `UPDATE runs` for a batch's `RUN_*` events, in `dialect`: the new status for each status
/// the run may have now (so the write needs no read first; a finished run keeps its own,
/// see [`RunStatus::after`]), the start time unless already set, and the finish time when
/// the batch finishes the run, unless it had finished already (the first end counts).
fn run_update_sql(dialect: Dialect) -> &'static str {
    static SQL: PerDialect<String> = PerDialect::new();
    SQL.get(dialect, |dialect| {
        let mut sql = String::from("UPDATE runs SET status = CASE status");
        let mut n = 0;
        let mut param = |sql: &mut String| {
            n += 1;
            dialect.push_placeholder(sql, n);
        };
        for status in ALL_STATUSES {
            // Status names are identifiers of our own (`SUCCESS`), never data.
            sql.push_str(&format!(" WHEN '{status}' THEN "));
            param(&mut sql);
        }
        sql.push_str(" ELSE status END, started_ms = COALESCE(started_ms, ");
        param(&mut sql);
        sql.push_str("), finished_ms = COALESCE(finished_ms, ");
        param(&mut sql);
        sql.push_str(") WHERE run_id = ");
        param(&mut sql);
        sql
    })
}

/// The [`run_update_sql`] statement for `changes`, the `RUN_*` events of run `run_id` in order.
fn run_update(db: &Database, run_id: &str, changes: &[&Event]) -> Statement {
    let mut statement = Statement::new(db.dialect(), run_update_sql(db.dialect()));
    for status in ALL_STATUSES {
        let after = changes.iter().fold(status, |s, event| s.after(&event.kind));
        statement = statement.bind(after.as_str());
    }
    let started = changes
        .iter()
        .find(|e| matches!(e.kind, EventKind::RunStart))
        .map(|e| e.timestamp_ms);
    let finished = changes
        .iter()
        .find(|e| {
            matches!(
                e.kind,
                EventKind::RunSuccess | EventKind::RunFailure { .. } | EventKind::RunCanceled
            )
        })
        .map(|e| e.timestamp_ms);
    statement.bind(started).bind(finished).bind(run_id)
}

/// Whether `kind` changes the run's status or times.
fn is_run_event(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::RunStarting
            | EventKind::RunStart
            | EventKind::RunSuccess
            | EventKind::RunFailure { .. }
            | EventKind::RunCanceling
            | EventKind::RunCanceled
    )
}

/// "appending 12 events of run R" (or "of runs A, B, C and 2 more").
fn describe_append(events: &[Event]) -> String {
    let mut runs: Vec<&str> = Vec::new();
    for event in events {
        if !runs.contains(&event.run_id.as_str()) {
            runs.push(&event.run_id);
        }
    }
    let count = events.len();
    let noun = if count == 1 { "event" } else { "events" };
    match runs.as_slice() {
        [one] => format!("appending {count} {noun} of run {one}"),
        many if many.len() <= 3 => format!("appending {count} {noun} of runs {}", many.join(", ")),
        many => format!(
            "appending {count} {noun} of runs {} and {} more",
            many[..3].join(", "),
            many.len() - 3
        ),
    }
}

/// " with status SUCCESS, job j" for error messages.
fn describe_filter(filter: &RunFilter) -> String {
    let mut parts = Vec::new();
    if let Some(status) = filter.status {
        parts.push(format!("status {status}"));
    }
    if let Some(job) = &filter.job {
        parts.push(format!("job {job}"));
    }
    if let Some(location) = &filter.location {
        parts.push(format!("location {location}"));
    }
    if let Some((key, value)) = &filter.tag {
        parts.push(format!("tag {key}={value}"));
    }
    if let Some(before) = &filter.before {
        parts.push(format!("before run {before}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" with {}", parts.join(", "))
    }
}

/// A [`RunRecord`] from a row of [`run_columns!`] and [`run_liveness!`]; the error says
/// what is wrong with it.
fn run_from_row(row: &Row) -> Result<RunRecord, String> {
    let text = |i: usize| row.get::<String>(i).map_err(|e| e.to_string());
    let run_id = text(0)?;
    let bad =
        |what: &str, e: &dyn std::fmt::Display| format!("run {run_id} has invalid {what}: {e}");
    let status_text = text(4)?;
    let status =
        RunStatus::parse(&status_text).ok_or_else(|| bad("status", &format!("{status_text:?}")))?;
    let tags = serde_json::from_str(&text(5)?).map_err(|e| bad("tags", &e))?;
    let config = serde_json::from_str(&text(6)?).map_err(|e| bad("config", &e))?;
    let int = |i: usize| row.get::<Option<i64>>(i).map_err(|e| bad("times", &e));
    Ok(RunRecord {
        job: text(1)?,
        location: text(2)?,
        digest: text(3)?,
        status,
        tags,
        config,
        asset_selection: row.get(7).map_err(|e| bad("asset selection", &e))?,
        created_ms: int(8)?.ok_or_else(|| bad("created_ms", &"NULL"))?,
        started_ms: int(9)?,
        finished_ms: int(10)?,
        heartbeat_ms: int(11)?,
        progress_ms: int(12)?,
        run_id,
    })
}

impl RunStorage for Store {
    async fn create_run(&self, run: &RunRecord) -> Result<(), StorageError> {
        Ok(Store::create_run(self, run).await?)
    }

    async fn append(&self, events: &[Event]) -> Result<(), StorageError> {
        Ok(Store::append(self, events).await?)
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StorageError> {
        Ok(Store::run(self, run_id).await?)
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StorageError> {
        Ok(Store::runs(self, filter).await?)
    }

    async fn events(
        &self,
        run_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, StorageError> {
        Ok(Store::events(self, run_id, after, limit).await?)
    }
}

/// An `(id, body)` row as the event it holds.
fn event_row(row: &Row, doing: &impl Fn() -> String) -> Result<(i64, Event), StoreError> {
    let id: i64 = row.get(0).map_err(|e| StoreError::new(doing(), e))?;
    let body: &str = row.get(1).map_err(|e| StoreError::new(doing(), e))?;
    let event = serde_json::from_str(body)
        .map_err(|e| StoreError::data(doing(), format!("event {id} is not a valid event: {e}")))?;
    Ok((id, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails to compile when `RunStatus` gains a variant that [`ALL_STATUSES`] lacks.
    fn listed(status: RunStatus) -> bool {
        match status {
            RunStatus::Queued
            | RunStatus::NotStarted
            | RunStatus::Starting
            | RunStatus::Started
            | RunStatus::Success
            | RunStatus::Failure
            | RunStatus::Canceling
            | RunStatus::Canceled => ALL_STATUSES.contains(&status),
        }
    }

    #[test]
    fn every_status_is_listed() {
        assert!(ALL_STATUSES.into_iter().all(listed));
        let parameters = ALL_STATUSES.len() + 3;
        assert_eq!(
            run_update_sql(Dialect::Sqlite).matches('?').count(),
            parameters
        );
        assert_eq!(
            run_update_sql(Dialect::Postgres).matches('$').count(),
            parameters
        );
        assert!(
            run_update_sql(Dialect::Postgres).ends_with(&format!("WHERE run_id = ${parameters}"))
        );
    }
}
