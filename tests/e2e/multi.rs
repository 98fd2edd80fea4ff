//! Multi-assets (Dagster's `@multi_asset`) in every guest language: the conformance
//! locations' `split_scores` (see tests/guests/conformance-rust/src/multi.rs), run through
//! the real `weft`: one step, keyed by the multi-asset's name, materializes each of its
//! assets from its own output; a downstream asset reads them; a run that selects one of
//! them (it can be subset) materializes only that one. And graph-backed assets (Dagster's
//! `@graph_asset`: `boosted.rs`): a step per op, keyed `<graph>.<op>`, the last one
//! materializing the asset.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::{Value, json};
use weft_tests::numbers_as_floats;

use crate::conformance_errors::{home, location};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

/// `(asset key, metadata side)` of each materialization of a run, in order.
fn materialized(home: &weft_tests::Home, run: &Value) -> Vec<(String, Value)> {
    home.events(run["run_id"].as_str().unwrap())
        .into_iter()
        .filter(|e| e["type"] == "ASSET_MATERIALIZATION")
        .map(|e| {
            let key: Vec<&str> = e["asset_key"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            (key.join("/"), e["metadata"]["side"].clone())
        })
        .collect()
}

#[test]
fn a_multi_asset_materializes_each_asset_from_its_output_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let file = location(language);
        let run = home.weft_json(&["run", &file, "--job", "split_job"], 0);
        let steps = &run["steps"];
        assert_eq!(
            numbers_as_floats(steps["split_scores"]["outputs"].clone()),
            json!({"low": 0.0, "high": 2.0}),
            "{language}: {run}"
        );
        assert_eq!(
            steps["spread"]["outputs"]["result"].as_f64(),
            Some(2.0),
            "{language}"
        );
        let side = |s: &str| json!({"type": "text", "value": s});
        let mut seen = materialized(&home, &run);
        seen.retain(|(key, _)| key == "low" || key == "high");
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            seen,
            [
                ("high".to_owned(), side("high")),
                ("low".to_owned(), side("low"))
            ],
            "{language}"
        );

        // Only `low`: the step produces only it, reading `scored` from storage.
        let run = home.weft_json(&["run", &file, "--job", "low_job"], 0);
        let steps = run["steps"].as_object().unwrap();
        assert_eq!(
            steps.keys().collect::<Vec<_>>(),
            ["split_scores"],
            "{language}: {run}"
        );
        assert_eq!(
            numbers_as_floats(steps["split_scores"]["outputs"].clone()),
            json!({"low": 0.0}),
            "{language}"
        );
        let seen: Vec<String> = materialized(&home, &run)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(seen, ["low"], "{language}");
    }
}

#[test]
fn a_graph_asset_runs_a_step_per_op_and_the_last_materializes_it_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let file = location(language);
        let run = home.weft_json(&["run", &file, "--job", "boosted_job"], 0);
        assert_eq!(run["status"], "SUCCESS", "{language}: {run}");
        let steps = run["steps"].as_object().unwrap();
        assert_eq!(
            steps.keys().collect::<Vec<_>>(),
            [
                "boosted.add_half",
                "boosted.double_score",
                "scored",
                // The checks of `scored` run with it.
                "scored_scored_is_positive",
                "scored_scored_is_small"
            ],
            "{language}: {run}"
        );
        let value = |step: &str| steps[step]["outputs"]["result"].as_f64();
        assert_eq!(value("boosted.double_score"), Some(2.0), "{language}");
        assert_eq!(value("boosted.add_half"), Some(2.5), "{language}");
        let events = home.events(run["run_id"].as_str().unwrap());
        let materialized: Vec<(&str, String)> = events
            .iter()
            .filter(|e| e["type"] == "ASSET_MATERIALIZATION")
            .map(|e| (e["step_key"].as_str().unwrap(), e["asset_key"].to_string()))
            .collect();
        assert_eq!(
            materialized,
            [
                ("scored", json!(["scored"]).to_string()),
                ("boosted.add_half", json!(["boosted"]).to_string())
            ],
            "{language}"
        );
    }
}
