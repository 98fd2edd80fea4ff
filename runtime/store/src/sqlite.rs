//! Everything SQLite-specific in one place: how the file is opened (created if missing, WAL,
//! `synchronous=NORMAL`, busy timeout, foreign keys), the placeholder style of generated
//! statements, how reads run (a pool of reading connections) and how a write transaction
//! runs ([`Writer`]: one connection, `BEGIN` and `COMMIT` fused into the first and last
//! statements).
//!
//! The query modules write portable SQL against [`crate::db`], which hands each statement
//! here or to the PostgreSQL sibling ([`crate::postgres`]); the migrations are in
//! [`crate::migrations`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection};

use crate::error::StoreError;
use crate::migrations;
use crate::statement::Statement;

/// Appends the placeholder of bound parameter `n` (1-based) to `sql`.
///
/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reading connections per store (besides the one writer).
const READERS: u32 = 4;

/// Prepared statements kept per connection (the bulk inserts use a few shapes each).
const STATEMENT_CACHE: usize = 256;

/// The writing connection of a store. Writes take turns on it (SQLite lets one connection
/// write at a time anyway), which keeps its page cache warm and makes them queue here
/// rather than wait on the file lock.
///
/// [`Writer::transaction`] costs one round trip to the connection's worker thread per
/// statement, with `BEGIN` fused into the first and `COMMIT` into the last (a batch of
/// events that fits one insert is one round trip). SQLite runs several statements of one
/// query string in order and stops at the first error; the writer then rolls back, or
/// drops the connection (which rolls back) when even that fails, and reconnects next time.
#[derive(Debug)]
pub(crate) struct Writer {
    options: SqliteConnectOptions,
    state: tokio::sync::Mutex<WriterState>,
}

#[derive(Debug)]
enum WriterState {
    /// Not connected (yet, or since a failure).
    Idle,
    /// Connected; `open` says a transaction may have been left open (by a failure or a
    /// cancelled call) and must be rolled back first.
    Connected {
        conn: Box<SqliteConnection>,
        open: bool,
    },
    /// The store was closed.
    Closed,
}

impl Writer {
    /// Runs `statements` in one transaction: all of them or none.
    pub(crate) async fn transaction(&self, statements: Vec<Statement>) -> Result<(), sqlx::Error> {
        let statements = statements
            .into_iter()
            .map(Statement::into_sqlite)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(last) = statements.len().checked_sub(1) else {
            return Ok(());
        };
        let mut state = self.state.lock().await;
        let conn = self.connection(&mut state).await?;
        for (i, (sql, args)) in statements.into_iter().enumerate() {
            let result = match (i == 0, i == last) {
                (true, true) => run(conn, format!("BEGIN; {sql}; COMMIT"), args).await,
                (true, false) => run(conn, format!("BEGIN; {sql}"), args).await,
                (false, true) => run(conn, format!("{sql}; COMMIT"), args).await,
                (false, false) => sqlx::query_with(AssertSqlSafe(sql), args)
                    .execute(&mut *conn)
                    .await
                    .map(drop),
            };
            if let Err(e) = result {
                if let WriterState::Connected { conn, open } = &mut *state {
                    *open = true;
                    if rollback(conn).await.is_ok() {
                        *open = false;
                    } else {
                        *state = WriterState::Idle;
                    }
                }
                return Err(e);
            }
        }
        if let WriterState::Connected { open, .. } = &mut *state {
            *open = false;
        }
        Ok(())
    }

