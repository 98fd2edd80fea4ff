//! Helpers shared by Weft's end-to-end tests (`e2e/`) and `weft-bench`: build the guest
//! components once (Rust guests with cargo for wasm32-wasip2; Go and Python with
//! `weft build`, kept between runs by `guest_cache`), find the `weft` binary built beside
//! the tests, and run it against a throwaway `WEFT_HOME` (`home`), as a server spoken to
//! over HTTP (`server`), reading what runs reported (`events`); the loopback servers the
//! network tests call (`http_server`); a namespace on the real Kubernetes control plane
//! of `tests/k8s/cluster.sh` (`k8s`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod events;
mod guest_cache;
mod home;
mod http_server;
pub mod k8s;
mod server;

pub use events::{comparable_definitions, numbers_as_floats, output_of, types_of};
pub use home::{Backend, Home, Outcome, TempDir};
pub use http_server::TestServers;
pub use server::{Server, retried_once};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Where the guests are built: `wasm/` under the host's target directory
/// (`CARGO_TARGET_DIR`, which tests/all.sh sets, else the repository's `target/`), a target
/// directory of its own so that building them never rebuilds the host.
pub fn wasm_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map(|dir| repo_root().join(dir))
        .unwrap_or_else(|| repo_root().join("target"))
        .join("wasm")
}

/// The Rust guests the tests use, as crate names (the first-party plugin `k8s-job` too).
const RUST_GUESTS: [&str; 5] = [
    "numbers",
    "hostile",
    "k8s-job",
    "http-json",
    "conformance-rust",
];

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
            home.build_shared(
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
