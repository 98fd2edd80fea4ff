//! `weft daemon` end to end, on SQLite and PostgreSQL, against an injected clock
//! (`weft daemon --once --now T`: one pass at `T`), so no test waits through real
//! intervals: schedules turned on through the API fire once per tick and catch up only the
//! latest missed tick; the seed's `check_file_sensor` sees a granted directory, its run key
//! de-duplicates its runs, and skips are recorded as ticks; a schedule's function decides;
//! a daemon killed mid-tick loses no tick, and two daemons at once fire a tick once. The
//! runs the daemon keeps (the queue, monitoring, `weft dev`) are in `runs`; run-status
//! sensors are in `run_status.rs`.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

mod runs;

use serde_json::{Value, json};
use weft_tests::{Backend, Home, Server, TempDir};

weft_tests::on_both_databases!(
    a_schedule_fires_once_per_tick_and_catches_up_only_the_latest,
    a_sensor_sees_its_granted_directory_and_its_run_key_runs_once,
    weft_schedule_and_weft_sensor_turn_them_on_and_off,
    a_schedule_whose_function_decides_gets_config_or_skips,
    a_daemon_killed_mid_tick_loses_no_tick_and_fires_none_twice,
    two_daemons_at_once_fire_a_tick_once,
    catch_up_all_runs_every_missed_tick_up_to_its_max,
);

pub(super) const MINUTE: i64 = 60_000;

/// One daemon pass at `now_ms`, as JSON.
pub(super) fn pass(home: &Home, now_ms: i64) -> Value {
    home.weft_json(&["daemon", "--once", "--now", &now_ms.to_string()], 0)
}

pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn a_schedule_fires_once_per_tick_and_catches_up_only_the_latest(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("numbers", &weft_tests::rust_guest_bytes("numbers"));
    let schedules = server.get("/schedules");
    let every_minute = schedules
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "process_numbers_every_minute")
        .unwrap();
    assert_eq!(every_minute["status"], "STOPPED", "off by default");
    // Off: nothing fires.
    let started = now_ms();
    assert_eq!(pass(&home, started + 5 * MINUTE)["ticks"], json!([]));

    let (status, state) = server.call(
        "POST",
        "/schedules/numbers/process_numbers_every_minute/start",
        None,
    );
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["status"], "RUNNING");
    let on_at = state["last_tick_ms"].as_i64().unwrap();

    // 3½ minutes later: three ticks were missed; only the latest runs.
    let done = pass(&home, on_at + 3 * MINUTE + 30_000);
    let ticks = done["ticks"].as_array().unwrap();
    assert_eq!(ticks.len(), 1, "{done}");
    assert_eq!(ticks[0]["status"], "SUCCESS");
    let scheduled = ticks[0]["scheduled_ms"].as_i64().unwrap();
    assert_eq!(scheduled % MINUTE, 0, "a tick is on the minute");
    assert!(scheduled > on_at + 2 * MINUTE && scheduled <= on_at + 3 * MINUTE + 30_000);
    let run_id = ticks[0]["run_ids"][0].as_str().unwrap().to_owned();
    let run = server.get(&format!("/runs/{run_id}"));
    assert_eq!(
        run["status"], "SUCCESS",
        "the pass waits for its run: {run}"
    );
    assert_eq!(run["job"], "process_numbers");
    assert_eq!(
        run["tags"]["weft/schedule_name"],
        "process_numbers_every_minute"
    );

    // The same time again (a restarted daemon): the tick does not fire twice.
    assert_eq!(pass(&home, on_at + 3 * MINUTE + 30_000)["ticks"], json!([]));
    // The next minute fires once more.
    let next = pass(&home, scheduled + MINUTE);
    assert_eq!(next["ticks"].as_array().unwrap().len(), 1, "{next}");
    assert_eq!(
        server
            .get("/runs?tag=weft/schedule_name=process_numbers_every_minute")
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The API shows the ticks, newest first, with their runs.
    let ticks = server.get("/schedules/numbers/process_numbers_every_minute/ticks");
    assert_eq!(ticks.as_array().unwrap().len(), 2);
    assert_eq!(ticks[1]["run_ids"][0], run_id.as_str());

    // Off again: nothing more.
    let (status, _) = server.call(
        "POST",
        "/schedules/numbers/process_numbers_every_minute/stop",
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(pass(&home, scheduled + 10 * MINUTE)["ticks"], json!([]));
    let (status, body) = server.call("POST", "/schedules/numbers/nope/start", None);
    assert_eq!(status, 404, "{body}");
    let (status, body) = server.call("GET", "/schedules/numbers/nope/ticks", None);
    assert_eq!(status, 404, "{body}");
    // Stopping again keeps the time of its last tick.
    server.call(
        "POST",
        "/schedules/numbers/process_numbers_every_minute/stop",
        None,
    );
    let stopped = server.get("/schedules");
    let again = stopped
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "process_numbers_every_minute")
        .unwrap();
    assert_eq!(again["last_tick_ms"], json!(scheduled + MINUTE));
}

