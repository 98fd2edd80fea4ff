//! The daemon and the launcher on real storage (SQLite in a temporary directory) with a
//! Rust stand-in for the code location and a clock the tests set: ticks, the run
//! coordinator and run monitoring, without a guest or a `weft` process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use weft_core::defs::{Definitions, Tags, Value};
use weft_core::events::{EventKind, FailureKind, RunStatus};
use weft_core::grants::Sandbox;
use weft_core::instigator::{InstigatorKind, TickStatus};
use weft_core::ports::{
    CodeLocation, HookAttempt, HookRequest, HookRunner, LoadError, LocationLoader, RunRequest,
    ScheduleTick, SensorTick, StepAttempt, StepFailure, StepOutput, StepRequest, StepRunner,
};
use weft_core::run::{EndedRun, RunFilter, RunRecord};
use weft_engine::io::InMemoryIoManager;
use weft_store::Store;

use crate::control::Control;
use crate::daemon::Daemon;
use crate::{Instance, Services};

/// A location whose one op answers at once (or fails, in a run tagged `fail`), whose
/// sensors ask for a run keyed `once` (`slow` after 1.5 s), with a schedule every minute,
/// one whose cron is not one, and one (`two_runs`) that asks for two runs without keys.
#[derive(Debug)]
struct Hello {
    definitions: Definitions,
    steps: Arc<AtomicU32>,
}

impl StepRunner for Hello {
    fn run_step(&self, request: &StepRequest, _cancel: &weft_core::Cancel) -> StepAttempt {
        self.steps.fetch_add(1, Ordering::SeqCst);
        if request.tags.contains_key("fail") {
            return StepAttempt::failed("asked to fail", FailureKind::Error, false);
        }
        StepAttempt {
            result: Ok(vec![StepOutput {
                name: "result".into(),
                value: Value::json("1"),
                metadata: Default::default(),
                mapping_key: None,
            }]),
            logs: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            cost: None,
            check: None,
        }
    }
}

impl HookRunner for Hello {
    fn run_hook(&self, request: &HookRequest, _cancel: &weft_core::Cancel) -> HookAttempt {
        HookAttempt {
            result: Err(StepFailure {
                message: format!("hello defines no hook {}", request.hook),
                kind: FailureKind::Error,
                retryable: false,
            }),
            logs: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }
}

impl CodeLocation for Hello {
    fn name(&self) -> &str {
        "hello"
    }

    fn digest(&self) -> &str {
        "d1"
    }

    fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    fn evaluate_sensor(
        &self,
        name: &str,
        _cursor: Option<String>,
        _last_evaluation_ms: Option<u64>,
        _run: Option<&EndedRun>,
    ) -> Result<SensorTick, StepFailure> {
        if name == "slow" {
            std::thread::sleep(std::time::Duration::from_millis(1500));
        }
        Ok(SensorTick {
            run_requests: vec![RunRequest {
                run_key: Some("once".into()),
                job: None,
                config: None,
                tags: Tags::new(),
            }],
            skip_reason: None,
            cursor: Some("c1".into()),
            logs: Vec::new(),
        })
    }

    fn evaluate_schedule(&self, _: &str, _: u64) -> Result<ScheduleTick, StepFailure> {
        // `two_runs`, the one schedule that evaluates: two requests without run keys.
        let keyless = || RunRequest {
            run_key: None,
            job: None,
            config: None,
            tags: Tags::new(),
        };
        Ok(ScheduleTick::Run(vec![keyless(), keyless()]))
    }
}

struct Loader(Arc<AtomicU32>);

impl LocationLoader for Loader {
    fn load(&self, _: &str, _: &[u8], _: Sandbox) -> Result<Arc<dyn CodeLocation>, LoadError> {
        let definitions = serde_json::from_value(serde_json::json!({
            "ops": [{"name": "hello", "inputs": [], "outputs": [{"name": "result"}]}],
            "jobs": [{"name": "hello_job", "nodes": [{"name": "hello", "op": "hello", "inputs": []}]}],
            "sensors": [
                {"name": "s", "job": "hello_job", "minimum_interval_seconds": 30},
                {"name": "slow", "job": "hello_job", "minimum_interval_seconds": 30},
            ],
            "schedules": [
                {"name": "every_minute", "job": "hello_job", "cron": "* * * * *"},
                {"name": "broken", "job": "hello_job", "cron": "not a cron"},
                {"name": "two_runs", "job": "hello_job", "cron": "* * * * *", "evaluates": true},
            ],
        }))
        .map_err(|e| LoadError::Component(e.to_string()))?;
        Ok(Arc::new(Hello {
            definitions,
            steps: self.0.clone(),
        }))
    }

