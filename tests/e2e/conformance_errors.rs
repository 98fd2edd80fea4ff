//! The conformance scenarios beyond outputs, run against the same tiny code location in
//! every guest language (tests/guests/conformance-{rust,go,python}), each built from source
//! with `weft build` in the test run, and checked through the real `weft` binary: a guest
//! panic or exception fails its step with the guest's message, a retry policy is honoured,
//! logs and stdout are captured, config and a resource reach the op, a sensor's cursor and
//! run key round-trip, a run-failure sensor sees the failed run and asks for the same run,
//! every language emits the same events for the same job, and an op's Kubernetes Job (on
//! the tests' Kubernetes cluster, `tests/k8s/cluster.sh`) has its log in the step's and fails
//! it on a non-zero exit, as does the Job of an op made by `k8s_job_op` in a job beside
//! other ops.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use weft_tests::k8s::Namespace;
use weft_tests::{
    Backend, Home, Server, comparable_definitions, repo_root, types_of, wasm_target_dir, weft_bin,
};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

/// The jobs every conformance location defines, with the run config each is run with here.
const JOBS: [(&str, Option<&str>); 6] = [
    ("explode_job", None),
    ("flaky_job", None),
    ("chatty_job", None),
    ("config_job", Some(CONFIG)),
    ("resource_job", None),
    ("graph_job", None),
];

const CONFIG: &str = r#"{"ops":{"configured":{"config":{"factor":6}}}}"#;

/// Beside the components, what the one build of this test binary leaves: their precompiled
/// forms (files of the precompile cache), which every test's fresh `WEFT_HOME` is given so
/// that Python's interpreter is compiled once per test binary, not once per test.
struct Built {
    cached: Vec<PathBuf>,
}

fn out_dir() -> PathBuf {
    wasm_target_dir().join("polyglot")
}

/// The components and their cache files, built once per test binary.
fn built() -> &'static Built {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = out_dir();
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let home = Home::new();
        for lang in LANGUAGES {
            let project = repo_root().join(format!("tests/guests/conformance-{lang}"));
            let target = out.join(format!("conformance-{lang}.wasm"));
            home.build_shared(&project, &target)?;
        }
        warm_cache(&out)
    });
    match built {
        Ok(built) => built,
        Err(e) => panic!("{e}"),
    }
}

/// The conformance location in `language`: `polyglot/conformance-<lang>.wasm` under
/// [`wasm_target_dir`].
pub(super) fn location(language: &str) -> String {
    built();
    out_dir()
        .join(format!("conformance-{language}.wasm"))
        .display()
        .to_string()
}

/// `weft serve` over `home` with the Rust conformance location uploaded as
/// `conformance_rust`.
pub(super) fn serve_rust(home: &Home) -> Server {
    let server = Server::start(home, &[]);
    let wasm = std::fs::read(location("rust")).unwrap();
    server.upload("conformance_rust", &wasm);
    server
}

