//! The numbers example end to end through the `weft` binary: the seed's job, wide job,
//! assets and selections, the sensor under a directory grant, runs and logs as a user reads
//! them.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::{Value, json};
use weft_tests::{Home, TempDir, rust_guest, types_of};

fn numbers() -> String {
    rust_guest("numbers").display().to_string()
}

/// The step keys of `events` in the order their steps succeeded.
fn succeeded(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "STEP_SUCCESS")
        .filter_map(|e| e["step_key"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn process_numbers_sums_to_55_with_every_step_right() {
    let home = Home::new();
    let run = home.weft_json(&["run", &numbers(), "--job", "process_numbers"], 0);
    assert_eq!(run["status"], "SUCCESS");
    let steps = &run["steps"];
    let output = |step: &str| steps[step]["outputs"]["result"].clone();
    assert_eq!(
        output("generate_numbers"),
        json!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    );
    assert_eq!(output("filter_even_numbers"), json!([2, 4, 6, 8, 10]));
    assert_eq!(output("filter_odd_numbers"), json!([1, 3, 5, 7, 9]));
    assert_eq!(output("sum_even_numbers"), json!(30));
    assert_eq!(output("sum_odd_numbers"), json!(25));
    assert_eq!(output("sum_two_sums"), json!(55));

    // The stored event log, in order.
    let run_id = run["run_id"].as_str().unwrap();
    let events = home.events(run_id);
    assert_eq!(types_of(&events, None), ["RUN_START", "RUN_SUCCESS"]);
    assert_eq!(events.first().unwrap()["type"], "RUN_START");
    assert_eq!(events.last().unwrap()["type"], "RUN_SUCCESS");
    assert_eq!(
        types_of(&events, Some("sum_two_sums")),
        ["STEP_START", "STEP_OUTPUT", "STEP_SUCCESS"]
    );
    let order = succeeded(&events);
    assert_eq!(order.first().map(String::as_str), Some("generate_numbers"));
    assert_eq!(order.last().map(String::as_str), Some("sum_two_sums"));
    assert_eq!(order.len(), 6);

    // The run row, as `runs list` shows it.
    let runs = home.weft_json(&["runs", "list"], 0);
    assert_eq!(runs[0]["run_id"], run_id);
    assert_eq!(runs[0]["status"], "SUCCESS");
    assert_eq!(runs[0]["job"], "process_numbers");
    assert_eq!(runs[0]["location"], "numbers");
    assert!(runs[0]["finished_ms"].as_i64() >= runs[0]["started_ms"].as_i64());
    let shown = home.weft(["runs", "show", run_id]);
    assert!(
        shown.stdout.contains("sum_two_sums") && shown.stdout.contains("STEP_SUCCESS"),
        "{}",
        shown.stdout
    );
}

#[test]
fn wide_job_fans_in_to_200_in_process_and_in_parallel() {
    let home = Home::new();
    for executor in ["in-process", "parallel"] {
        let run = home.weft_json(
            &[
                "run",
                &numbers(),
                "--job",
                "wide_job",
                "--executor",
                executor,
            ],
            0,
        );
        assert_eq!(run["status"], "SUCCESS", "{executor}");
        assert_eq!(
            run["steps"]["total"]["outputs"]["result"],
            json!(200),
            "{executor}"
        );
        assert_eq!(
            run["steps"]["add_57"]["outputs"]["result"],
            json!(2),
            "{executor}"
        );
        assert_eq!(
            run["steps"].as_object().map(|s| s.len()),
            Some(102),
            "{executor}"
        );
    }
}

#[test]
fn materializing_the_group_stores_six_assets_in_dependency_order() {
    let home = Home::new();
    let run = home.weft_json(&["materialize", &numbers(), "--select", "group:numbers"], 0);
    let events = home.events(run["run_id"].as_str().unwrap());
    let materialized: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "ASSET_MATERIALIZATION")
        .filter_map(|e| e["asset_key"].as_array())
        .filter_map(|k| k.first().and_then(Value::as_str))
        .collect();
    assert_eq!(materialized.len(), 6, "{materialized:?}");
    let pos = |k: &str| {
        materialized
            .iter()
            .position(|m| *m == k)
            .unwrap_or_else(|| panic!("{k} missing"))
    };
    assert!(pos("generated_numbers") < pos("filtered_even_numbers"));
    assert!(pos("filtered_even_numbers") < pos("summed_even_numbers"));
    assert!(pos("filtered_odd_numbers") < pos("summed_odd_numbers"));
    assert!(pos("summed_even_numbers") < pos("summed_two_sums"));
    assert!(pos("summed_odd_numbers") < pos("summed_two_sums"));
    assert_eq!(
        run["steps"]["summed_two_sums"]["outputs"]["result"],
        json!(55)
    );

    // The asset job runs the same set.
    let job = home.weft_json(&["run", &numbers(), "--job", "process_numbers_asset"], 0);
    assert_eq!(job["steps"].as_object().map(|s| s.len()), Some(6));
}

#[test]
fn selections_pick_downstream_and_upstream_sets() {
    let home = Home::new();
    let keys = |run: &Value| {
        let mut k: Vec<String> = run["steps"]
            .as_object()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    // Nothing materialized yet: the downstream selection cannot read its unselected inputs.
    let early = home.weft([
        "materialize",
        &numbers(),
        "--select",
        "summed_even_numbers+",
    ]);
    assert_eq!(early.code, 1, "{}", early.stdout);
    assert!(
        early
            .stdout
            .contains("asset filtered_even_numbers has no stored value"),
        "{}",
        early.stdout
    );

    let up = home.weft_json(
        &["materialize", &numbers(), "--select", "+summed_two_sums"],
        0,
    );
    assert_eq!(keys(&up).len(), 6);
    let down = home.weft_json(
        &[
            "materialize",
            &numbers(),
            "--select",
            "summed_even_numbers+",
        ],
        0,
    );
    assert_eq!(keys(&down), ["summed_even_numbers", "summed_two_sums"]);
    // Unselected upstream assets come from storage: the sum is still right.
    assert_eq!(
        down["steps"]["summed_two_sums"]["outputs"]["result"],
        json!(55)
    );
    let list = home.weft_json(
        &[
            "materialize",
            &numbers(),
            "--select",
            "generated_numbers, summed_odd_numbers",
        ],
        0,
    );
    assert_eq!(keys(&list), ["generated_numbers", "summed_odd_numbers"]);
}

#[test]
fn check_lists_what_the_location_defines() {
    let home = Home::new();
    let out = home.weft_json(&["check", &numbers()], 0);
    let defs = &out["definitions"];
    let names = |list: &str| -> Vec<String> {
        defs[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(names("jobs"), ["process_numbers", "wide_job"]);
    assert_eq!(names("asset_jobs"), ["process_numbers_asset"]);
    assert_eq!(
        names("schedules"),
        [
            "process_numbers_every_minute",
            "process_numbers_asset_every_minute"
        ]
    );
    assert_eq!(
        names("sensors"),
        ["check_file_sensor", "materialize_after_process_numbers"]
    );
    assert_eq!(defs["assets"].as_array().map(Vec::len), Some(6));
    assert_eq!(defs["jobs"][0]["tags"]["domain"], "numbers");
    assert_eq!(defs["schedules"][0]["cron"], "* * * * *");
    assert_eq!(out["digest"].as_str().map(str::len), Some(64));
}

#[test]
fn check_file_sensor_sees_only_a_granted_directory() {
    let home = Home::new();
    let root = TempDir::new("sensor-root");
    // No grant: the guest sees no filesystem at all.
    let skip = home.weft_json(&["sensor", &numbers(), "check_file_sensor"], 0);
    assert_eq!(skip["skip_reason"], "check file not exists");
    // Granted, but no file yet.
    let grant = format!("{}=/:ro", root.0.display());
    let skip = home.weft_json(
        &[
            "sensor",
            &numbers(),
            "check_file_sensor",
            "--grant-dir",
            &grant,
        ],
        0,
    );
    assert_eq!(skip["run_requests"], json!([]));
    std::fs::write(root.join("check"), "x").unwrap();
    let fire = home.weft_json(
        &[
            "sensor",
            &numbers(),
            "check_file_sensor",
            "--grant-dir",
            &grant,
        ],
        0,
    );
    assert_eq!(fire["run_requests"][0]["run_key"], "check_file_exists");
    let unknown = home.weft(["sensor", &numbers(), "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no sensor named \"nope\""),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_warm_run_reuses_the_precompiled_component() {
    let home = Home::new();
    home.weft_json(&["run", &numbers(), "--job", "process_numbers"], 0);
    let cached: Vec<_> = std::fs::read_dir(home.dir.join("cache"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(cached.len(), 1, "one precompiled file per digest");
    home.weft_json(&["run", &numbers(), "--job", "process_numbers"], 0);
    let again: Vec<_> = std::fs::read_dir(home.dir.join("cache"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(again.len(), 1);
    let runs = home.weft_json(&["runs", "list", "--status", "success"], 0);
    assert_eq!(runs.as_array().map(Vec::len), Some(2));
}
