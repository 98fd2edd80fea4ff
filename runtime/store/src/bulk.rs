//! Multi-row `INSERT` statements for the event log's hot path.
//!
//! Appending a batch of events costs one statement per chunk rather than one per event. A
//! batch of `n` rows is cut into chunks whose sizes are powers of two (at most
//! [`MAX_ROWS`]), so only a handful of statement shapes exist per table and each is
//! prepared once per connection and then reused from sqlx's statement cache; the SQL text
//! of each shape is built once per process.
//!
//! Parameters are written as each database wants them in long statements
//! ([`Dialect::push_placeholder`]: `?` for SQLite, `$n` for PostgreSQL), and a full chunk
//! stays far below either database's limit on bound parameters.

use crate::db::{Database, Dialect, PerDialect, Statement};

/// The most rows one statement inserts.
pub(crate) const MAX_ROWS: usize = 128;

/// Statement shapes per table: 1, 2, 4, ... [`MAX_ROWS`] rows.
const SHAPES: usize = MAX_ROWS.trailing_zeros() as usize + 1;

/// A table's multi-row insert: `INSERT INTO {table} ({columns}) VALUES (...), (...)`.
pub(crate) struct BulkInsert {
    table: &'static str,
    columns: &'static [&'static str],
    shapes: PerDialect<Vec<String>>,
}

impl BulkInsert {
    /// The insert into `table` of `columns`, in this order.
    pub(crate) const fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        BulkInsert {
            table,
            columns,
            shapes: PerDialect::new(),
        }
    }

    /// The statement inserting `rows` rows into `db`, to be given its arguments row by
    /// row; `rows` is a power of two no larger than [`MAX_ROWS`] (as [`chunks`] yields).
    pub(crate) fn statement(&'static self, db: &Database, rows: usize) -> Statement {
        let dialect = db.dialect();
        Statement::new(dialect, self.sql(dialect, rows))
    }

    /// The SQL inserting `rows` rows, in `dialect`.
    fn sql(&'static self, dialect: Dialect, rows: usize) -> &'static str {
        let shapes = self.shapes.get(dialect, |dialect| {
            (0..SHAPES).map(|i| self.build(dialect, 1 << i)).collect()
        });
        let index = (rows.trailing_zeros() as usize).min(SHAPES - 1);
        &shapes[index]
    }

    fn build(&self, dialect: Dialect, rows: usize) -> String {
        let width = self.columns.len();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.columns.join(", ")
        );
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..width {
                if column > 0 {
                    sql.push_str(", ");
                }
                dialect.push_placeholder(&mut sql, row * width + column + 1);
            }
            sql.push(')');
        }
        sql
    }
}

/// Cuts `len` rows into consecutive ranges whose sizes are powers of two, the largest first.
pub(crate) fn chunks(len: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = len - start;
        if left == 0 {
            return None;
        }
        let size = if left >= MAX_ROWS {
            MAX_ROWS
        } else {
            1 << (usize::BITS - 1 - left.leading_zeros())
        };
        let range = start..start + size;
        start += size;
        Some(range)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static T: BulkInsert = BulkInsert::new("t", &["a", "b"]);

    #[test]
    fn statements_have_one_parameter_per_value() {
        let sqlite = Dialect::Sqlite;
        assert_eq!(T.sql(sqlite, 1), "INSERT INTO t (a, b) VALUES (?, ?)");
        assert_eq!(
            T.sql(sqlite, 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(T.sql(sqlite, MAX_ROWS).matches('(').count(), MAX_ROWS + 1);
        let postgres = Dialect::Postgres;
        assert_eq!(
            T.sql(postgres, 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert!(T.sql(postgres, MAX_ROWS).ends_with(", ($255, $256)"));
    }

    #[test]
    fn chunks_cover_every_row_once_in_power_of_two_sizes() {
        for len in [0, 1, 2, 3, 7, 127, 128, 129, 300, 1000] {
            let ranges: Vec<_> = chunks(len).collect();
            let mut next = 0;
            for r in &ranges {
                assert_eq!(r.start, next);
                assert!(r.len().is_power_of_two() && r.len() <= MAX_ROWS);
                next = r.end;
            }
            assert_eq!(next, len);
        }
        assert_eq!(
            chunks(300).map(|r| r.len()).collect::<Vec<_>>(),
            [128, 128, 32, 8, 4]
        );
    }
}