    fn precompile(&self, _: &[u8]) -> Result<(), LoadError> {
        Ok(())
    }

    fn engine_key(&self) -> &str {
        "test"
    }

    fn cache_path(&self, digest: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("weft-test-{digest}.cwasm"))
    }
}

/// Services on a fresh SQLite database under weft.yaml `yaml`, with the stand-in
/// location; and how many steps it ran.
async fn services(yaml: &str) -> (Services, Arc<AtomicU32>) {
    let home = std::env::temp_dir().join(format!("weft-server-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&home).expect("home");
    let instance = Instance::new(home.clone(), serde_yaml_ng::from_str(yaml).expect("yaml"));
    let store = Store::open_sqlite(&home.join("weft.db"))
        .await
        .expect("store");
    let steps = Arc::new(AtomicU32::new(0));
    let io = Box::new(InMemoryIoManager::default());
    let loader = Arc::new(Loader(steps.clone()));
    let services = Services::assemble(instance, Arc::new(store), io, loader)
        .await
        .expect("services");
    (services, steps)
}

/// [`services`] with the stand-in location uploaded as `hello`, and its control plane.
async fn services_with_hello(yaml: &str) -> (Services, Arc<AtomicU32>, Arc<Control>) {
    let (services, steps) = services(yaml).await;
    let control = Arc::new(services.control());
    control
        .upload("hello", b"component".to_vec())
        .await
        .expect("upload");
    (services, steps, control)
}

fn run(run_id: &str, status: RunStatus, created_ms: i64) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        job: "hello_job".into(),
        location: "hello".into(),
        digest: "d1".into(),
        status,
        tags: Tags::new(),
        config: serde_json::json!({}),
        asset_selection: None,
        created_ms,
        started_ms: None,
        finished_ms: None,
        heartbeat_ms: None,
        progress_ms: None,
    }
}

