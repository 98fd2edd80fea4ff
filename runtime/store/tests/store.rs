//! What a user of the store sees: runs created and listed with filters, events read back
//! in order with their ids, run status and times following the events, code-location
//! versions, the asset materialization history, the database I/O manager's values, and
//! errors that name what failed, on SQLite and on PostgreSQL alike.
//!
//! Each test body is an `async fn` taking a [`Fresh`] database; `on_both!` runs it once on
//! a new SQLite file (`sqlite::NAME`) and once on a new PostgreSQL database
//! (`postgres::NAME`) of the server at `WEFT_TEST_POSTGRES_URL` (`source tests/pg.sh` starts
//! one). Without that variable the PostgreSQL runs pass after saying they were skipped,
//! unless `CI` is set: then they fail.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use weft_core::defs::{AssetKey, Tags};
use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::metadata::{Metadata, MetadataValue};
use weft_core::ports::RunStorage;
use weft_core::run::{RunFilter, RunRecord};
use weft_store::testing::{POSTGRES_URL_VARIABLE, drop_postgres_database, fresh_postgres_database};
use weft_store::{ErrorKind, Store};

#[path = "store/daemon.rs"]
mod daemon;
use daemon::{
    run_ends_are_read_in_order_after_a_cursor, runs_under_way_are_listed_with_their_heartbeats,
    schedule_and_sensor_state_ticks_run_keys_and_leases,
};
#[path = "store/locations.rs"]
mod locations;
use locations::{
    location_versions_are_kept_and_the_current_one_moves,
    uploads_keep_bytes_history_and_survive_removal_without_their_grants,
};
#[path = "store/status.rs"]
mod status;
use status::a_finished_run_keeps_its_status_whatever_comes_late;
#[path = "store/steps.rs"]
mod steps;
use steps::steps_are_claimed_once_answered_and_given_up;
#[path = "store/values.rs"]
mod values;
use values::{
    io_values_are_stored_overwritten_and_missing_ones_are_none,
    the_database_io_manager_refuses_large_values_and_names_missing_ones,
};

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "weft-store-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new, empty database of one backend, for one test.
struct Fresh {
    /// The URL [`Store::connect`] opens.
    url: String,
    /// PostgreSQL: the server's URL (`WEFT_TEST_POSTGRES_URL`), for the test's own
    /// connections to it.
    server: Option<String>,
    /// SQLite: the directory of the file.
    _dir: Option<TempDir>,
}

impl Fresh {
    /// A store on this database (each call a new handle).
    async fn open(&self) -> Store {
        Store::connect(&self.url).await.expect("open store")
    }
}

/// Runs `test` on a new SQLite file (in a directory that does not exist yet).
async fn on_sqlite<F, T>(test: F)
where
    F: FnOnce(Fresh) -> T,
    T: Future<Output = ()>,
{
    let dir = TempDir::new();
    let url = format!("sqlite:{}", dir.path().join("nested/weft.db").display());
    test(Fresh {
        url,
        server: None,
        _dir: Some(dir),
    })
    .await;
}

/// The server's URL from `WEFT_TEST_POSTGRES_URL`; `None` (having said so) when it is not
/// set outside CI.
fn postgres_server() -> Option<String> {
    match std::env::var(POSTGRES_URL_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "{POSTGRES_URL_VARIABLE} is not set, and CI is: the PostgreSQL tests must run. \
             Set it to a server where the user may CREATE DATABASE, e.g. `source tests/pg.sh` \
             (which starts one and exports \
             {POSTGRES_URL_VARIABLE}=postgres://weft:...@127.0.0.1:PORT/postgres)"
        ),
        _ => {
            eprintln!("skipped: {POSTGRES_URL_VARIABLE} is not set");
            None
        }
    }
}