/// Loads each component once in a `WEFT_HOME` kept beside them (so that it is compiled
/// again only when its source changes) and returns the cache files of the current ones;
/// the files of earlier builds are removed.
fn warm_cache(out: &std::path::Path) -> Result<Built, String> {
    let warm = out.join("conformance-home");
    let mut digests = Vec::new();
    for lang in LANGUAGES {
        let file = out.join(format!("conformance-{lang}.wasm"));
        let done = Command::new(weft_bin())
            .arg("check")
            .arg(&file)
            .arg("--json")
            .env("WEFT_HOME", &warm)
            .env_remove("WEFT_LOG")
            .output()
            .map_err(|e| format!("cannot run weft: {e}"))?;
        let stdout = String::from_utf8_lossy(&done.stdout);
        if !done.status.success() {
            return Err(format!(
                "weft check {}: {stdout}\n{}",
                file.display(),
                String::from_utf8_lossy(&done.stderr)
            ));
        }
        let checked: Value = serde_json::from_str(&stdout).map_err(|e| e.to_string())?;
        digests.push(checked["digest"].as_str().unwrap_or_default().to_owned());
    }
    let entries = std::fs::read_dir(warm.join("cache")).map_err(|e| e.to_string())?;
    let mut cached = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if digests
            .iter()
            .any(|d| !d.is_empty() && name.starts_with(d.as_str()))
        {
            cached.push(path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(Built { cached })
}

/// A fresh instance whose `weft.yaml` gives each conformance location (named after its
/// file's stem: `conformance_rust`, `conformance_go`, `conformance_python`) the resource
/// `greeting: "hi"` and Kubernetes Jobs, with the components already precompiled in its
/// cache.
pub(super) fn home() -> Home {
    home_on(Backend::Sqlite).unwrap()
}

/// [`home`] on `backend` (None: PostgreSQL is not there, outside CI).
fn home_on(backend: Backend) -> Option<Home> {
    // SQLite as the instance has it by default (no `database_url`).
    let home = match backend {
        Backend::Sqlite => Home::new(),
        Backend::Postgres => Home::on(backend)?,
    };
    let mut yaml = String::from("locations:\n");
    for lang in LANGUAGES {
        yaml.push_str(&format!(
            "  conformance_{lang}: {{resources: {{greeting: \"hi\"}}, k8s_jobs: true}}\n"
        ));
    }
    home.add_config(&yaml);
    let cache = home.dir.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    for file in &built().cached {
        let to = cache.join(file.file_name().unwrap());
        // Cache entries are written whole and renamed into place, never changed in place:
        // a hard link is safe (and a copy where links are not possible).
        if std::fs::hard_link(file, &to).is_err() {
            std::fs::copy(file, &to).unwrap();
        }
    }
    Some(home)
}

fn run(home: &Home, language: &str, job: &str, config: Option<&str>, code: i32) -> Value {
    let file = location(language);
    let mut args = vec!["run", file.as_str(), "--job", job];
    if let Some(config) = config {
        args.extend(["--config", config]);
    }
    home.weft_json(&args, code)
}

fn run_id(run: &Value) -> &str {
    run["run_id"].as_str().unwrap()
}

#[test]
fn a_panic_or_exception_fails_its_step_with_the_guest_message() {
    let home = home();
    for language in LANGUAGES {
        let run = run(&home, language, "explode_job", None, 1);
        assert_eq!(run["status"], "FAILURE", "{language}");
        let step = &run["steps"]["explode"];
        assert_eq!(step["status"], "FAILURE", "{language}");
        let error = step["error"].as_str().unwrap_or_default();
        assert!(error.contains("kaboom"), "{language}: {error}");
    }
}

#[test]
fn a_retry_policy_is_honoured() {
    let home = home();
    for language in LANGUAGES {
        let run = run(&home, language, "flaky_job", None, 0);
        let step = &run["steps"]["flaky"];
        assert_eq!(step["outputs"]["result"], "ok", "{language}");
        assert_eq!(step["attempts"], 3, "{language}");
        let events = home.events(run_id(&run));
        let retries = types_of(&events, Some("flaky"))
            .iter()
            .filter(|t| *t == "STEP_UP_FOR_RETRY")
            .count();
        assert_eq!(retries, 2, "{language}: {events:?}");
    }
}

#[test]
fn log_lines_and_stdout_are_captured() {
    let home = home();
    for language in LANGUAGES {
        let run = run(&home, language, "chatty_job", None, 0);
        assert_eq!(
            run["steps"]["chatty"]["outputs"]["result"],
            json!(1),
            "{language}"
        );
        let logs = home.weft_json(&["logs", run_id(&run)], 0);
        let chatty = logs
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "chatty")
            .unwrap_or_else(|| panic!("{language}: no logs for chatty: {logs}"));
        let lines: Vec<(&str, &str)> = chatty["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["level"].as_str().unwrap_or_default(),
                    l["message"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(lines, [("info", "chatty says hi")], "{language}: {logs}");
        let stdout = chatty["stdout"].as_str().unwrap_or_default();
        assert!(stdout.contains("to stdout"), "{language}: {logs}");
    }
}

#[test]
fn run_config_reaches_the_op() {
    let home = home();
    for language in LANGUAGES {
        let run = run(&home, language, "config_job", Some(CONFIG), 0);
        assert_eq!(
            run["steps"]["configured"]["outputs"]["result"],
            json!(42),
            "{language}"
        );
    }
}

#[test]
fn a_resource_from_weft_yaml_reaches_the_op() {
    let home = home();
    for language in LANGUAGES {
        let run = run(&home, language, "resource_job", None, 0);
        assert_eq!(
            run["steps"]["resourceful"]["outputs"]["result"], "hi",
            "{language}"
        );
    }
}

#[test]
fn a_sensor_cursor_and_run_key_round_trip() {
    let home = home();
    for language in LANGUAGES {
        let file = location(language);
        let first = home.weft_json(&["sensor", &file, "cursor_sensor"], 0);
        assert_eq!(first["run_requests"][0]["run_key"], "key-0", "{language}");
        assert_eq!(first["cursor"], "1", "{language}");
        let cursor = first["cursor"].as_str().unwrap();
        let next = home.weft_json(&["sensor", &file, "cursor_sensor", "--cursor", cursor], 0);
        assert_eq!(next["run_requests"][0]["run_key"], "key-1", "{language}");
        assert_eq!(next["cursor"], "2", "{language}");
    }
}

weft_tests::on_both_databases!(
    an_op_runs_a_kubernetes_job_and_k8s_job_op_makes_one_in_every_language,
);

fn an_op_runs_a_kubernetes_job_and_k8s_job_op_makes_one_in_every_language(backend: Backend) {
    let Some(ns) = Namespace::create("jobs") else {
        return;
    };
    let Some(home) = home_on(backend) else {
        return;
    };
    let mut yaml = std::fs::read_to_string(home.dir.join("weft.yaml")).unwrap();
    yaml.push_str(&format!(
        "k8s: {{kubeconfig: {}, namespace: {}}}\n",
        ns.weft_kubeconfig.display(),
        ns.name
    ));
    std::fs::write(home.dir.join("weft.yaml"), yaml).unwrap();
    let config = |code: i32| format!(r#"{{"ops":{{"external":{{"config":{{"code":{code}}}}}}}}}"#);
    for language in LANGUAGES {
        let ok = run(&home, language, "external_job", Some(&config(0)), 0);
        let step = &ok["steps"]["external"];
        assert_eq!(step["outputs"]["result"], "done", "{language}: {ok}");
        let logs = home.weft_json(&["logs", run_id(&ok)], 0);
        let external = logs
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "external")
            .unwrap_or_else(|| panic!("{language}: no logs for external: {logs}"));
        let stdout = external["stdout"].as_str().unwrap_or_default();
        assert!(stdout.contains("job says hello\n"), "{language}: {logs}");

        let failed = run(&home, language, "external_job", Some(&config(3)), 1);
        let step = &failed["steps"]["external"];
        assert_eq!(step["status"], "FAILURE", "{language}");
        let error = step["error"].as_str().unwrap_or_default();
        assert!(error.contains("exited with code 3"), "{language}: {error}");
        assert!(error.contains("job says hello"), "{language}: {error}");

        // An op made by k8s_job_op (Dagster's k8s_job_op.configured) in a job beside others.
        let ran = run(&home, language, "k8s_op_job", None, 0);
        assert_eq!(
            ran["steps"]["after_echo"]["outputs"]["result"], true,
            "{language}: {ran}"
        );
        let logs = home.weft_json(&["logs", run_id(&ran)], 0);
        let echoed = logs.as_array().unwrap().iter().any(|s| {
            s["step"] == "echo_hello"
                && s["stdout"]
                    .as_str()
                    .is_some_and(|out| out.contains("hello from k8s_job_op\n"))
        });
        assert!(echoed, "{language}: {logs}");
    }
    assert_eq!(ns.jobs().len(), 9, "three Jobs per language");
}

#[test]
fn every_language_defines_the_same_objects() {
    let home = home();
    let defs = |language: &str| {
        comparable_definitions(
            home.weft_json(&["check", &location(language)], 0)["definitions"].clone(),
        )
    };
    let mut rust = defs("rust");
    // TCP sockets are Rust's alone (Go's and Python's wasip1/wasip2 ports have no socket
    // API): its `tcp_job` and `echo` op are left out of the comparison.
    for (part, name) in [("ops", "echo"), ("jobs", "tcp_job")] {
        if let Some(items) = rust[part].as_array_mut() {
            items.retain(|item| item["name"] != name);
        }
    }
    for language in ["go", "python"] {
        let other = defs(language);
        for part in ["ops", "jobs", "sensors", "hooks", "assets", "asset_checks"] {
            assert_eq!(
                other[part], rust[part],
                "{language}: {part} differ from Rust's"
            );
        }
    }
}

/// `step -> event types` of a run (run-level events under `(run)`), in order.
///
/// `LOGS_CAPTURED` is left out: it is emitted when a step wrote to stdout or stderr, and
/// what a runtime writes there on its own differs by language. A Rust panic (the panic
/// hook) and a Go panic (the SDK's stack dump) write to stderr, while a Python exception
/// goes to the step's error with its traceback and writes nothing, so `explode_job` has a
/// `LOGS_CAPTURED` in Rust and Go but not in Python. `LOG` events are kept: each op logs
/// the same lines in every language. (What is captured is checked by
/// `log_lines_and_stdout_are_captured`.)
fn sequence(home: &Home, run: &Value) -> BTreeMap<String, Vec<String>> {
    let mut seq: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in home.events(run_id(run)) {
        let kind = e["type"].as_str().unwrap_or_default().to_owned();
        if kind == "LOGS_CAPTURED" {
            continue;
        }
        let step = e["step_key"].as_str().unwrap_or("(run)").to_owned();
        seq.entry(step).or_default().push(kind);
    }
    seq
}

#[test]
fn every_language_emits_the_same_events() {
    let home = home();
    for (job, config) in JOBS {
        let mut seen = Vec::new();
        for language in LANGUAGES {
            let code = if job == "explode_job" { 1 } else { 0 };
            let run = run(&home, language, job, config, code);
            seen.push((language, sequence(&home, &run)));
        }
        let (_, rust) = &seen[0];
        assert!(!rust.is_empty(), "{job}: no events");
        for (language, seq) in &seen[1..] {
            assert_eq!(seq, rust, "{job}: {language}'s events differ from Rust's");
        }
    }
}

#[test]
fn a_run_failure_sensor_sees_the_failed_run_in_every_language() {
    for language in LANGUAGES {
        let home = home();
        let server = Server::start(&home, &[]);
        let name = format!("conformance_{language}");
        let bytes = std::fs::read(location(language)).unwrap();
        server.upload(&name, &bytes);
        let (status, body) = server.call(
            "POST",
            &format!("/sensors/{name}/explode_alert/start"),
            None,
        );
        assert_eq!(status, 200, "{language}: {body}");
        let failed = server.launch(json!({ "location": name, "job": "explode_job" }));
        assert_eq!(server.wait(&failed)["status"], "FAILURE", "{language}");

        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            .to_string();
        let pass = home.weft_json(&["daemon", "--once", "--now", &now], 0);
        let tick = pass["ticks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "explode_alert")
            .unwrap_or_else(|| panic!("{language}: no tick: {pass}"));
        assert_eq!(tick["status"], "SUCCESS", "{language}: {tick}");
        let asked = tick["run_ids"][0].as_str().unwrap();
        let run = server.get(&format!("/runs/{asked}"));
        assert_eq!(run["job"], "chatty_job", "{language}");
        assert_eq!(run["status"], "SUCCESS", "{language}: {run}");
        let tags = &run["tags"];
        assert_eq!(tags["failed_run"], failed.as_str(), "{language}: {tags}");
        assert_eq!(tags["failed_status"], "FAILURE", "{language}: {tags}");
        assert_eq!(
            tags["saw_kaboom"], "yes",
            "{language}: the run's error reached the guest"
        );
        assert_eq!(
            tags["weft/triggering_run_id"],
            failed.as_str(),
            "{language}"
        );
    }
}

/// Every instance reads its own environment and draws its own random numbers, also where
/// the build snapshotted the initialized program (Go, and Python through componentize-py):
/// two runs are two instances, with the variable granted and set to another value each time.
#[test]
fn every_instance_reads_its_own_environment_and_randomness() {
    let home = home();
    for language in LANGUAGES {
        let file = location(language);
        let draw = |value: &str| -> (String, String) {
            let out = Command::new(weft_bin())
                .args(["run", &file, "--job", "instance_job", "--json"])
                .args(["--grant-env", "WEFT_INSTANCE_VAR"])
                .env("WEFT_HOME", &home.dir.0)
                .env("WEFT_INSTANCE_VAR", value)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "{language}: {stdout}");
            let run: Value = serde_json::from_str(&stdout).unwrap();
            let result = run["steps"]["instance"]["outputs"]["result"]
                .as_str()
                .unwrap();
            let (var, random) = result.split_once(' ').unwrap();
            (var.to_owned(), random.to_owned())
        };
        let (first_var, first_random) = draw("first");
        let (second_var, second_random) = draw("second");
        assert_eq!(first_var, "first", "{language}");
        assert_eq!(second_var, "second", "{language}");
        assert_ne!(
            first_random, second_random,
            "{language}: two instances drew the same random number"
        );
    }
}

#[test]
fn a_blocking_sleep_ends_at_the_deadline_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        let config = r#"{"ops":{"nap":{"config":{"ms":20000}}}}"#;
        let file = location(language);
        let args = [
            "run",
            &file,
            "--job",
            "nap_job",
            "--config",
            config,
            "--timeout",
            "1",
        ];
        let start = std::time::Instant::now();
        let run = home.weft_json(&args, 1);
        let took = start.elapsed();
        let error = run["steps"]["nap"]["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("timed out after 1s"), "{language}: {run}");
        assert!(took.as_secs() < 3, "{language}: a 20 s sleep took {took:?}");
    }
}

#[test]
fn a_log_flood_costs_its_step_not_the_host_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        // 1 GiB through log fields: 1,024 lines of 1 MiB each.
        let config = r#"{"ops":{"flood":{"config":{"lines":1024,"field_bytes":1048576}}}}"#;
        let file = location(language);
        let args = ["run", &file, "--job", "flood_job", "--config", config];
        let (run, peak) = super::budgets::run_watching_memory(&home, &args);
        assert_eq!(run["status"], "SUCCESS", "{language}: {run}");
        // What the guest's own memory holds counts too (a Python string of 1 MiB, ...).
        assert!(
            peak < 300 << 20,
            "{language}: the host reached {} MiB",
            peak >> 20
        );
        let events = home.events(run_id(&run));
        let logs: Vec<&Value> = events.iter().filter(|e| e["type"] == "LOG").collect();
        assert!(
            logs[0]["fields"]["weft.cut"].is_string(),
            "{language}: {}",
            logs[0]
        );
        let last = logs.last().unwrap()["message"].as_str().unwrap_or_default();
        assert!(last.contains("were dropped"), "{language}: {last}");
    }
}

