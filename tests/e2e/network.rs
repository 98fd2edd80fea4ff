//! Outbound network by grant, held to one behaviour in every guest language: the
//! conformance location's `fetch` op (Rust's `weft_sdk::http`, Go's `net/http`, Python's
//! `weft.http`) against the loopback servers of `http_server.rs`, through the real `weft`
//! binary. A granted GET and POST answer; an ungranted host is refused before any
//! connection (the server sees nothing), with a message naming the grant, and so is a
//! redirect to one; a body over the network budget and a server slower than the deadline
//! fail the step; HTTPS works with the test CA in `http.ca_file` and fails without it.
//! TCP (Rust's `std::net`): a granted echo server answers, an ungranted port is refused.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::sync::OnceLock;

use serde_json::{Value, json};
use weft_tests::{Home, TempDir, TestServers, rust_guest};

use super::conformance_errors::{home, location};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

/// Servers of one test's own, for a test that counts their connections.
fn own_servers() -> (TempDir, TestServers) {
    let dir = TempDir::new("network");
    let servers = TestServers::start(&dir.0).unwrap();
    (dir, servers)
}

/// The servers the tests that count nothing share.
fn servers() -> &'static TestServers {
    static SERVERS: OnceLock<(TempDir, TestServers)> = OnceLock::new();
    &SERVERS
        .get_or_init(|| {
            let dir = TempDir::new("network");
            let servers = TestServers::start(&dir.0).unwrap();
            (dir, servers)
        })
        .1
}

/// Runs the conformance location's `job` with `config` for its one op `op`, with `flags`
/// (grants and limits), expecting exit `code`.
fn run(
    home: &Home,
    language: &str,
    job: &str,
    op: &str,
    config: Value,
    flags: &[&str],
    code: i32,
) -> Value {
    let file = location(language);
    let config = json!({ "ops": { op: { "config": config } } }).to_string();
    let mut args = vec!["run", file.as_str(), "--job", job, "--config", &config];
    args.extend_from_slice(flags);
    home.weft_json(&args, code)
}

fn fetch(home: &Home, language: &str, config: Value, flags: &[&str], code: i32) -> Value {
    run(home, language, "fetch_job", "fetch", config, flags, code)
}

/// `fetch` of `url` (a GET).
fn get(home: &Home, language: &str, url: &str, flags: &[&str], code: i32) -> Value {
    fetch(home, language, json!({ "url": url }), flags, code)
}

