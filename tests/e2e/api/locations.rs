//! The life of a code location through the API and the CLI: hot reload while runs are in
//! flight (each run keeps its digest), versions, rollback and removal, two servers on one
//! database, the `weft location` commands, the locations weft.yaml lists, and components
//! refused with the live version kept.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::time::{Duration, Instant};

use serde_json::json;
use weft_tests::{Backend, Home, Server, rust_guest, types_of, with_custom_section};

use super::{hostile, numbers};

weft_tests::on_both_databases!(
    hot_reload_under_load_keeps_each_run_on_its_digest,
    versions_roll_back_and_removal_keeps_the_runs,
    two_servers_on_one_database_both_serve_a_new_upload,
    weft_location_commands_manage_a_running_server,
    weft_yaml_lists_locations_that_serve_uploads_at_start,
    another_world_or_a_guest_trapping_in_its_definitions_is_refused_and_the_version_stays,
);

fn hot_reload_under_load_keeps_each_run_on_its_digest(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    let old = server.upload("hostile", &hostile());
    // Runs long enough to outlast the new version's upload (its compilation included) even
    // on a loaded machine: at 1.5 s, with the other tests and a link beside it, every run had
    // ended before the upload returned.
    let slow = json!({
        "location": "hostile", "job": "slow_job",
        "config": { "ops": { "sleepy": { "config": { "ms": 5000 } } } }
    });
    let in_flight: Vec<String> = (0..20).map(|_| server.launch(slow.clone())).collect();
    let new = server.upload("hostile", &with_custom_section(&hostile(), "v2"));
    assert_ne!(old, new);
    assert_eq!(server.get("/locations/hostile")["digest"], new.as_str());
    // The 20 runs were still going when the new version became current.
    let statuses: Vec<String> = in_flight
        .iter()
        .map(|id| {
            server.get(&format!("/runs/{id}"))["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(statuses.iter().any(|s| s != "SUCCESS"), "{statuses:?}");

    let next = server.launch(json!({ "location": "hostile", "job": "ok_job" }));
    for id in &in_flight {
        let run = server.wait(id);
        assert_eq!(run["status"], "SUCCESS", "{run}");
        assert_eq!(
            run["digest"],
            old.as_str(),
            "a run keeps the digest it started with"
        );
        // No event lost: the whole sequence is there.
        let events = server.events(id);
        assert_eq!(types_of(&events, None), ["RUN_START", "RUN_SUCCESS"]);
        assert_eq!(
            types_of(&events, Some("sleepy")),
            ["STEP_START", "STEP_OUTPUT", "STEP_SUCCESS"]
        );
    }
    let next = server.wait(&next);
    assert_eq!(
        next["digest"],
        new.as_str(),
        "new runs take the new version"
    );
    assert_eq!(next["status"], "SUCCESS");
}

fn versions_roll_back_and_removal_keeps_the_runs(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    let v1 = server.upload("hostile", &hostile());
    let v2 = server.upload("hostile", &with_custom_section(&hostile(), "v2"));
    let versions = server.get("/locations/hostile/versions");
    let listed: Vec<(&str, bool)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["digest"].as_str().unwrap(),
                v["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&(v2.as_str(), true)) && listed.contains(&(v1.as_str(), false)));

    let (status, location) =
        server.post_json("/locations/hostile/rollback", json!({ "digest": v1 }));
    assert_eq!(status, 200, "{location}");
    assert_eq!(location["digest"], v1.as_str());
    let run = server.launch(json!({ "location": "hostile", "job": "ok_job" }));
    assert_eq!(server.wait(&run)["digest"], v1.as_str());

    assert_eq!(server.call("DELETE", "/locations/hostile", None).0, 204);
    assert_eq!(server.call("GET", "/locations/hostile", None).0, 404);
    assert_eq!(server.get("/locations"), json!([]));
    assert_eq!(server.get("/jobs"), json!([]));
    assert_eq!(server.call("DELETE", "/locations/hostile", None).0, 404);
    // The run and its events outlive the location.
    assert_eq!(server.get(&format!("/runs/{run}"))["status"], "SUCCESS");
    // Uploading again brings it back with its history.
    server.upload("hostile", &hostile());
    assert_eq!(
        server
            .get("/locations/hostile/versions")
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

fn two_servers_on_one_database_both_serve_a_new_upload(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    // Two instances with nothing in common but the database.
    let other = Home::new();
    other.set_database(&home.database_url().unwrap());
    let a = Server::start(&home, &[]);
    let b = Server::start(&other, &[]);
    let uploaded = Instant::now();
    let digest = a.upload("numbers", &numbers());
    // B learns of it from the database alone, well within a second.
    loop {
        let listed = b.get("/locations");
        if listed[0]["digest"] == digest.as_str() {
            break;
        }
        assert!(
            uploaded.elapsed() < Duration::from_secs(1),
            "B never saw the upload"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let run_id = b.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(b.wait(&run_id)["digest"], digest.as_str());
    // A sees B's run.
    assert_eq!(a.get(&format!("/runs/{run_id}"))["status"], "SUCCESS");
}

fn weft_location_commands_manage_a_running_server(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    let file = rust_guest("numbers");
    let file = file.to_str().unwrap();
    let at = ["--server", server.url.as_str(), "--json"];
    let cmd = |args: &[&str]| {
        let mut all = vec!["location"];
        all.extend_from_slice(args);
        all.extend_from_slice(&at);
        home.weft(&all)
    };
    let added = cmd(&["add", "numbers", file]);
    assert_eq!(added.code, 0, "{}", added.stderr);
    let v1 = added.json()["digest"].as_str().unwrap().to_owned();
    let again = cmd(&["add", "numbers", file]);
    assert_eq!(again.code, 2, "adding a taken name is refused");
    assert!(again.stderr.contains("exists already"), "{}", again.stderr);

    let list = cmd(&["list"]);
    assert_eq!(list.json()[0]["digest"], v1.as_str());
    let hostile = rust_guest("hostile");
    let up = cmd(&["upload", "numbers", hostile.to_str().unwrap()]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let history = cmd(&["history", "numbers"]).json();
    assert_eq!(history.as_array().unwrap().len(), 2);
    let back = cmd(&["rollback", "numbers", &v1]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(back.json()["digest"], v1.as_str());
    let bad = cmd(&["rollback", "numbers", "feed"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("404"), "{}", bad.stderr);
    // Its granted hosts are listed with it.
    server.grant(
        "numbers",
        json!({ "hosts": ["https://api.example.com", "tcp://db:5432"] }),
    );
    let listed = home.weft(["location", "list", "--server", server.url.as_str()]);
    assert!(
        listed
            .stdout
            .contains("  hosts https://api.example.com, tcp://db:5432"),
        "{}",
        listed.stdout
    );
    assert_eq!(cmd(&["remove", "numbers"]).code, 0);
    assert_eq!(cmd(&["list"]).json(), json!([]));
    let human = home.weft(["location", "list", "--server", server.url.as_str()]);
    assert_eq!(human.stdout.trim(), "(none)");
    let down = home.weft(["location", "list", "--server", "http://127.0.0.1:9"]);
    assert_eq!(down.code, 1);
    assert!(
        down.stderr.contains("cannot reach the server"),
        "{}",
        down.stderr
    );
}

fn weft_yaml_lists_locations_that_serve_uploads_at_start(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let numbers = rust_guest("numbers");
    home.add_config(&format!(
        "locations:\n  numbers:\n    path: {}\n  broken:\n    path: {}\n",
        numbers.display(),
        home.dir.join("weft.yaml").display()
    ));
    let server = Server::start(&home, &[]);
    let listed = server.get("/locations");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["numbers"],
        "the file that is not a component is reported, not served"
    );
    drop(server);
    // A restart finds the same version current and stores nothing new.
    let server = Server::start(&home, &[]);
    assert_eq!(
        server
            .get("/locations/numbers/versions")
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn another_world_or_a_guest_trapping_in_its_definitions_is_refused_and_the_version_stays(
    backend: Backend,
) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    let digest = server.upload("numbers", &numbers());
    // A real component, of another world.
    let dir = weft_tests::TempDir::new("world");
    let command = std::fs::read(weft_tests::wasi_command_component(&dir)).unwrap();
    let (status, body) = server.call(
        "POST",
        "/locations/numbers",
        Some((command, "application/wasm")),
    );
    assert_eq!(status, 422);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("not a Weft code location"),
        "{body}"
    );
    // The same location's next version gets no memory to run `definitions.get` in.
    server.grant("numbers", json!({}));
    drop(server);
    home.add_config("sandbox: { memory_mb: 1 }\n");
    let server = Server::start(&home, &[]);
    let (status, body) = server.call(
        "POST",
        "/locations/numbers",
        Some((with_custom_section(&numbers(), "v2"), "application/wasm")),
    );
    assert_eq!(status, 422, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("definitions") || message.contains("memory"),
        "{message}"
    );
    assert_eq!(server.get("/locations/numbers")["digest"], digest.as_str());
    assert_eq!(
        server
            .get("/locations/numbers/versions")
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
