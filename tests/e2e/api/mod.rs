//! `weft serve` end to end over HTTP, as a user of the API sees it: upload a component and
//! run it at once, bad requests refused with nothing changed, compute logs and guest
//! failures, tokens and their roles, cancel and re-execute (also from failure); the life of a code
//! location is in `locations`.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

mod limits;
mod locations;
mod security;

use serde_json::{Value, json};
use weft_tests::{Backend, Home, Server, output_of, types_of};

weft_tests::on_both_databases!(
    an_upload_is_live_at_once_and_process_numbers_gives_55,
    compute_logs_and_guest_failures_reach_the_api,
    bad_requests_get_a_clear_4xx_and_change_nothing,
    with_tokens_every_route_but_health_needs_one_and_each_role_does_what_it_may,
    cancel_stops_a_run_in_flight_and_reexecute_runs_it_again,
    reexecute_from_failure_runs_only_what_failed_reading_the_rest_from_the_parent,
);

pub(super) fn numbers() -> Vec<u8> {
    weft_tests::rust_guest_bytes("numbers")
}

pub(super) fn hostile() -> Vec<u8> {
    weft_tests::rust_guest_bytes("hostile")
}

fn an_upload_is_live_at_once_and_process_numbers_gives_55(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    assert_eq!(server.get("/health"), json!({ "ok": true }));
    assert_eq!(server.get("/locations"), json!([]));

    let digest = server.upload("numbers", &numbers());
    let locations = server.get("/locations");
    assert_eq!(locations[0]["name"], "numbers");
    assert_eq!(locations[0]["digest"], digest.as_str());
    assert_eq!(locations[0]["counts"]["jobs"], 2);

    let jobs = server.get("/jobs");
    let names: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| j["name"].as_str())
        .collect();
    assert!(names.contains(&"process_numbers"), "{names:?}");
    let job = server.get("/locations/numbers/jobs/process_numbers");
    let steps = job["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 6);
    let sum = steps.iter().find(|s| s["key"] == "sum_two_sums").unwrap();
    assert_eq!(
        sum["upstream"],
        json!(["sum_even_numbers", "sum_odd_numbers"])
    );

    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(run["digest"], digest.as_str());
    assert_eq!(run["steps"].as_array().unwrap().len(), 6);
    assert!(
        run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "SUCCESS" && s["start_ms"].as_i64() <= s["end_ms"].as_i64())
    );
    let events = server.events(&run_id);
    assert_eq!(output_of(&events, "sum_two_sums"), json!(55));
    assert_eq!(types_of(&events, None), ["RUN_START", "RUN_SUCCESS"]);

    // Paging: the cursor reads on where the last page stopped.
    let first = server.get(&format!("/runs/{run_id}/events?limit=3"));
    assert_eq!(first["events"].as_array().unwrap().len(), 3);
    let cursor = first["cursor"].as_i64().unwrap();
    let rest = server.get(&format!("/runs/{run_id}/events?after={cursor}&limit=1000"));
    assert_eq!(
        3 + rest["events"].as_array().unwrap().len(),
        events.len(),
        "the two pages hold every event once"
    );

    // The live stream of a finished run replays every event, then ends.
    let stream = reqwest::blocking::get(format!("{}/api/runs/{run_id}/events/stream", server.url))
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(stream.matches("event: event").count(), events.len());
    assert!(stream.contains("event: end"), "{stream}");
    assert!(stream.contains(r#""type":"RUN_SUCCESS""#));

    // A job named without its location is found in the one location that has it.
    let again = server.launch(json!({ "job": "process_numbers", "tags": { "team": "data" } }));
    assert_eq!(server.wait(&again)["status"], "SUCCESS");
    let tagged = server.get("/runs?tag=team=data");
    assert_eq!(tagged.as_array().unwrap().len(), 1);
    assert_eq!(tagged[0]["run_id"], again.as_str());
    let succeeded = server.get("/runs?status=SUCCESS&job=process_numbers");
    assert_eq!(succeeded.as_array().unwrap().len(), 2);

    // Assets: a selection, then lineage with the latest materialization.
    let assets_run = server.launch(json!({ "selection": "group:numbers" }));
    assert_eq!(server.wait(&assets_run)["status"], "SUCCESS");
    let assets = server.get("/assets");
    let summed = assets
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "summed_two_sums")
        .unwrap();
    assert_eq!(
        summed["deps"],
        json!(["summed_even_numbers", "summed_odd_numbers"])
    );
    assert_eq!(
        summed["latest_materialization"]["run_id"],
        assets_run.as_str()
    );
    assert_eq!(server.get("/schedules").as_array().unwrap().len(), 2);
    assert_eq!(
        server.get("/sensors")[0]["name"],
        "check_file_sensor",
        "sensors are listed with their location"
    );
}