/// Runs `test` on a new PostgreSQL database, dropped afterwards (also when the test fails).
async fn on_postgres<F, T>(test: F)
where
    F: FnOnce(Fresh) -> T,
    T: Future<Output = ()> + Send + 'static,
{
    let Some(server) = postgres_server() else {
        return;
    };
    let url = fresh_postgres_database(&server)
        .await
        .expect("create a test database");
    let outcome = tokio::spawn(test(Fresh {
        url: url.clone(),
        server: Some(server.clone()),
        _dir: None,
    }))
    .await;
    drop_postgres_database(&server, &url)
        .await
        .expect("drop the test database");
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// A module `$module` of tests, one for each `async fn NAME(Fresh)` named, each run on the
/// database `$runner` makes.
macro_rules! tests_on {
    ($module:ident, $runner:ident: $($test:ident),* $(,)?) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $test() {
                    crate::$runner(crate::$test).await;
                }
            )*
        }
    };
}

/// `sqlite::NAME` and `postgres::NAME` tests for each `async fn NAME(Fresh)` named.
macro_rules! on_both {
    ($($test:ident),* $(,)?) => {
        tests_on!(sqlite, on_sqlite: $($test),*);
        tests_on!(postgres, on_postgres: $($test),*);
    };
}

on_both! {
    a_run_reads_back_as_created,
    events_read_back_in_order_and_drive_the_run_status,
    a_finished_run_keeps_its_status_whatever_comes_late,
    a_large_batch_of_several_runs_is_stored_whole,
    a_batch_with_an_unknown_run_is_not_stored_at_all,
    runs_are_listed_newest_first_and_filtered,
    location_versions_are_kept_and_the_current_one_moves,
    uploads_keep_bytes_history_and_survive_removal_without_their_grants,
    materializations_are_recorded_with_their_events,
    two_handles_on_one_database_see_each_others_writes,
    two_stores_migrating_a_new_database_at_once_both_succeed,
    a_closed_store_gives_errors_not_panics,
    schedule_and_sensor_state_ticks_run_keys_and_leases,
    runs_under_way_are_listed_with_their_heartbeats,
    run_ends_are_read_in_order_after_a_cursor,
    steps_are_claimed_once_answered_and_given_up,
    io_values_are_stored_overwritten_and_missing_ones_are_none,
    the_database_io_manager_refuses_large_values_and_names_missing_ones,
}

// What only PostgreSQL has: a server.
tests_on!(postgres_only, on_postgres:
    a_server_that_drops_the_connection_is_unavailable_then_works_again,
);

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run(id: &str, job: &str, created_ms: i64, run_tags: &[(&str, &str)]) -> RunRecord {
    RunRecord {
        run_id: id.into(),
        job: job.into(),
        location: "numbers".into(),
        digest: "sha256:abc".into(),
        status: RunStatus::Queued,
        tags: tags(run_tags),
        config: serde_json::json!({"ops": {"add": {"config": {"n": 2}}}}),
        asset_selection: None,
        created_ms,
        started_ms: None,
        finished_ms: None,
        heartbeat_ms: None,
        progress_ms: None,
    }
}

fn event(run_id: &str, step: Option<&str>, timestamp_ms: i64, kind: EventKind) -> Event {
    Event {
        run_id: run_id.into(),
        step_key: step.map(Into::into),
        timestamp_ms,
        kind,
    }
}

fn output(name: &str, preview: &str) -> EventKind {
    EventKind::StepOutput {
        output: name.into(),
        codec: "json".into(),
        size: preview.len() as u64,
        preview: preview.into(),
        metadata: Metadata::new(),
        mapping_key: None,
    }
}

fn ids(runs: &[RunRecord]) -> Vec<&str> {
    runs.iter().map(|r| r.run_id.as_str()).collect()
}

