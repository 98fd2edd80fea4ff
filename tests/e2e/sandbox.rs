//! Hostile guests (tests/guests/hostile): each misbehaviour fails its own step with a clear
//! message, and neither the host nor a run beside it is harmed. Also retries, config, and
//! compute logs, which the same guest exercises.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::time::Duration;
use weft_core::Cancel;

use serde_json::json;
use weft_core::config::RunConfig;
use weft_core::plan::plan_job;
use weft_core::ports::CodeLocation as _;
use weft_engine::executor::{Executor, ExecutorKind, RunOutcome, RunSpec};
use weft_engine::io::{FsComputeLogs, InMemoryIoManager};
use weft_engine::writer::EventSink;
use weft_tests::{Home, TempDir, rust_guest, types_of};
use weft_wasm::{Sandbox, WasmHost};

fn hostile() -> String {
    rust_guest("hostile").display().to_string()
}

/// Runs a hostile job through the CLI and returns (exit code, the failed step's error).
fn fails(home: &Home, job: &str, step: &str) -> String {
    let run = home.weft_json(
        &[
            "run",
            &hostile(),
            "--job",
            job,
            "--timeout",
            "2",
            "--memory-mb",
            "64",
        ],
        1,
    );
    assert_eq!(run["status"], "FAILURE", "{job}");
    assert_eq!(run["steps"][step]["status"], "FAILURE", "{job}");
    run["steps"][step]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_panic_fails_the_step_with_the_panic_message() {
    let home = Home::new();
    let error = fails(&home, "panics", "panic_op");
    assert!(error.starts_with("panicked: boom"), "{error}");
}

#[test]
fn an_endless_loop_is_stopped_at_its_deadline() {
    let home = Home::new();
    let error = fails(&home, "loops_forever", "loop_op");
    assert!(
        error.starts_with("timed out after 2s: still running at its deadline"),
        "{error}"
    );
}

#[test]
fn eating_memory_stops_at_the_limit() {
    let home = Home::new();
    let error = fails(&home, "eats_memory", "memory_op");
    assert!(
        error.starts_with("out of memory: the guest asked for"),
        "{error}"
    );
    assert!(error.contains("over its limit of 64 MiB"), "{error}");
}

#[test]
fn unbounded_recursion_traps() {
    let home = Home::new();
    let error = fails(&home, "recurses", "recurse_op");
    assert!(error.contains("stack"), "{error}");
}

#[test]
fn no_filesystem_or_environment_without_a_grant() {
    let home = Home::new();
    let error = fails(&home, "reads_passwd", "passwd_op");
    assert!(
        error.starts_with("/etc/passwd: No such file or directory"),
        "{error}"
    );
    // The variable is set in weft's own environment, but not granted.
    let out = std::process::Command::new(weft_tests::weft_bin())
        .args(["run", &hostile(), "--job", "reads_env", "--json"])
        .env("WEFT_HOME", &home.dir.0)
        .env("SECRET_TOKEN", "hunter2")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("SECRET_TOKEN: environment variable not found"),
        "{stdout}"
    );
    assert!(!stdout.contains("hunter2"));
}

#[test]
fn a_granted_env_var_reaches_the_guest() {
    let home = Home::new();
    let out = std::process::Command::new(weft_tests::weft_bin())
        .args([
            "run",
            &hostile(),
            "--job",
            "reads_env",
            "--grant-env",
            "SECRET_TOKEN",
            "--json",
        ])
        .env("WEFT_HOME", &home.dir.0)
        .env("SECRET_TOKEN", "hunter2")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let run: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(run["steps"]["env_op"]["outputs"]["result"], "hunter2");
}

#[test]
fn a_failed_step_skips_its_downstream_and_shows_in_the_logs() {
    let home = Home::new();
    let run = home.weft_json(&["run", &hostile(), "--job", "panics"], 1);
    let run_id = run["run_id"].as_str().unwrap();
    let events = home.events(run_id);
    assert_eq!(types_of(&events, None), ["RUN_START", "RUN_FAILURE"]);
    let failure = events.iter().find(|e| e["type"] == "RUN_FAILURE").unwrap();
    assert!(
        failure["message"]
            .as_str()
            .unwrap_or_default()
            .contains("panic_op failed: panicked: boom")
    );
    // The panic message is in the step's compute logs (stderr).
    let logs = home.weft_json(&["logs", run_id, "--step", "panic_op"], 0);
    assert!(
        logs[0]["stderr"]
            .as_str()
            .unwrap_or_default()
            .contains("boom"),
        "{logs}"
    );
}

