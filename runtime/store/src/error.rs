//! [`StoreError`]: why a storage operation failed, saying what was being done
//! ("opening database /x/weft.db: ...", "appending 12 events of run R: ...").
//!
//! The cause (sqlx, I/O, migration or unreadable data) is part of the message and is
//! classified by [`ErrorKind`] so callers can tell "try again later" from "that run id is
//! taken" without seeing sqlx, on SQLite (its result codes) and on PostgreSQL (SQLSTATE
//! codes). A database that cannot be reached is named in the message, a URL without its
//! password ("reading run R: database postgres://weft@db:5432/weft is unavailable: ...").

use std::sync::Arc;

use sqlx::postgres::PgDatabaseError;
use weft_core::ports::StorageError;

/// What kind of failure a [`StoreError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The database could not be reached, opened or written: a file, a lock, a closed pool,
    /// a server that refuses connections, went away or has none free, a transaction that
    /// lost a serialization conflict. Trying again later may succeed.
    Unavailable,
    /// A constraint said no: a run id that already exists, events of a run that does not.
    Conflict,
    /// Stored data could not be read back (a bad status name, invalid JSON), or data handed
    /// in could not be stored as it is.
    InvalidData,
    /// The schema could not be brought up to date.
    Migration,
    /// Anything else the database reported.
    Database,
}

/// Why a storage operation failed: what was being done, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {cause}")]
pub struct StoreError {
    doing: String,
    cause: Cause,
}

/// The underlying failure; its text is part of [`StoreError`]'s message.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Cause {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Data(String),
}

impl StoreError {
    /// An error while `doing` (a phrase such as "reading run R").
    pub(crate) fn new(doing: impl Into<String>, cause: impl Into<Cause>) -> Self {
        StoreError {
            doing: doing.into(),
            cause: cause.into(),
        }
    }

    /// Stored or given data that cannot be used, while `doing`.
    pub(crate) fn data(doing: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError {
            doing: doing.into(),
            cause: Cause::Data(message.into()),
        }
    }

    /// What was being done when it failed ("opening database /x/weft.db").
    pub fn doing(&self) -> &str {
        &self.doing
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match &self.cause {
            Cause::Io(_) => ErrorKind::Unavailable,
            Cause::Data(_) => ErrorKind::InvalidData,
            Cause::Migrate(_) => ErrorKind::Migration,
            Cause::Database(e) => classify(e),
            Cause::Query(e) => classify(&e.source),
        }
    }
}

/// A statement that failed on the database called `database` (a path, or a URL without its
/// password); the name is shown when the database could not be reached.
#[derive(Debug)]
pub(crate) struct QueryError {
    pub(crate) database: Arc<str>,
    pub(crate) source: sqlx::Error,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if classify(&self.source) == ErrorKind::Unavailable {
            write!(f, "database {} is unavailable: ", self.database)?;
        }
        write!(f, "{}", self.source)
    }
}

impl std::error::Error for QueryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The kind of a failure sqlx reported.
fn classify(e: &sqlx::Error) -> ErrorKind {
    match e {
        sqlx::Error::Database(db) => match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation
            | sqlx::error::ErrorKind::ForeignKeyViolation
            | sqlx::error::ErrorKind::NotNullViolation
            | sqlx::error::ErrorKind::CheckViolation => ErrorKind::Conflict,
            _ => match db.try_downcast_ref::<PgDatabaseError>() {
                Some(pg) => classify_sqlstate(pg.code()),
                None if is_busy(db.code().as_deref()) => ErrorKind::Unavailable,
                None => ErrorKind::Database,
            },
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ErrorKind::Unavailable,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::Encode(_) => {
            ErrorKind::InvalidData
        }
        _ => ErrorKind::Database,
    }
}

/// The kind of a PostgreSQL error by its SQLSTATE code (constraint violations are
/// classified before this).
fn classify_sqlstate(code: &str) -> ErrorKind {
    match code {
        // connection_exception, insufficient_resources (too_many_connections, disk_full),
        // invalid_authorization_specification: the server cannot be used now.
        _ if code.starts_with("08") || code.starts_with("53") || code.starts_with("28") => {
            ErrorKind::Unavailable
        }
        // admin_shutdown (pg_terminate_backend, a stopping server), crash_shutdown,
        // cannot_connect_now (starting up), database_dropped, invalid_catalog_name (no such
        // database), serialization_failure, deadlock_detected: gone or worth another try.
        "57P01" | "57P02" | "57P03" | "57P04" | "3D000" | "40001" | "40P01" => {
            ErrorKind::Unavailable
        }
        // data_exception: a value the database cannot take (a NUL in a TEXT, say).
        _ if code.starts_with("22") => ErrorKind::InvalidData,
        _ => ErrorKind::Database,
    }
}

/// SQLite's BUSY (5) and LOCKED (6) result codes, extended codes included.
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

impl From<StoreError> for StorageError {
    fn from(e: StoreError) -> Self {
        StorageError(e.to_string())
    }
}
