//! The database I/O manager end to end, on SQLite and PostgreSQL: with `io_manager:
//! database` small step outputs and asset values live in the instance's database, so steps
//! in processes of their own (`executor: multiprocess`), a step run from another home (a
//! pod with no shared disk) and queue workers in homes of their own all read what the
//! others stored, and nothing is written under `$WEFT_HOME/storage`. A value over the
//! configured limit fails its step with a message naming the step, the size, the limit and
//! the I/O managers large values belong in.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::process::{Command, Stdio};

use serde_json::json;
use weft_core::defs::{AssetKey, Value};
use weft_store::{IoKey, Store};
use weft_tests::{Backend, Home, Server, output_of, rust_guest_bytes, types_of};

weft_tests::on_both_databases!(
    outputs_and_assets_cross_step_processes_through_the_database,
    queue_workers_in_homes_of_their_own_share_values_through_the_database,
    a_value_over_the_limit_fails_its_step_naming_size_limit_and_alternatives,
);

/// The values the database I/O manager stored under `keys`, read from the database of
/// `home` as any process on it would.
fn stored(home: &Home, keys: &[IoKey<'_>]) -> Vec<Option<Value>> {
    let url = home.database_url().unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = Store::connect(&url).await.unwrap();
            let mut values = Vec::new();
            for key in keys {
                values.push(store.io_value(*key).await.unwrap().map(|v| v.value));
            }
            store.close().await;
            values
        })
}

fn output<'a>(run_id: &'a str, step_key: &'a str) -> IoKey<'a> {
    IoKey::Output {
        run_id,
        step_key,
        output: "result",
    }
}

/// Nothing was written where the filesystem I/O manager keeps values.
fn assert_no_storage(home: &Home) {
    let storage = home.dir.join("storage");
    assert!(
        !storage.exists(),
        "{} exists: values went to files",
        storage.display()
    );
}

/// A home on the same database as `home` (another machine's, sharing no disk), with the
/// database I/O manager.
fn another_home(home: &Home) -> Home {
    let other = Home::new();
    other.set_database(&home.database_url().unwrap());
    other.add_config("io_manager: database\n");
    other
}

fn outputs_and_assets_cross_step_processes_through_the_database(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("executor: multiprocess\nmax_concurrent: 2\nio_manager: database\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));

    // Each step in a `weft step` process, its inputs read from the database.
    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&run_id)["status"], "SUCCESS");
    let events = server.events(&run_id);
    assert_eq!(output_of(&events, "sum_two_sums"), json!(55), "{events:?}");
    for step in ["generate_numbers", "filter_even_numbers", "sum_two_sums"] {
        assert_eq!(
            types_of(&events, Some(step)),
            ["STEP_START", "STEP_OUTPUT", "STEP_SUCCESS"],
            "{events:?}"
        );
    }
    assert_eq!(
        stored(
            &home,
            &[
                output(&run_id, "generate_numbers"),
                output(&run_id, "sum_even_numbers"),
                output(&run_id, "sum_two_sums"),
                output(&run_id, "no_such_step"),
            ]
        ),
        [
            Some(Value::json("[1,2,3,4,5,6,7,8,9,10]")),
            Some(Value::json("30")),
            Some(Value::json("55")),
            None,
        ]
    );

    // Assets: stored by key, then read back by a run that materializes only part of the
    // graph (summed_odd_numbers comes from the database).
    let assets = server.launch(json!({ "location": "numbers", "selection": "group:numbers" }));
    assert_eq!(server.wait(&assets)["status"], "SUCCESS");
    let summed = AssetKey::parse("summed_two_sums");
    let odd = AssetKey::parse("summed_odd_numbers");
    assert_eq!(
        stored(&home, &[IoKey::Asset(&summed), IoKey::Asset(&odd)]),
        [Some(Value::json("55")), Some(Value::json("25"))]
    );
    let part = server.launch(json!({ "location": "numbers", "selection": "summed_even_numbers+" }));
    assert_eq!(server.wait(&part)["status"], "SUCCESS");
    let events = server.events(&part);
    assert_eq!(
        output_of(&events, "summed_two_sums"),
        json!(55),
        "{events:?}"
    );
    assert_eq!(
        types_of(&events, Some("summed_odd_numbers")),
        Vec::<String>::new()
    );

    // A step run from another home (a pod: no shared disk) reads its inputs from the
    // database too.
    let pod = another_home(&home);
    let out = Command::new(weft_tests::weft_bin())
        .args(["step", &run_id, "sum_two_sums"])
        .env("WEFT_HOME", &pod.dir.0)
        .env_remove("WEFT_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let attempt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        attempt["result"]["Ok"][0]["value"]["data"], "55",
        "{attempt}"
    );

    assert_no_storage(&home);
    assert_no_storage(&pod);
}

fn queue_workers_in_homes_of_their_own_share_values_through_the_database(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("executor: queue\nmax_concurrent: 2\nio_manager: database\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));
    // Two workers, each in a home of its own: a step's inputs were stored by the other
    // worker as often as not.
    let homes = [another_home(&home), another_home(&home)];
    let mut workers: Vec<_> = homes
        .iter()
        .enumerate()
        .map(|(i, worker_home)| {
            Command::new(weft_tests::weft_bin())
                .args(["worker", "--slots", "1", "--name", &format!("w{i}")])
                .env("WEFT_HOME", &worker_home.dir.0)
                .env_remove("WEFT_LOG")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();

    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    let status = server.wait(&run_id)["status"].clone();
    for worker in &mut workers {
        let _ = worker.kill();
        let _ = worker.wait();
    }
    assert_eq!(status, "SUCCESS");
    assert_eq!(
        output_of(&server.events(&run_id), "sum_two_sums"),
        json!(55)
    );
    assert_eq!(
        stored(&home, &[output(&run_id, "sum_two_sums")]),
        [Some(Value::json("55"))]
    );
    assert_no_storage(&home);
    for worker_home in &homes {
        assert_no_storage(worker_home);
    }
}

fn a_value_over_the_limit_fails_its_step_naming_size_limit_and_alternatives(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("executor: multiprocess\nio_manager: { database: { max_bytes: 4 } }\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));
    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&run_id)["status"], "FAILURE");
    let events = server.events(&run_id);
    assert_eq!(
        types_of(&events, Some("generate_numbers")),
        ["STEP_START", "STEP_FAILURE"],
        "{events:?}"
    );
    let failure = events.iter().find(|e| e["type"] == "STEP_FAILURE").unwrap();
    let message = failure["message"].as_str().unwrap();
    for part in [
        &format!("output result of step generate_numbers of run {run_id} is 22 bytes"),
        "over the database I/O manager's limit of 4 bytes",
        "io_manager: filesystem",
        "{s3: {bucket: ...}}",
        "max_bytes",
    ] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    assert_eq!(
        types_of(&events, Some("sum_two_sums")),
        ["STEP_SKIPPED"],
        "{events:?}"
    );
    assert_eq!(
        stored(&home, &[output(&run_id, "generate_numbers")]),
        [None]
    );
    assert_no_storage(&home);
}
