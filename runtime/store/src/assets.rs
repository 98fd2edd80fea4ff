//! The asset materialization history (Dagster's asset catalog): which run materialized
//! an asset, when, with what metadata. Rows are written by [`Store::append`] in the
//! transaction of their `ASSET_MATERIALIZATION` events; asset keys are stored as their
//! `/`-joined path (`warehouse/orders`).

use weft_core::metadata::Metadata;

use crate::Store;
use crate::error::StoreError;

/// One materialization of an asset.
#[derive(Clone, Debug, PartialEq)]
pub struct Materialization {
    /// The run that materialized it.
    pub run_id: String,
    /// The step that did, when the event named one.
    pub step_key: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The metadata the step attached.
    pub metadata: Metadata,
}

impl Store {
    /// Up to `limit` materializations of asset `key` (`a/b`), newest first.
    pub async fn asset_materializations(
        &self,
        key: &str,
        limit: u32,
    ) -> Result<Vec<Materialization>, StoreError> {
        let doing = || format!("reading materializations of asset {key}");
        let statement = self
            .db
            .statement(
                "SELECT id, run_id, step_key, timestamp_ms, metadata FROM asset_materializations \
                 WHERE asset_key = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(key)
            .bind(i64::from(limit));
        let rows = self.db.fetch_all(statement, doing).await?;
        let column = |e: sqlx::Error| StoreError::new(doing(), e);
        rows.iter()
            .map(|row| {
                let id: i64 = row.get(0).map_err(column)?;
                let metadata: &str = row.get(4).map_err(column)?;
                let metadata = serde_json::from_str(metadata).map_err(|e| {
                    StoreError::data(
                        doing(),
                        format!("materialization {id} has invalid metadata: {e}"),
                    )
                })?;
                Ok(Materialization {
                    run_id: row.get(1).map_err(column)?,
                    step_key: row.get(2).map_err(column)?,
                    timestamp_ms: row.get(3).map_err(column)?,
                    metadata,
                })
            })
            .collect()
    }

    /// The latest materialization of every asset ever materialized, as
    /// `(asset_key, run_id, timestamp_ms)`, by asset key.
    pub async fn latest_materializations(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let doing = || "reading the latest asset materializations".to_owned();
        let statement = self.db.statement(
            "SELECT m.asset_key, m.run_id, m.timestamp_ms FROM asset_materializations m \
             JOIN (SELECT MAX(id) AS id FROM asset_materializations GROUP BY asset_key) latest ON latest.id = m.id \
             ORDER BY m.asset_key",
        );
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter()
            .map(|row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| StoreError::new(doing(), e))
    }
}
