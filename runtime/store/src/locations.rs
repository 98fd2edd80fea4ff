//! Code locations and their versions: each upload of a component is a version (by sha256
//! digest) with the definitions it exported and its bytes, and the location's current
//! digest is the one new runs are pinned to. Older versions stay, for the runs that still
//! use them and for rolling back; a removed location keeps its history until it is
//! uploaded again, but not its grants: a new upload under the name starts with nothing
//! granted. Every change of a location's grants is kept in its grant history, as shown
//! (environment values masked), for audit.

use crate::Store;
use crate::db::Row;
use crate::error::StoreError;
use crate::statement::Statement;

/// A live code location.
#[derive(Clone, Debug, PartialEq)]
pub struct LocationRecord {
    /// The location's name.
    pub name: String,
    /// The version new runs use.
    pub current_digest: String,
    /// When the current version was last set, in milliseconds since the Unix epoch.
    pub updated_ms: i64,
    /// The grants set through the API, as JSON (`{}` when none).
    pub grants: String,
}

/// One change of a location's grants, in its grant history.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantChange {
    /// `set` (through the API) or `removed` (cleared with the location).
    pub change: String,
    /// The grants after the change, as JSON, as shown (environment values masked).
    pub grants: String,
    /// When, in milliseconds since the Unix epoch.
    pub changed_ms: i64,
}

/// One stored version of a location.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRecord {
    /// The component's sha256, in hex.
    pub digest: String,
    /// When it was first stored, in milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// The component's size in bytes.
    pub wasm_size: i64,
    /// What it defines, as JSON.
    pub definitions: String,
}

impl Store {
    /// Stores version `digest` of location `name` (its definitions snapshot as JSON and the
    /// component's bytes) and makes it the location's current version, in one transaction:
    /// readers see the old version or the new one, never a mix. Storing a digest again
    /// keeps its first `created_ms`; a removed location comes back.
    pub async fn put_location_version(
        &self,
        name: &str,
        digest: &str,
        definitions_json: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let doing = || format!("storing version {digest} of code location {name}");
        serde_json::from_str::<serde::de::IgnoredAny>(definitions_json).map_err(|e| {
            StoreError::data(doing(), format!("the definitions are not valid JSON: {e}"))
        })?;
        let wasm_size = i64::try_from(bytes.len()).map_err(|_| {
            StoreError::data(
                doing(),
                format!("a component of {} bytes is too large", bytes.len()),
            )
        })?;
        // The bytes are sent only when the database lacks them (a `weft run` of a known
        // component writes no blob); two writers racing here both succeed.
        let known = self
            .db
            .fetch_optional(
                self.db
                    .statement("SELECT 1 FROM components WHERE digest = $1")
                    .bind(digest),
                doing,
            )
            .await?
            .is_some();
        let now = weft_core::now_ms();
        let mut statements = Vec::with_capacity(3);
        if !known {
            statements.push(
                self.db
                    .statement(
                        "INSERT INTO components (digest, bytes) VALUES ($1, $2) \
                     ON CONFLICT (digest) DO NOTHING",
                    )
                    .bind(digest)
                    .bind(bytes.to_vec()),
            );
        }
        statements.push(
            self.db
                .statement(
                "INSERT INTO code_locations (name, current_digest, updated_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET current_digest = excluded.current_digest, \
                 updated_ms = excluded.updated_ms, removed_ms = NULL",
            )
            .bind(name)
            .bind(digest)
            .bind(now),
        );
        statements.push(
            self.db
                .statement(
                "INSERT INTO location_versions (location, digest, definitions, created_ms, wasm_size) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (location, digest) DO UPDATE SET definitions = excluded.definitions",
            )
            .bind(name)
            .bind(digest)
            .bind(definitions_json)
            .bind(now)
            .bind(wasm_size),
        );
        self.db.transaction(statements, doing).await
    }