async fn status(services: &Services, run_id: &str) -> RunStatus {
    let run = services.store.run(run_id).await.expect("read");
    run.expect("stored").status
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_fails_runs_that_went_silent_or_never_started() {
    let (services, _) = services("run_monitoring: {heartbeat_timeout_seconds: 60}").await;
    let daemon = Daemon::new(&services, Arc::new(services.control()));
    let store = &services.store;
    store
        .create_run(&run("silent", RunStatus::Started, 0))
        .await
        .expect("create");
    store
        .create_run(&run("waiting", RunStatus::NotStarted, 0))
        .await
        .expect("create");
    store
        .create_run(&run("fresh", RunStatus::Started, 170_000))
        .await
        .expect("create");
    store
        .heartbeat(&["silent".into()], 100_000)
        .await
        .expect("beat");

    let pass = daemon.pass(170_001).await.expect("pass");
    assert!(pass.leader);
    assert_eq!(status(&services, "silent").await, RunStatus::Failure);
    assert_eq!(status(&services, "fresh").await, RunStatus::Started);
    // The start timeout (180 s by default) has not passed for the run not started.
    assert_eq!(status(&services, "waiting").await, RunStatus::NotStarted);
    let events = store.events("silent", 0, 100).await.expect("events");
    let said = events.iter().find_map(|(_, e)| match &e.kind {
        EventKind::RunFailure { message } => Some(message.clone()),
        _ => None,
    });
    assert!(
        said.as_deref()
            .is_some_and(|m| m.contains("no heartbeat for 70 s")),
        "{said:?}"
    );

    daemon.pass(180_001).await.expect("pass");
    assert_eq!(status(&services, "waiting").await, RunStatus::Failure);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sensor_launches_each_run_key_once_and_records_its_ticks() {
    let (services, steps, control) = services_with_hello("{}").await;
    control
        .set_instigator(InstigatorKind::Sensor, "hello", "s", true)
        .await
        .expect("start");
    let daemon = Daemon::new(&services, control.clone());
    let on = weft_core::now_ms();

    // Turned on and never evaluated: evaluated at the first pass.
    let tick = daemon.pass(on + 1_000).await.expect("pass").ticks;
    assert_eq!(tick.len(), 1, "{tick:?}");
    assert_eq!(
        (tick[0].status, tick[0].run_ids.len()),
        (TickStatus::Success, 1)
    );
    services.launcher.wait_for_runs().await;
    assert_eq!(
        status(&services, &tick[0].run_ids[0]).await,
        RunStatus::Success
    );
    assert_eq!(steps.load(Ordering::SeqCst), 1);

    // Its minimum interval (30 s) has not passed: not evaluated.
    let early = daemon.pass(on + 2_000).await.expect("pass");
    assert!(early.ticks.is_empty(), "{:?}", early.ticks);

    // The same run key again: the tick is recorded, no second run is launched.
    let again = daemon.pass(on + 32_000).await.expect("pass").ticks;
    assert_eq!(again.len(), 1);
    assert!(again[0].run_ids.is_empty(), "{again:?}");
    let runs = services
        .store
        .runs(&RunFilter::default())
        .await
        .expect("runs");
    assert_eq!(runs.len(), 1);
    let ticks = control.ticks("hello", "s", None, 10).await.expect("ticks");
    assert_eq!(ticks.len(), 2);
    assert_eq!(ticks[0].cursor.as_deref(), Some("c1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn queued_runs_start_within_the_coordinators_limit() {
    let (services, steps, control) =
        services_with_hello("run_coordinator: {max_concurrent_runs: 1}").await;
    let launch = || weft_api::LaunchRequest {
        job: Some("hello_job".into()),
        ..weft_api::LaunchRequest::default()
    };
    let first = control.launch(launch()).await.expect("launch");
    let second = control.launch(launch()).await.expect("launch");
    assert_eq!(status(&services, &first).await, RunStatus::Queued);
    assert_eq!(status(&services, &second).await, RunStatus::Queued);

    let daemon = Daemon::new(&services, control.clone());
    daemon.pass(weft_core::now_ms()).await.expect("pass");
    let statuses = [
        status(&services, &first).await,
        status(&services, &second).await,
    ];
    assert_eq!(
        statuses.iter().filter(|s| **s == RunStatus::Queued).count(),
        1,
        "one run starts, one waits: {statuses:?}"
    );
    services.launcher.wait_for_runs().await;
    daemon.pass(weft_core::now_ms()).await.expect("pass");
    services.launcher.wait_for_runs().await;
    assert_eq!(status(&services, &first).await, RunStatus::Success);
    assert_eq!(status(&services, &second).await, RunStatus::Success);
    assert_eq!(steps.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_launcher_records_a_run_it_was_given_and_forgets_it_once_ended() {
    let (services, _, control) = services_with_hello("{}").await;
    let request = weft_api::LaunchRequest {
        job: Some("hello_job".into()),
        ..weft_api::LaunchRequest::default()
    };
    let run_id = control.launch(request).await.expect("launch");
    services.launcher.wait_for_runs().await;
    assert!(!services.launcher.runs_here(&run_id));
    assert!(
        !services.launcher.cancel_here(&run_id),
        "nothing to cancel once ended"
    );
    assert_eq!(status(&services, &run_id).await, RunStatus::Success);
    let cancel = control.cancel(&run_id).await.expect_err("ended");
    assert_eq!(cancel.kind, crate::ErrorKind::Conflict);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_runs_its_latest_due_tick_once_and_a_bad_cron_fails_its_tick() {
    let (services, steps, control) = services_with_hello("{}").await;
    for name in ["every_minute", "broken"] {
        control
            .set_instigator(InstigatorKind::Schedule, "hello", name, true)
            .await
            .expect("start");
    }
    let daemon = Daemon::new(&services, control.clone());
    let on = weft_core::now_ms();

    // Three minutes on: the latest minute only (the default catch-up), and the broken one
    // says why, without stopping the pass.
    let ticks = daemon.pass(on + 180_000).await.expect("pass").ticks;
    let every: Vec<_> = ticks.iter().filter(|t| t.name == "every_minute").collect();
    assert_eq!(every.len(), 1, "{ticks:?}");
    let scheduled = every[0].scheduled_ms.expect("scheduled");
    assert_eq!(scheduled % 60_000, 0);
    assert!(
        scheduled > on + 120_000 && scheduled <= on + 180_000,
        "{scheduled}"
    );
    assert_eq!(
        (every[0].status, every[0].run_ids.len()),
        (TickStatus::Success, 1)
    );
    let broken: Vec<_> = ticks.iter().filter(|t| t.name == "broken").collect();
    assert_eq!(broken.len(), 1, "{ticks:?}");
    assert_eq!(broken[0].status, TickStatus::Failure);
    assert!(broken[0].error.is_some());
    services.launcher.wait_for_runs().await;
    let run = services
        .store
        .run(&every[0].run_ids[0])
        .await
        .expect("read")
        .expect("run");
    assert_eq!(run.status, RunStatus::Success);
    assert_eq!(
        run.tags.get("weft/schedule_name").map(String::as_str),
        Some("every_minute")
    );
    assert_eq!(steps.load(Ordering::SeqCst), 1);

    // The same time again: nothing is due.
    let again = daemon.pass(on + 180_000).await.expect("pass").ticks;
    assert!(again.iter().all(|t| t.name == "broken"), "{again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_is_retried_up_to_its_max_retries() {
    let (services, steps, control) = services_with_hello("{}").await;
    let request = weft_api::LaunchRequest {
        job: Some("hello_job".into()),
        tags: [("fail", "yes"), ("weft/max_retries", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..weft_api::LaunchRequest::default()
    };
    let first = control.launch(request).await.expect("launch");
    services.launcher.wait_for_runs().await;
    assert_eq!(status(&services, &first).await, RunStatus::Failure);

    let daemon = Daemon::new(&services, control.clone());
    for _ in 0..3 {
        daemon.pass(weft_core::now_ms()).await.expect("pass");
        services.launcher.wait_for_runs().await;
    }
    let runs = services
        .store
        .runs(&RunFilter::default())
        .await
        .expect("runs");
    assert_eq!(runs.len(), 2, "one retry, then no more: {runs:?}");
    let retry = runs.iter().find(|r| r.run_id != first).expect("the retry");
    assert_eq!(retry.tags.get("weft/parent_run_id"), Some(&first));
    assert_eq!(
        retry.tags.get("weft/retry_number").map(String::as_str),
        Some("1")
    );
    assert_eq!(retry.status, RunStatus::Failure);
    assert_eq!(steps.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tick_asking_for_runs_without_keys_launches_each_once() {
    let (services, steps, control) = services_with_hello("{}").await;
    control
        .set_instigator(InstigatorKind::Schedule, "hello", "two_runs", true)
        .await
        .expect("start");
    let daemon = Daemon::new(&services, control.clone());
    let at = weft_core::now_ms() + 60_000;
    let ticks = daemon.pass(at).await.expect("pass").ticks;
    let tick = ticks.iter().find(|t| t.name == "two_runs").expect("a tick");
    assert_eq!(
        (tick.status, tick.run_ids.len()),
        (TickStatus::Success, 2),
        "{tick:?}"
    );
    services.launcher.wait_for_runs().await;
    assert_eq!(steps.load(Ordering::SeqCst), 2);
    let runs = services
        .store
        .runs(&RunFilter::default())
        .await
        .expect("runs");
    let keys: Vec<_> = runs
        .iter()
        .filter_map(|r| r.tags.get("weft/run_key").cloned())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_ne!(keys[0], keys[1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_keeps_its_lease_through_a_pass_longer_than_the_lease() {
    let (services, _, control) = services_with_hello("{}").await;
    control
        .set_instigator(InstigatorKind::Sensor, "hello", "slow", true)
        .await
        .expect("start");
    // A lease of 900 ms; the slow sensor's evaluation takes 1.5 s.
    let first = Daemon::new(&services, control.clone()).with_lease_ttl(900);
    let second = Daemon::new(&services, control.clone()).with_lease_ttl(900);
    let now = weft_core::now_ms();
    let passing = tokio::spawn({
        let first = first.clone();
        async move { first.pass(now).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let meanwhile = second.pass(now + 1000).await.expect("pass");
    assert!(
        !meanwhile.leader,
        "another daemon took the lease of a pass under way"
    );
    let pass = passing.await.expect("join").expect("pass");
    assert!(pass.leader);
    assert!(
        pass.ticks.iter().any(|t| t.name == "slow"),
        "{:?}",
        pass.ticks
    );
}