fn error_of(run: &Value, step: &str) -> String {
    run["steps"][step]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The refusal a step of `language` gets for `endpoint` by `scheme`.
fn refusal(language: &str, scheme: &str, endpoint: &str) -> String {
    format!(
        "{endpoint} is not granted to location conformance_{language}: grant it with \
         --grant-host {scheme}://{endpoint}"
    )
}

#[test]
fn a_granted_get_and_post_answer_with_the_servers_json() {
    let servers = servers();
    let grant = servers.http.clone();
    let home = home();
    for language in LANGUAGES {
        let url = format!("{}/json", servers.http);
        let got = get(&home, language, &url, &["--grant-host", &grant], 0);
        assert_eq!(
            got["steps"]["fetch"]["outputs"]["result"],
            json!({"status": 200, "body": {"hello": "world"}}),
            "{language}: {got}"
        );
        // `times` (what the benchmark's many-GET step uses) sends the request that often.
        let config = json!({"url": url, "times": 3});
        let got = fetch(&home, language, config, &["--grant-host", &grant], 0);
        assert_eq!(
            got["steps"]["fetch"]["outputs"]["result"]["body"],
            json!({"hello": "world"}),
            "{language}: {got}"
        );
        let cost = step_cost(&home, &got, "fetch");
        assert_eq!(cost["network_requests"], 3, "{language}: {cost}");
        let url = format!("{}/echo", servers.http);
        let body = json!({"numbers": [1, 2, 3], "language": language});
        let config = json!({"url": url, "method": "POST", "body": body});
        let got = fetch(&home, language, config, &["--grant-host", &grant], 0);
        assert_eq!(
            got["steps"]["fetch"]["outputs"]["result"],
            json!({"status": 200, "body": {"got": body}}),
            "{language}: {got}"
        );
        // The step's cost says what went over the network.
        let cost = step_cost(&home, &got, "fetch");
        assert_eq!(cost["network_requests"], 1, "{language}: {cost}");
        assert_eq!(cost["network_refused"], 0, "{language}: {cost}");
        // The body as each language writes its JSON (Python puts spaces after , and :).
        let sent = cost["network_bytes_out"].as_u64().unwrap_or_default();
        let compact = body.to_string().len() as u64;
        assert!(
            (compact..compact + 20).contains(&sent),
            "{language}: {cost}"
        );
        let received = json!({"got": body}).to_string().len() as u64;
        assert_eq!(
            cost["network_bytes_in"].as_u64(),
            Some(received),
            "{language}: {cost}"
        );
    }
}

/// The cost of `step`'s last attempt in `run`, from its events.
fn step_cost(home: &Home, run: &Value, step: &str) -> Value {
    let events = home.events(run["run_id"].as_str().unwrap());
    events
        .iter()
        .rev()
        .find(|e| e["step_key"] == step && e["cost"].is_object())
        .map(|e| e["cost"].clone())
        .unwrap_or_else(|| panic!("no cost for {step}: {events:?}"))
}

#[test]
fn an_ungranted_host_is_refused_before_any_connection_naming_the_grant() {
    let (_dir, servers) = own_servers();
    let home = home();
    let endpoint = servers.http.trim_start_matches("http://");
    let port = endpoint.rsplit(':').next().unwrap();
    // Granted by another name: 127.0.0.1 itself is not.
    let grant = format!("http://localhost:{port}");
    for language in LANGUAGES {
        let before = servers.accepted().0;
        let url = format!("{}/json", servers.http);
        let got = get(&home, language, &url, &["--grant-host", &grant], 1);
        let error = error_of(&got, "fetch");
        assert!(
            error.contains(&refusal(language, "http", endpoint)),
            "{language}: {error}"
        );
        assert_eq!(
            servers.accepted().0,
            before,
            "{language}: the server saw a connection"
        );
        assert_eq!(
            step_cost(&home, &got, "fetch")["network_refused"],
            1,
            "{language}"
        );
        let logs = home.weft_json(&["logs", got["run_id"].as_str().unwrap()], 0);
        assert!(
            logs.to_string()
                .contains(&format!("refused: {}", refusal(language, "http", endpoint))),
            "{language}: the step's log does not say: {logs}"
        );
    }
}

#[test]
fn a_redirect_to_an_ungranted_host_is_refused() {
    let servers = servers();
    let home = home();
    let port = servers.http.rsplit(':').next().unwrap();
    let elsewhere = format!("http://localhost:{port}/json");
    let url = format!("{}/redirect?to={elsewhere}", servers.http);
    for language in LANGUAGES {
        let got = get(&home, language, &url, &["--grant-host", &servers.http], 1);
        let error = error_of(&got, "fetch");
        let endpoint = format!("localhost:{port}");
        assert!(
            error.contains(&refusal(language, "http", &endpoint)),
            "{language}: {error}"
        );
    }
}

#[test]
fn a_body_over_the_network_budget_and_a_server_past_the_deadline_fail_the_step() {
    let servers = servers();
    let home = home();
    for language in LANGUAGES {
        let url = format!("{}/big?bytes={}", servers.http, 3 << 20);
        let flags = ["--grant-host", &servers.http, "--network-mb", "1"];
        let got = get(&home, language, &url, &flags, 1);
        let error = error_of(&got, "fetch");
        assert!(
            error.contains("over the step's network budget of 1 MiB"),
            "{language}: {error}"
        );
        let url = format!("{}/slow?ms=20000", servers.http);
        let flags = ["--grant-host", &servers.http, "--timeout", "1"];
        let got = get(&home, language, &url, &flags, 1);
        let error = error_of(&got, "fetch");
        assert!(error.contains("timed out after 1s"), "{language}: {error}");
    }
}

#[test]
fn https_works_with_the_ca_configured_and_fails_without_it() {
    let servers = servers();
    let trusting = home();
    trusting.add_config(&format!(
        "http: {{ca_file: {}}}\n",
        servers.ca_file.display()
    ));
    let untrusting = home();
    let url = format!("{}/json", servers.https);
    for language in LANGUAGES {
        let flags = ["--grant-host", &servers.https];
        let got = get(&trusting, language, &url, &flags, 0);
        assert_eq!(
            got["steps"]["fetch"]["outputs"]["result"],
            json!({"status": 200, "body": {"hello": "world"}}),
            "{language}: {got}"
        );
        let got = get(&untrusting, language, &url, &flags, 1);
        let error = error_of(&got, "fetch");
        assert!(
            error.contains("TLS") && error.contains("certificate"),
            "{language}: {error}"
        );
    }
}

#[test]
fn a_granted_tcp_connection_echoes_and_an_ungranted_port_is_refused() {
    let (_dir, servers) = own_servers();
    let home = home();
    let port: u16 = servers.echo.rsplit(':').next().unwrap().parse().unwrap();
    let echo = |addr: &str, message: &str, grant: &str, code| {
        let config = json!({"addr": addr, "message": message});
        let flags = ["--grant-host", grant];
        run(&home, "rust", "tcp_job", "echo", config, &flags, code)
    };
    let grant = format!("tcp://{}", servers.echo);
    let got = echo(&servers.echo, "hello over tcp", &grant, 0);
    let result = &got["steps"]["echo"]["outputs"]["result"];
    assert_eq!(result, "hello over tcp", "{got}");
    // By a granted name: looked up, and its address matched.
    let by_name = format!("localhost:{port}");
    let got = echo(&by_name, "by name", &format!("tcp://{by_name}"), 0);
    assert_eq!(
        got["steps"]["echo"]["outputs"]["result"], "by name",
        "{got}"
    );

    let before = servers.accepted().2;
    // A name that no grant names is not even looked up.
    let got = echo(&by_name, "x", &grant, 1);
    let logs = home.weft_json(&["logs", got["run_id"].as_str().unwrap()], 0);
    let refused = "looking up localhost is not granted to location conformance_rust";
    assert!(logs.to_string().contains(refused), "{logs}");
    let got = echo(
        &servers.echo,
        "x",
        &format!("tcp://127.0.0.1:{}", port ^ 1),
        1,
    );
    assert!(error_of(&got, "echo").contains("denied"), "{got}");
    assert_eq!(
        servers.accepted().2,
        before,
        "the echo server saw a connection"
    );
    let logs = home.weft_json(&["logs", got["run_id"].as_str().unwrap()], 0);
    assert!(
        logs.to_string()
            .contains(&refusal("rust", "tcp", &servers.echo)),
        "{logs}"
    );
}

#[test]
fn the_http_json_example_counts_the_orders_its_api_returns() {
    let servers = servers();
    let home = Home::new();
    let wasm = rust_guest("http_json");
    let url = format!("{}/orders.json", servers.http);
    let config = json!({"ops": {"fetch_orders": {"config": {"url": url}}}}).to_string();
    let file = wasm.display().to_string();
    let args = ["run", &file, "--job", "orders_job", "--config", &config];
    let granted = [&args[..], &["--grant-host", &servers.http]].concat();
    let got = home.weft_json(&granted, 0);
    assert_eq!(
        got["steps"]["count_orders"]["outputs"]["result"], 2,
        "{got}"
    );
    let got = home.weft_json(&args, 1);
    let error = error_of(&got, "fetch_orders");
    let endpoint = servers.http.trim_start_matches("http://");
    assert!(
        error.contains(&format!("{endpoint} is not granted to location http_json")),
        "{error}"
    );
}
