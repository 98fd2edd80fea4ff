//! Dynamic fan-out (Dagster's `DynamicOut`, `.map`, `.collect`) in every guest language: the
//! conformance locations' `fanout_job` (see tests/guests/conformance-rust/src/fanout.rs),
//! run through the real `weft`: a step per mapping key for each mapped node, keyed
//! `node[key]`, each retried on its own; the collector reads them in the order produced; a
//! key that fails costs its own steps and the collector, and re-execution from failure runs
//! only those again — with the multiprocess executor, whose step processes find the keys
//! in the database.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use crate::conformance_errors::{home, location, serve_rust};
use serde_json::{Value, json};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

/// The step keys of a run's `steps`, sorted.
fn step_keys(run: &Value) -> Vec<String> {
    run["steps"].as_object().unwrap().keys().cloned().collect()
}

/// The keys of the steps that have events in `events`, each once, sorted.
fn stepped(events: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = events
        .iter()
        .filter_map(|e| e["step_key"].as_str().map(str::to_owned))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn a_dynamic_output_maps_a_step_per_key_and_collects_them_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let file = location(language);
        let run = home.weft_json(&["run", &file, "--job", "fanout_job"], 0);
        assert_eq!(run["status"], "SUCCESS", "{language}: {run}");
        assert_eq!(
            step_keys(&run),
            [
                "add_one[k1]",
                "add_one[k2]",
                "add_one[k3]",
                "fan_out",
                "square[k1]",
                "square[k2]",
                "square[k3]",
                "total"
            ],
            "{language}"
        );
        let steps = &run["steps"];
        assert_eq!(steps["total"]["outputs"]["result"], json!(17), "{language}");
        assert_eq!(
            steps["fan_out"]["outputs"],
            json!({"result[k1]": 1, "result[k2]": 2, "result[k3]": 3}),
            "{language}"
        );
        // Retried on its own: the other keys did not wait for it.
        assert_eq!(steps["square[k2]"]["attempts"], 2, "{language}");
        assert_eq!(steps["square[k1]"]["attempts"], 1, "{language}");
        assert_eq!(steps["add_one[k3]"]["outputs"]["result"], json!(10));
        // Each mapped step knows its key.
        let events = home.events(run["run_id"].as_str().unwrap());
        let said: Vec<&str> = events
            .iter()
            .filter(|e| e["step_key"] == "square[k3]" && e["type"] == "LOG")
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert_eq!(said, ["square k3"], "{language}");
        let keys: Vec<&Value> = events
            .iter()
            .filter(|e| e["step_key"] == "fan_out" && e["type"] == "STEP_OUTPUT")
            .map(|e| &e["mapping_key"])
            .collect();
        assert_eq!(
            keys,
            [&json!("k1"), &json!("k2"), &json!("k3")],
            "{language}"
        );
    }
    // No keys: nothing is mapped, and the collector gets an empty list.
    let config = json!({"ops": {"fan_out": {"config": {"n": 0}}}}).to_string();
    let file = location("rust");
    let run = home.weft_json(
        &["run", &file, "--job", "fanout_job", "--config", &config],
        0,
    );
    assert_eq!(step_keys(&run), ["fan_out", "total"], "{run}");
    assert_eq!(run["steps"]["total"]["outputs"]["result"], json!(0));
}

#[test]
fn a_failed_key_costs_its_own_steps_and_reexecution_from_failure_runs_only_those() {
    let home = home();
    home.add_config("executor: multiprocess\nmax_concurrent: 2\n");
    let server = serve_rust(&home);
    let parent = server.launch(json!({
        "location": "conformance_rust",
        "job": "fanout_job",
        "tags": {"square_fails": "k3"},
    }));
    let run = server.wait(&parent);
    assert_eq!(run["status"], "FAILURE", "{run}");
    let events = server.events(&parent);
    let ended = |events: &[Value], step: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["step_key"] == step)
            .filter_map(|e| e["type"].as_str())
            .filter(|t| matches!(*t, "STEP_SUCCESS" | "STEP_FAILURE" | "STEP_SKIPPED"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(ended(&events, "square[k3]"), ["STEP_FAILURE"]);
    assert_eq!(ended(&events, "add_one[k3]"), ["STEP_SKIPPED"]);
    assert_eq!(ended(&events, "total"), ["STEP_SKIPPED"]);
    assert_eq!(ended(&events, "add_one[k2]"), ["STEP_SUCCESS"]);

    let (status, answer) = server.post_json(
        &format!("/runs/{parent}/reexecute"),
        json!({"from_failure": true}),
    );
    assert_eq!(status, 201, "{answer}");
    let child = answer["run_id"].as_str().unwrap().to_owned();
    let run = server.wait(&child);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let events = server.events(&child);
    assert_eq!(
        stepped(&events),
        ["add_one[k3]", "square[k3]", "total"],
        "only the failed key and what collects it run again"
    );
    let total = events
        .iter()
        .find(|e| e["step_key"] == "total" && e["type"] == "STEP_OUTPUT")
        .unwrap();
    assert_eq!(total["preview"], "17", "k1 and k2 read from the parent run");
}
