//! Several outputs, optional ones, typed metadata, config the host enforces and graphs, the
//! same in every guest language: the conformance locations' `parity_job`, `scored` and
//! `graph_job` (see tests/guests/conformance-rust/src/lib.rs), run through the real `weft`
//! binary and `weft serve`.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::{Value, json};

use super::conformance_errors::{home, location};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

fn run(home: &weft_tests::Home, language: &str, config: Option<&str>) -> Value {
    let file = location(language);
    let mut args = vec!["run", file.as_str(), "--job", "parity_job"];
    if let Some(config) = config {
        args.extend(["--config", config]);
    }
    home.weft_json(&args, 0)
}

/// Each step's `result` output (or, for `evens_odds`, its outputs by name).
fn outputs(run: &Value) -> Value {
    run["steps"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(step, s)| (step.clone(), s["outputs"].clone()))
        .collect()
}

#[test]
fn several_outputs_metadata_and_defaults_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let run = run(&home, language, None);
        assert_eq!(run["status"], "SUCCESS", "{language}: {run}");
        let outputs = outputs(&run);
        assert_eq!(outputs["evens_odds"]["even"], json!([2, 4]), "{language}");
        assert_eq!(outputs["evens_odds"]["odd"], json!([1, 3]), "{language}");
        assert_eq!(outputs["total_even"]["result"], json!(6), "{language}");
        assert_eq!(outputs["total_odd"]["result"], json!(4), "{language}");

        let run_id = run["run_id"].as_str().unwrap();
        // The defaults the schema gives were filled in before the run was created.
        let stored = home.weft_json(&["runs", "show", run_id], 0);
        assert_eq!(
            stored["run"]["config"],
            json!({"ops": {"evens_odds": {"config": {"upto": 4, "odd": true}}}}),
            "{language}"
        );
        let events = home.events(run_id);
        let metadata = |output: &str| {
            events
                .iter()
                .find(|e| e["type"] == "STEP_OUTPUT" && e["output"] == output)
                .map(|e| e["metadata"].clone())
                .unwrap()
        };
        assert_eq!(
            metadata("even"),
            json!({
                "count": {"type": "int", "value": 4},
                "ratio": {"type": "float", "value": 0.5},
                "doc": {"type": "url", "value": "https://docs.dagster.io"},
            }),
            "{language}"
        );
        assert_eq!(
            metadata("odd"),
            json!({"count": {"type": "int", "value": 4}}),
            "{language}"
        );
    }
}

#[test]
fn an_optional_output_left_out_skips_its_reader_in_every_language() {
    let home = home();
    let config = r#"{"ops": {"evens_odds": {"config": {"odd": false, "upto": 6}}}}"#;
    for language in LANGUAGES {
        let run = run(&home, language, Some(config));
        assert_eq!(run["status"], "SUCCESS", "{language}: {run}");
        let outputs = outputs(&run);
        assert_eq!(outputs["total_even"]["result"], json!(12), "{language}");
        let events = home.events(run["run_id"].as_str().unwrap());
        let of = |step: &str| weft_tests::types_of(&events, Some(step));
        assert_eq!(of("total_odd"), ["STEP_SKIPPED"], "{language}");
        let reason = events
            .iter()
            .find(|e| e["type"] == "STEP_SKIPPED")
            .map(|e| e["reason"].clone());
        assert_eq!(
            reason,
            Some(json!(
                "input \"values\" reads evens_odds.odd, which was not produced"
            )),
            "{language}"
        );
        assert!(
            !events
                .iter()
                .any(|e| e["type"] == "STEP_OUTPUT" && e["output"] == "odd"),
            "{language}"
        );
    }
}

#[test]
fn config_that_breaks_the_schema_is_refused_before_the_run_in_every_language() {
    let home = home();
    let config = r#"{"ops": {"evens_odds": {"config": {"upto": "four", "even": 1}}}}"#;
    for language in LANGUAGES {
        let file = location(language);
        let out = home.weft([
            "run",
            file.as_str(),
            "--job",
            "parity_job",
            "--config",
            config,
        ]);
        assert_ne!(out.code, 0, "{language}");
        for expected in [
            "run config does not match the config schema of step \"evens_odds\"",
            "at ops.evens_odds.config.upto: \"four\" is not of type \"integer\"",
            "at ops.evens_odds.config: Additional properties are not allowed ('even' was unexpected)",
        ] {
            assert!(
                out.stderr.contains(expected),
                "{language}: {expected:?} not in {}",
                out.stderr
            );
        }
        let runs = home.weft(["runs", "list"]);
        assert!(
            runs.stderr.contains("no runs yet"),
            "{language}: a run was created: {}{}",
            runs.stdout,
            runs.stderr
        );
    }
}

#[test]
fn an_assets_materializations_carry_typed_metadata_through_the_api() {
    let home = home();
    let server = weft_tests::Server::start(&home, &[]);
    let bytes = std::fs::read(location("python")).unwrap();
    server.upload("conformance", &bytes);
    for score in [2.5, 4.0] {
        let run_id = server.launch(json!({
            "location": "conformance",
            "job": "scored_job",
            "config": {"ops": {"scored": {"config": {"score": score}}}},
        }));
        assert_eq!(server.wait(&run_id)["status"], "SUCCESS");
    }
    let asset = server.get("/asset?key=scored");
    assert_eq!(asset["definition"]["location"], "conformance");
    let seen: Vec<Value> = asset["materializations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metadata"].clone())
        .collect();
    assert_eq!(
        seen,
        [
            json!({"score": {"type": "float", "value": 4.0}, "rows": {"type": "int", "value": 3}}),
            json!({"score": {"type": "float", "value": 2.5}, "rows": {"type": "int", "value": 3}}),
        ],
        "newest first"
    );
    let (status, body) = server.call("GET", "/asset?key=nope", None);
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("never materialized")),
        "{body}"
    );
}

#[test]
fn a_graphs_ops_are_named_graph_dot_op_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let file = location(language);
        let run = home.weft_json(&["run", file.as_str(), "--job", "graph_job"], 0);
        assert_eq!(run["status"], "SUCCESS", "{language}: {run}");
        let outputs: Vec<(String, Value)> = outputs(&run)
            .as_object()
            .unwrap()
            .iter()
            .map(|(step, o)| (step.clone(), o["result"].clone()))
            .collect();
        assert_eq!(
            outputs,
            [
                ("again.add_one".to_owned(), json!(4)),
                ("again.add_one_2".to_owned(), json!(5)),
                ("one".to_owned(), json!(1)),
                ("twice.add_one".to_owned(), json!(2)),
                ("twice.add_one_2".to_owned(), json!(3)),
            ],
            "{language}"
        );
    }
}