async fn a_run_reads_back_as_created(db: Fresh) {
    let store = db.open().await;
    let mut record = run("r1", "add_job", 1_000, &[("team", "data")]);
    record.asset_selection = Some("group:numbers".into());
    store.create_run(&record).await.expect("create");

    assert_eq!(store.run("r1").await.expect("read"), Some(record.clone()));
    assert_eq!(store.run("nope").await.expect("read"), None);

    let again = store
        .create_run(&record)
        .await
        .expect_err("a run id is unique");
    assert_eq!(again.kind(), ErrorKind::Conflict);
    assert!(
        again
            .to_string()
            .starts_with("creating run r1 of job add_job: "),
        "{again}"
    );
}

async fn events_read_back_in_order_and_drive_the_run_status(db: Fresh) {
    let store = db.open().await;
    store
        .create_run(&run("r1", "add_job", 1_000, &[]))
        .await
        .expect("create");

    let first = vec![
        event("r1", None, 1_001, EventKind::RunStarting),
        event("r1", None, 1_002, EventKind::RunStart),
        event(
            "r1",
            Some("add"),
            1_003,
            EventKind::StepStart { attempt: 1 },
        ),
    ];
    store.append(&first).await.expect("append");
    let running = store.run("r1").await.expect("read").expect("exists");
    assert_eq!(running.status, RunStatus::Started);
    assert_eq!(running.started_ms, Some(1_002));
    assert_eq!(running.finished_ms, None);

    // One batch spanning several steps (as the engine's writer sends them).
    let second = vec![
        event("r1", Some("add"), 1_004, output("result", "3")),
        event(
            "r1",
            Some("add"),
            1_005,
            EventKind::StepSuccess {
                duration_ms: 1.5,
                cost: None,
            },
        ),
        event(
            "r1",
            Some("double"),
            1_006,
            EventKind::StepStart { attempt: 1 },
        ),
        event("r1", Some("double"), 1_007, output("result", "6")),
        event(
            "r1",
            Some("double"),
            1_008,
            EventKind::StepSuccess {
                duration_ms: 0.5,
                cost: None,
            },
        ),
        event("r1", None, 1_009, EventKind::RunSuccess),
    ];
    store.append(&second).await.expect("append");

    let all = store.events("r1", 0, 100).await.expect("events");
    let expected: Vec<Event> = first.iter().chain(&second).cloned().collect();
    assert_eq!(
        all.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(
        all.windows(2).all(|w| w[0].0 < w[1].0),
        "ids increase: {:?}",
        all.iter().map(|(id, _)| id)
    );

    // The steps' lifecycle alone, for a summary of the run's steps: no outputs, no run
    // events.
    let steps = store.step_events("r1").await.expect("step events");
    let kinds: Vec<_> = steps.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        kinds,
        ["STEP_START", "STEP_SUCCESS", "STEP_START", "STEP_SUCCESS"]
    );

    // Reading on from a cursor, a page at a time.
    let page = store.events("r1", all[2].0, 2).await.expect("page");
    assert_eq!(page, all[3..5].to_vec());
    assert!(
        store
            .events("r1", all[8].0, 10)
            .await
            .expect("tail")
            .is_empty()
    );
    assert!(
        store
            .events("other", 0, 10)
            .await
            .expect("no run")
            .is_empty()
    );

    let done = store.run("r1").await.expect("read").expect("exists");
    assert_eq!(done.status, RunStatus::Success);
    assert_eq!(
        (done.started_ms, done.finished_ms),
        (Some(1_002), Some(1_009))
    );
}

async fn a_large_batch_of_several_runs_is_stored_whole(db: Fresh) {
    let store = db.open().await;
    for id in ["a", "b"] {
        store
            .create_run(&run(id, "big", 1, &[]))
            .await
            .expect("create");
    }
    // 300 events per run, interleaved: more than one multi-row statement's worth.
    let mut batch = Vec::new();
    for i in 0..300 {
        for id in ["a", "b"] {
            batch.push(event(
                id,
                Some(&format!("step_{i}")),
                i,
                output("out", &i.to_string()),
            ));
        }
    }
    batch.push(event(
        "b",
        None,
        400,
        EventKind::RunFailure {
            message: "step_7 failed".into(),
        },
    ));
    store.append(&batch).await.expect("append");

    let a = store.events("a", 0, 1_000).await.expect("events");
    assert_eq!(a.len(), 300);
    assert_eq!(
        a.iter().map(|(_, e)| e.timestamp_ms).collect::<Vec<_>>(),
        (0..300).collect::<Vec<_>>()
    );
    let b = store.run("b").await.expect("read").expect("exists");
    assert_eq!((b.status, b.finished_ms), (RunStatus::Failure, Some(400)));
    assert_eq!(
        store.run("a").await.expect("read").expect("exists").status,
        RunStatus::Queued
    );
}