fn compute_logs_and_guest_failures_reach_the_api(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let run_id = server.launch(json!({ "location": "hostile", "job": "panics" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "FAILURE");
    let events = server.events(&run_id);
    let failure = events.iter().find(|e| e["type"] == "STEP_FAILURE").unwrap();
    assert!(
        failure["message"].as_str().unwrap().contains("boom"),
        "{failure}"
    );
    let logs = server.get(&format!("/runs/{run_id}/logs/panic_op"));
    assert!(
        logs["stderr"].as_str().unwrap().contains("boom"),
        "the panic message is in the step's stderr: {logs}"
    );

    let configured = server.launch(json!({
        "location": "hostile", "job": "config_job",
        "config": { "ops": { "scaled": { "config": { "factor": 6 } } } }
    }));
    assert_eq!(server.wait(&configured)["status"], "SUCCESS");
    assert_eq!(output_of(&server.events(&configured), "scaled"), json!(42));
}

fn bad_requests_get_a_clear_4xx_and_change_nothing(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &["--max-upload-mb", "1"]);
    let digest = server.upload("numbers", &numbers());

    let upload = |name: &str, bytes: Vec<u8>| {
        server.call(
            "POST",
            &format!("/locations/{name}"),
            Some((bytes, "application/octet-stream")),
        )
    };
    let (status, body) = upload("numbers", b"this is not wasm".to_vec());
    assert_eq!(status, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a WebAssembly file"),
        "{body}"
    );
    // A core module (the header of one) is not a component.
    let (status, body) = upload("numbers", b"\0asm\x01\0\0\0".to_vec());
    assert_eq!(status, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("core WebAssembly module"),
        "{body}"
    );
    let (status, body) = upload("numbers", Vec::new());
    assert_eq!(status, 400, "{body}");
    let (status, body) = upload("no/such", numbers());
    assert_eq!(status, 404, "a name with a slash is no route: {body}");
    let (status, body) = upload("1bad", numbers());
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a valid code location name")
    );
    let (status, body) = upload("numbers", vec![0u8; 2 << 20]);
    assert_eq!(status, 413, "{body}");
    let (status, body) = server.call(
        "POST",
        "/locations/numbers?sha256=0000",
        Some((numbers(), "application/wasm")),
    );
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("not the expected"),
        "{body}"
    );
    // Nothing changed.
    let locations = server.get("/locations");
    assert_eq!(locations.as_array().unwrap().len(), 1);
    assert_eq!(locations[0]["digest"], digest.as_str());
    assert_eq!(
        server
            .get("/locations/numbers/versions")
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let expect = |method: &str, path: &str, body: Option<Value>, want: u16, says: &str| {
        let body = body.map(|b| (b.to_string().into_bytes(), "application/json"));
        let (status, answer) = server.call(method, path, body);
        assert_eq!(status, want, "{method} {path}: {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(says),
            "{method} {path}: {message:?} lacks {says:?}"
        );
    };
    expect(
        "POST",
        "/runs",
        Some(json!({ "location": "numbers", "job": "nope" })),
        404,
        "nope",
    );
    expect(
        "POST",
        "/runs",
        Some(json!({ "location": "ghost", "job": "x" })),
        404,
        "ghost",
    );
    expect(
        "POST",
        "/runs",
        Some(json!({ "job": "a", "selection": "b" })),
        400,
        "either",
    );
    expect("POST", "/runs", Some(json!({ "jobb": "a" })), 422, "jobb");
    expect(
        "POST",
        "/runs",
        Some(
            json!({ "location": "numbers", "job": "process_numbers", "config": { "ops": { "nope": {} } } }),
        ),
        422,
        "nope",
    );
    expect("POST", "/runs", Some(json!({ "selection": "+" })), 422, "");
    expect("GET", "/runs/nope", None, 404, "nope");
    expect("GET", "/runs/nope/events", None, 404, "nope");
    expect("POST", "/runs/nope/cancel", None, 404, "nope");
    expect("GET", "/runs?status=DONE", None, 400, "DONE");
    expect("GET", "/runs?limit=-1", None, 400, "limit");
    expect("GET", "/locations/ghost", None, 404, "ghost");
    expect("GET", "/locations/numbers/jobs/nope", None, 404, "nope");
    expect(
        "POST",
        "/locations/numbers/rollback",
        Some(json!({ "digest": "abc" })),
        404,
        "abc",
    );
    expect(
        "PUT",
        "/locations/numbers/grants",
        Some(json!({ "dirs": [{ "host": "/no/such/dir", "guest": "/" }] })),
        422,
        "/no/such/dir",
    );
    expect(
        "PUT",
        "/locations/numbers/grants",
        Some(json!({ "hosts": ["https://ok.example.com", "tcp://db.internal"] })),
        422,
        "host grant \"tcp://db.internal\" is not a pattern: a tcp:// grant must name its port",
    );
    // Refused, nothing was granted; well-formed patterns are granted and shown.
    assert_eq!(server.get("/locations/numbers/grants")["hosts"], json!([]));
    let hosts = json!([
        "https://*.example.com",
        "tcp://db.internal:5432",
        "*://localhost:*"
    ]);
    let (status, granted) = server.call(
        "PUT",
        "/locations/numbers/grants",
        Some((
            json!({ "hosts": hosts }).to_string().into_bytes(),
            "application/json",
        )),
    );
    assert_eq!(status, 200, "{granted}");
    assert_eq!(server.get("/locations/numbers/grants")["hosts"], hosts);
    expect("GET", "/nothing/here", None, 404, "no such API endpoint");
    let (status, body) = server.call(
        "POST",
        "/runs",
        Some((b"{not json".to_vec(), "application/json")),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].is_string());
}

