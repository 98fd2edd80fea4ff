//! The values of the database I/O manager (table `io_values`, migration 0006): step outputs
//! and asset values kept in the database itself, so that every process, pod and worker on
//! it reads what another stored without a shared disk or an object store. An op's output is
//! keyed by run, step and output name; an asset by its key (its latest value: storing it
//! again replaces it, as the filesystem I/O manager overwrites its file). Each row holds the
//! codec tag, the bytes, their size and when they were stored.
//!
//! These are the queries; [`crate::io::DatabaseIoManager`] is the engine's `IoManager`
//! over them (with the size limit and the bridge from its synchronous calls).

use std::fmt;

use weft_core::defs::{AssetKey, Value};

use crate::Store;
use crate::error::StoreError;

/// Which value: an op's output in a run, or an asset's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoKey<'a> {
    /// Output `output` of step `step_key` of run `run_id`.
    Output {
        /// The run whose step stored it.
        run_id: &'a str,
        /// The step.
        step_key: &'a str,
        /// The output's name.
        output: &'a str,
    },
    /// The (latest) value of an asset.
    Asset(&'a AssetKey),
}

impl fmt::Display for IoKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoKey::Output {
                run_id,
                step_key,
                output,
            } => write!(f, "output {output} of step {step_key} of run {run_id}"),
            IoKey::Asset(key) => write!(f, "asset {key}"),
        }
    }
}

impl IoKey<'_> {
    /// The row's key columns `(run_id, step_key, output, asset_key)`: those an output does
    /// not have are empty, as are an asset's.
    fn columns(&self) -> (String, String, String, String) {
        match self {
            IoKey::Output {
                run_id,
                step_key,
                output,
            } => (
                (*run_id).to_owned(),
                (*step_key).to_owned(),
                (*output).to_owned(),
                String::new(),
            ),
            IoKey::Asset(key) => (String::new(), String::new(), String::new(), key.to_string()),
        }
    }

    /// Refuses keys that cannot be told apart from the other kind (an output without a
    /// run, an asset without a key).
    fn check(&self, doing: impl FnOnce() -> String) -> Result<(), StoreError> {
        match self {
            IoKey::Output { run_id: "", .. } => Err(StoreError::data(
                doing(),
                "an output's value needs the id of its run",
            )),
            IoKey::Asset(key) if key.to_string().is_empty() => Err(StoreError::data(
                doing(),
                "an asset's value needs its asset key",
            )),
            _ => Ok(()),
        }
    }
}

/// A value as the database holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoValue {
    /// The codec tag and the bytes.
    pub value: Value,
    /// The length of the bytes.
    pub size_bytes: u64,
    /// When it was stored, in milliseconds since the Unix epoch.
    pub stored_ms: i64,
}

impl Store {
    /// Stores `value` under `key`, replacing whatever was stored there (an asset's previous
    /// value, an output a retried step stored before).
    pub async fn put_io_value(
        &self,
        key: IoKey<'_>,
        value: &Value,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let doing = || format!("storing the value of {key} in the database");
        key.check(doing)?;
        let size = i64::try_from(value.data.len()).map_err(|_| {
            StoreError::data(
                doing(),
                format!("a value of {} bytes is too large", value.data.len()),
            )
        })?;
        let (run_id, step_key, output, asset_key) = key.columns();
        let statement = self
            .db
            .statement(
                "INSERT INTO io_values \
                 (run_id, step_key, output, asset_key, codec, data, size_bytes, stored_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (run_id, step_key, output, asset_key) DO UPDATE SET \
                 codec = excluded.codec, data = excluded.data, \
                 size_bytes = excluded.size_bytes, stored_ms = excluded.stored_ms",
            )
            .bind(run_id)
            .bind(step_key)
            .bind(output)
            .bind(asset_key)
            .bind(value.codec.as_str())
            .bind(value.data.as_slice())
            .bind(size)
            .bind(now_ms);
        self.db.transaction(vec![statement], doing).await
    }

    /// The value stored under `key`, if any.
    pub async fn io_value(&self, key: IoKey<'_>) -> Result<Option<IoValue>, StoreError> {
        let doing = || format!("reading the value of {key} from the database");
        key.check(doing)?;
        let (run_id, step_key, output, asset_key) = key.columns();
        let statement = self
            .db
            .statement(
                "SELECT codec, data, size_bytes, stored_ms FROM io_values \
                 WHERE run_id = $1 AND step_key = $2 AND output = $3 AND asset_key = $4",
            )
            .bind(run_id)
            .bind(step_key)
            .bind(output)
            .bind(asset_key);
        let Some(row) = self.db.fetch_optional(statement, doing).await? else {
            return Ok(None);
        };
        let column = |e: sqlx::Error| StoreError::new(doing(), e);
        let size: i64 = row.get(2).map_err(column)?;
        let size_bytes = u64::try_from(size).map_err(|_| {
            StoreError::data(doing(), format!("the stored size {size} is negative"))
        })?;
        Ok(Some(IoValue {
            value: Value {
                codec: row.get(0).map_err(column)?,
                data: row.get(1).map_err(column)?,
            },
            size_bytes,
            stored_ms: row.get(3).map_err(column)?,
        }))
    }

    /// What the database is called in messages: its path, or its URL without the password.
    pub fn database_name(&self) -> &str {
        self.db.name()
    }
}