fn a_sensor_sees_its_granted_directory_and_its_run_key_runs_once(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let flags = TempDir::new("flags");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &weft_tests::rust_guest_bytes("numbers"));
    let grants = json!({ "dirs": [{ "host": flags.0.display().to_string(), "guest": "/", "read_only": true }] });
    server.grant("numbers", grants);
    let t0 = now_ms();
    let (status, body) = server.call("POST", "/sensors/numbers/check_file_sensor/start", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["last_tick_ms"],
        Value::Null,
        "a sensor turned on is evaluated at once"
    );

    // No /check file: a skip, with the guest's reason.
    let first = pass(&home, t0 + 1_000);
    let tick = &first["ticks"][0];
    assert_eq!(tick["status"], "SKIPPED", "{first}");
    assert_eq!(tick["skip_reason"], "check file not exists");
    // Within minimum_interval_seconds (5): not evaluated again.
    assert_eq!(pass(&home, t0 + 3_000)["ticks"], json!([]));

    std::fs::write(flags.join("check"), "go").unwrap();
    let second = pass(&home, t0 + 7_000);
    let tick = &second["ticks"][0];
    assert_eq!(tick["status"], "SUCCESS", "{second}");
    let run_id = tick["run_ids"][0].as_str().unwrap();
    let run = server.get(&format!("/runs/{run_id}"));
    assert_eq!(run["status"], "SUCCESS");
    assert_eq!(run["tags"]["weft/run_key"], "check_file_exists");

    // The file is still there, but its run key was launched: no second run.
    let third = pass(&home, t0 + 13_000);
    assert_eq!(third["ticks"][0]["status"], "SKIPPED", "{third}");
    assert_eq!(
        server
            .get("/runs?tag=weft/sensor_name=check_file_sensor")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let ticks = server.get("/sensors/numbers/check_file_sensor/ticks");
    let statuses: Vec<&str> = ticks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["status"].as_str())
        .collect();
    assert_eq!(statuses, ["SKIPPED", "SUCCESS", "SKIPPED"]);
    let sensors = server.get("/sensors");
    assert_eq!(sensors[0]["status"], "RUNNING");
}

pub(super) fn hostile() -> Vec<u8> {
    weft_tests::rust_guest_bytes("hostile")
}

fn weft_schedule_and_weft_sensor_turn_them_on_and_off(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("numbers", &weft_tests::rust_guest_bytes("numbers"));
    let at = ["--server", server.url.as_str(), "--json"];
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&at);
        home.weft(&all)
    };
    let on = cli(&["schedule", "start", "process_numbers_every_minute"]);
    assert_eq!(on.code, 0, "{}", on.stderr);
    assert_eq!(on.json()["status"], "RUNNING");
    assert_eq!(
        on.json()["location"],
        "numbers",
        "the one location defining it"
    );
    let listed = cli(&["schedule", "list"]).json();
    let running: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "RUNNING")
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(running, ["process_numbers_every_minute"]);
    assert_eq!(
        cli(&[
            "schedule",
            "stop",
            "process_numbers_every_minute",
            "--location",
            "numbers"
        ])
        .json()["status"],
        "STOPPED"
    );
    let sensor = cli(&["sensor", "start", "check_file_sensor"]);
    assert_eq!(sensor.json()["status"], "RUNNING", "{}", sensor.stderr);
    // For a person: one line each, a run-status sensor saying what it watches.
    let text = home.weft(["sensor", "list", "--server", server.url.as_str()]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("numbers/check_file_sensor  RUNNING  every 5 s\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "numbers/materialize_after_process_numbers  STOPPED  every 30 s  on runs of \
             process_numbers that end SUCCESS"
        ),
        "{}",
        text.stdout
    );
    let unknown = cli(&["sensor", "start", "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("defines a sensor \"nope\""),
        "{}",
        unknown.stderr
    );
}

fn a_schedule_whose_function_decides_gets_config_or_skips(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let (status, state) = server.call(
        "POST",
        "/schedules/hostile/scaled_on_even_minutes/start",
        None,
    );
    assert_eq!(status, 200, "{state}");
    let on_at = state["last_tick_ms"].as_i64().unwrap();
    // The first even minute after it was turned on, then the odd one after it.
    let even = (on_at / MINUTE + 1 + (on_at / MINUTE + 1) % 2) * MINUTE;
    let run = pass(&home, even + 1_000);
    let tick = &run["ticks"][0];
    assert_eq!(tick["status"], "SUCCESS", "{run}");
    let run_id = tick["run_ids"][0].as_str().unwrap();
    let events = server.events(run_id);
    let output = events
        .iter()
        .find(|e| e["type"] == "STEP_OUTPUT")
        .and_then(|e| e["preview"].as_str())
        .unwrap();
    assert_eq!(
        output, "14",
        "the guest's run config (factor 2) reached the run"
    );
    let skip = pass(&home, even + MINUTE + 1_000);
    assert_eq!(skip["ticks"][0]["status"], "SKIPPED", "{skip}");
    assert_eq!(skip["ticks"][0]["skip_reason"], "odd minute");
}

