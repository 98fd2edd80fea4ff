//! One set of queries over two databases. The query modules (runs, locations, assets, bulk,
//! daemon, steps, values) build a [`Statement`] once, in the [`Dialect`] of the store's
//! [`Database`], and hand it to
//! [`Database::fetch_all`], [`Database::fetch_optional`] or [`Database::transaction`] with
//! what they are doing (for the error), which run it on SQLite ([`crate::sqlite`]) or
//! PostgreSQL ([`crate::postgres`]); rows come back as [`Row`]s read the same way on both.
//!
//! Arguments are encoded straight into the backend's own argument buffer as they are bound
//! (no intermediate values, unlike `sqlx::Any`), and the SQL text is `'static` wherever it
//! can be, so the SQLite path costs what it cost before PostgreSQL existed: a branch per
//! bind. What a value or column type must support on both databases is said once, by
//! [`Value`] and [`Column`].
//!
//! Fixed statements are written with `$N` parameters, which both databases read; generated
//! ones place parameters with [`Dialect::push_placeholder`] or [`Statement::push_bind`].

use std::sync::Arc;

use sqlx::Row as _;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::{QueryError, StoreError};
pub(crate) use crate::statement::{Column, Dialect, PerDialect, Statement};
use crate::{postgres, sqlite};

/// A row read by either database.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    /// Column `index` (0-based) as a `T`.
    pub(crate) fn get<'r, T: Column<'r>>(&'r self, index: usize) -> Result<T, sqlx::Error> {
        match self {
            Row::Sqlite(row) => row.try_get(index),
            Row::Postgres(row) => row.try_get(index),
        }
    }
}

/// The database of a store: its connections, and a name for messages (a path, or a URL
/// without its password).
///
/// PostgreSQL's futures are boxed: sqlx's are several kilobytes, and held inline they would
/// make every future of the store that large, to be copied on each call even on SQLite
/// (a third more instructions per append, measured with callgrind). A box per PostgreSQL
/// call costs nothing beside its round trip to the server.
#[derive(Clone, Debug)]
pub(crate) struct Database {
    name: Arc<str>,
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(sqlite::Pools),
    Postgres(postgres::Pool),
}

impl Database {
    /// A SQLite database called `name` (its path).
    pub(crate) fn sqlite(name: String, pools: sqlite::Pools) -> Self {
        Database {
            name: name.into(),
            backend: Backend::Sqlite(pools),
        }
    }

    /// A PostgreSQL database called `name` (its URL without the password).
    pub(crate) fn postgres(name: String, pool: postgres::Pool) -> Self {
        Database {
            name: name.into(),
            backend: Backend::Postgres(pool),
        }
    }

    /// What the database is called in messages: its path, or its URL without the password.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The dialect statements for this database are written in.
    pub(crate) fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A statement of fixed SQL for this database.
    pub(crate) fn statement(&self, sql: &'static str) -> Statement {
        Statement::new(self.dialect(), sql)
    }

    /// Every row `statement` reads; a failure says it happened while `doing`.
    pub(crate) async fn fetch_all(
        &self,
        statement: Statement,
        doing: impl FnOnce() -> String,
    ) -> Result<Vec<Row>, StoreError> {
        let rows = match &self.backend {
            Backend::Sqlite(pools) => pools
                .fetch_all(statement)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Backend::Postgres(pool) => Box::pin(pool.fetch_all(statement))
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
        };
        rows.map_err(|e| self.error(doing, e))
    }

    /// The first row `statement` reads, if any; a failure says it happened while `doing`.
    pub(crate) async fn fetch_optional(
        &self,
        statement: Statement,
        doing: impl FnOnce() -> String,
    ) -> Result<Option<Row>, StoreError> {
        let row = match &self.backend {
            Backend::Sqlite(pools) => pools
                .fetch_optional(statement)
                .await
                .map(|row| row.map(Row::Sqlite)),
            Backend::Postgres(pool) => Box::pin(pool.fetch_optional(statement))
                .await
                .map(|row| row.map(Row::Postgres)),
        };
        row.map_err(|e| self.error(doing, e))
    }

    /// The rows one statement that writes returns (`... RETURNING`), run on its own; a
    /// failure says it happened while `doing`.
    pub(crate) async fn write_returning(
        &self,
        statement: Statement,
        doing: impl FnOnce() -> String,
    ) -> Result<Vec<Row>, StoreError> {
        let rows = match &self.backend {
            Backend::Sqlite(pools) => pools
                .write
                .fetch_all(statement)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Backend::Postgres(pool) => Box::pin(pool.fetch_all(statement))
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
        };
        rows.map_err(|e| self.error(doing, e))
    }

    /// Runs `statements` in one transaction, all of them or none; a failure says it
    /// happened while `doing`.
    pub(crate) async fn transaction(
        &self,
        statements: Vec<Statement>,
        doing: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(pools) => pools.write.transaction(statements).await,
            Backend::Postgres(pool) => Box::pin(pool.transaction(statements)).await,
        }
        .map_err(|e| self.error(doing, e))
    }

    /// Closes every connection; later calls fail.
    pub(crate) async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(pools) => pools.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    fn error(&self, doing: impl FnOnce() -> String, source: sqlx::Error) -> StoreError {
        let cause = QueryError {
            database: self.name.clone(),
            source,
        };
        StoreError::new(doing(), cause)
    }
}