    /// The bytes of the component with sha256 `digest`, if stored.
    pub async fn component(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let doing = || format!("reading component {digest}");
        let statement = self
            .db
            .statement("SELECT bytes FROM components WHERE digest = $1")
            .bind(digest);
        let row = self.db.fetch_optional(statement, doing).await?;
        row.map(|row| row.get::<Vec<u8>>(0))
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// The location name and definitions snapshot (JSON) of version `digest` (of any
    /// location that has it), if stored.
    pub async fn location_version(
        &self,
        digest: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let doing = || format!("reading code location version {digest}");
        let statement = self
            .db
            .statement(
                "SELECT location, definitions FROM location_versions WHERE digest = $1 \
                 ORDER BY created_ms, location LIMIT 1",
            )
            .bind(digest);
        let row = self.db.fetch_optional(statement, doing).await?;
        row.map(|row| Ok((row.get(0)?, row.get(1)?)))
            .transpose()
            .map_err(|e: sqlx::Error| StoreError::new(doing(), e))
    }

    /// Every live code location as `(name, current_digest, updated_ms)`, by name.
    pub async fn locations(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(self
            .location_records()
            .await?
            .into_iter()
            .map(|l| (l.name, l.current_digest, l.updated_ms))
            .collect())
    }

    /// Every live code location, by name.
    pub async fn location_records(&self) -> Result<Vec<LocationRecord>, StoreError> {
        let doing = || "listing code locations".to_owned();
        let statement = self.db.statement(
            "SELECT name, current_digest, updated_ms, grants FROM code_locations \
             WHERE removed_ms IS NULL ORDER BY name",
        );
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter()
            .map(location_from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// The live code location `name`, if any.
    pub async fn location(&self, name: &str) -> Result<Option<LocationRecord>, StoreError> {
        let doing = || format!("reading code location {name}");
        let statement = self
            .db
            .statement(
                "SELECT name, current_digest, updated_ms, grants FROM code_locations \
                 WHERE name = $1 AND removed_ms IS NULL",
            )
            .bind(name);
        let row = self.db.fetch_optional(statement, doing).await?;
        row.as_ref()
            .map(location_from_row)
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// Every stored version of location `name`, newest first.
    pub async fn location_versions(&self, name: &str) -> Result<Vec<VersionRecord>, StoreError> {
        let doing = || format!("listing versions of code location {name}");
        let statement = self
            .db
            .statement(
                "SELECT digest, created_ms, wasm_size, definitions FROM location_versions \
                 WHERE location = $1 ORDER BY created_ms DESC, digest",
            )
            .bind(name);
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter()
            .map(version_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// Version `digest` of location `name`, if stored: one row, not the location's history.
    pub async fn version_of(
        &self,
        name: &str,
        digest: &str,
    ) -> Result<Option<VersionRecord>, StoreError> {
        let doing = || format!("reading version {digest} of code location {name}");
        let statement = self
            .db
            .statement(
                "SELECT digest, created_ms, wasm_size, definitions FROM location_versions \
                 WHERE location = $1 AND digest = $2",
            )
            .bind(name)
            .bind(digest);
        let row = self.db.fetch_optional(statement, doing).await?;
        row.map(|row| version_row(&row))
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// Makes the stored version `digest` the current version of live location `name` (a
    /// rollback). Returns false, changing nothing, when there is no such location or version.
    pub async fn set_current_version(&self, name: &str, digest: &str) -> Result<bool, StoreError> {
        let doing = || format!("making {digest} the current version of code location {name}");
        let statement = self
            .db
            .statement(
                "SELECT 1 FROM location_versions v JOIN code_locations l ON l.name = v.location \
                 WHERE v.location = $1 AND v.digest = $2 AND l.removed_ms IS NULL",
            )
            .bind(name)
            .bind(digest);
        let exists = self.db.fetch_optional(statement, doing).await?.is_some();
        if !exists {
            return Ok(false);
        }
        let update = self
            .db
            .statement(
                "UPDATE code_locations SET current_digest = $1, updated_ms = $2 WHERE name = $3",
            )
            .bind(digest)
            .bind(weft_core::now_ms())
            .bind(name);
        self.db.transaction(vec![update], doing).await?;
        Ok(true)
    }

    /// Sets the grants (JSON) of live location `name`, and adds `shown` (the same grants as
    /// shown, environment values masked) to its grant history. Returns false when there is
    /// no such location.
    pub async fn set_location_grants(
        &self,
        name: &str,
        grants: &str,
        shown: &str,
    ) -> Result<bool, StoreError> {
        let doing = || format!("setting the grants of code location {name}");
        for json in [grants, shown] {
            serde_json::from_str::<serde::de::IgnoredAny>(json).map_err(|e| {
                StoreError::data(doing(), format!("the grants are not valid JSON: {e}"))
            })?;
        }
        if self.location(name).await?.is_none() {
            return Ok(false);
        }
        let update = self
            .db
            .statement("UPDATE code_locations SET grants = $1 WHERE name = $2")
            .bind(grants)
            .bind(name);
        let history = self.grant_change(name, "set", shown);
        self.db.transaction(vec![update, history], doing).await?;
        Ok(true)
    }

    /// Removes live location `name`: new runs can no longer use it, its versions stay for
    /// the runs that point at them, and uploading it again brings it back, with nothing
    /// granted (its grants are cleared, the history says so). Returns false when there is
    /// no such location.
    pub async fn remove_location(&self, name: &str) -> Result<bool, StoreError> {
        let doing = || format!("removing code location {name}");
        if self.location(name).await?.is_none() {
            return Ok(false);
        }
        let update = self
            .db
            .statement("UPDATE code_locations SET removed_ms = $1, grants = '{}' WHERE name = $2")
            .bind(weft_core::now_ms())
            .bind(name);
        let history = self.grant_change(name, "removed", "{}");
        self.db.transaction(vec![update, history], doing).await?;
        Ok(true)
    }

    /// The grant history of location `name` (live or removed), oldest first.
    pub async fn location_grant_history(&self, name: &str) -> Result<Vec<GrantChange>, StoreError> {
        let doing = || format!("reading the grant history of code location {name}");
        let statement = self
            .db
            .statement(
                "SELECT change, grants, changed_ms FROM location_grant_history \
                 WHERE location = $1 ORDER BY id",
            )
            .bind(name);
        let rows = self.db.fetch_all(statement, doing).await?;
        rows.iter()
            .map(|row| {
                Ok(GrantChange {
                    change: row.get(0)?,
                    grants: row.get(1)?,
                    changed_ms: row.get(2)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// The history row of a change of `name`'s grants.
    fn grant_change(&self, name: &str, change: &str, shown: &str) -> Statement {
        self.db
            .statement(
                "INSERT INTO location_grant_history (location, change, grants, changed_ms) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(name)
            .bind(change)
            .bind(shown)
            .bind(weft_core::now_ms())
    }
}

/// A [`LocationRecord`] from `name, current_digest, updated_ms, grants`.
fn location_from_row(row: &Row) -> Result<LocationRecord, sqlx::Error> {
    Ok(LocationRecord {
        name: row.get(0)?,
        current_digest: row.get(1)?,
        updated_ms: row.get(2)?,
        grants: row.get(3)?,
    })
}

/// A version read as `digest, created_ms, wasm_size, definitions`.
fn version_row(row: &Row) -> Result<VersionRecord, sqlx::Error> {
    Ok(VersionRecord {
        digest: row.get(0)?,
        created_ms: row.get(1)?,
        wasm_size: row.get(2)?,
        definitions: row.get(3)?,
    })
}
