//! Everything PostgreSQL-specific in one place: how a database URL is opened (one connection
//! first, which migrates the schema under sqlx's advisory lock, so processes starting
//! together take turns; then a pool), the placeholder style of generated statements (`$n`),
//! how reads run, and how a write transaction runs (`BEGIN`, each statement, `COMMIT` on
//! one pooled connection; a lone statement runs by itself, being atomic already).
//!
//! The SQLite sibling is [`crate::sqlite`]; the query modules see neither, only
//! [`crate::db`].

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Connection};

use crate::error::StoreError;
use crate::migrations;
use crate::statement::Statement;

/// Connections per store; a `weft` process or API server needs few, the database's limit
/// (100 by default) is shared by every process.
const CONNECTIONS: u32 = 8;

/// How long a call waits for a connection (the server being down or every connection
/// busy) before it fails as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection (the bulk inserts use a few shapes each).
const STATEMENT_CACHE: usize = 256;

/// The connections of one store.
#[derive(Clone, Debug)]
pub(crate) struct Pool(PgPool);

impl Pool {
    /// Every row `statement` reads.
    pub(crate) async fn fetch_all(&self, statement: Statement) -> Result<Vec<PgRow>, sqlx::Error> {
        let (sql, args) = statement.into_postgres()?;
        sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&self.0)
            .await
    }

    /// The first row `statement` reads, if any.
    pub(crate) async fn fetch_optional(
        &self,
        statement: Statement,
    ) -> Result<Option<PgRow>, sqlx::Error> {
        let (sql, args) = statement.into_postgres()?;
        sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_optional(&self.0)
            .await
    }

    /// Runs `statements` in one transaction: all of them or none. A failure or a cancelled
    /// call rolls back (sqlx does when the transaction is dropped uncommitted).
    pub(crate) async fn transaction(&self, statements: Vec<Statement>) -> Result<(), sqlx::Error> {
        let mut statements = statements
            .into_iter()
            .map(Statement::into_postgres)
            .collect::<Result<Vec<_>, _>>()?;
        if statements.len() <= 1 {
            return match statements.pop() {
                Some((sql, args)) => execute(&self.0, sql, args).await,
                None => Ok(()),
            };
        }
        let mut tx = self.0.begin().await?;
        for (sql, args) in statements {
            execute(&mut *tx, sql, args).await?;
        }
        tx.commit().await
    }

    /// Closes every connection; later calls fail.
    pub(crate) async fn close(&self) {
        self.0.close().await;
    }
}

/// Runs one statement (built by this crate from static SQL, never from data).
async fn execute<'e, E>(
    executor: E,
    sql: Cow<'static, str>,
    args: PgArguments,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query_with(AssertSqlSafe(sql), args)
        .execute(executor)
        .await
        .map(drop)
}

/// `postgres://user@host:port/database`: the database `options` name, without a password.
pub(crate) fn describe(options: &PgConnectOptions) -> String {
    let database = options.get_database().unwrap_or(options.get_username());
    match options.get_socket() {
        Some(socket) => format!(
            "postgres://{}@{}/{database}",
            options.get_username(),
            socket.display()
        ),
        None => format!(
            "postgres://{}@{}:{}/{database}",
            options.get_username(),
            options.get_host(),
            options.get_port()
        ),
    }
}

/// Opens the database at `url` (`postgres://` or `postgresql://`) and brings its schema up
/// to date. The database must exist.
pub(crate) async fn open(url: &str) -> Result<(String, Pool), StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::new(format!("opening database {}", crate::redact_url(url)), e))?;
    let options = options
        .application_name("weft")
        .statement_cache_capacity(STATEMENT_CACHE);
    let name = describe(&options);
    let doing = || format!("opening database {name}");
    // A connection of its own, not the pool's: a server that is down or a wrong password
    // fails here at once and says so, where the pool would retry until it timed out.
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|e| StoreError::new(doing(), e))?;
    // sqlx holds an advisory lock while it migrates: a second process waits for the first,
    // then finds the schema up to date.
    let migrator = migrations::migrator(migrations::POSTGRES);
    let migrated = migrations::run(&migrator, &mut conn)
        .await
        .map_err(|e| StoreError::new(format!("{}: migrating the schema", doing()), e));
    let _ = conn.close().await;
    migrated?;
    let pool = PgPoolOptions::new()
        .max_connections(CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options);
    Ok((name, Pool(pool)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_is_described_without_its_password() {
        let options = PgConnectOptions::from_str(
            "postgres://weft:s3cret@db.example:5433/runs?sslmode=disable",
        )
        .expect("url");
        assert_eq!(describe(&options), "postgres://weft@db.example:5433/runs");
    }
}
