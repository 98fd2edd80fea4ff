//! What one client can take of a server: live event streams are capped (one more is a
//! 503 that says what to do instead, and a closed stream frees its place), the runs list
//! comes a page at a time, and a run's summary holds its steps however much they logged.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::io::Read;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_tests::{Backend, Home, Server};

use super::hostile;

weft_tests::on_both_databases!(live_streams_are_capped_and_runs_come_a_page_at_a_time,);

fn open_stream(server: &Server, run_id: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .get(format!("{}/api/runs/{run_id}/events/stream", server.url))
        .send()
        .unwrap()
}

fn live_streams_are_capped_and_runs_come_a_page_at_a_time(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("api_live_streams: 2\n");
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let slow = server.launch(json!({
        "location": "hostile",
        "job": "slow_job",
        "config": { "ops": { "sleepy": { "config": { "ms": 3000 } } } },
    }));

    // Two streams follow the run; a third is refused, saying why and what to do instead.
    let first = open_stream(&server, &slow);
    let second = open_stream(&server, &slow);
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let refused = open_stream(&server, &slow);
    assert_eq!(refused.status(), 503);
    let body: serde_json::Value = refused.json().unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("2 live event streams are open")
            && message.contains(&format!("/api/runs/{slow}/events")),
        "{message}"
    );

    // A closed stream frees its place.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(20);
    let third = loop {
        let stream = open_stream(&server, &slow);
        if stream.status() == 200 {
            break stream;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream kept its place"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Both open streams see the run to its end.
    for mut stream in [second, third] {
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        assert!(text.contains(r#""type":"RUN_SUCCESS""#), "{text}");
        assert!(text.contains("event: end"), "{text}");
    }

    // A run's summary lists its steps.
    let run = server.get(&format!("/runs/{slow}"));
    assert_eq!(run["steps"][0]["key"], "sleepy", "{run}");
    assert_eq!(run["steps"][0]["status"], "SUCCESS", "{run}");

    // The runs list, a page at a time: each page after the last run of the one before.
    let mut launched = vec![slow];
    for _ in 0..4 {
        let run_id = server.launch(json!({ "location": "hostile", "job": "ok_job" }));
        server.wait(&run_id);
        launched.push(run_id);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/runs?limit=2".to_owned();
    loop {
        let page = server.get(&path);
        let ids: Vec<String> = page
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["run_id"].as_str().unwrap().to_owned())
            .collect();
        assert!(ids.len() <= 2, "{page}");
        let Some(last) = ids.last().cloned() else {
            break;
        };
        seen.extend(ids);
        path = format!("/runs?limit=2&before={last}");
    }
    launched.reverse();
    assert_eq!(seen, launched, "newest first, each run once");
}
