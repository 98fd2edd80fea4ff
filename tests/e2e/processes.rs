//! Runs and steps in processes of their own, end to end on SQLite and PostgreSQL: with
//! `run_launcher: {type: process}` a launched run executes in `weft execute-run` and ends
//! even when its server is killed mid-run; with `executor: multiprocess` each step attempt
//! runs in `weft step`, outputs crossing through the I/O manager, and a step whose process
//! is killed is retried under its retry policy; a step's process on another machine (its
//! own home) fetches the component and its precompiled form by digest from the server, or
//! from the component store (S3) that the server writes every upload to.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::json;
use weft_tests::{Backend, Home, Server, output_of, rust_guest_bytes, types_of};

weft_tests::on_both_databases!(
    a_run_in_its_own_process_finishes_after_its_server_is_killed,
    the_multiprocess_executor_runs_each_step_in_a_process_and_retries_a_killed_one,
    a_step_elsewhere_fetches_its_component_by_digest_from_the_server,
    a_step_elsewhere_fetches_its_component_by_digest_from_the_component_store,
);

fn hostile() -> Vec<u8> {
    rust_guest_bytes("hostile")
}

fn a_run_in_its_own_process_finishes_after_its_server_is_killed(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("run_launcher: { type: process }\n");
    let server = Server::start(&home, &[]);
    server.upload("hostile", &hostile());
    let run_id = server.launch(json!({
        "location": "hostile",
        "job": "slow_chain",
        "config": { "ops": { "sleepy": { "config": { "ms": 1500 } } } },
    }));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.get(&format!("/runs/{run_id}"))["status"] != "STARTED" {
        assert!(
            std::time::Instant::now() < deadline,
            "the run's process never started it"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SIGKILL: the server is gone, the run's own process is not.
    drop(server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let shown = loop {
        let shown = home.weft_json(&["runs", "show", &run_id], 0);
        if shown["run"]["status"] != "STARTED" {
            break shown;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never ended: {shown}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(shown["run"]["status"], "SUCCESS", "{shown}");
    let events = shown["events"].as_array().unwrap();
    let run_events = types_of(events, None);
    assert_eq!(
        run_events,
        ["RUN_STARTING", "RUN_START", "RUN_SUCCESS"],
        "{events:?}"
    );
    assert_eq!(output_of(events, "wake"), json!(1500));
    // The process says so in its log as it exits, just after the database does.
    let log_file = home.dir.join(format!("logs/runs/{run_id}.log").as_str());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(&log_file).unwrap_or_default();
        if log.contains(&format!("run {run_id} ended SUCCESS")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{log}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Executing it again does nothing; an unknown run is bad input.
    let again = home.weft(["execute-run", &run_id]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("already ended SUCCESS"),
        "{}",
        again.stdout
    );
    let unknown = home.weft(["execute-run", "no-such-run"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("there is no run"),
        "{}",
        unknown.stderr
    );
}

fn the_multiprocess_executor_runs_each_step_in_a_process_and_retries_a_killed_one(
    backend: Backend,
) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("executor: multiprocess\nmax_concurrent: 2\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));
    server.upload("hostile", &hostile());
    // Outputs cross from process to process through the I/O manager.
    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&run_id)["status"], "SUCCESS");
    assert_eq!(
        output_of(&server.events(&run_id), "sum_two_sums"),
        json!(55)
    );

    let run_id = server.launch(json!({
        "location": "hostile",
        "job": "retried_chain",
        "config": { "ops": { "sleepy_retried": { "config": { "ms": 3000 } } } },
    }));
    // Its step's own process: `weft step RUN_ID sleepy_retried --attempt 1`.
    let pattern = format!("step {run_id} sleepy_retried --attempt 1");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if weft_tests::kill_processes_matching(&pattern) > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no process for the step"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let message = weft_tests::retried_once(&server, &run_id, "sleepy_retried");
    assert!(
        message.contains("the step's process was killed by signal 9"),
        "{message}"
    );
    let events = server.events(&run_id);
    assert_eq!(output_of(&events, "wake"), json!(3000));
}

/// Asserts that `pod`'s cache holds component `digest` and a precompiled form of it.
fn assert_cached(pod: &Home, digest: &str) {
    let cached: Vec<String> = std::fs::read_dir(pod.dir.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(cached.contains(&format!("{digest}.wasm")), "{cached:?}");
    assert!(
        cached
            .iter()
            .any(|f| f.starts_with(&format!("{digest}-")) && f.ends_with(".cwasm")),
        "{cached:?}"
    );
}

/// The engine key in the name of `pod`'s cached precompiled form of `digest`
/// (`<digest>-<engine>.cwasm`).
fn engine_of(pod: &Home, digest: &str) -> String {
    std::fs::read_dir(pod.dir.join("cache"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find_map(|f| {
            f.strip_prefix(&format!("{digest}-"))?
                .strip_suffix(".cwasm")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no precompiled form of {digest} is cached"))
}

fn a_step_elsewhere_fetches_its_component_by_digest_from_the_server(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &["--token", "t0k"]);
    let digest = server.upload("numbers", &rust_guest_bytes("numbers"));
    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&run_id)["status"], "SUCCESS");

    // A pod's home: the same database, no component cache, the server to fetch from.
    let pod = Home::new();
    pod.set_database(&home.database_url().unwrap());
    pod.add_config(&format!("component_server: {}\n", server.url));
    let step = |token: &str| {
        std::process::Command::new(weft_tests::weft_bin())
            .args(["step", &run_id, "generate_numbers"])
            .env("WEFT_HOME", &pod.dir.0)
            .env("WEFT_TOKEN", token)
            .env_remove("WEFT_LOG")
            .output()
            .unwrap()
    };
    let refused = step("wrong");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("401"), "{said}");

    let out = step("t0k");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let attempt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(attempt["result"]["Ok"].is_array(), "{attempt}");
    // Cached by digest: the bytes, and the server's precompiled form (nothing compiled here).
    assert_cached(&pod, &digest);
    // A cached component is used as is: the server is not needed any more.
    drop(server);
    let again = step("t0k");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

fn a_step_elsewhere_fetches_its_component_by_digest_from_the_component_store(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let Some((endpoint, bucket)) = weft_tests::s3_bucket("components") else {
        return;
    };
    let store_at = |bucket: &str| {
        format!(
            "component_store: {{ s3: {{ bucket: {bucket}, endpoint: \"{endpoint}\", \
             allow_http: true, max_retries: 0 }} }}\n"
        )
    };

    // An upload the store cannot take fails, and nothing is stored.
    let broken = Home::new();
    broken.add_config(&store_at("no-such-bucket"));
    let server = Server::start(&broken, &[]);
    let (status, body) = server.call(
        "POST",
        "/locations/numbers",
        Some((rust_guest_bytes("numbers"), "application/wasm")),
    );
    assert_eq!(status, 503, "{body}");
    let said = body["error"].as_str().unwrap_or_default();
    assert!(
        said.contains("component store") && said.contains("no-such-bucket"),
        "{said}"
    );
    assert_eq!(server.get("/locations"), json!([]));
    drop(server);

    home.add_config(&store_at(&bucket));
    let server = Server::start(&home, &[]);
    let digest = server.upload("numbers", &rust_guest_bytes("numbers"));
    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    assert_eq!(server.wait(&run_id)["status"], "SUCCESS");
    // The pods need neither the server nor its files.
    drop(server);

    // A pod's home: the same database and component store, no cache, no server.
    let pod = |home: &Home| {
        let pod = Home::new();
        pod.set_database(&home.database_url().unwrap());
        pod.add_config(&store_at(&bucket));
        pod
    };
    let first = pod(&home);
    let out = first.weft(["step", run_id.as_str(), "generate_numbers"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let attempt: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(attempt["result"]["Ok"].is_array(), "{attempt}");
    // Cached by digest: the bytes and their precompiled form.
    assert_cached(&first, &digest);

    // A precompiled form is native code: one that is not what the server compiled (another
    // component's, written under this digest by whoever can write to the bucket) is never
    // run. The pod compiles the component itself, and its step succeeds.
    let components = {
        let mut config = weft_objstore::S3Config {
            bucket: bucket.clone(),
            endpoint: Some(endpoint.clone()),
            allow_http: true,
            ..Default::default()
        };
        config.prefix = Some("components".into());
        weft_objstore::S3Components::new(&config).unwrap()
    };
    let engine = engine_of(&first, &digest);
    let server = Server::start(&home, &[]);
    let other = server.upload("hostile", &rust_guest_bytes("hostile"));
    drop(server);
    let foreign = components
        .get_precompiled(&other, &engine)
        .unwrap()
        .unwrap();
    components
        .put_precompiled(&digest, &engine, foreign)
        .unwrap();
    let third = pod(&home);
    let out = std::process::Command::new(weft_tests::weft_bin())
        .args(["step", &run_id, "generate_numbers"])
        .env("WEFT_HOME", &third.dir.0)
        .env("WEFT_LOG", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let attempt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(attempt["result"]["Ok"].is_array(), "{attempt}");
    assert!(
        said.contains("compiling the component here instead"),
        "{said}"
    );

    // The bytes come from the store, and are checked there: bytes that are not the
    // digest's (written under it by someone else) are refused, never run.
    components
        .put(&digest, rust_guest_bytes("hostile"))
        .unwrap();
    let second = pod(&home);
    let refused = second.weft(["step", run_id.as_str(), "generate_numbers"]);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(
        refused.stderr.contains(&format!(
            "s3://{bucket}/components/{digest}.wasm answered component {digest} with bytes whose digest is"
        )),
        "{}",
        refused.stderr
    );
}