#[test]
fn cancel_stops_a_sleeping_step_in_every_language() {
    let home = home();
    let server = weft_tests::Server::start(&home, &[]);
    for language in LANGUAGES {
        let name = format!("conformance_{language}");
        server.upload(&name, &std::fs::read(location(language)).unwrap());
        let run_id = server.launch(serde_json::json!({
            "location": name, "job": "nap_job",
            "config": { "ops": { "nap": { "config": { "ms": 60_000 } } } }
        }));
        server.wait_for_event(&run_id, "STEP_START");
        std::thread::sleep(std::time::Duration::from_millis(300));
        let asked = std::time::Instant::now();
        let (status, answer) = server.call("POST", &format!("/runs/{run_id}/cancel"), None);
        assert_eq!(status, 202, "{language}: {answer}");
        let run = server.wait(&run_id);
        let took = asked.elapsed();
        assert_eq!(run["status"], "CANCELED", "{language}: {run}");
        assert!(took.as_secs() < 2, "{language}: canceled in {took:?}");
        let events = server.events(&run_id);
        let failure = events.iter().find(|e| e["type"] == "STEP_FAILURE").unwrap();
        assert_eq!(failure["kind"], "canceled", "{language}: {failure}");
    }
}

#[test]
fn an_output_over_its_budget_fails_its_step_in_every_language() {
    let home = home();
    for language in LANGUAGES {
        // 400 MiB, refused while the guest hands it over (the output budget, 64 MiB).
        let config = r#"{"ops":{"huge":{"config":{"mb":400}}}}"#;
        let file = location(language);
        let args = ["run", &file, "--job", "huge_job", "--config", config];
        let run = home.weft_json(&[&args[..], &["--memory-mb", "2048"]].concat(), 1);
        let error = run["steps"]["huge"]["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("the guest handed the host more than 65 MiB at once"),
            "{language}: {run}"
        );
    }
}