#[test]
fn an_op_that_fails_twice_succeeds_on_its_third_attempt() {
    let home = Home::new();
    let run = home.weft_json(&["run", &hostile(), "--job", "flaky_job"], 0);
    assert_eq!(run["steps"]["flaky"]["outputs"]["result"], "ok");
    assert_eq!(run["steps"]["flaky"]["attempts"], 3);
    let events = home.events(run["run_id"].as_str().unwrap());
    assert_eq!(
        types_of(&events, Some("flaky")),
        [
            "STEP_START",
            "STEP_UP_FOR_RETRY",
            "STEP_START",
            "STEP_UP_FOR_RETRY",
            "STEP_START",
            "STEP_OUTPUT",
            "STEP_SUCCESS"
        ]
    );
}

#[test]
fn run_config_reaches_the_op() {
    let home = Home::new();
    let defs = home.weft_json(&["check", &hostile()], 0);
    let job = defs["definitions"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "config_job")
        .cloned()
        .unwrap();
    let step = job["nodes"][0]["name"].as_str().unwrap().to_owned();
    let config = json!({"ops": {step.clone(): {"config": {"factor": 6}}}}).to_string();
    let run = home.weft_json(
        &[
            "run",
            &hostile(),
            "--job",
            "config_job",
            "--config",
            &config,
        ],
        0,
    );
    assert_eq!(run["steps"][&step]["outputs"]["result"], json!(42));
    // What the op logged is in the run's logs.
    let logs = home.weft_json(
        &["logs", run["run_id"].as_str().unwrap(), "--step", &step],
        0,
    );
    assert_eq!(logs[0]["logs"][0]["message"], "factor = 6", "{logs}");
    assert_eq!(logs[0]["logs"][0]["level"], "info");
}

/// Drops every event: these runs are checked through their outcome.
struct Discard;

impl EventSink for Discard {
    fn emit(&self, _: Vec<weft_core::Event>) {}
}

#[test]
fn the_host_survives_hostile_steps_while_a_run_beside_them_succeeds() {
    let cache = TempDir::new("cache");
    let logs = TempDir::new("logs");
    let host = WasmHost::new(cache.0.clone()).unwrap();
    let bytes = std::fs::read(rust_guest("hostile")).unwrap();
    let sandbox = Sandbox {
        timeout: Duration::from_secs(2),
        memory_limit_bytes: 64 << 20,
        ..Sandbox::default()
    };
    let location = host.load("hostile", &bytes, sandbox).unwrap();
    let io = InMemoryIoManager::default();
    let compute_logs = FsComputeLogs::new(&logs.0);
    let cancel = Cancel::new();
    let run = |job: &str| -> RunOutcome {
        let plan = plan_job(location.definitions(), job).unwrap();
        let config = RunConfig::default();
        let tags = Default::default();
        let spec = RunSpec {
            run_id: job,
            plan: &plan,
            config: &config,
            tags: &tags,
        };
        let executor = Executor {
            runner: &location,
            hooks: &location,
            io: &io,
            compute_logs: &compute_logs,
            sink: &Discard,
            cancel: &cancel,
        };
        executor.execute(&spec, ExecutorKind::InProcess)
    };
    std::thread::scope(|s| {
        let hostile: Vec<_> = [
            "panics",
            "loops_forever",
            "eats_memory",
            "recurses",
            "reads_passwd",
        ]
        .into_iter()
        .map(|job| (job, s.spawn(move || run(job))))
        .collect();
        // Beside them, in the same process and on the same loaded location.
        let ok = run("ok_job");
        assert_eq!(ok.status, weft_core::RunStatus::Success, "{ok:?}");
        for (job, handle) in hostile {
            let outcome = handle.join().expect("the host thread survived");
            assert_eq!(outcome.status, weft_core::RunStatus::Failure, "{job}");
        }
    });
    // And the location still serves steps afterwards.
    assert_eq!(run("ok_job").status, weft_core::RunStatus::Success);
}