async fn a_batch_with_an_unknown_run_is_not_stored_at_all(db: Fresh) {
    let store = db.open().await;
    store
        .create_run(&run("r1", "j", 1, &[]))
        .await
        .expect("create");
    // The unknown run's event comes after a full multi-row insert of good ones.
    let mut batch: Vec<Event> = (0..150)
        .map(|i| event("r1", Some("s"), i, EventKind::StepStart { attempt: 1 }))
        .collect();
    batch.push(event("ghost", None, 2, EventKind::RunStart));
    batch.push(event("r1", None, 3, EventKind::RunStart));
    let err = store.append(&batch).await.expect_err("unknown run");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(
        err.to_string()
            .starts_with("appending 152 events of runs r1, ghost: "),
        "{err}"
    );

    // Through the engine's port the message is the same.
    let port = RunStorage::append(&store, &batch)
        .await
        .expect_err("unknown run");
    assert_eq!(port.to_string(), err.to_string());

    assert!(
        store
            .events("r1", 0, 1_000)
            .await
            .expect("events")
            .is_empty()
    );
    assert_eq!(
        store.run("r1").await.expect("read").expect("exists").status,
        RunStatus::Queued
    );

    // The failed batch left nothing behind: the next one is stored.
    store
        .append(&[event("r1", None, 4, EventKind::RunStart)])
        .await
        .expect("append after a failure");
    assert_eq!(store.events("r1", 0, 10).await.expect("events").len(), 1);
    assert_eq!(
        store.run("r1").await.expect("read").expect("exists").status,
        RunStatus::Started
    );
}

async fn runs_are_listed_newest_first_and_filtered(db: Fresh) {
    let store = db.open().await;
    store
        .create_run(&run("r1", "etl", 1, &[("team", "data"), ("env", "prod")]))
        .await
        .expect("create");
    store
        .create_run(&run("r2", "etl", 2, &[("team", "ml")]))
        .await
        .expect("create");
    store
        .create_run(&run("r3", "report", 3, &[("team", "data")]))
        .await
        .expect("create");
    store
        .append(&[event("r2", None, 5, EventKind::RunStart)])
        .await
        .expect("append");

    let all = store.runs(&RunFilter::default()).await.expect("list");
    assert_eq!(ids(&all), ["r3", "r2", "r1"]);

    let etl = RunFilter {
        job: Some("etl".into()),
        ..RunFilter::default()
    };
    assert_eq!(ids(&store.runs(&etl).await.expect("list")), ["r2", "r1"]);

    let started = RunFilter {
        status: Some(RunStatus::Started),
        ..RunFilter::default()
    };
    assert_eq!(ids(&store.runs(&started).await.expect("list")), ["r2"]);

    let data = RunFilter {
        tag: Some(("team".into(), "data".into())),
        ..RunFilter::default()
    };
    assert_eq!(ids(&store.runs(&data).await.expect("list")), ["r3", "r1"]);

    let data_etl = RunFilter {
        job: Some("etl".into()),
        ..data.clone()
    };
    assert_eq!(ids(&store.runs(&data_etl).await.expect("list")), ["r1"]);

    let newest = RunFilter {
        limit: Some(1),
        ..RunFilter::default()
    };
    assert_eq!(ids(&store.runs(&newest).await.expect("list")), ["r3"]);
    // Page by page: the runs after the last one of the page before.
    let next = RunFilter {
        before: Some("r3".into()),
        limit: Some(1),
        ..RunFilter::default()
    };
    assert_eq!(ids(&store.runs(&next).await.expect("list")), ["r2"]);
    let last = RunFilter {
        before: Some("r2".into()),
        ..etl.clone()
    };
    assert_eq!(ids(&store.runs(&last).await.expect("list")), ["r1"]);

    let elsewhere = RunFilter {
        location: Some("other".into()),
        ..RunFilter::default()
    };
    assert!(store.runs(&elsewhere).await.expect("list").is_empty());
}

