//! A `weft serve` (or `weft dev`) process for one test, spoken to over its HTTP API, with
//! its standard error kept so a test can wait for what it reports.

use std::io::BufRead;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Home, types_of, weft_bin};

/// A `weft serve` process on a free port of this machine, stopped on drop.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    http: reqwest::blocking::Client,
    token: Option<String>,
    /// Every line the process wrote to its standard error so far.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `weft serve` for `home` with extra `args`, and waits until it listens.
    pub fn start(home: &Home, args: &[&str]) -> Server {
        Self::run(home, "serve", args, &[])
    }

    /// Starts `weft serve` for `home` with `env` added to its environment.
    pub fn start_with_env(home: &Home, args: &[&str], env: &[(&str, &Path)]) -> Server {
        Self::run(home, "serve", args, env)
    }

    /// Starts `weft dev` for `home` with `args` (the components to serve), and waits until
    /// it listens.
    pub fn dev(home: &Home, args: &[&str]) -> Server {
        Self::run(home, "dev", args, &[])
    }

    fn run(home: &Home, command: &str, args: &[&str], env: &[(&str, &Path)]) -> Server {
        let mut child = Command::new(weft_bin())
            .args([command, "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .env("WEFT_HOME", &home.dir.0)
            .env_remove("WEFT_LOG")
            .env_remove("WEFT_TOKEN")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start weft serve: {e}"));
        let stderr = keep_lines(child.stderr.take().expect("piped stderr"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("reading weft serve's first line: {e}"));
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("weft serve printed {line:?} instead of its address"))
            .to_owned();
        let token = args
            .iter()
            .position(|a| *a == "--token")
            .and_then(|i| args.get(i + 1))
            .map(|t| (*t).to_owned());
        Server {
            child,
            url,
            http: reqwest::blocking::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .expect("an HTTP client"),
            token,
            stderr,
        }
    }

    /// Waits (up to 30 s) until the server has written a line containing `needle` to its
    /// standard error (its warnings, and its log when `WEFT_LOG` is given); returns it.
    pub fn wait_for_stderr(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let lines = self
                .stderr
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(line) = lines.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            assert!(
                Instant::now() < deadline,
                "the server never wrote {needle:?}; its standard error:\n{}",
                lines.join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `method path` (under `/api`) with an optional body and content type, with the
    /// server's token when it has one; returns the status and the body as JSON (`null` when
    /// empty, a JSON string when not JSON).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> (u16, serde_json::Value) {
        self.call_as(self.token.as_deref(), method, path, body)
    }

    /// [`Server::call`] with the given token (or none).
    pub fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> (u16, serde_json::Value) {
        self.call_with(token, method, path, body, &[])
    }

    /// [`Server::call_as`] with these headers too (a browser's `Origin`, another `Host`).
    pub fn call_with(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
        headers: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method, format!("{}/api{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some((bytes, content_type)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request
            .send()
            .unwrap_or_else(|e| panic!("{path}: request failed: {e}"));
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        let value = if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, value)
    }

    /// `GET path`, asserting a 200.
    pub fn get(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.call("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `POST path` with a JSON body, returning status and answer.
    pub fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(
            "POST",
            path,
            Some((body.to_string().into_bytes(), "application/json")),
        )
    }

    /// Replaces the grants of location `name`, asserting a 200.
    pub fn grant(&self, name: &str, grants: serde_json::Value) {
        let (status, body) = self.call(
            "PUT",
            &format!("/locations/{name}/grants"),
            Some((grants.to_string().into_bytes(), "application/json")),
        );
        assert_eq!(status, 200, "granting {grants} to {name}: {body}");
    }

    /// Uploads `bytes` as location `name`, asserting a 201; returns the new digest.
    pub fn upload(&self, name: &str, bytes: &[u8]) -> String {
        let (status, body) = self.call(
            "POST",
            &format!("/locations/{name}"),
            Some((bytes.to_vec(), "application/wasm")),
        );
        assert_eq!(status, 201, "uploading {name}: {body}");
        body["digest"].as_str().expect("a digest").to_owned()
    }

    /// Launches `request` (a JSON launch body), asserting a 201; returns the run id.
    pub fn launch(&self, request: serde_json::Value) -> String {
        let (status, body) = self.post_json("/runs", request.clone());
        assert_eq!(status, 201, "launching {request}: {body}");
        body["run_id"].as_str().expect("a run id").to_owned()
    }

    /// Polls run `run_id` until it has ended; returns the run.
    pub fn wait(&self, run_id: &str) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let run = self.get(&format!("/runs/{run_id}"));
            if matches!(
                run["status"].as_str(),
                Some("SUCCESS" | "FAILURE" | "CANCELED")
            ) {
                return run;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {run_id} did not end: {run}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Polls run `run_id` until it has an event of type `kind` (`STEP_START`: a step is
    /// under way).
    pub fn wait_for_event(&self, run_id: &str, kind: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !self.events(run_id).iter().any(|e| e["type"] == kind) {
            assert!(
                std::time::Instant::now() < deadline,
                "run {run_id} has no {kind}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits for run `run_id` to end in `FAILURE`; returns the message of its first event of
    /// type `kind` (`RUN_FAILURE`, `STEP_FAILURE`).
    pub fn failure(&self, run_id: &str, kind: &str) -> String {
        let run = self.wait(run_id);
        assert_eq!(run["status"], "FAILURE", "{run}");
        let events = self.events(run_id);
        let failure = events.iter().find(|e| e["type"] == kind);
        let failure = failure.unwrap_or_else(|| panic!("no {kind} in {events:?}"));
        failure["message"].as_str().unwrap_or_default().to_owned()
    }

    /// Every event of run `run_id`, in order.
    pub fn events(&self, run_id: &str) -> Vec<serde_json::Value> {
        let page = self.get(&format!("/runs/{run_id}/events?limit=1000"));
        page["events"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
/// Waits for run `run_id` to succeed with `step` retried once (started, up for retry,
/// started again, output, success); returns the retry's message.
pub fn retried_once(server: &Server, run_id: &str, step: &str) -> String {
    let run = server.wait(run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let events = server.events(run_id);
    assert_eq!(
        types_of(&events, Some(step)),
        [
            "STEP_START",
            "STEP_UP_FOR_RETRY",
            "STEP_START",
            "STEP_OUTPUT",
            "STEP_SUCCESS"
        ],
        "{events:?}"
    );
    events
        .iter()
        .find(|e| e["type"] == "STEP_UP_FOR_RETRY")
        .and_then(|e| e["message"].as_str())
        .expect("a retry message")
        .to_owned()
}

/// Reads `from` line by line on a thread of its own, echoing each line to this test's
/// standard error (shown when the test fails) and keeping it.
fn keep_lines(from: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(from).lines().map_while(Result::ok) {
            eprintln!("{line}");
            kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
    lines
}
