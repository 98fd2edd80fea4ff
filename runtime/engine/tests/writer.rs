//! The event writer against storage that fails: what could not be written is handed back
//! to the flush of its own run and no other, a run whose events storage refuses does not
//! hold back another's, and a flood waits for room rather than growing without limit.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use weft_core::events::{Event, EventKind, LogLevel};
use weft_core::ports::{RunStorage, StorageError};
use weft_core::run::{RunFilter, RunRecord};
use weft_engine::writer::{EventSink, EventWriter};

/// Storage that refuses writes while `down` is set, and any batch holding an event of run
/// `poison`; keeps what it accepted.
#[derive(Default)]
struct Flaky {
    down: AtomicBool,
    poison: Mutex<Option<String>>,
    written: Mutex<Vec<Event>>,
}

impl RunStorage for Flaky {
    async fn create_run(&self, _: &RunRecord) -> Result<(), StorageError> {
        Ok(())
    }

    async fn append(&self, events: &[Event]) -> Result<(), StorageError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StorageError("database is gone".into()));
        }
        let poison = self.poison.lock().unwrap().clone();
        if events.iter().any(|e| Some(&e.run_id) == poison.as_ref()) {
            return Err(StorageError("a constraint failed".into()));
        }
        self.written.lock().unwrap().extend_from_slice(events);
        Ok(())
    }

    async fn run(&self, _: &str) -> Result<Option<RunRecord>, StorageError> {
        Ok(None)
    }

    async fn runs(&self, _: &RunFilter) -> Result<Vec<RunRecord>, StorageError> {
        Ok(vec![])
    }

    async fn events(&self, _: &str, _: i64, _: u32) -> Result<Vec<(i64, Event)>, StorageError> {
        Ok(vec![])
    }
}

fn event(n: i64) -> Event {
    event_of("r", n)
}

fn event_of(run: &str, n: i64) -> Event {
    Event {
        run_id: run.into(),
        step_key: None,
        timestamp_ms: n,
        kind: EventKind::RunStart,
    }
}

#[tokio::test]
async fn the_writer_hands_back_what_storage_would_not_take() {
    let storage = Arc::new(Flaky::default());
    let writer = EventWriter::spawn(storage.clone());
    writer.emit(vec![event(1), event(2)]);
    writer.flush().await.unwrap();
    assert_eq!(storage.written.lock().unwrap().len(), 2);

    storage
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    writer.emit(vec![event(3)]);
    let err = writer.flush().await.unwrap_err();
    assert_eq!(err.error, "database is gone");
    assert_eq!(err.unwritten, [event(3)], "nothing lost");
    assert_eq!(storage.written.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_waits_for_room_while_storage_is_down_and_loses_nothing() {
    let storage = Arc::new(Flaky::default());
    storage
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let writer = EventWriter::spawn(storage.clone());
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // 128 step attempts of 1 MiB of log each: twice what the queue holds.
    let line = |n: i64| Event {
        kind: EventKind::Log {
            level: LogLevel::Info,
            message: "x".repeat(1 << 20),
            fields: Default::default(),
        },
        ..event(n)
    };
    let flood = {
        let (writer, sent) = (writer.clone(), sent.clone());
        std::thread::spawn(move || {
            for n in 0..128 {
                writer.emit(vec![line(n)]);
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let queued = sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (60..=64).contains(&queued),
        "{queued} sent while nothing could be written"
    );
    storage
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    tokio::task::spawn_blocking(move || flood.join().unwrap())
        .await
        .unwrap();
    writer.flush().await.unwrap();
    assert_eq!(storage.written.lock().unwrap().len(), 128);
}

#[tokio::test]
async fn a_runs_flush_gets_back_its_own_events_and_no_others() {
    let storage = Arc::new(Flaky::default());
    let writer = EventWriter::spawn(storage.clone());
    storage.down.store(true, Ordering::SeqCst);
    writer.emit(vec![event_of("a", 1), event_of("b", 2), event_of("a", 3)]);
    let err = writer.flush_run("a").await.unwrap_err();
    assert_eq!(err.unwritten, [event_of("a", 1), event_of("a", 3)]);
    // Run b's events stay queued, tried again once storage is back.
    storage.down.store(false, Ordering::SeqCst);
    writer.flush_run("b").await.unwrap();
    assert_eq!(*storage.written.lock().unwrap(), [event_of("b", 2)]);
}

#[tokio::test]
async fn a_run_storage_refuses_does_not_hold_back_another() {
    let storage = Arc::new(Flaky::default());
    *storage.poison.lock().unwrap() = Some("bad".into());
    let writer = EventWriter::spawn(storage.clone());
    writer.emit(vec![
        event_of("bad", 1),
        event_of("good", 2),
        event_of("bad", 3),
    ]);
    writer.flush_run("good").await.unwrap();
    assert_eq!(*storage.written.lock().unwrap(), [event_of("good", 2)]);
    let err = writer.flush_run("bad").await.unwrap_err();
    assert_eq!(err.error, "a constraint failed");
    assert_eq!(
        err.unwritten,
        [event_of("bad", 1), event_of("bad", 3)],
        "in order"
    );
}
