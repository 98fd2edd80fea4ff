//! # weft-store
//!
//! Weft's storage: runs, their append-only event logs, code-location versions (with their
//! component bytes), the asset materialization history and small stored values, in SQLite (one file, for a
//! single machine) or PostgreSQL (for `weft serve` and everything that shares it). This is
//! the only crate that knows sqlx; the engine sees it through
//! [`RunStorage`](weft_core::ports::RunStorage), the CLI and the HTTP API through the
//! inherent methods of [`Store`], the same on both databases.
//!
//! Each query is written once (module `db`: statements in the store's dialect, rows read alike)
//! and run by the database's own module: `sqlite` (one writer connection, `BEGIN` and
//! `COMMIT` fused into the statements) or `postgres` (a pool, real transactions). Each
//! database has its own migrations with the same versions (`migrations/sqlite/`,
//! `migrations/postgres/`).
//!
//! Appending events is the hot path: one transaction per batch, multi-row inserts with
//! cached statements, and the run's status, times and asset history updated in the same
//! transaction, so a reader never sees an event without its effect.
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_store::StoreError> {
//! let store = weft_store::Store::connect("postgres://weft@localhost/weft").await?;
//! // or Store::connect("sqlite:/tmp/weft/weft.db"), Store::open_sqlite(path)
//! for (name, digest, _updated_ms) in store.locations().await? {
//!     println!("{name} @ {digest}");
//! }
//! # Ok(()) }
//! ```
//!
//! [`DatabaseIoManager`] keeps small step outputs and asset values in the database too
//! (`io_manager: database`), for the engine's [`IoManager`](weft_core::ports::IoManager)
//! port: what every process on the database reads, with no shared disk or object store.
//!
//! With the `testing` feature, [`testing`] makes a fresh PostgreSQL database per test.

#![deny(missing_docs)]

mod assets;
mod bulk;
mod checks;
mod daemon;
mod db;
mod error;
mod io;
mod locations;
mod migrations;
mod postgres;
mod precompiled;
mod progress;
mod runs;
mod sqlite;
mod statement;
mod steps;
#[cfg(feature = "testing")]
pub mod testing;
mod values;

use std::path::Path;

use crate::db::Database;

pub use assets::Materialization;
pub use checks::CheckRecord;
pub use error::{ErrorKind, StoreError};
pub use io::DatabaseIoManager;
pub use locations::{GrantChange, LocationRecord, VersionRecord};
pub use progress::RunProgress;
pub use steps::StepTask;
pub use values::{IoKey, IoValue};

/// A handle to the database; cheap to clone, and every clone shares its connections.
/// Several handles (or processes) on one database see each other's writes.
#[derive(Clone, Debug)]
pub struct Store {
    db: db::Database,
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date:
    /// `postgres://` or `postgresql://` (an existing PostgreSQL database; see sqlx's
    /// `PgConnectOptions` for the parameters it takes), or `sqlite://PATH` / `sqlite:PATH`
    /// (a file, created with its directory if missing, as [`Store::open_sqlite`]).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store {
                db: {
                    let (name, pool) = postgres::open(url).await?;
                    Database::postgres(name, pool)
                },
            });
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path.starts_with(":memory:") {
                // Each connection would get a database of its own.
                return Err(StoreError::data(
                    format!("opening database {url}"),
                    "an SQLite URL names a file: sqlite:PATH or sqlite://PATH",
                ));
            }
            return Store::open_sqlite(Path::new(path)).await;
        }
        Err(StoreError::data(
            format!("opening database {}", redact_url(url)),
            "not a database URL: expected postgres://, postgresql://, sqlite://PATH or sqlite:PATH",
        ))
    }

    /// Opens the SQLite database at `path`, creating the file and its directory if missing,
    /// and brings its schema up to date.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            db: {
                let (name, pools) = sqlite::open(path).await?;
                Database::sqlite(name, pools)
            },
        })
    }

    /// Closes every connection; later calls on any clone of this store fail.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// `url` without the password of its `user:password@` part and without its query (which
/// may hold one), for messages.
pub(crate) fn redact_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://weft:s3cret@db:5432/weft?password=x"),
            "postgres://weft@db:5432/weft"
        );
        assert_eq!(redact_url("mysql://root:pw@h"), "mysql://root@h");
        assert_eq!(redact_url("postgres://db/weft"), "postgres://db/weft");
        assert_eq!(redact_url("sqlite:weft.db"), "sqlite:weft.db");
    }

    /// Compiles only while opening a store can be spawned (`tokio::spawn` wants `Send`).
    #[allow(dead_code)]
    fn opening_is_send() {
        fn send<T: Send>(_: T) {}
        send(Store::connect("postgres://localhost/weft"));
        send(Store::open_sqlite(Path::new("weft.db")));
    }

    #[tokio::test]
    async fn an_unknown_url_is_invalid_data_without_its_password() {
        let err = Store::connect("mysql://root:s3cret@localhost/weft")
            .await
            .expect_err("not supported");
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        let message = err.to_string();
        assert!(
            message.starts_with("opening database mysql://root@localhost/weft: "),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");

        let err = Store::connect("sqlite::memory:")
            .await
            .expect_err("not a file");
        assert_eq!(err.kind(), ErrorKind::InvalidData);
    }
}
