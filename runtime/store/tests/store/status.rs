//! A finished run stays as it ended, on both databases: the late events that reach it (a
//! cancel from another replica, a success after the run monitor failed it) are recorded,
//! and change neither its status nor its finish time.

use weft_core::events::{EventKind, RunStatus};

use super::{Fresh, event, run};

pub(crate) async fn a_finished_run_keeps_its_status_whatever_comes_late(db: Fresh) {
    let store = db.open().await;
    let failure = || EventKind::RunFailure {
        message: "the run's process was lost".into(),
    };
    for id in ["canceled", "failed", "one_batch"] {
        store
            .create_run(&run(id, "add_job", 1_000, &[]))
            .await
            .expect("create");
    }

    // Canceled (on this replica), then the run's own process, elsewhere, starts and ends.
    let canceled = [
        event("canceled", None, 1_001, EventKind::RunStarting),
        event("canceled", None, 1_002, EventKind::RunCanceling),
        event("canceled", None, 1_003, EventKind::RunCanceled),
    ];
    store.append(&canceled).await.expect("append");
    let late = [
        event("canceled", None, 1_004, EventKind::RunStart),
        event("canceled", None, 1_005, EventKind::RunSuccess),
    ];
    store.append(&late).await.expect("append late");
    let record = store.run("canceled").await.expect("read").expect("exists");
    assert_eq!(
        (record.status, record.finished_ms),
        (RunStatus::Canceled, Some(1_003))
    );
    let events = store.events("canceled", 0, 100).await.expect("events");
    assert_eq!(events.len(), 5, "late events are kept: {events:?}");

    // Failed by the run monitor, then a success arrives late.
    store
        .append(&[
            event("failed", None, 1_001, EventKind::RunStart),
            event("failed", None, 1_002, failure()),
        ])
        .await
        .expect("append");
    store
        .append(&[event("failed", None, 1_010, EventKind::RunSuccess)])
        .await
        .expect("append late");
    store
        .append(&[event("failed", None, 1_011, EventKind::RunCanceling)])
        .await
        .expect("append a late cancel");
    let record = store.run("failed").await.expect("read").expect("exists");
    assert_eq!(
        (record.status, record.finished_ms),
        (RunStatus::Failure, Some(1_002))
    );

    // Both ends in one batch: the first one counts.
    store
        .append(&[
            event("one_batch", None, 1_001, EventKind::RunStart),
            event("one_batch", None, 1_002, failure()),
            event("one_batch", None, 1_003, EventKind::RunSuccess),
        ])
        .await
        .expect("append");
    let record = store.run("one_batch").await.expect("read").expect("exists");
    assert_eq!(
        (record.status, record.finished_ms),
        (RunStatus::Failure, Some(1_002))
    );
}
