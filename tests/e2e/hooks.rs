//! Hooks (Dagster's `@success_hook` and `@failure_hook`) in every guest language: the
//! conformance locations' `hooks_job` (see tests/guests/conformance-rust/src/hooks.rs), run
//! through the real `weft`: after each step, each hook of its node runs or is skipped by the
//! step's outcome, in name order, its log lines under the step; a hook that fails is
//! reported and changes nothing. With the multiprocess executor, where steps run in
//! processes of their own, the hooks are the same.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::{Value, json};

use crate::conformance_errors::{home, location, serve_rust};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

/// `(type, hook or log message)` of each event of `step` after its attempt ended.
fn after_the_step(events: &[Value], step: &str) -> Vec<(String, String)> {
    let mut ended = false;
    let mut seen = Vec::new();
    for e in events.iter().filter(|e| e["step_key"] == step) {
        let kind = e["type"].as_str().unwrap_or_default();
        if matches!(kind, "STEP_SUCCESS" | "STEP_FAILURE") {
            ended = true;
            continue;
        }
        if !ended || kind == "LOGS_CAPTURED" {
            continue;
        }
        let what = match kind {
            "LOG" => e["message"].as_str().unwrap_or_default(),
            _ => e["hook"].as_str().unwrap_or_default(),
        };
        seen.push((kind.to_owned(), what.to_owned()));
    }
    seen
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn check(events: &[Value], language: &str) {
    assert_eq!(
        after_the_step(events, "fine"),
        pairs(&[
            ("HOOK_SKIPPED", "alarm"),
            ("LOG", "announce: fine of hooks_job succeeded"),
            ("HOOK_COMPLETED", "announce"),
        ]),
        "{language}"
    );
    assert_eq!(
        after_the_step(events, "broken"),
        pairs(&[
            ("LOG", "alarm: broken failed"),
            ("HOOK_COMPLETED", "alarm"),
            ("HOOK_SKIPPED", "announce"),
            ("HOOK_ERRORED", "grumpy"),
        ]),
        "{language}"
    );
    let alarm = events
        .iter()
        .find(|e| e["message"] == "alarm: broken failed")
        .unwrap();
    assert_eq!(alarm["fields"]["saw_failure"], "yes", "{language}: {alarm}");
    let errored = events.iter().find(|e| e["type"] == "HOOK_ERRORED").unwrap();
    let message = errored["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("grumpy hook fails"),
        "{language}: {errored}"
    );
}

#[test]
fn hooks_run_after_their_steps_and_fail_nothing_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let run = home.weft_json(&["run", &location(language), "--job", "hooks_job"], 1);
        // The failing hook changed nothing: `fine` succeeded, the run failed for `broken`.
        assert_eq!(
            run["steps"]["fine"]["status"], "SUCCESS",
            "{language}: {run}"
        );
        assert_eq!(
            run["steps"]["broken"]["error"], "broken on purpose",
            "{language}"
        );
        let events = home.events(run["run_id"].as_str().unwrap());
        check(&events, language);
        let failure = events.iter().find(|e| e["type"] == "RUN_FAILURE").unwrap();
        assert_eq!(
            failure["message"], "step broken failed: broken on purpose",
            "{language}"
        );
    }
}

#[test]
fn hooks_run_in_the_runs_process_when_steps_run_in_their_own() {
    let home = home();
    home.add_config("executor: multiprocess\nmax_concurrent: 2\n");
    let server = serve_rust(&home);
    let run_id = server.launch(json!({ "location": "conformance_rust", "job": "hooks_job" }));
    assert_eq!(server.wait(&run_id)["status"], "FAILURE");
    check(&server.events(&run_id), "rust (multiprocess)");
}
