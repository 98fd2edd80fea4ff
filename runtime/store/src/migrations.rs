//! The schema migrations of both databases, embedded at build time: `migrations/sqlite/`
//! and `migrations/postgres/` hold one file per version, with the same version numbers and
//! the same meaning (`0001_initial`, `0002_control_plane`), each written in its database's
//! SQL. The tests below check that these lists and the directories agree, so a new file
//! cannot be forgotten here, and that both databases have the same versions.
//!
//! (`sqlx::migrate!` would read the directories itself, but needs sqlx's proc-macro crate,
//! which builds a second, host copy of SQLite; `Migrator::with_migrations` is the same
//! migrator with the same checksums, so sqlx-cli and `_sqlx_migrations` agree either way.
//! A migration that has been applied somewhere must never change: its checksum is checked.)

use std::borrow::Cow;

use std::future::Future;
use std::pin::Pin;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationType, Migrator};

/// One migration: version, description, SQL.
pub(crate) type Embedded = (i64, &'static str, &'static str);

/// SQLite's migrations, from `migrations/sqlite/`.
pub(crate) const SQLITE: &[Embedded] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "control_plane",
        include_str!("../migrations/sqlite/0002_control_plane.sql"),
    ),
    (
        3,
        "daemon",
        include_str!("../migrations/sqlite/0003_daemon.sql"),
    ),
    (
        4,
        "run_ends",
        include_str!("../migrations/sqlite/0004_run_ends.sql"),
    ),
    (
        5,
        "step_tasks",
        include_str!("../migrations/sqlite/0005_step_tasks.sql"),
    ),
    (
        6,
        "io_values",
        include_str!("../migrations/sqlite/0006_io_values.sql"),
    ),
    (
        7,
        "grant_history",
        include_str!("../migrations/sqlite/0007_grant_history.sql"),
    ),
    (
        8,
        "precompiled",
        include_str!("../migrations/sqlite/0008_precompiled.sql"),
    ),
    (
        9,
        "asset_checks",
        include_str!("../migrations/sqlite/0009_asset_checks.sql"),
    ),
];

/// PostgreSQL's migrations, from `migrations/postgres/`.
pub(crate) const POSTGRES: &[Embedded] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "control_plane",
        include_str!("../migrations/postgres/0002_control_plane.sql"),
    ),
    (
        3,
        "daemon",
        include_str!("../migrations/postgres/0003_daemon.sql"),
    ),
    (
        4,
        "run_ends",
        include_str!("../migrations/postgres/0004_run_ends.sql"),
    ),
    (
        5,
        "step_tasks",
        include_str!("../migrations/postgres/0005_step_tasks.sql"),
    ),
    (
        6,
        "io_values",
        include_str!("../migrations/postgres/0006_io_values.sql"),
    ),
    (
        7,
        "grant_history",
        include_str!("../migrations/postgres/0007_grant_history.sql"),
    ),
    (
        8,
        "precompiled",
        include_str!("../migrations/postgres/0008_precompiled.sql"),
    ),
    (
        9,
        "asset_checks",
        include_str!("../migrations/postgres/0009_asset_checks.sql"),
    ),
];

/// The migrator over `migrations` (each in its own transaction).
pub(crate) fn migrator(migrations: &[Embedded]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Runs `migrator` on `conn`.
///
/// A plain `migrator.run(conn).await` makes every future that contains it (`Store::connect`)
/// fail to be `Send` ("implementation of `Acquire` is not general enough"); proving `Send`
/// here, for one lifetime, keeps `Store::connect` spawnable.
pub(crate) fn run<'c, C>(
    migrator: &'c Migrator,
    conn: &'c mut C,
) -> Pin<Box<dyn Future<Output = Result<(), MigrateError>> + Send + 'c>>
where
    C: Migrate + Send,
    &'c mut C: sqlx::Acquire<'c>,
    <&'c mut C as sqlx::Acquire<'c>>::Connection: std::ops::DerefMut<Target = C>,
{
    Box::pin(migrator.run(conn))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn assert_matches_directory(dir: &str, embedded: &[Embedded]) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations directory")
            .map(|e| {
                e.expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let names: Vec<String> = embedded
            .iter()
            .map(|(version, description, _)| format!("{version:04}_{description}.sql"))
            .collect();
        assert_eq!(
            files,
            names,
            "every file in {} is embedded, in order",
            dir.display()
        );
        for ((_, _, sql), file) in embedded.iter().zip(&files) {
            let on_disk = std::fs::read_to_string(dir.join(file)).expect("migration file");
            assert_eq!(*sql, on_disk, "{file} is embedded as it is on disk");
        }
    }

    #[test]
    fn migrations_match_the_directories() {
        assert_matches_directory("sqlite", SQLITE);
        assert_matches_directory("postgres", POSTGRES);
    }

    #[test]
    fn both_databases_have_the_same_versions() {
        let versions = |list: &[Embedded]| -> Vec<(i64, &str)> {
            list.iter().map(|&(v, d, _)| (v, d)).collect()
        };
        assert_eq!(versions(SQLITE), versions(POSTGRES));
    }
}
