//! [`StoreError`]: why a storage operation failed, saying what was being done
//! ("opening database /x/weft.db: ...", "appending 12 events of run R: ...").
//!
//! The cause (sqlx, I/O, migration or unreadable data) is part of the message and is
//! classified by [`ErrorKind`] so callers can tell "try again later" from "that run id is
//! taken" without seeing sqlx.

use weft_engine::ports::StorageError;

/// What kind of failure a [`StoreError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The database could not be reached, opened or written: a file, a lock, a closed pool.
    /// Trying again later may succeed.
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
            Cause::Database(e) => match e {
                sqlx::Error::Database(db) => match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation
                    | sqlx::error::ErrorKind::ForeignKeyViolation
                    | sqlx::error::ErrorKind::NotNullViolation
                    | sqlx::error::ErrorKind::CheckViolation => ErrorKind::Conflict,
                    _ if is_busy(db.code().as_deref()) => ErrorKind::Unavailable,
                    _ => ErrorKind::Database,
                },
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => ErrorKind::Unavailable,
                sqlx::Error::ColumnDecode { .. }
                | sqlx::Error::Decode(_)
                | sqlx::Error::Encode(_) => ErrorKind::InvalidData,
                _ => ErrorKind::Database,
            },
        }
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
