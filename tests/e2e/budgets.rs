//! The guest boundary holds under a hostile guest (tests/guests/hostile, and the Rust
//! conformance location's `flood` and `huge`): a deadline bounds
//! a step's wall time even inside a blocking host call; a log flood costs its own step,
//! not the host's memory; an output over its budget fails the step; an upload whose
//! `definitions.get` never ends is refused; an endless schedule does not hold up another,
//! nor an endless sensor the daemon's next passes; and a cancel (from the API or `weft runs cancel`) stops a step in flight, in process and
//! in a step's process.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_tests::{Backend, Home, Server, TempDir, rust_guest, rust_guest_bytes, types_of};

weft_tests::on_both_databases!(
    a_blocking_sleep_ends_at_the_deadline,
    a_log_flood_is_cut_and_the_host_stays_flat,
    an_output_over_its_budget_fails_its_step,
    an_upload_whose_definitions_never_end_is_refused,
    an_endless_schedule_does_not_hold_up_another,
    an_endless_sensor_does_not_hold_up_the_next_passes,
    cancel_stops_a_step_in_flight_in_process_and_in_its_process,
);

/// The hostile location.
fn hostile() -> String {
    rust_guest("hostile").display().to_string()
}

/// The Rust conformance location, whose `flood` and `huge` ops push through the host.
fn conformance() -> String {
    super::conformance_errors::location("rust")
}

/// `weft run WASM --job JOB` with `args`; the run's JSON and how long it took.
fn run(home: &Home, wasm: &str, job: &str, config: Value, args: &[&str]) -> (Value, Duration) {
    let config = config.to_string();
    let mut all = vec!["run", wasm, "--job", job, "--json", "--config", &config];
    all.extend_from_slice(args);
    let start = Instant::now();
    let out = home.weft(&all);
    let took = start.elapsed();
    let json = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", out.stdout, out.stderr));
    (json, took)
}

