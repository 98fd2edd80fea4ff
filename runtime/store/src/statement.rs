//! A statement and its arguments, written once in portable SQL and encoded for the
//! database it runs on ([`Dialect`]): what the query modules build and both backends
//! (`sqlite.rs`, `postgres.rs`) run.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::OnceLock;

use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArguments};
use sqlx::{Arguments, Decode, Encode, Type};

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
            Dialect::Sqlite => sql.push('?'),
            // Writing to a String cannot fail.
            Dialect::Postgres => {
                let _ = write!(sql, "${n}");
            }
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

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn placeholders_are_numbered_on_postgres_only() {
        let mut sql = String::new();
        Dialect::Postgres.push_placeholder(&mut sql, 1);
        Dialect::Postgres.push_placeholder(&mut sql, 12);
        Dialect::Sqlite.push_placeholder(&mut sql, 3);
        assert_eq!(sql, "$1$12?");
    }
}
