//! Run-status sensors through `weft daemon --once --now T`, on SQLite and PostgreSQL: one
//! reacts once to each run of a watched job that ended with its status (not to runs that
//! ended before it was on, nor to other jobs), and one whose function fails sees the run
//! again once it is fixed.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::{Value, json};
use weft_tests::{Backend, Home, Server, rust_guest_bytes};

weft_tests::on_both_databases!(
    a_run_status_sensor_reacts_once_to_each_run_that_ended_so,
    a_run_status_sensor_that_fails_sees_its_run_again_once_fixed,
);

const MINUTE: i64 = 60_000;

/// One daemon pass at `now_ms`, as JSON.
fn pass(home: &Home, now_ms: i64) -> Value {
    home.weft_json(&["daemon", "--once", "--now", &now_ms.to_string()], 0)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn hostile() -> Vec<u8> {
    rust_guest_bytes("hostile")
}

/// The ticks of sensor or schedule `name` in a pass.
fn ticks_of<'a>(pass: &'a Value, name: &str) -> Vec<&'a Value> {
    pass["ticks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"] == name)
        .collect()
}

fn a_run_status_sensor_reacts_once_to_each_run_that_ended_so(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let sensor = "materialize_after_process_numbers";
    // Every run in a process of its own: `weft daemon --once` waits for the ones it started.
    home.add_config("run_launcher: { type: process }\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));
    // Ended before the sensor was turned on: not its business.
    let before = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&before)["status"], "SUCCESS");
    // The sensor's start is stamped in milliseconds: a later one than the run's end.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let (status, body) = server.call("POST", &format!("/sensors/numbers/{sensor}/start"), None);
    assert_eq!(status, 200, "{body}");
    let sensors = server.get("/sensors");
    let listed = sensors
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == sensor)
        .unwrap();
    assert_eq!(listed["status"], "RUNNING", "{listed}");
    assert_eq!(
        listed["kind"],
        json!({ "type": "run_status", "status": "SUCCESS",
                "monitored_jobs": ["process_numbers"], "all_locations": false }),
        "{listed}"
    );
    let watched = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&watched)["status"], "SUCCESS");
    // Another job: not watched.
    let other = server.launch(json!({ "location": "numbers", "job": "wide_job" }));
    assert_eq!(server.wait(&other)["status"], "SUCCESS");

    let t0 = now_ms();
    let first = pass(&home, t0);
    let ticks = ticks_of(&first, sensor);
    assert_eq!(ticks.len(), 1, "{first}");
    assert_eq!(ticks[0]["status"], "SUCCESS", "{first}");
    let launched = ticks[0]["run_ids"].as_array().unwrap();
    assert_eq!(
        launched.len(),
        1,
        "one run for the one watched run: {first}"
    );
    let run = server.get(&format!("/runs/{}", launched[0].as_str().unwrap()));
    assert_eq!(run["job"], "process_numbers_asset");
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(run["tags"]["upstream_run_id"], watched.as_str());
    assert_eq!(run["tags"]["weft/triggering_run_id"], watched.as_str());
    assert_eq!(run["tags"]["weft/run_key"], watched.as_str());

    // Nothing ended since (the asset run it launched is not a watched job): a skip.
    let second = pass(&home, t0 + MINUTE);
    let ticks = ticks_of(&second, sensor);
    assert_eq!(ticks[0]["status"], "SKIPPED", "{second}");
    assert_eq!(
        ticks[0]["skip_reason"],
        "no run of a watched job ended SUCCESS since the last tick"
    );
    let runs = server.get(&format!("/runs?tag=weft/sensor_name={sensor}"));
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");

    // Every later success gets its own run.
    let again = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&again)["status"], "SUCCESS");
    let third = pass(&home, t0 + 2 * MINUTE);
    assert_eq!(ticks_of(&third, sensor)[0]["status"], "SUCCESS", "{third}");
    let runs = server.get(&format!("/runs?tag=weft/triggering_run_id={again}"));
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
}

fn a_run_status_sensor_that_fails_sees_its_run_again_once_fixed(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let sensor = "flag_chain_failed";
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let (status, body) = server.call("POST", &format!("/sensors/hostile/{sensor}/start"), None);
    assert_eq!(status, 200, "{body}");
    let failed = server.launch(json!({ "location": "hostile", "job": "flag_chain" }));
    assert_eq!(server.wait(&failed)["status"], "FAILURE");
    // Succeeded: a run-failure sensor does not see it.
    let ok = server.launch(json!({ "location": "hostile", "job": "ok_job" }));
    assert_eq!(server.wait(&ok)["status"], "SUCCESS");

    let t0 = now_ms();
    for (i, at) in [t0, t0 + MINUTE].into_iter().enumerate() {
        let tick = pass(&home, at);
        let ticks = ticks_of(&tick, sensor);
        assert_eq!(ticks[0]["status"], "FAILURE", "pass {i}: {tick}");
        let error = ticks[0]["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("cannot handle the failure of {failed}")),
            "pass {i}: the same run each time: {error}"
        );
    }
    // Fix the sensor's cause: the next pass handles the run it failed on.
    server.grant("hostile", json!({ "environment": { "WEFT_FLAG": "1" } }));
    let fixed = pass(&home, t0 + 2 * MINUTE);
    let ticks = ticks_of(&fixed, sensor);
    assert_eq!(ticks[0]["status"], "SUCCESS", "{fixed}");
    let run = server.get(&format!(
        "/runs/{}",
        ticks[0]["run_ids"][0].as_str().unwrap()
    ));
    assert_eq!(run["job"], "ok_job");
    assert_eq!(run["tags"]["handled"], failed.as_str());
    let after = pass(&home, t0 + 3 * MINUTE);
    assert_eq!(ticks_of(&after, sensor)[0]["status"], "SKIPPED", "{after}");
    let statuses: Vec<String> = server
        .get(&format!("/sensors/hostile/{sensor}/ticks"))
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["SKIPPED", "SUCCESS", "FAILURE", "FAILURE"]);
}