fn with_tokens_every_route_but_health_needs_one_and_each_role_does_what_it_may(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    // An admin's token on the command line; a viewer's and an editor's in weft.yaml, by
    // their SHA-256 (the digests of "viewer-secret" and "editor-secret").
    home.add_config(&format!(
        "api_tokens:\n  - {{ role: viewer, sha256: {} }}\n  - {{ role: editor, sha256: {} }}\n",
        weft_core::ports::digest_of(b"viewer-secret"),
        weft_core::ports::digest_of(b"editor-secret"),
    ));
    let server = Server::start(&home, &["--token", "s3cret"]);
    let (admin, editor, viewer) = (Some("s3cret"), Some("editor-secret"), Some("viewer-secret"));
    let path = "/locations/numbers";
    let body = || Some((numbers(), "application/wasm"));

    // No token, or an unknown one: nothing but the health check and the API's document.
    let (status, answer) = server.call_as(None, "POST", path, body());
    assert_eq!(status, 401);
    assert!(
        answer["error"].as_str().unwrap().contains("Bearer"),
        "{answer}"
    );
    assert_eq!(server.call_as(Some("guess"), "POST", path, body()).0, 401);
    for read in ["/locations", "/runs", "/locations/numbers/grants", "/jobs"] {
        assert_eq!(server.call_as(None, "GET", read, None).0, 401, "{read}");
        assert_eq!(
            server.call_as(Some("guess"), "GET", read, None).0,
            401,
            "{read}"
        );
    }
    assert_eq!(server.call_as(None, "GET", "/health", None).0, 200);
    assert_eq!(server.call_as(None, "GET", "/openapi.json", None).0, 200);

    // A viewer reads and changes nothing; an editor uploads and launches, but neither
    // grants nor removes; an admin does all.
    let (status, answer) = server.call_as(viewer, "POST", path, body());
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("a viewer token may not"),
        "{answer}"
    );
    let digest = {
        let (status, answer) = server.call_as(editor, "POST", path, body());
        assert_eq!(status, 201, "{answer}");
        answer["digest"].as_str().unwrap().to_owned()
    };
    assert_eq!(server.call_as(viewer, "GET", "/locations", None).0, 200);
    assert_eq!(
        server
            .call_as(viewer, "GET", &format!("/components/{digest}"), None)
            .0,
        403,
        "the code is for editors (run and step pods)"
    );
    assert_eq!(
        server
            .call_as(editor, "GET", &format!("/components/{digest}"), None)
            .0,
        200
    );
    let launch = || {
        Some((
            json!({ "location": "numbers", "job": "process_numbers" })
                .to_string()
                .into_bytes(),
            "application/json",
        ))
    };
    assert_eq!(server.call_as(viewer, "POST", "/runs", launch()).0, 403);
    assert_eq!(server.call_as(editor, "POST", "/runs", launch()).0, 201);
    let grants = || {
        Some((
            json!({ "env": [] }).to_string().into_bytes(),
            "application/json",
        ))
    };
    let grants_path = "/locations/numbers/grants";
    let (status, answer) = server.call_as(editor, "PUT", grants_path, grants());
    assert_eq!(status, 403, "{answer}");
    assert_eq!(
        answer["error"],
        "an editor token may not do this: it needs an admin token"
    );
    assert_eq!(server.call_as(admin, "PUT", grants_path, grants()).0, 200);
    assert_eq!(server.call_as(editor, "DELETE", path, None).0, 403);
    assert_eq!(server.call_as(admin, "DELETE", path, None).0, 204);
}

