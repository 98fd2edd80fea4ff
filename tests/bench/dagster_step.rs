//! Dagster's step cold start, beside `weft step`: the median wall time of fresh
//! `dagster api execute_step` processes for step `generate_numbers` of `process_numbers`
//! (what a step pod of Dagster's k8s_job_executor runs), through `tests/bench/dagster_step.py`:
//! a persistent SQLite instance, a run per iteration created as a launcher does, the
//! executor's `ExecuteStepArgs` (see the script's docstring).

use std::path::Path;

use serde_json::{Value as Json, json};

use crate::dagster::dagster_installed;

/// Medians, in milliseconds.
pub struct DagsterStep {
    pub version: String,
    pub runs: usize,
    /// `dagster api execute_step ARGS`, process start to exit.
    pub execute_step_ms: f64,
    /// `python3 -c pass`, for context: the interpreter's own start.
    pub python_startup_ms: f64,
}

impl DagsterStep {
    /// With Weft's `weft step` median beside it, for the ratio.
    pub fn to_json(&self, weft_step_ms: f64) -> Json {
        json!({
            "version": self.version,
            "runs": self.runs,
            "execute_step_ms": self.execute_step_ms,
            "python_startup_ms": self.python_startup_ms,
            "dagster_over_weft": self.execute_step_ms / weft_step_ms,
        })
    }
}

/// Runs `script` (`dagster_step.py`) for `runs` timed steps of the code location `defs`.
pub fn dagster_step(script: &Path, defs: &Path, runs: usize) -> Result<DagsterStep, String> {
    let runs_arg = runs.to_string();
    let parsed = crate::dagster::python_json(script, &[runs_arg.as_ref(), defs.as_os_str()])?;
    let get = |name: &str| {
        parsed[name]
            .as_f64()
            .ok_or(format!("dagster_step.py's JSON has no {name}"))
    };
    Ok(DagsterStep {
        version: parsed["dagster_version"].as_str().unwrap_or("?").to_owned(),
        runs,
        execute_step_ms: get("execute_step_ms")?,
        python_startup_ms: get("python_startup_ms")?,
    })
}

/// Dagster's step figures when it is installed and the script ran, and otherwise why not.
pub fn measure(script: &Path, defs: &Path, runs: usize) -> (Option<DagsterStep>, &'static str) {
    if !dagster_installed() {
        return (None, "dagster: not installed (pip install dagster)");
    }
    eprintln!("weft-bench: dagster api execute_step, {runs} fresh processes (seconds each) ...");
    match dagster_step(script, defs, runs) {
        Ok(d) => (Some(d), ""),
        Err(e) => {
            eprintln!("warning: {e}");
            (None, "dagster api execute_step: failed (see above)")
        }
    }
}
