//! Helpers shared by Weft's end-to-end tests: build the guest components once per test
//! binary (Rust guests with cargo for wasm32-wasip2; Go and Python with `weft build`),
//! find the `weft` binary built beside the tests, and run
//! it against a throwaway `WEFT_HOME`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where the guests are built (apart from the host's target directory, so that building
/// them never rebuilds the host).
fn wasm_target_dir() -> PathBuf {
    repo_root().join("target").join("wasm")
}

/// The Rust guests the tests use, as crate names (the first-party plugin `k8s-job` too).
const RUST_GUESTS: [&str; 3] = ["numbers", "hostile", "k8s-job"];

/// The path of the Rust guest component `name` (`numbers`, `hostile`, `k8s_job`), built
/// on first use.
pub fn rust_guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(repo_root())
            .args([
                "build",
                "--target",
                "wasm32-wasip2",
                "--profile",
                "guest",
                "--target-dir",
            ])
            .arg(wasm_target_dir())
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS");
        for guest in RUST_GUESTS {
            cmd.args(["-p", guest]);
        }
        run_ok(&mut cmd, "building the Rust guests")
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    wasm_target_dir()
        .join("wasm32-wasip2")
        .join("guest")
        .join(format!("{name}.wasm"))
}

/// The path of the Go or Python hello component (`hello-go`, `hello-python`), built with
/// `weft build` on first use.
pub fn polyglot_guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let out = wasm_target_dir().join("polyglot");
    let built = BUILT.get_or_init(|| {
        let home = Home::new();
        ["hello-go", "hello-python"].iter().try_for_each(|guest| {
            home.build(
                &repo_root().join("examples").join(guest),
                &out.join(format!("{guest}.wasm")),
            )
        })
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    out.join(format!("{name}.wasm"))
}

fn run_ok(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The `weft` binary of this build (cargo builds it with the tests: same profile).
pub fn weft_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test binary>, or target/<profile>/weft-bench.
    let here = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let bin = [
        here.join("weft"),
        here.parent().unwrap_or(&here).join("weft"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| here.join("weft"));
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --release --bins`), as tests/all.sh does",
        bin.display()
    );
    bin
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the system's temp dir.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("weft-test-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Weft instance for one test: its own `WEFT_HOME`.
pub struct Home {
    pub dir: TempDir,
}

/// What a `weft` command did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Stdout parsed as JSON (the `--json` commands print one document).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    /// A new, empty instance.
    pub fn new() -> Self {
        Home {
            dir: TempDir::new("home"),
        }
    }

    /// Runs `weft ARGS` against this instance.
    pub fn weft<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.run_binary(&weft_bin(), args)
    }

    /// Runs `BINARY ARGS` against this instance: another build of `weft` (the image's
    /// static binary, say).
    pub fn run_binary<I, S>(&self, binary: &Path, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = Command::new(binary)
            .args(args)
            .env("WEFT_HOME", &self.dir.0)
            .env_remove("WEFT_LOG")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Builds the guest project `project` into `out` with `weft build`.
    pub fn build(&self, project: &Path, out: &Path) -> Result<(), String> {
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let done = self.weft([
            "build".as_ref(),
            project.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        if done.code == 0 {
            Ok(())
        } else {
            Err(format!(
                "weft build {}: {}\n{}",
                project.display(),
                done.stdout,
                done.stderr
            ))
        }
    }

    /// Runs `weft ARGS --json`, asserts the exit code, and returns the JSON.
    pub fn weft_json(&self, args: &[&str], code: i32) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let out = self.weft(&all);
        assert_eq!(
            out.code, code,
            "weft {args:?}: exit {}\nstdout:\n{}\nstderr:\n{}",
            out.code, out.stdout, out.stderr
        );
        out.json()
    }

    /// The events of a run, from `weft runs show --json`.
    pub fn events(&self, run_id: &str) -> Vec<serde_json::Value> {
        let shown = self.weft_json(&["runs", "show", run_id], 0);
        shown["events"].as_array().cloned().unwrap_or_default()
    }
}

/// The `preview` of `step`'s output among `events` (JSON when it parses, else the text).
pub fn output_of(events: &[serde_json::Value], step: &str) -> serde_json::Value {
    events
        .iter()
        .find(|e| e["type"] == "STEP_OUTPUT" && e["step_key"] == step)
        .and_then(|e| e["preview"].as_str())
        .map(|p| serde_json::from_str(p).unwrap_or(serde_json::Value::String(p.to_owned())))
        .unwrap_or(serde_json::Value::Null)
}

/// Event types of `events` for `step` (or run-level events with `None`), in order.
pub fn types_of(events: &[serde_json::Value], step: Option<&str>) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["step_key"].as_str() == step)
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Definitions (`weft check --json`'s `definitions`) with what may differ between guest
/// languages taken out: asset kinds, the languages' type names, and the order of ops.
pub fn comparable_definitions(mut defs: serde_json::Value) -> serde_json::Value {
    for asset in defs["assets"].as_array_mut().into_iter().flatten() {
        asset.as_object_mut().map(|a| a.remove("kinds"));
    }
    for op in defs["ops"].as_array_mut().into_iter().flatten() {
        for list in ["inputs", "outputs"] {
            for io in op[list].as_array_mut().into_iter().flatten() {
                io.as_object_mut().map(|i| i.remove("type_name"));
            }
        }
    }
    // Ops in name order: each SDK may list them in its own order.
    if let Some(ops) = defs["ops"].as_array_mut() {
        ops.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
    defs
}

/// A `weft serve` process on a free port of this machine, stopped on drop.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    http: reqwest::blocking::Client,
    token: Option<String>,
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
        use std::io::BufRead;
        let mut child = Command::new(weft_bin())
            .args([command, "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .env("WEFT_HOME", &home.dir.0)
            .env_remove("WEFT_LOG")
            .env_remove("WEFT_TOKEN")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start weft serve: {e}"));
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
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method, format!("{}/api{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
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

/// `bytes` (a component) with a custom section appended: the same code location under a
/// new digest, as a rebuilt component would be.
pub fn with_custom_section(bytes: &[u8], tag: &str) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"weft-test";
    let mut payload = Vec::new();
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name);
    payload.extend_from_slice(tag.as_bytes());
    let mut out = bytes.to_vec();
    out.push(0);
    leb(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// Which database a test's instance uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file in the instance's home.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `WEFT_TEST_POSTGRES_URL` (`tests/pg.sh`
    /// starts one).
    Postgres,
}

impl Home {
    /// A new instance whose weft.yaml names its database on `backend`. Without a PostgreSQL
    /// server to use, `None` (the test is skipped, saying so), unless `CI` is set: then the
    /// test fails, since CI must run it.
    pub fn on(backend: Backend) -> Option<Home> {
        let home = Home::new();
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", home.dir.join("weft.db").display()),
            Backend::Postgres => {
                let var = weft_store::testing::POSTGRES_URL_VARIABLE;
                let base = match std::env::var(var) {
                    Ok(base) if !base.is_empty() => base,
                    _ if std::env::var_os("CI").is_some() => panic!(
                        "{var} is not set, and CI is: the PostgreSQL tests must run \
                         (`source tests/pg.sh` starts a server and sets it)"
                    ),
                    _ => {
                        eprintln!("skipped: {var} is not set");
                        return None;
                    }
                };
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime")
                    .block_on(weft_store::testing::fresh_postgres_database(&base))
                    .unwrap_or_else(|e| panic!("creating a PostgreSQL database: {e}"))
            }
        };
        home.set_database(&url);
        Some(home)
    }

    /// The database URL this instance's weft.yaml names, if any.
    pub fn database_url(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.join("weft.yaml")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("database_url: "))
            .map(str::to_owned)
    }

    /// Points this instance at the database `url` (weft.yaml's `database_url`), keeping the
    /// rest of its weft.yaml.
    pub fn set_database(&self, url: &str) {
        let path = self.dir.join("weft.yaml");
        let rest: String = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("database_url:"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&path, format!("database_url: {url}\n{rest}"))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Appends `yaml` to this instance's weft.yaml.
    pub fn add_config(&self, yaml: &str) {
        let path = self.dir.join("weft.yaml");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(yaml);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

/// A real component of another world (a WASI command printing "hi"), built with rustc
/// into `dir`: not a Weft code location.
pub fn wasi_command_component(dir: &TempDir) -> PathBuf {
    let src = dir.join("main.rs");
    std::fs::write(&src, "fn main() { println!(\"hi\"); }")
        .unwrap_or_else(|e| panic!("writing {}: {e}", src.display()));
    let out = dir.join("command.wasm");
    let built = Command::new("rustc")
        .args(["--target", "wasm32-wasip2", "-O", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rustc: {e}"));
    assert!(
        built.status.success(),
        "building a WASI command: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    out
}

/// Each named test function (taking a [`Backend`]) as two tests, `sqlite::NAME` and
/// `postgres::NAME`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name($crate::Backend::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name($crate::Backend::Postgres) })*
        }
    };
}

/// The bytes of the Rust guest component `name` (built on first use).
pub fn rust_guest_bytes(name: &str) -> Vec<u8> {
    let path = rust_guest(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Sends SIGKILL to every process whose command line (arguments joined by spaces) contains
/// `pattern`, read from `/proc` (no `pkill` needed); returns how many it killed.
pub fn kill_processes_matching(pattern: &str) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if line.contains(pattern)
            && std::process::Command::new("sh")
                .args(["-c", &format!("kill -KILL {pid}")])
                .status()
                .is_ok_and(|s| s.success())
        {
            killed += 1;
        }
    }
    killed
}

/// A new bucket on the S3-compatible test server (`source tests/s3.sh` starts one and sets
/// `WEFT_TEST_S3_ENDPOINT`), and its endpoint. Without a server, `None` (skipped, saying
/// so), unless `CI` is set: then the test fails, since CI must run it.
pub fn s3_bucket(label: &str) -> Option<(String, String)> {
    let endpoint = match std::env::var("WEFT_TEST_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ if std::env::var_os("CI").is_some() => {
            panic!("WEFT_TEST_S3_ENDPOINT is not set, and CI is: `source tests/s3.sh` first")
        }
        _ => {
            eprintln!("skipped: WEFT_TEST_S3_ENDPOINT is not set");
            return None;
        }
    };
    let bucket = format!(
        "weft-{label}-{}",
        uuid::Uuid::now_v7()
            .simple()
            .to_string()
            .get(20..)
            .unwrap_or("x")
    );
    // moto takes an unsigned `PUT /bucket`.
    let status = reqwest::blocking::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .unwrap_or_else(|e| panic!("creating bucket {bucket} at {endpoint}: {e}"))
        .status();
    assert!(status.is_success(), "creating bucket {bucket}: {status}");
    Some((endpoint, bucket))
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