async fn materializations_are_recorded_with_their_events(db: Fresh) {
    let store = db.open().await;
    let key = AssetKey::parse("warehouse/orders");
    let materialize = |run_id: &str, ts: i64, rows: i64| {
        event(
            run_id,
            Some("orders"),
            ts,
            EventKind::AssetMaterialization {
                asset_key: key.clone(),
                metadata: Metadata::from([("rows".to_owned(), MetadataValue::Int(rows))]),
            },
        )
    };
    for (id, ts) in [("r1", 10), ("r2", 20)] {
        store
            .create_run(&run(id, "__asset_job", ts, &[]))
            .await
            .expect("create");
    }
    store
        .append(&[materialize("r1", 11, 5)])
        .await
        .expect("append");
    store
        .append(&[
            materialize("r2", 21, 7),
            event(
                "r2",
                Some("totals"),
                22,
                EventKind::AssetMaterialization {
                    asset_key: AssetKey::parse("totals"),
                    metadata: Metadata::new(),
                },
            ),
        ])
        .await
        .expect("append");

    let history = store
        .asset_materializations("warehouse/orders", 10)
        .await
        .expect("history");
    assert_eq!(
        history
            .iter()
            .map(|m| (m.run_id.as_str(), m.timestamp_ms))
            .collect::<Vec<_>>(),
        [("r2", 21), ("r1", 11)]
    );
    assert_eq!(history[0].step_key.as_deref(), Some("orders"));
    assert_eq!(history[0].metadata["rows"], MetadataValue::Int(7));
    assert_eq!(
        store
            .asset_materializations("warehouse/orders", 1)
            .await
            .expect("history")
            .len(),
        1
    );
    assert!(
        store
            .asset_materializations("nothing", 10)
            .await
            .expect("history")
            .is_empty()
    );

    let latest = store.latest_materializations().await.expect("latest");
    assert_eq!(
        latest,
        [
            ("totals".to_string(), "r2".to_string(), 22),
            ("warehouse/orders".to_string(), "r2".to_string(), 21)
        ]
    );
}

#[tokio::test]
async fn a_path_that_cannot_be_created_is_an_error_naming_it() {
    let dir = TempDir::new();
    std::fs::create_dir_all(dir.path()).expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("write");

    let below_a_file = file.join("weft.db");
    let err = Store::open_sqlite(&below_a_file)
        .await
        .expect_err("cannot create");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("opening database {}", below_a_file.display())),
        "{message}"
    );
    assert_eq!(err.kind(), ErrorKind::Unavailable);

    // A directory where the file should be, by URL.
    let err = Store::connect(&format!("sqlite://{}", dir.path().display()))
        .await
        .expect_err("a directory");
    assert!(
        err.to_string()
            .starts_with(&format!("opening database {}", dir.path().display())),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_named_without_its_password() {
    // A port nothing listens on (it was free a moment ago).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://weft:s3cret@127.0.0.1:{port}/weft");
    let err = Store::connect(&url).await.expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "opening database postgres://weft@127.0.0.1:{port}/weft: "
        )),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
}