    /// Runs one statement that writes and returns rows (`... RETURNING`), on its own.
    pub(crate) async fn fetch_all(
        &self,
        statement: Statement,
    ) -> Result<Vec<SqliteRow>, sqlx::Error> {
        let (sql, args) = statement.into_sqlite()?;
        let mut state = self.state.lock().await;
        let conn = self.connection(&mut state).await?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&mut *conn)
            .await?;
        if let WriterState::Connected { open, .. } = &mut *state {
            *open = false;
        }
        Ok(rows)
    }

    /// The connection, opened if need be and with no transaction left open.
    async fn connection<'s>(
        &self,
        state: &'s mut WriterState,
    ) -> Result<&'s mut SqliteConnection, sqlx::Error> {
        if let WriterState::Connected { conn, open: true } = state
            && rollback(conn).await.is_err()
        {
            *state = WriterState::Idle;
        }
        if let WriterState::Idle = state {
            let conn = SqliteConnection::connect_with(&self.options).await?;
            *state = WriterState::Connected {
                conn: Box::new(conn),
                open: false,
            };
        }
        match state {
            WriterState::Connected { conn, open } => {
                // Set before the first statement so that a call cancelled midway is rolled
                // back by the next one.
                *open = true;
                Ok(conn)
            }
            _ => Err(sqlx::Error::PoolClosed),
        }
    }

    /// Closes the connection; later transactions fail.
    async fn close(&self) {
        let mut state = self.state.lock().await;
        if let WriterState::Connected { conn, .. } =
            std::mem::replace(&mut *state, WriterState::Closed)
        {
            let _ = conn.close().await;
        }
    }
}

/// Runs `sql` (built by this module from static SQL, never from data).
async fn run(
    conn: &mut SqliteConnection,
    sql: String,
    args: SqliteArguments,
) -> Result<(), sqlx::Error> {
    sqlx::query_with(AssertSqlSafe(sql), args)
        .execute(conn)
        .await
        .map(drop)
}

/// Rolls back whatever transaction is open; none being open is fine.
async fn rollback(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    match sqlx::query("ROLLBACK").execute(conn).await {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.message().contains("no transaction is active") => Ok(()),
        Err(e) => Err(e),
    }
}

/// The connections of one store: the [`Writer`] and a pool of readers, which see every
/// committed write (WAL).
#[derive(Clone, Debug)]
pub(crate) struct Pools {
    /// For every transaction that writes.
    pub(crate) write: Arc<Writer>,
    /// For reads.
    read: sqlx::SqlitePool,
}

impl Pools {
    /// Every row `statement` reads.
    pub(crate) async fn fetch_all(
        &self,
        statement: Statement,
    ) -> Result<Vec<SqliteRow>, sqlx::Error> {
        let (sql, args) = statement.into_sqlite()?;
        sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&self.read)
            .await
    }

    /// The first row `statement` reads, if any.
    pub(crate) async fn fetch_optional(
        &self,
        statement: Statement,
    ) -> Result<Option<SqliteRow>, sqlx::Error> {
        let (sql, args) = statement.into_sqlite()?;
        sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_optional(&self.read)
            .await
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Takes the exclusive lock of `<database>.migrate-lock` (created if missing), held until
/// the file is dropped.
async fn migration_lock(path: &Path) -> std::io::Result<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".migrate-lock");
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&name)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Opens (creating if missing) the database file at `path` and brings its schema up to date.
pub(crate) async fn open(path: &Path) -> Result<(String, Pools), StoreError> {
    let doing = || format!("opening database {}", path.display());
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await.map_err(|e| {
            StoreError::new(
                format!("{}: creating directory {}", doing(), parent.display()),
                e,
            )
        })?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .statement_cache_capacity(STATEMENT_CACHE);
    // Two processes opening a new file at once would race to create it, switch it to WAL
    // and create the schema (SQLite has no migration lock, and the switch to WAL fails at
    // once while another connection is open): they take turns on a lock file beside it.
    let lock = migration_lock(path)
        .await
        .map_err(|e| StoreError::new(format!("{}: locking for migration", doing()), e))?;
    // The writer connects first: it creates the file and switches it to WAL.
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| StoreError::new(doing(), e))?;
    let migrator = migrations::migrator(migrations::SQLITE);
    let migrated = migrations::run(&migrator, &mut conn)
        .await
        .map_err(|e| StoreError::new(format!("{}: migrating the schema", doing()), e));
    drop(lock);
    migrated?;
    let read = SqlitePoolOptions::new()
        .max_connections(READERS)
        // A ping before every acquire is a round trip to the connection's worker thread
        // each time; a dead SQLite connection shows itself on the next statement.
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await
        .map_err(|e| StoreError::new(doing(), e))?;
    let state = WriterState::Connected {
        conn: Box::new(conn),
        open: false,
    };
    let write = Arc::new(Writer {
        options,
        state: tokio::sync::Mutex::new(state),
    });
    let pools = Pools { write, read };
    Ok((path.display().to_string(), pools))
}
