//! The database goes away in the middle of a run, on SQLite (another connection holds it
//! locked) and PostgreSQL (its database refuses connections, the open ones closed): the
//! run goes on, the events the database would not take are saved under the home (that
//! run's, and only those), and once the database is back the next server stores them:
//! nothing is lost and nothing is stored twice.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::time::{Duration, Instant};

use serde_json::json;
use weft_store::testing::Outage;
use weft_tests::{Backend, Home, Server, output_of, rust_guest_bytes, types_of};

weft_tests::on_both_databases!(a_database_outage_mid_run_loses_no_event,);

fn a_database_outage_mid_run_loses_no_event(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let url = home.database_url().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = Server::start(&home, &[]);
    server.upload("hostile", &rust_guest_bytes("hostile"));
    let run_id = server.launch(json!({
        "location": "hostile",
        "job": "slow_chain",
        "config": { "ops": { "sleepy": { "config": { "ms": 2000 } } } },
    }));
    server.wait_for_event(&run_id, "STEP_START");

    // While `sleepy` sleeps, the database goes away; the run ends without it.
    let outage = runtime.block_on(Outage::begin(&url)).unwrap();
    let saved = home
        .dir
        .join("unsaved-events")
        .join(format!("{run_id}.jsonl"));
    let deadline = Instant::now() + Duration::from_secs(150);
    while !saved.exists() {
        assert!(
            Instant::now() < deadline,
            "no events were saved to {saved:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The server goes too, before the database is back: only the saved file holds the
    // run's end.
    drop(server);
    let text = std::fs::read_to_string(&saved).unwrap();
    let kept: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        kept.iter().all(|e| e["run_id"] == run_id.as_str()),
        "{text}"
    );
    assert!(
        kept.iter().any(|e| e["type"] == "RUN_SUCCESS"),
        "the run's end is not among the saved events: {text}"
    );

    // The database is back; the next server stores the saved events as it starts.
    runtime.block_on(outage.end()).unwrap();
    let server = Server::start(&home, &[]);
    assert!(!saved.exists(), "the saved events are still waiting");
    let run = server.get(&format!("/runs/{run_id}"));
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let events = server.events(&run_id);
    let runs: Vec<String> = types_of(&events, None);
    assert_eq!(runs, ["RUN_START", "RUN_SUCCESS"], "each run event once");
    for step in ["sleepy", "wake"] {
        let types = types_of(&events, Some(step));
        let once = |t: &str| types.iter().filter(|x| *x == t).count() == 1;
        assert!(
            once("STEP_START") && once("STEP_SUCCESS"),
            "{step}: {types:?}"
        );
    }
    assert_eq!(output_of(&events, "sleepy"), json!(2000));
}
