//! Helpers for tests that need a real PostgreSQL database (this crate's and other crates',
//! such as the HTTP API's), behind the `testing` feature:
//! [`fresh_postgres_database`] creates an empty database with a unique name on a server
//! where the user may `CREATE DATABASE` (tests read its URL from `WEFT_TEST_POSTGRES_URL`;
//! `tests/pg.sh` starts such a server), and [`drop_postgres_database`] removes it.
//! An [`Outage`] takes a database out of reach of the processes using it, and gives it
//! back.
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_store::StoreError> {
//! let base = std::env::var("WEFT_TEST_POSTGRES_URL").expect("a server");
//! let url = weft_store::testing::fresh_postgres_database(&base).await?;
//! let store = weft_store::Store::connect(&url).await?;
//! // ...
//! store.close().await;
//! weft_store::testing::drop_postgres_database(&base, &url).await?;
//! # Ok(()) }
//! ```

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::error::StoreError;
use crate::postgres::describe;

/// The environment variable tests read the server's URL from.
pub const POSTGRES_URL_VARIABLE: &str = "WEFT_TEST_POSTGRES_URL";

/// Creates an empty database named `weft_test_<unique>` on the server of `base_url` (a
/// `postgres://` URL whose user may create databases) and returns `base_url` with its
/// database replaced by the new one. [`Store::connect`](crate::Store::connect) on it
/// creates the schema.
pub async fn fresh_postgres_database(base_url: &str) -> Result<String, StoreError> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = format!(
        "weft_test_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = admin(base_url, &format!("creating database {name}")).await?;
    // `name` is made here of letters, digits and underscores: safe as an identifier.
    let created = sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    created.map_err(|e| StoreError::new(format!("creating database {name}"), e))?;
    Ok(with_database(base_url, &name))
}

/// Drops the database of `database_url` (one [`fresh_postgres_database`] made), closing any
/// connection still open to it, through a connection to the database of `base_url`.
/// A database that is not there is fine.
pub async fn drop_postgres_database(base_url: &str, database_url: &str) -> Result<(), StoreError> {
    let doing = || format!("dropping database {}", crate::redact_url(database_url));
    let name = test_database_name(database_url).map_err(|e| StoreError::data(doing(), e))?;
    let mut conn = admin(base_url, &doing()).await?;
    let dropped = sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
    let _ = conn.close().await;
    dropped.map(drop).map_err(|e| StoreError::new(doing(), e))
}

/// A database taken out of reach of the processes that use it, as in an outage, until
/// [`Outage::end`]: an SQLite file another connection holds locked for writing, or a
/// PostgreSQL database (one [`fresh_postgres_database`] made on the server of
/// `WEFT_TEST_POSTGRES_URL`) that refuses connections, those open closed.
pub struct Outage(Held);

enum Held {
    Sqlite(SqliteConnection),
    Postgres { base_url: String, name: String },
}

impl Outage {
    /// Takes the database of `database_url` out of reach.
    pub async fn begin(database_url: &str) -> Result<Outage, StoreError> {
        let doing = || format!("taking {} out of reach", crate::redact_url(database_url));
        if database_url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(database_url)
                .map_err(|e| StoreError::new(doing(), e))?;
            let mut conn = SqliteConnection::connect_with(&options)
                .await
                .map_err(|e| StoreError::new(doing(), e))?;
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut conn)
                .await
                .map_err(|e| StoreError::new(doing(), e))?;
            return Ok(Outage(Held::Sqlite(conn)));
        }
        let base_url = std::env::var(POSTGRES_URL_VARIABLE).map_err(|_| {
            StoreError::data(doing(), format!("{POSTGRES_URL_VARIABLE} is not set"))
        })?;
        let name = test_database_name(database_url).map_err(|e| StoreError::data(doing(), e))?;
        let mut conn = admin(&base_url, &doing()).await?;
        let mut refused = sqlx::query(AssertSqlSafe(format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false"
        )))
        .execute(&mut conn)
        .await
        .map(drop);
        if refused.is_ok() {
            refused = sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&name)
            .execute(&mut conn)
            .await
            .map(drop);
        }
        let _ = conn.close().await;
        refused.map_err(|e| StoreError::new(doing(), e))?;
        Ok(Outage(Held::Postgres { base_url, name }))
    }

    /// Gives the database back.
    pub async fn end(self) -> Result<(), StoreError> {
        match self.0 {
            Held::Sqlite(mut conn) => {
                let doing = || "unlocking the SQLite database".to_owned();
                sqlx::query("ROLLBACK")
                    .execute(&mut conn)
                    .await
                    .map_err(|e| StoreError::new(doing(), e))?;
                conn.close().await.map_err(|e| StoreError::new(doing(), e))
            }
            Held::Postgres { base_url, name } => {
                let doing = format!("letting connections into {name} again");
                let mut conn = admin(&base_url, &doing).await?;
                let allowed = sqlx::query(AssertSqlSafe(format!(
                    "ALTER DATABASE {name} ALLOW_CONNECTIONS true"
                )))
                .execute(&mut conn)
                .await;
                let _ = conn.close().await;
                allowed.map(drop).map_err(|e| StoreError::new(doing, e))
            }
        }
    }
}

/// The name of the database of `database_url`, if [`fresh_postgres_database`] made it.
fn test_database_name(database_url: &str) -> Result<String, String> {
    let options = PgConnectOptions::from_str(database_url).map_err(|e| e.to_string())?;
    let name = options
        .get_database()
        .ok_or("the URL names no database")?
        .to_owned();
    if !name.starts_with("weft_test_")
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err("only databases made by fresh_postgres_database are touched".into());
    }
    Ok(name)
}

/// A connection to the database of `base_url`, for creating and dropping others.
async fn admin(base_url: &str, doing: &str) -> Result<PgConnection, StoreError> {
    let options = PgConnectOptions::from_str(base_url)
        .map_err(|e| StoreError::new(format!("{doing}: reading the server URL"), e))?;
    PgConnection::connect_with(&options)
        .await
        .map_err(|e| StoreError::new(format!("{doing}: connecting to {}", describe(&options)), e))
}

/// `url` with its path (the database) replaced by `/name`, its query kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..path_start])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://weft:pw@127.0.0.1:55432/postgres", "weft_test_1"),
            "postgres://weft:pw@127.0.0.1:55432/weft_test_1"
        );
        assert_eq!(
            with_database("postgres://h:1?sslmode=disable", "x"),
            "postgres://h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h/", "x"), "postgresql://h/x");
    }
}
