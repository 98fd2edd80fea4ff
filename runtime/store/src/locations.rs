//! Code locations and their versions: each upload of a component is a version (by sha256
//! digest) with the definitions it exported, and the location's current digest is the one
//! new runs are pinned to. Older versions stay, for the runs that still use them.

use sqlx::Row;

use crate::Store;
use crate::error::StoreError;
use crate::sqlite::Statement;

impl Store {
    /// Stores version `digest` of location `name` with its definitions snapshot (JSON) and
    /// component size, and makes it the location's current version, in one transaction.
    /// Storing a digest again replaces its snapshot and keeps its first `created_ms`.
    pub async fn put_location_version(
        &self,
        name: &str,
        digest: &str,
        definitions_json: &str,
        wasm_size: u64,
    ) -> Result<(), StoreError> {
        let doing = || format!("storing version {digest} of code location {name}");
        serde_json::from_str::<serde::de::IgnoredAny>(definitions_json).map_err(|e| {
            StoreError::data(doing(), format!("the definitions are not valid JSON: {e}"))
        })?;
        let wasm_size = i64::try_from(wasm_size).map_err(|_| {
            StoreError::data(
                doing(),
                format!("a component of {wasm_size} bytes is too large"),
            )
        })?;
        let now = weft_engine::now_ms();
        let statements = vec![
            Statement::new(
                "INSERT INTO code_locations (name, current_digest, updated_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET current_digest = excluded.current_digest, \
                 updated_ms = excluded.updated_ms",
            )
            .bind(name)
            .bind(digest)
            .bind(now),
            Statement::new(
                "INSERT INTO location_versions (digest, location, definitions, created_ms, wasm_size) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (digest) DO UPDATE SET location = excluded.location, \
                 definitions = excluded.definitions, wasm_size = excluded.wasm_size",
            )
            .bind(digest)
            .bind(name)
            .bind(definitions_json)
            .bind(now)
            .bind(wasm_size),
        ];
        self.pools
            .write
            .transaction(statements)
            .await
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// The location name and definitions snapshot (JSON) of version `digest`, if stored.
    pub async fn location_version(
        &self,
        digest: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let doing = || format!("reading code location version {digest}");
        let row =
            sqlx::query("SELECT location, definitions FROM location_versions WHERE digest = $1")
                .bind(digest)
                .fetch_optional(&self.pools.read)
                .await
                .map_err(|e| StoreError::new(doing(), e))?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
            .map_err(|e: sqlx::Error| StoreError::new(doing(), e))
    }

    /// Every code location as `(name, current_digest, updated_ms)`, by name.
    pub async fn locations(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let doing = || "listing code locations".to_owned();
        let rows = sqlx::query(
            "SELECT name, current_digest, updated_ms FROM code_locations ORDER BY name",
        )
        .fetch_all(&self.pools.read)
        .await
        .map_err(|e| StoreError::new(doing(), e))?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| StoreError::new(doing(), e))
    }
}
