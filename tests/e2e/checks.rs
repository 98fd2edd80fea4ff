//! Asset checks (Dagster's `@asset_check`) in every guest language: the conformance
//! locations' `checked_job` (`scored`, its checks `scored_is_positive`, blocking, and
//! `scored_is_small`, a warning; `scored_twice` downstream; see
//! tests/guests/conformance-rust/src/checks.rs), run through the real `weft`: each check
//! runs after its asset, keyed as Dagster keys it; a failed blocking check fails its step
//! and skips what is downstream; a failed warning stops nothing; `weft assets checks` and
//! the API (`/api/assets/{key}/checks`) say what each check last found.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::{Value, json};

use crate::conformance_errors::{home, location, serve_rust};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

const POSITIVE: &str = "scored_scored_is_positive";
const SMALL: &str = "scored_scored_is_small";

fn score(value: f64) -> String {
    json!({"ops": {"scored": {"config": {"score": value}}}}).to_string()
}

fn checked(home: &weft_tests::Home, language: &str, score_of: f64, code: i32) -> Value {
    let file = location(language);
    let config = score(score_of);
    let args = ["run", &file, "--job", "checked_job", "--config", &config];
    home.weft_json(&args, code)
}

#[test]
fn checks_run_after_their_asset_and_a_failed_blocking_one_stops_downstream_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let passing = checked(&home, language, 1.0, 0);
        let steps = &passing["steps"];
        assert_eq!(
            steps["scored_twice"]["outputs"]["result"], 2.0,
            "{language}: {passing}"
        );
        assert_eq!(
            steps[POSITIVE]["check"]["passed"], true,
            "{language}: {passing}"
        );
        assert_eq!(
            steps[POSITIVE]["check"]["metadata"]["score"],
            json!({"type": "float", "value": 1.0}),
            "{language}"
        );
        assert_eq!(steps[SMALL]["check"]["passed"], true, "{language}");

        // A failed blocking check fails its step, and what is downstream is skipped.
        let blocked = checked(&home, language, -1.0, 1);
        let steps = &blocked["steps"];
        assert_eq!(
            steps[POSITIVE]["status"], "FAILURE",
            "{language}: {blocked}"
        );
        assert_eq!(steps[POSITIVE]["check"]["passed"], false, "{language}");
        assert_eq!(steps[POSITIVE]["check"]["severity"], "ERROR", "{language}");
        let error = steps[POSITIVE]["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("blocking check scored_is_positive of asset scored failed"),
            "{language}: {error}"
        );
        assert_eq!(steps["scored_twice"]["status"], "SKIPPED", "{language}");
        assert_eq!(steps[SMALL]["status"], "SUCCESS", "{language}");

        // A failed warning is reported and stops nothing.
        let warned = checked(&home, language, 20.0, 0);
        let steps = &warned["steps"];
        assert_eq!(steps[SMALL]["status"], "SUCCESS", "{language}: {warned}");
        assert_eq!(steps[SMALL]["check"]["passed"], false, "{language}");
        assert_eq!(steps[SMALL]["check"]["severity"], "WARN", "{language}");
        assert_eq!(
            steps["scored_twice"]["outputs"]["result"], 40.0,
            "{language}"
        );

        // `weft assets checks`: the newest evaluations are the last run's.
        let shown = home.weft_json(&["assets", "checks", "scored"], 0);
        let newest: Vec<(&str, bool)> = shown["evaluations"].as_array().unwrap()[..2]
            .iter()
            .map(|e| (e["check"].as_str().unwrap(), e["passed"].as_bool().unwrap()))
            .collect();
        assert!(
            newest.contains(&("scored_is_small", false))
                && newest.contains(&("scored_is_positive", true)),
            "{language}: {shown}"
        );
    }
}

#[test]
fn the_api_lists_an_assets_checks_with_what_each_last_found() {
    let home = home();
    let server = serve_rust(&home);
    let launch = |score_of: f64| {
        let config: Value = serde_json::from_str(&score(score_of)).unwrap();
        let request =
            json!({"location": "conformance_rust", "job": "checked_job", "config": config});
        let run_id = server.launch(request);
        server.wait(&run_id);
    };
    launch(1.0);
    launch(-1.0);
    let answer = server.get("/assets/scored/checks");
    let checks = answer["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["scored_is_positive", "scored_is_small"], "{answer}");
    assert_eq!(checks[0]["blocking"], true);
    assert_eq!(checks[0]["latest"]["passed"], false, "{answer}");
    assert_eq!(checks[0]["latest"]["metadata"]["score"]["value"], -1.0);
    assert_eq!(checks[1]["blocking"], false);
    assert_eq!(checks[1]["latest"]["passed"], true);
    assert_eq!(answer["evaluations"].as_array().unwrap().len(), 4);
    let (status, _) = server.call("GET", "/assets/no_such_asset/checks", None);
    assert_eq!(status, 404);
}
