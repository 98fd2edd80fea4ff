//! The runs the daemon keeps, on SQLite and PostgreSQL: the queued run coordinator keeps
//! `max_concurrent_runs` and a tag limit under load (checked from the event log); run
//! monitoring fails a run whose process was killed, and a retry runs it again; `weft dev`
//! serves files, reloads them when they change and runs the daemon in its process.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::json;
use weft_tests::{Backend, Home, Server, TempDir, rust_guest};

use super::{hostile, now_ms, pass};

weft_tests::on_both_databases!(
    queued_runs_keep_the_limits_and_all_finish,
    a_run_whose_process_died_is_failed_by_monitoring_and_retried,
    weft_dev_serves_files_reloads_them_when_they_change_and_runs_the_daemon,
);

/// `weft daemon` passing every 50 ms until dropped.
struct RunningDaemon(std::process::Child);

impl RunningDaemon {
    fn start(home: &Home) -> Self {
        let child = std::process::Command::new(weft_tests::weft_bin())
            .args(["daemon", "--interval", "0.05"])
            .env("WEFT_HOME", &home.dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        RunningDaemon(child)
    }
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn queued_runs_keep_the_limits_and_all_finish(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config(
        "run_coordinator:\n  max_concurrent_runs: 3\n  tag_concurrency_limits:\n    - { key: domain, value: numbers, limit: 1 }\n",
    );
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let mut numbers = std::collections::BTreeSet::new();
    let ids: Vec<String> = (0..50)
        .map(|i| {
            let tags = if i % 5 == 0 {
                json!({ "domain": "numbers" })
            } else {
                json!({})
            };
            let id = server.launch(json!({
                "location": "hostile", "job": "slow_job", "tags": tags,
                "config": { "ops": { "sleepy": { "config": { "ms": 60 } } } }
            }));
            if i % 5 == 0 {
                numbers.insert(id.clone());
            }
            id
        })
        .collect();
    // Nothing starts without the daemon: the runs are queued.
    assert_eq!(
        server
            .get("/runs?status=QUEUED&limit=100")
            .as_array()
            .unwrap()
            .len(),
        50
    );

    let daemon = RunningDaemon::start(&home);
    for id in &ids {
        assert_eq!(server.wait(id)["status"], "SUCCESS");
    }
    drop(daemon);

    // From the event log, in the order it was written: how many runs were under way at
    // once, overall and with domain=numbers.
    let mut marks: Vec<(i64, i32, bool)> = Vec::new();
    for id in &ids {
        let events = server.events(id);
        let at = |t: &str| {
            events
                .iter()
                .find(|e| e["type"] == t)
                .and_then(|e| e["id"].as_i64())
                .unwrap()
        };
        let tagged = numbers.contains(id);
        marks.push((at("RUN_START"), 1, tagged));
        marks.push((at("RUN_SUCCESS"), -1, tagged));
    }
    marks.sort();
    let (mut all, mut tagged, mut most, mut most_tagged) = (0, 0, 0, 0);
    for (_, step, is_tagged) in marks {
        all += step;
        if is_tagged {
            tagged += step;
        }
        most = most.max(all);
        most_tagged = most_tagged.max(tagged);
    }
    assert!(most <= 3, "at most 3 runs at once, saw {most}");
    assert!(most >= 2, "runs did go side by side (saw {most})");
    assert_eq!(most_tagged, 1, "at most 1 run with domain=numbers at once");
}

fn a_run_whose_process_died_is_failed_by_monitoring_and_retried(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("run_monitoring: { heartbeat_timeout_seconds: 2 }\n");
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let run_id = server.launch(json!({
        "location": "hostile", "job": "slow_job", "tags": { "weft/max_retries": "1" },
        "config": { "ops": { "sleepy": { "config": { "ms": 3000 } } } }
    }));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !server
        .events(&run_id)
        .iter()
        .any(|e| e["type"] == "STEP_START")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The server executing the run is killed (SIGKILL): the run stays STARTED.
    drop(server);

    let done = pass(&home, now_ms() + 10_000);
    assert!(done["leader"].as_bool().unwrap(), "{done}");
    let server = Server::start(&home, &[]);
    let run = server.get(&format!("/runs/{run_id}"));
    assert_eq!(run["status"], "FAILURE", "{run}");
    let events = server.events(&run_id);
    let failure = events.iter().find(|e| e["type"] == "RUN_FAILURE").unwrap();
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("no heartbeat"),
        "{failure}"
    );

    // The retry ran (in the daemon's pass) and succeeded.
    let retries = server.get(&format!("/runs?tag=weft/parent_run_id={run_id}"));
    let retries = retries.as_array().unwrap();
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(retries[0]["status"], "SUCCESS");
    assert_eq!(retries[0]["tags"]["weft/retry_number"], "1");
    // No second retry: the retry succeeded, and the parent has had its one.
    pass(&home, now_ms() + 20_000);
    assert_eq!(
        server
            .get(&format!("/runs?tag=weft/parent_run_id={run_id}"))
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn weft_dev_serves_files_reloads_them_when_they_change_and_runs_the_daemon(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let dir = TempDir::new("dev");
    let file = dir.join("numbers.wasm");
    let bytes = std::fs::read(rust_guest("numbers")).unwrap();
    std::fs::write(&file, &bytes).unwrap();
    let granted = "https://api.example.com";
    let server = Server::dev(&home, &[file.to_str().unwrap(), "--grant-host", granted]);
    let first = server.get("/locations/numbers")["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    // The flag's grant is the location's, and shown as such.
    assert_eq!(
        server.get("/locations")[0]["hosts"],
        serde_json::json!([granted])
    );

    // A rebuilt component (a new digest) is live within seconds, without a restart.
    std::fs::write(&file, weft_tests::with_custom_section(&bytes, "rebuilt")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now = server.get("/locations/numbers")["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        if now != first {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the change was never picked up"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A broken file is reported and the location keeps its version.
    let live = server.get("/locations/numbers")["digest"].clone();
    std::fs::write(&file, b"not wasm").unwrap();
    server.wait_for_stderr("warning: code location numbers");
    assert_eq!(server.get("/locations/numbers")["digest"], live);

    // The daemon runs in the same process: a sensor turned on is evaluated within seconds.
    let (status, _) = server.call("POST", "/sensors/numbers/check_file_sensor/start", None);
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let ticks = server.get("/sensors/numbers/check_file_sensor/ticks");
        if let Some(tick) = ticks.as_array().unwrap().first() {
            assert_eq!(tick["skip_reason"], "check file not exists");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sensor was never evaluated"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
