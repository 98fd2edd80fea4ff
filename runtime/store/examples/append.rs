//! How long `Store::append` takes per event, for batches of step events like the engine's
//! writer sends (STEP_START, LOG, STEP_OUTPUT, STEP_SUCCESS, LOGS_CAPTURED per step).
//!
//! Run: `cargo run --release -p weft-store --example append [DIR]` (SQLite in a temp dir by
//! default; `STEPS=n` for one batch size). With `WEFT_TEST_POSTGRES_URL` set (`source
//! tests/pg.sh`), the same figures follow for PostgreSQL, on a fresh database of that server
//! that is dropped afterwards.
//! A measurement to read, not a test: nothing here asserts a time.

use std::time::Instant;

use weft_core::defs::Tags;
use weft_core::events::{Event, EventKind, LogLevel, RunStatus};
use weft_core::run::RunRecord;
use weft_store::testing::{POSTGRES_URL_VARIABLE, drop_postgres_database, fresh_postgres_database};
use weft_store::{Store, StoreError};

fn step_events(run_id: &str, step: usize, ts: i64) -> Vec<Event> {
    let step_key = Some(format!("op_{step}"));
    let at = |kind| Event {
        run_id: run_id.into(),
        step_key: step_key.clone(),
        timestamp_ms: ts,
        kind,
    };
    vec![
        at(EventKind::StepStart { attempt: 1 }),
        at(EventKind::Log {
            level: LogLevel::Info,
            message: format!("computing op_{step}"),
            fields: Tags::new(),
        }),
        at(EventKind::StepOutput {
            output: "result".into(),
            codec: "json".into(),
            size: 4,
            preview: step.to_string(),
            metadata: Default::default(),
            mapping_key: None,
        }),
        at(EventKind::StepSuccess {
            duration_ms: 0.25,
            cost: None,
        }),
        at(EventKind::LogsCaptured {
            stdout_bytes: 0,
            stderr_bytes: 0,
        }),
    ]
}

#[tokio::main]
async fn main() -> Result<(), StoreError> {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("weft-append-bench-{}", std::process::id()))
        });
    let path = dir.join("weft.db");
    println!("SQLite ({})", path.display());
    let store = Store::open_sqlite(&path).await?;
    measure(&store).await?;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);

    if let Ok(server) = std::env::var(POSTGRES_URL_VARIABLE) {
        let url = fresh_postgres_database(&server).await?;
        println!("\nPostgreSQL (a fresh database of {POSTGRES_URL_VARIABLE})");
        let store = Store::connect(&url).await?;
        let measured = measure(&store).await;
        store.close().await;
        drop_postgres_database(&server, &url).await?;
        measured?;
    }
    Ok(())
}

/// Appends batches of each size to `store` and prints the time per event and per batch.
async fn measure(store: &Store) -> Result<(), StoreError> {
    println!("steps/batch  events/batch  batches  µs/event  µs/batch");
    for steps_per_batch in std::env::var("STEPS")
        .ok()
        .map(|s| vec![s.parse::<usize>().unwrap_or(1)])
        .unwrap_or(vec![1, 4, 16, 64, 256])
    {
        let run_id = format!("bench-{steps_per_batch}");
        store
            .create_run(&RunRecord {
                run_id: run_id.clone(),
                job: "bench".into(),
                location: "bench".into(),
                digest: "d".into(),
                status: RunStatus::Started,
                tags: Tags::new(),
                config: serde_json::json!({}),
                asset_selection: None,
                created_ms: 0,
                started_ms: None,
                finished_ms: None,
                heartbeat_ms: None,
                progress_ms: None,
            })
            .await?;
        let batches = (20_000 / (steps_per_batch * 5)).max(20);
        let prepared: Vec<Vec<Event>> = (0..batches)
            .map(|b| {
                (0..steps_per_batch)
                    .flat_map(|s| step_events(&run_id, b * steps_per_batch + s, 0))
                    .collect()
            })
            .collect();
        let events: usize = prepared.iter().map(Vec::len).sum();
        let start = Instant::now();
        for batch in &prepared {
            store.append(batch).await?;
        }
        let elapsed = start.elapsed().as_secs_f64() * 1e6;
        println!(
            "{steps_per_batch:>11}  {:>12}  {batches:>7}  {:>8.2}  {:>8.1}",
            steps_per_batch * 5,
            elapsed / events as f64,
            elapsed / batches as f64
        );
    }
    Ok(())
}