/// `weft daemon --once --now now_ms` as a child process.
pub(super) fn spawn_pass(home: &Home, now_ms: i64) -> std::process::Child {
    std::process::Command::new(weft_tests::weft_bin())
        .args(["daemon", "--once", "--json", "--now", &now_ms.to_string()])
        .env("WEFT_HOME", &home.dir.0)
        .env("WEFT_LOG", "weft_server=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The runs a schedule launched.
pub(super) fn runs_of(server: &Server, schedule: &str) -> Vec<Value> {
    server
        .get(&format!("/runs?tag=weft/schedule_name={schedule}"))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn a_daemon_killed_mid_tick_loses_no_tick_and_fires_none_twice(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let (_, state) = server.call("POST", "/schedules/hostile/slow_decision/start", None);
    // A second past the first tick after it was turned on: the passes below, up to 33 s
    // later, stay within that tick's minute.
    let at = (state["last_tick_ms"].as_i64().unwrap() / MINUTE + 1) * MINUTE + 1_000;
    // Killed (SIGKILL) while the schedule's function decides (it takes three seconds): once
    // its log says the guest was called.
    let mut first = spawn_pass(&home, at);
    let log = std::io::BufReader::new(first.stderr.take().unwrap());
    let deciding = std::io::BufRead::lines(log)
        .map_while(Result::ok)
        .find(|l| l.contains("schedule hostile/slow_decision: the guest decides"));
    assert!(
        deciding.is_some(),
        "the daemon ended before the guest decided"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    // The lease of the killed daemon lasts 30 s; the next daemon runs after it expires.
    let restarted = pass(&home, at + 31_000);
    let ticks: Vec<&Value> = restarted["ticks"].as_array().unwrap().iter().collect();
    assert_eq!(ticks.len(), 1, "the tick is not lost: {restarted}");
    assert_eq!(ticks[0]["status"], "SUCCESS");
    let runs = runs_of(&server, "slow_decision");
    assert_eq!(runs.len(), 1, "one run for the tick: {runs:?}");
    // Passes after it: nothing fires again for that tick.
    pass(&home, at + 32_000);
    assert_eq!(runs_of(&server, "slow_decision").len(), 1);
}

fn two_daemons_at_once_fire_a_tick_once(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("numbers", &weft_tests::rust_guest_bytes("numbers"));
    let (_, state) = server.call(
        "POST",
        "/schedules/numbers/process_numbers_every_minute/start",
        None,
    );
    let at = state["last_tick_ms"].as_i64().unwrap() + MINUTE + 1_000;
    let daemons: Vec<_> = (0..2).map(|_| spawn_pass(&home, at)).collect();
    let passes: Vec<Value> = daemons
        .into_iter()
        .map(|d| {
            let out = d.wait_with_output().unwrap();
            assert!(out.status.success());
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    // Whichever held the lease (one at a time; the second may come after the first let it
    // go), the tick fired once.
    assert!(passes.iter().any(|p| p["leader"] == true), "{passes:?}");
    let fired: usize = passes
        .iter()
        .map(|p| p["ticks"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(fired, 1, "{passes:?}");
    assert_eq!(runs_of(&server, "process_numbers_every_minute").len(), 1);
}

fn catch_up_all_runs_every_missed_tick_up_to_its_max(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("schedule_catch_up: { policy: all, max: 3 }\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &weft_tests::rust_guest_bytes("numbers"));
    let (_, state) = server.call(
        "POST",
        "/schedules/numbers/process_numbers_every_minute/start",
        None,
    );
    let on_at = state["last_tick_ms"].as_i64().unwrap();
    let done = pass(&home, on_at + 10 * MINUTE);
    let scheduled: Vec<i64> = done["ticks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["scheduled_ms"].as_i64())
        .collect();
    assert_eq!(scheduled.len(), 3, "the three oldest missed ticks: {done}");
    assert!(
        scheduled.windows(2).all(|w| w[1] - w[0] == MINUTE),
        "{scheduled:?}"
    );
    assert_eq!(runs_of(&server, "process_numbers_every_minute").len(), 3);
    // The next pass goes on from the last one handled.
    let next = pass(&home, on_at + 10 * MINUTE);
    assert_eq!(next["ticks"].as_array().unwrap().len(), 3, "{next}");
}
