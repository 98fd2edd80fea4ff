//! Whole processes: the `weft` binary (rebuilt first so that it is current), the wall time
//! of one child process, and `weft run --job process_numbers` with a warm and a cold
//! precompile cache.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use weft_tests::{TempDir, repo_root};

use crate::{median, ms};

/// The `weft` binary beside this one, built first (release) so that it is current.
pub fn weft_binary() -> Result<PathBuf, String> {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
        .ok_or("cannot tell where weft-bench is")?;
    let bin = dir.join("weft");
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(repo_root())
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "weft-cli",
            "--bin",
            "weft",
        ])
        .status();
    if !matches!(built, Ok(s) if s.success()) {
        eprintln!(
            "warning: `cargo build --release -p weft-cli` failed; using the weft binary as it is"
        );
    }
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: cargo build --release -p weft-cli",
            bin.display()
        ))
    }
}

/// Wall time of one process, in ms; fails unless it exits 0.
pub fn time_process(cmd: &mut Command) -> Result<f64, String> {
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let clock = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let elapsed = ms(clock.elapsed());
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(elapsed)
}

fn weft_run(weft: &Path, home: &Path, wasm: &Path) -> Command {
    let mut cmd = Command::new(weft);
    cmd.env("WEFT_HOME", home)
        .arg("run")
        .arg(wasm)
        .args(["--job", "process_numbers"]);
    cmd
}

/// Median in ms of `weft run` with the component already precompiled in `WEFT_HOME` (one
/// untimed run fills the cache).
pub fn weft_run_warm(weft: &Path, wasm: &Path, runs: usize) -> Result<f64, String> {
    let home = TempDir::new("bench-warm");
    time_process(&mut weft_run(weft, &home.0, wasm))?;
    let mut warm = Vec::new();
    for _ in 0..runs {
        warm.push(time_process(&mut weft_run(weft, &home.0, wasm))?);
    }
    Ok(median(warm))
}

/// `(warm, cold)` medians in ms: `weft run` with the component already precompiled in
/// `WEFT_HOME`, and with a fresh `WEFT_HOME` each time (compiled from scratch).
pub fn weft_processes(weft: &Path, wasm: &Path, runs: usize) -> Result<(f64, f64), String> {
    let warm = weft_run_warm(weft, wasm, runs)?;
    let mut cold = Vec::new();
    for _ in 0..runs.min(5) {
        let fresh = TempDir::new("bench-cold");
        cold.push(time_process(&mut weft_run(weft, &fresh.0, wasm))?);
    }
    Ok((warm, median(cold)))
}
