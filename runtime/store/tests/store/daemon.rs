//! The daemon's storage on both databases: schedule and sensor state, ticks, run keys,
//! leases, the runs under way with their heartbeats, and the ends of runs that run-status
//! sensors read.

use weft_core::events::{EventKind, RunStatus};
use weft_core::instigator::InstigatorStatus::{Running, Stopped};
use weft_core::instigator::{InstigatorKind, InstigatorState, TickRecord, TickStatus};

use super::{Fresh, event, run};

pub(crate) async fn schedule_and_sensor_state_ticks_run_keys_and_leases(db: Fresh) {
    let store = db.open().await;
    assert!(store.instigator_states().await.expect("states").is_empty());
    store
        .set_instigator_status(
            "numbers",
            "every_minute",
            InstigatorKind::Schedule,
            Running,
            1_000,
        )
        .await
        .expect("start");
    let state = store
        .instigator_state("numbers", "every_minute")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        (state.status.as_str(), state.last_tick_ms),
        ("RUNNING", Some(1_000))
    );

    // Turning it on again keeps its clock; off and on again restarts it.
    store
        .set_instigator_status(
            "numbers",
            "every_minute",
            InstigatorKind::Schedule,
            Running,
            2_000,
        )
        .await
        .expect("start again");
    let last = |s: Option<InstigatorState>| s.and_then(|s| s.last_tick_ms);
    assert_eq!(
        last(
            store
                .instigator_state("numbers", "every_minute")
                .await
                .expect("read")
        ),
        Some(1_000)
    );
    store
        .set_instigator_status(
            "numbers",
            "every_minute",
            InstigatorKind::Schedule,
            Stopped,
            3_000,
        )
        .await
        .expect("stop");
    store
        .set_instigator_status(
            "numbers",
            "every_minute",
            InstigatorKind::Schedule,
            Running,
            9_000,
        )
        .await
        .expect("start after a while");
    assert_eq!(
        last(
            store
                .instigator_state("numbers", "every_minute")
                .await
                .expect("read")
        ),
        Some(9_000)
    );

    // A tick moves the clock and keeps the cursor it returned.
    let tick = TickRecord {
        location: "numbers".into(),
        name: "every_minute".into(),
        kind: InstigatorKind::Schedule,
        timestamp_ms: 60_500,
        scheduled_ms: Some(60_000),
        status: TickStatus::Success,
        run_ids: vec!["r1".into()],
        skip_reason: None,
        error: None,
        cursor: Some("c1".into()),
    };
    store.record_tick(&tick, 60_000).await.expect("tick");
    let skipped = TickRecord {
        status: TickStatus::Skipped,
        run_ids: Vec::new(),
        skip_reason: Some("nothing new".into()),
        cursor: None,
        timestamp_ms: 120_500,
        scheduled_ms: Some(120_000),
        ..tick.clone()
    };
    store.record_tick(&skipped, 120_000).await.expect("tick");
    let state = store
        .instigator_state("numbers", "every_minute")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        (state.last_tick_ms, state.cursor.as_deref()),
        (Some(120_000), Some("c1"))
    );
    let ticks = store
        .ticks("numbers", "every_minute", None, 10)
        .await
        .expect("ticks");
    assert_eq!(ticks, [skipped.clone(), tick.clone()]);
    // The next page: the ticks before the last one shown.
    let older = store
        .ticks("numbers", "every_minute", Some(skipped.timestamp_ms), 10)
        .await
        .expect("ticks");
    assert_eq!(older, [tick]);

    // A sensor turned on has no clock yet: it is evaluated at once.
    store
        .set_instigator_status("numbers", "s", InstigatorKind::Sensor, Running, 5_000)
        .await
        .expect("start a sensor");
    assert_eq!(
        last(store.instigator_state("numbers", "s").await.expect("read")),
        None
    );

    // A run key is claimed once.
    let claim = |name: &'static str, key: &'static str, run: &'static str| {
        let store = store.clone();
        async move {
            store
                .claim_run_key("numbers", name, key, run)
                .await
                .expect("claim")
        }
    };
    assert_eq!(claim("s", "k1", "r1").await, "r1");
    assert_eq!(
        claim("s", "k1", "r2").await,
        "r1",
        "the first claim keeps the key"
    );
    assert_eq!(
        claim("other", "k1", "r3").await,
        "r3",
        "keys are per sensor"
    );

    // Leases: one holder at a time until it expires or is released.
    assert!(
        store
            .acquire_lease("scheduler", "a", 0, 10_000)
            .await
            .expect("lease")
    );
    assert!(
        !store
            .acquire_lease("scheduler", "b", 5_000, 10_000)
            .await
            .expect("lease")
    );
    assert!(
        store
            .acquire_lease("scheduler", "a", 5_000, 10_000)
            .await
            .expect("renew")
    );
    assert!(
        store
            .acquire_lease("scheduler", "b", 16_000, 10_000)
            .await
            .expect("expired")
    );
    store
        .release_lease("scheduler", "b")
        .await
        .expect("release");
    assert!(
        store
            .acquire_lease("scheduler", "a", 16_001, 10_000)
            .await
            .expect("free")
    );
}

