//! The Dagster side: `execute_in_process` medians through `shared/peers/dagster/bench.py`,
//! and whole `dagster job execute` processes (in_process executor, fresh SQLite instance).

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;
use weft_tests::TempDir;

use crate::engine::JobTimes;
use crate::median;
use crate::process::time_process;

pub struct Dagster {
    pub version: String,
    pub in_process: JobTimes,
    pub cli_ms: Option<f64>,
    pub cli_runs: usize,
}

pub fn dagster_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import dagster"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `python3 SCRIPT ARGS...` and parses the last line of its output that is a JSON
/// object (what the Dagster scripts print).
pub fn python_json(script: &Path, args: &[&std::ffi::OsStr]) -> Result<Json, String> {
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot start python3 {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or_else(|| format!("{} printed no JSON", script.display()))?;
    serde_json::from_str(line).map_err(|e| format!("{}'s JSON: {e}", script.display()))
}

pub fn dagster(bench: &Path, runs: usize) -> Result<Dagster, String> {
    let runs_arg = runs.to_string();
    let parsed = python_json(bench, &[runs_arg.as_ref()])?;
    let get = |name: &str| {
        parsed["median_ms"][name]
            .as_f64()
            .ok_or(format!("bench.py's JSON has no median_ms.{name}"))
    };
    let in_process = JobTimes {
        process_numbers: get("process_numbers")?,
        wide_job: get("wide_job")?,
    };
    let version = parsed["dagster_version"].as_str().unwrap_or("?").to_owned();

    // The CLI: a whole `dagster job execute` process on a fresh SQLite instance each time.
    let cli_runs = runs.min(5);
    let defs = bench.with_file_name("defs.py");
    let mut times = Vec::new();
    for _ in 0..cli_runs {
        let home = TempDir::new("bench-dagster");
        // The in_process executor, as Weft's: the job's default would start a process per step.
        let run_config = home.join("run.yaml");
        std::fs::write(&run_config, "execution:\n  config:\n    in_process: {}\n")
            .map_err(|e| format!("writing {}: {e}", run_config.display()))?;
        let mut cmd = Command::new("dagster");
        cmd.env("DAGSTER_HOME", &home.0)
            .current_dir(home.0.clone())
            .args(["job", "execute", "-f"])
            .arg(&defs)
            .args(["-j", "process_numbers", "-c"])
            .arg(&run_config);
        match time_process(&mut cmd) {
            Ok(t) => times.push(t),
            Err(e) => {
                eprintln!("warning: dagster job execute: {e}");
                break;
            }
        }
    }
    let cli_ms = (!times.is_empty()).then(|| median(times));
    Ok(Dagster {
        version,
        in_process,
        cli_ms,
        cli_runs,
    })
}