async fn two_handles_on_one_database_see_each_others_writes(db: Fresh) {
    let one = db.open().await;
    let two = db.open().await;

    one.create_run(&run("r1", "j", 1, &[]))
        .await
        .expect("create");
    two.append(&[event("r1", None, 2, EventKind::RunStart)])
        .await
        .expect("append via the other handle");
    let seen = one.run("r1").await.expect("read").expect("exists");
    assert_eq!(seen.status, RunStatus::Started);
    assert_eq!(two.events("r1", 0, 10).await.expect("events").len(), 1);

    two.put_location_version("numbers", "d1", "{}", b"\0asm")
        .await
        .expect("put");
    assert_eq!(one.locations().await.expect("list").len(), 1);

    // Reopening finds everything (the migrations do not run twice).
    one.close().await;
    two.close().await;
    let three = db.open().await;
    assert!(three.run("r1").await.expect("read").is_some());
    three.close().await;
}

async fn two_stores_migrating_a_new_database_at_once_both_succeed(db: Fresh) {
    let (one, two) = tokio::join!(Store::connect(&db.url), Store::connect(&db.url));
    let (one, two) = (one.expect("first"), two.expect("second"));
    one.create_run(&run("r1", "j", 1, &[]))
        .await
        .expect("create");
    assert!(two.run("r1").await.expect("read").is_some());
    one.close().await;
    two.close().await;
}

async fn a_closed_store_gives_errors_not_panics(db: Fresh) {
    let store = db.open().await;
    store
        .create_run(&run("r1", "j", 1, &[]))
        .await
        .expect("create");
    store.close().await;

    let err = store
        .append(&[event("r1", None, 2, EventKind::RunStart)])
        .await
        .expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert!(
        err.to_string().starts_with("appending 1 event of run r1: "),
        "{err}"
    );
    assert!(store.run("r1").await.is_err());
    assert!(store.locations().await.is_err());
}

/// The password in `url` (`scheme://user:password@...`), if any.
fn password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password)
}

async fn a_server_that_drops_the_connection_is_unavailable_then_works_again(db: Fresh) {
    let store = db.open().await;
    store
        .create_run(&run("r1", "j", 1, &[]))
        .await
        .expect("create");

    // Hold a lock that makes the store's next read wait, so that it is in flight when the
    // server ends its connections (as a restart or a failover does).
    let mut holder = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let mut monitor = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let mut lock = holder.begin().await.expect("begin");
    sqlx::query("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .expect("lock");
    let reader = store.clone();
    let read = tokio::spawn(async move { reader.run("r1").await });
    let waiting = "SELECT count(*) FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while sqlx::query_scalar::<_, i64>(waiting)
        .fetch_one(&mut monitor)
        .await
        .expect("pg_stat_activity")
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the read never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let terminate = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                     WHERE datname = current_database() AND application_name = 'weft'";
    let ended: i64 = sqlx::query_scalar(terminate)
        .fetch_one(&mut monitor)
        .await
        .expect("terminate");
    assert!(ended >= 1, "the store had a connection");

    let err = read
        .await
        .expect("no panic")
        .expect_err("the connection was ended");
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with("reading run r1: database postgres://"),
        "{message}"
    );
    assert!(message.contains(" is unavailable: "), "{message}");
    if let Some(password) = db.server.as_deref().and_then(password) {
        assert!(!message.contains(&format!(":{password}@")), "{message}");
    }
    lock.rollback().await.expect("unlock");

    // The server is back: the next calls work, on new connections.
    assert_eq!(
        store.run("r1").await.expect("read again").map(|r| r.run_id),
        Some("r1".to_owned())
    );
    store
        .append(&[event("r1", None, 2, EventKind::RunStart)])
        .await
        .expect("append again");

    // Idle connections ended while nobody used them are replaced without an error.
    let ended: i64 = sqlx::query_scalar(terminate)
        .fetch_one(&mut monitor)
        .await
        .expect("terminate");
    assert!(ended >= 1, "the store had a connection");
    assert_eq!(
        store.run("r1").await.expect("read").expect("exists").status,
        RunStatus::Started
    );
    store.close().await;
}