fn cancel_stops_a_run_in_flight_and_reexecute_runs_it_again(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let run_id = server.launch(json!({
        "location": "hostile", "job": "slow_chain",
        "config": { "ops": { "sleepy": { "config": { "ms": 1500 } } } }
    }));
    // Wait for the first step to start, then cancel.
    server.wait_for_event(&run_id, "STEP_START");
    let (status, answer) = server.call("POST", &format!("/runs/{run_id}/cancel"), None);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "CANCELING");
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "CANCELED", "{run}");
    let events = server.events(&run_id);
    assert_eq!(
        types_of(&events, None),
        ["RUN_START", "RUN_CANCELING", "RUN_CANCELED"]
    );
    assert_eq!(types_of(&events, Some("wake")), ["STEP_SKIPPED"]);
    let (status, answer) = server.call("POST", &format!("/runs/{run_id}/cancel"), None);
    assert_eq!(status, 409, "an ended run cannot be canceled: {answer}");

    let (status, answer) = server.post_json(&format!("/runs/{run_id}/reexecute"), json!({}));
    assert_eq!(status, 201, "{answer}");
    let child = answer["run_id"].as_str().unwrap();
    let child = server.wait(child);
    assert_eq!(child["status"], "SUCCESS");
    assert_eq!(child["tags"]["weft/parent_run_id"], run_id.as_str());
    assert_eq!(child["tags"]["weft/root_run_id"], run_id.as_str());
    assert_eq!(child["config"], run["config"]);
    assert_eq!(child["digest"], run["digest"]);
}

fn reexecute_from_failure_runs_only_what_failed_reading_the_rest_from_the_parent(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let parent = server.launch(json!({ "location": "hostile", "job": "flag_chain" }));
    assert_eq!(server.wait(&parent)["status"], "FAILURE");
    let from_failure = json!({ "from_failure": true });
    // Fix the cause: give the location the variable its op wants.
    server.grant("hostile", json!({ "environment": { "WEFT_FLAG": "1" } }));
    let (status, answer) =
        server.post_json(&format!("/runs/{parent}/reexecute"), from_failure.clone());
    assert_eq!(status, 201, "{answer}");
    let child = answer["run_id"].as_str().unwrap().to_owned();
    let run = server.wait(&child);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let events = server.events(&child);
    assert!(
        types_of(&events, Some("answer")).is_empty(),
        "answer succeeded before: not run again"
    );
    assert_eq!(
        output_of(&events, "needs_flag"),
        json!(43),
        "42 read from the parent run, plus one"
    );

    // A run that succeeded has nothing to re-execute from failure.
    let (status, answer) = server.post_json(&format!("/runs/{child}/reexecute"), from_failure);
    assert_eq!(status, 409, "{answer}");
}
