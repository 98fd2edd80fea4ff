//! The asset check history: what each check of an asset found, run by run. Rows are
//! written by [`Store::append`] in the transaction of their `ASSET_CHECK_EVALUATION`
//! events (see [`evaluation_rows`]); asset keys are stored as their `/`-joined path.

use weft_core::checks::CheckEvaluation;
use weft_core::events::{Event, EventKind};

use crate::Store;
use crate::bulk::{self, BulkInsert};
use crate::db::Database;
use crate::error::StoreError;
use crate::statement::Statement;

static INSERT_EVALUATIONS: BulkInsert = BulkInsert::new(
    "asset_check_evaluations",
    &[
        "asset_key",
        "check_name",
        "run_id",
        "step_key",
        "timestamp_ms",
        "evaluation",
    ],
);

/// One evaluation of a check of an asset.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckRecord {
    /// The check's name.
    pub check: String,
    /// The run that evaluated it.
    pub run_id: String,
    /// The check's step, when the event named one.
    pub step_key: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// What it found.
    pub evaluation: CheckEvaluation,
}

/// The statements recording each `ASSET_CHECK_EVALUATION` of `events` (none for most).
pub(crate) fn evaluation_rows(
    db: &Database,
    events: &[Event],
    doing: impl Fn() -> String,
) -> Result<Vec<Statement>, StoreError> {
    let rows: Vec<(&Event, String, &str, String)> = events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::AssetCheckEvaluation {
                asset_key,
                check,
                evaluation,
            } => Some((event, asset_key, check, evaluation)),
            _ => None,
        })
        .map(|(event, key, check, evaluation)| {
            let evaluation = serde_json::to_string(evaluation)
                .map_err(|e| StoreError::data(doing(), e.to_string()))?;
            Ok((event, key.to_string(), check.as_str(), evaluation))
        })
        .collect::<Result<_, StoreError>>()?;
    let mut statements = Vec::new();
    let mut rows = rows.into_iter();
    for range in bulk::chunks(rows.len()) {
        let mut statement = INSERT_EVALUATIONS.statement(db, range.len());
        for (event, key, check, evaluation) in rows.by_ref().take(range.len()) {
            statement = statement
                .bind(key)
                .bind(check)
                .bind(event.run_id.as_str())
                .bind(event.step_key.as_deref())
                .bind(event.timestamp_ms)
                .bind(evaluation);
        }
        statements.push(statement);
    }
    Ok(statements)
}

impl Store {
    /// Up to `limit` evaluations of the checks of asset `key` (`a/b`), newest first.
    pub async fn check_evaluations(
        &self,
        key: &str,
        limit: u32,
    ) -> Result<Vec<CheckRecord>, StoreError> {
        let doing = || format!("reading the check evaluations of asset {key}");
        let statement = self
            .db
            .statement(
                "SELECT id, check_name, run_id, step_key, timestamp_ms, evaluation \
                 FROM asset_check_evaluations WHERE asset_key = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(key)
            .bind(i64::from(limit));
        let rows = self.db.fetch_all(statement, doing).await?;
        let column = |e: sqlx::Error| StoreError::new(doing(), e);
        rows.iter()
            .map(|row| {
                let id: i64 = row.get(0).map_err(column)?;
                let evaluation: &str = row.get(5).map_err(column)?;
                let evaluation = serde_json::from_str(evaluation).map_err(|e| {
                    StoreError::data(doing(), format!("check evaluation {id} is invalid: {e}"))
                })?;
                Ok(CheckRecord {
                    check: row.get(1).map_err(column)?,
                    run_id: row.get(2).map_err(column)?,
                    step_key: row.get(3).map_err(column)?,
                    timestamp_ms: row.get(4).map_err(column)?,
                    evaluation,
                })
            })
            .collect()
    }
}