pub(crate) async fn runs_under_way_are_listed_with_their_heartbeats(db: Fresh) {
    let store = db.open().await;
    let runs = [
        ("q1", RunStatus::Queued, 1),
        ("s1", RunStatus::Started, 2),
        ("q2", RunStatus::Queued, 3),
    ];
    for (id, status, created) in runs {
        let mut run = run(id, "process_numbers", created, &[]);
        run.status = status;
        store.create_run(&run).await.expect("create");
    }
    store
        .heartbeat(&["s1".to_owned()], 42)
        .await
        .expect("heartbeat");
    let queued = store.runs_in(&[RunStatus::Queued]).await.expect("list");
    let ids: Vec<&str> = queued.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, ["q1", "q2"]);
    let under_way = || async {
        store
            .runs_in(&[RunStatus::Started, RunStatus::Starting])
            .await
            .expect("list")
    };
    let before = under_way().await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].run_id, "s1");
    assert_eq!(
        (before[0].heartbeat_ms, before[0].progress_ms),
        (Some(42), None)
    );
    // Its progress is the time of its last event.
    let log = |at: i64| weft_core::events::Event {
        run_id: "s1".into(),
        step_key: Some("op".into()),
        timestamp_ms: at,
        kind: weft_core::events::EventKind::StepStart { attempt: 1 },
    };
    store.append(&[log(50), log(57)]).await.expect("append");
    assert_eq!(under_way().await[0].progress_ms, Some(57));
    let one = store.run("s1").await.expect("read").expect("stored");
    assert_eq!((one.heartbeat_ms, one.progress_ms), (Some(42), Some(57)));
    assert!(store.runs_in(&[]).await.expect("none").is_empty());
}

pub(crate) async fn run_ends_are_read_in_order_after_a_cursor(db: Fresh) {
    let store = db.open().await;
    for (id, created) in [("a", 1), ("b", 2), ("c", 3)] {
        store
            .create_run(&run(id, "j", created, &[]))
            .await
            .expect("create");
    }
    let failure = EventKind::RunFailure {
        message: "boom".into(),
    };
    store
        .append(&[
            event("a", None, 100, EventKind::RunStart),
            event("a", None, 110, EventKind::RunSuccess),
            event("b", None, 200, EventKind::RunStart),
            event("b", None, 210, failure.clone()),
            event("c", None, 300, EventKind::RunCanceled),
        ])
        .await
        .expect("append");
    let ends = store.run_ends(0, 0, 10).await.expect("ends");
    let seen: Vec<(&str, &str)> = ends
        .iter()
        .map(|(_, e)| (e.run_id.as_str(), e.kind.type_name()))
        .collect();
    assert_eq!(
        seen,
        [
            ("a", "RUN_SUCCESS"),
            ("b", "RUN_FAILURE"),
            ("c", "RUN_CANCELED")
        ]
    );
    assert_eq!(ends[1].1.kind, failure, "the failure keeps its message");
    // After a cursor: only what came later; since a time: only what was written since.
    let after_first = store.run_ends(ends[0].0, 0, 10).await.expect("after");
    assert_eq!(after_first.len(), 2);
    assert_eq!(after_first[0].1.run_id, "b");
    let since = store.run_ends(0, 250, 10).await.expect("since");
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].1.run_id, "c");
    let limited = store.run_ends(0, 0, 1).await.expect("limited");
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0].1.run_id, "a");
}