fn a_blocking_sleep_ends_at_the_deadline(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    // Compiled once first, so that the time below is the run's, not the compiler's.
    home.weft(["check", &hostile()]);
    let sleep_20s = json!({ "ops": { "sleepy": { "config": { "ms": 20_000 } } } });
    let (run, took) = run(
        &home,
        &hostile(),
        "slow_job",
        sleep_20s,
        &["--timeout", "1"],
    );
    assert_eq!(run["status"], "FAILURE", "{run}");
    let error = run["steps"]["sleepy"]["error"].as_str().unwrap();
    assert!(error.starts_with("timed out after 1s"), "{error}");
    assert!(took < Duration::from_secs(3), "a 20 s sleep took {took:?}");
    // What the step cost is shown with its failure: the sleep was host-call time.
    let shown = home.weft(["runs", "show", run["run_id"].as_str().unwrap()]);
    let cost = shown
        .stdout
        .lines()
        .find(|l| l.contains("cost: guest"))
        .unwrap_or_default();
    let host_ms: f64 = cost
        .split("host calls (")
        .nth(1)
        .and_then(|rest| rest.split(" ms)").next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_default();
    assert!(host_ms > 900.0, "{}", shown.stdout);
}

/// Runs `weft ARGS --json` (a `weft run`); returns the run and the highest resident
/// memory of the `weft` process, read from `/proc` while it ran.
pub(super) fn run_watching_memory(home: &Home, args: &[&str]) -> (Value, u64) {
    let child = std::process::Command::new(weft_tests::weft_bin())
        .args(args)
        .arg("--json")
        .env("WEFT_HOME", &home.dir.0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let watcher = std::thread::spawn(move || {
        let mut peak_kb = 0u64;
        while let Ok(text) = std::fs::read_to_string(&status) {
            let rss = text
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            match rss {
                Some(kb) => peak_kb = peak_kb.max(kb),
                None => break, // a zombie: it ended
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        peak_kb
    });
    let out = child.wait_with_output().unwrap();
    let peak_kb = watcher.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let run: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    (run, peak_kb << 10)
}

/// The log flood of `lines` lines with fields of `field_bytes`, watched.
fn flood(home: &Home, lines: u64, field_bytes: u64) -> (Value, u64) {
    let wasm = conformance();
    let config = json!({ "ops": { "flood": { "config": {
        "lines": lines, "field_bytes": field_bytes } } } })
    .to_string();
    run_watching_memory(
        home,
        &["run", &wasm, "--job", "flood_job", "--config", &config],
    )
}

fn a_log_flood_is_cut_and_the_host_stays_flat(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    // Compiled once first, so that the compiler's memory is not counted below.
    home.weft(["check", &conformance()]);
    // 2 GiB through log fields: 2,048 lines of 1 MiB each.
    let (big, peak) = flood(&home, 2048, 1 << 20);
    assert_eq!(big["status"], "SUCCESS", "{big}");
    assert!(
        peak < 300 << 20,
        "the host reached {} MiB RSS while the guest logged 2 GiB",
        peak >> 20
    );
    let run_id = big["run_id"].as_str().unwrap();
    let events = home.events(run_id);
    let logs: Vec<&Value> = events.iter().filter(|e| e["type"] == "LOG").collect();
    let first = logs[0];
    assert_eq!(first["fields"]["weft.cut"], "983053 bytes", "{first}");
    let last = logs.last().unwrap();
    let dropped = last["message"].as_str().unwrap();
    assert!(
        dropped.contains("log lines") && dropped.contains("were dropped"),
        "{dropped}"
    );
    assert_eq!(last["level"], "warning");
    // What the step cost says what it logged, all of it.
    let success = events.iter().find(|e| e["type"] == "STEP_SUCCESS").unwrap();
    assert_eq!(
        success["cost"]["log_bytes"].as_u64(),
        Some(2048 * ((1 << 20) + "payload".len() as u64) + 6 * 10 + 7 * 90 + 8 * 900 + 9 * 1048),
        "{success}"
    );

    // 10⁶ small lines: the first 10,000 are kept, the rest counted.
    let (many, peak) = flood(&home, 1_000_000, 10);
    assert_eq!(many["status"], "SUCCESS", "{many}");
    assert!(peak < 300 << 20, "{} MiB", peak >> 20);
    let events = home.events(many["run_id"].as_str().unwrap());
    let logs: Vec<&Value> = events.iter().filter(|e| e["type"] == "LOG").collect();
    assert_eq!(logs.len(), 10_001);
    assert_eq!(logs[10_000]["fields"]["weft.dropped_lines"], "990000");
}

fn an_output_over_its_budget_fails_its_step(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let config = json!({ "ops": { "huge": { "config": { "mb": 400 } } } });
    let (big, _) = run(
        &home,
        &conformance(),
        "huge_job",
        config,
        &["--memory-mb", "2048"],
    );
    assert_eq!(big["status"], "FAILURE", "{big}");
    let error = big["steps"]["huge"]["error"].as_str().unwrap();
    assert!(
        error.contains("the guest handed the host more than 65 MiB at once"),
        "{error}"
    );
    let events = home.events(big["run_id"].as_str().unwrap());
    let failure = events.iter().find(|e| e["type"] == "STEP_FAILURE").unwrap();
    assert_eq!(failure["kind"], "budget");
    // Just over the budget, but under what one transfer may carry: the same failure.
    let config = json!({ "ops": { "huge": { "config": { "mb": 2 } } } });
    let (over, _) = run(
        &home,
        &conformance(),
        "huge_job",
        config.clone(),
        &["--output-mb", "2"],
    );
    let error = over["steps"]["huge"]["error"].as_str().unwrap();
    assert!(
        error.contains("over the step's output budget of 2 MiB (limit output_mb)"),
        "{error}"
    );
    // Within a raised budget, it is stored.
    let (small, _) = run(
        &home,
        &conformance(),
        "huge_job",
        config,
        &["--output-mb", "3"],
    );
    assert_eq!(small["status"], "SUCCESS", "{small}");
}

fn an_upload_whose_definitions_never_end_is_refused(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config(
        "sandbox: { evaluation_timeout_seconds: 1 }\nlocations:\n  endless:\n    \
         environment: { WEFT_ENDLESS_DEFINITIONS: \"1\" }\n",
    );
    let server = Server::start(&home, &[]);
    let start = Instant::now();
    let wasm = (rust_guest_bytes("hostile"), "application/wasm");
    let (status, answer) = server.call("POST", "/locations/endless", Some(wasm));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(status, 422, "{answer}");
    let message = answer["error"].as_str().unwrap_or_default();
    assert!(message.contains("timed out after 1s"), "{answer}");
    assert_eq!(server.get("/locations"), json!([]), "nothing was stored");
    // The same bytes under another name, without the variable, load.
    server.upload("hostile", &rust_guest_bytes("hostile"));
}

fn an_endless_schedule_does_not_hold_up_another(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("sandbox: { evaluation_timeout_seconds: 2 }\n");
    let server = Server::start(&home, &[]);
    server.upload("hostile", &rust_guest_bytes("hostile"));
    for name in ["endless_decision", "scaled_on_even_minutes"] {
        let path = format!("/schedules/hostile/{name}/start");
        assert_eq!(server.call("POST", &path, None).0, 200);
    }
    let now = super::daemon::now_ms() + 61_000;
    let start = Instant::now();
    let pass = super::daemon::pass(&home, now);
    let took = start.elapsed();
    let ticks = pass["ticks"].as_array().unwrap();
    let tick = |name: &str| ticks.iter().find(|t| t["name"] == name).unwrap();
    let endless = tick("endless_decision");
    assert_eq!(endless["status"], "FAILURE", "{pass}");
    let error = endless["error"].as_str().unwrap();
    assert!(error.starts_with("timed out after 2s"), "{error}");
    // The other schedule was decided (a run or a skip) while the endless one ran on.
    let other = tick("scaled_on_even_minutes");
    assert_ne!(other["status"], "FAILURE", "{pass}");
    assert!(took < Duration::from_secs(4), "the pass took {took:?}");
}

fn an_endless_sensor_does_not_hold_up_the_next_passes(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("sandbox: { evaluation_timeout_seconds: 8 }\n");
    let dir = TempDir::new("endless-sensor");
    let file = dir.join("hostile.wasm");
    std::fs::copy(rust_guest("hostile"), &file).unwrap();
    // `weft dev` runs the daemon, a pass every second.
    let server = Server::dev(&home, &[file.to_str().unwrap()]);
    for name in ["endless_sensor", "ticking_sensor"] {
        let path = format!("/sensors/hostile/{name}/start");
        assert_eq!(server.call("POST", &path, None).0, 200);
    }
    let ticks = |name: &str| {
        let ticks = server.get(&format!("/sensors/hostile/{name}/ticks"));
        ticks.as_array().cloned().unwrap_or_default()
    };
    // Its evaluation is stopped at its deadline, and says so.
    let waiting = Instant::now();
    let failed = loop {
        if let Some(tick) = ticks("endless_sensor").first().cloned() {
            break tick;
        }
        assert!(waiting.elapsed() < Duration::from_secs(40), "never stopped");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(failed["status"], "FAILURE", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("timed out after 8s"), "{error}");
    // Meanwhile the other one ticked pass after pass (a tick's time is its pass's).
    let started = failed["timestamp_ms"].as_i64().unwrap();
    let meanwhile: Vec<Value> = ticks("ticking_sensor")
        .into_iter()
        .filter(|t| (started..started + 8_000).contains(&t["timestamp_ms"].as_i64().unwrap()))
        .collect();
    assert!(meanwhile.len() >= 3, "{meanwhile:?}");
    assert_eq!(meanwhile[0]["skip_reason"], "nothing new");
}

fn cancel_stops_a_step_in_flight_in_process_and_in_its_process(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    for executor in [None, Some("multiprocess")] {
        let server = match executor {
            None => Server::start(&home, &[]),
            Some(kind) => {
                home.add_config(&format!("executor: {kind}\n"));
                Server::start(&home, &[])
            }
        };
        server.upload("hostile", &rust_guest_bytes("hostile"));
        let run_id = server.launch(json!({
            "location": "hostile", "job": "slow_chain",
            "config": { "ops": { "sleepy": { "config": { "ms": 60_000 } } } }
        }));
        server.wait_for_event(&run_id, "STEP_START");
        // Past the start of the step's process (or instance), into its sleep.
        std::thread::sleep(Duration::from_millis(300));
        // Under way, it says whether it makes progress: the time of its last event.
        let shown = home.weft(["runs", "show", &run_id]).stdout;
        let alive = shown
            .lines()
            .find(|l| l.starts_with("alive: "))
            .unwrap_or_default();
        assert!(
            alive.contains(", last progress ") && alive.ends_with(" s ago"),
            "{shown}"
        );
        assert!(server.get(&format!("/runs/{run_id}"))["progress_ms"].is_i64());
        // Through the API, or (the step's process) through `weft runs cancel`.
        let asked = Instant::now();
        if executor.is_none() {
            let (status, answer) = server.call("POST", &format!("/runs/{run_id}/cancel"), None);
            assert_eq!(status, 202, "{answer}");
        } else {
            let answer = home.weft_json(&["runs", "cancel", &run_id], 0);
            assert_eq!(answer["status"], "CANCELING", "{answer}");
        }
        let run = server.wait(&run_id);
        let took = asked.elapsed();
        assert_eq!(run["status"], "CANCELED", "{executor:?}: {run}");
        assert!(
            took < Duration::from_secs(2),
            "{executor:?}: canceled in {took:?}"
        );
        let events = server.events(&run_id);
        assert_eq!(
            types_of(&events, Some("sleepy")),
            ["STEP_START", "STEP_FAILURE"],
            "{executor:?}"
        );
        let failure = events.iter().find(|e| e["type"] == "STEP_FAILURE").unwrap();
        assert_eq!(failure["kind"], "canceled", "{failure}");
        assert_eq!(types_of(&events, Some("wake")), ["STEP_SKIPPED"]);
        drop(server);
    }
}
