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

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgRow, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArguments, SqliteRow};
use sqlx::{Arguments, Decode, Encode, Row as _, Type};

use crate::error::{QueryError, StoreError};
use crate::{postgres, sqlite};

/// A Rust value that can be bound as an argument on either database.
pub(crate) trait Value<'q>:
    Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres>
{
}

impl<'q, T> Value<'q> for T where
    T: Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres>
{
}

/// A Rust type a column can be read as on either database.
pub(crate) trait Column<'r>:
    Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}

impl<'r, T> Column<'r> for T where
    T: Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}

/// The SQL a statement is written in, where the two differ: how generated statements
/// place their parameters, and how arguments are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite's.
    Sqlite,
    /// PostgreSQL's.
    Postgres,
}

impl Dialect {
    /// Appends the placeholder of bound parameter `n` (1-based) to `sql`.
    pub(crate) fn push_placeholder(self, sql: &mut String, n: usize) {
        match self {
            Dialect::Sqlite => sqlite::push_placeholder(sql, n),
            Dialect::Postgres => postgres::push_placeholder(sql, n),
        }
    }
}

/// Something built once per dialect on first use: the text of a generated statement.
pub(crate) struct PerDialect<T> {
    sqlite: OnceLock<T>,
    postgres: OnceLock<T>,
}

impl<T> PerDialect<T> {
    /// Nothing built yet.
    pub(crate) const fn new() -> Self {
        PerDialect {
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// The value for `dialect`, built by `build` the first time.
    pub(crate) fn get(&self, dialect: Dialect, build: impl FnOnce(Dialect) -> T) -> &T {
        let cell = match dialect {
            Dialect::Sqlite => &self.sqlite,
            Dialect::Postgres => &self.postgres,
        };
        cell.get_or_init(|| build(dialect))
    }
}

/// One statement with its arguments, encoded for the database it will run on.
pub(crate) struct Statement {
    sql: Cow<'static, str>,
    args: Args,
    /// The first argument that could not be encoded; running the statement reports it.
    error: Option<BoxDynError>,
}

/// PostgreSQL's buffer is boxed: it is several times the size of SQLite's, and a statement
/// is moved on every bind.
enum Args {
    Sqlite(SqliteArguments),
    Postgres(Box<PgArguments>),
}

impl Statement {
    /// `sql` in `dialect`, to be given its arguments in order with [`Statement::bind`].
    pub(crate) fn new(dialect: Dialect, sql: &'static str) -> Self {
        let args = match dialect {
            Dialect::Sqlite => Args::Sqlite(SqliteArguments::default()),
            Dialect::Postgres => Args::Postgres(Box::default()),
        };
        Statement {
            sql: Cow::Borrowed(sql),
            args,
            error: None,
        }
    }

    /// Adds the next argument.
    #[inline]
    pub(crate) fn bind<'q, T: Value<'q>>(mut self, value: T) -> Self {
        let added = match &mut self.args {
            Args::Sqlite(args) => args.add(value),
            Args::Postgres(args) => args.add(value),
        };
        if let Err(e) = added {
            self.error.get_or_insert(e);
        }
        self
    }

    /// Appends `sql` (static text of this crate, never data) to the statement.
    pub(crate) fn push(mut self, sql: &'static str) -> Self {
        self.sql.to_mut().push_str(sql);
        self
    }

    /// Appends the placeholder of the next argument and binds `value` to it.
    pub(crate) fn push_bind<'q, T: Value<'q>>(mut self, value: T) -> Self {
        let (dialect, n) = match &self.args {
            Args::Sqlite(args) => (Dialect::Sqlite, args.len() + 1),
            Args::Postgres(args) => (Dialect::Postgres, args.len() + 1),
        };
        dialect.push_placeholder(self.sql.to_mut(), n);
        self.bind(value)
    }

    /// The SQL and SQLite arguments, or why the statement cannot run there.
    pub(crate) fn into_sqlite(self) -> Result<(Cow<'static, str>, SqliteArguments), sqlx::Error> {
        match (self.error, self.args) {
            (Some(e), _) => Err(sqlx::Error::Encode(e)),
            (None, Args::Sqlite(args)) => Ok((self.sql, args)),
            (None, Args::Postgres(_)) => Err(wrong_dialect("PostgreSQL", "SQLite")),
        }
    }

    /// The SQL and PostgreSQL arguments, or why the statement cannot run there.
    pub(crate) fn into_postgres(self) -> Result<(Cow<'static, str>, PgArguments), sqlx::Error> {
        match (self.error, self.args) {
            (Some(e), _) => Err(sqlx::Error::Encode(e)),
            (None, Args::Postgres(args)) => Ok((self.sql, *args)),
            (None, Args::Sqlite(_)) => Err(wrong_dialect("SQLite", "PostgreSQL")),
        }
    }
}

fn wrong_dialect(built: &str, run: &str) -> sqlx::Error {
    sqlx::Error::Encode(format!("a statement built for {built} cannot run on {run}").into())
}

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
