//! The numbers code location in each guest language (Rust, Go, Python), side by side: the
//! component's size, its compile time once per digest, its load time from the precompiled
//! cache, one warm step (instantiate from the pre-instance + one op call) against the
//! targets of issue 3, and `process_numbers` through the engine and as a whole `weft run`.
//!
//! The Rust component is built as the end-to-end tests build it (cargo, wasm32-wasip2); the
//! Go and Python ones with `weft build` into a temporary directory. A language whose
//! toolchain is missing is skipped, and its row says why.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value as Json, json};
use weft_engine::executor::ExecutorKind;
use weft_engine::io::InMemoryIoManager;
use weft_tests::{TempDir, repo_root, rust_guest};
use weft_wasm::{Sandbox, WasmHost};

use crate::engine::{Engine, step_request};
use crate::process::weft_run_warm;
use crate::{median, ms};

/// Target for instantiate + one op call, warm, in ms: Rust and Go ≤ 100 µs.
pub const NATIVE_STEP_TARGET_MS: f64 = 0.1;
/// Target for instantiate + one op call, warm, in ms: Python ≤ 5 ms.
pub const PYTHON_STEP_TARGET_MS: f64 = 5.0;

/// A guest language of the numbers example.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
    Go,
    Python,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Rust, Lang::Go, Lang::Python];

    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Go => "go",
            Lang::Python => "python",
        }
    }

    /// The target for one warm step (instantiate + op call), in ms.
    pub fn step_target_ms(self) -> f64 {
        match self {
            Lang::Rust | Lang::Go => NATIVE_STEP_TARGET_MS,
            Lang::Python => PYTHON_STEP_TARGET_MS,
        }
    }

    /// The example's directory, for `weft build` (Go and Python).
    fn example(self) -> PathBuf {
        repo_root().join(match self {
            Lang::Rust => "examples/numbers",
            Lang::Go => "examples/numbers-go",
            Lang::Python => "examples/numbers-python",
        })
    }

    /// The toolchain `weft build` needs, with how to install it (None for Rust: the bench
    /// itself is built with cargo).
    fn toolchain(self) -> Option<(&'static str, &'static str, &'static str)> {
        match self {
            Lang::Rust => None,
            Lang::Go => Some((
                "go",
                "version",
                "install Go 1.25 or later from https://go.dev/dl/",
            )),
            Lang::Python => Some((
                "componentize-py",
                "--version",
                "pip install componentize-py (0.25.x)",
            )),
        }
    }
}

/// What was measured of one language, times in ms.
pub struct Figures {
    pub size_bytes: u64,
    /// How the component was built, and in how long (Go and Python).
    pub built_by: String,
    pub build_ms: Option<f64>,
    /// `WasmHost::load` into an empty cache: compile, write the cache, definitions.
    pub cold_load_ms: f64,
    /// `WasmHost::load` again on the same host: map the cached code, definitions.
    pub warm_load_ms: f64,
    /// `StepRunner::run_step` of the job's first step (no inputs), warm.
    pub step_ms: f64,
    pub step_samples: usize,
    pub step_name: String,
    /// Go only: the same step of the component built with `weft build --no-pre-init`,
    /// whose instances run Go's start-up themselves.
    pub step_without_preinit_ms: Option<f64>,
    /// process_numbers through the engine: in-process executor, in-memory I/O, durable events.
    pub engine_process_numbers_ms: f64,
    /// A whole `weft run --job process_numbers` process with a warm cache.
    pub weft_run_warm_ms: f64,
}

/// One language: its figures, or why it was skipped.
pub struct Language {
    pub lang: Lang,
    pub outcome: Result<Figures, String>,
}

impl Language {
    pub fn to_json(&self) -> Json {
        match &self.outcome {
            Ok(f) => json!({
                "component_bytes": f.size_bytes,
                "built_by": f.built_by,
                "build_ms": f.build_ms,
                "compile_once_ms": f.cold_load_ms,
                "warm_load_ms": f.warm_load_ms,
                "instantiate_call_ms": f.step_ms,
                "instantiate_call_step": f.step_name,
                "instantiate_call_samples": f.step_samples,
                "instantiate_call_target_ms": self.lang.step_target_ms(),
                "instantiate_call_met": f.step_ms <= self.lang.step_target_ms(),
                "instantiate_call_without_preinit_ms": f.step_without_preinit_ms,
                "process_numbers_engine_ms": f.engine_process_numbers_ms,
                "process_numbers_weft_run_warm_ms": f.weft_run_warm_ms,
            }),
            Err(reason) => json!({ "skipped": reason }),
        }
    }
}

/// Measures every language; `runs` as for the other figures.
pub fn measure_all(weft: &Path, runs: usize) -> Vec<Language> {
    let out = TempDir::new("bench-languages");
    Lang::ALL
        .into_iter()
        .map(|lang| {
            eprintln!("weft-bench: {} ...", lang.name());
            let outcome = build(lang, weft, &out, &[])
                .and_then(|(wasm, built_by, build_ms)| {
                    measure(lang, &wasm, runs).map(|mut f| {
                        f.built_by = built_by;
                        f.build_ms = build_ms;
                        f
                    })
                })
                .and_then(|f| {
                    if lang != Lang::Go {
                        return Ok(f);
                    }
                    let plain = out.join("numbers-go-no-pre-init.wasm");
                    build_to(lang, weft, &out, &plain, &["--no-pre-init"])?;
                    Ok(Figures {
                        step_without_preinit_ms: Some(measure(lang, &plain, runs)?.step_ms),
                        ..f
                    })
                })
                .and_then(|f| {
                    Ok(Figures {
                        weft_run_warm_ms: weft_run_warm(weft, &component_path(lang, &out), runs)?,
                        ..f
                    })
                });
            if let Err(e) = &outcome {
                eprintln!("weft-bench: {}: skipped: {e}", lang.name());
            }
            Language { lang, outcome }
        })
        .collect()
}

fn component_path(lang: Lang, out: &TempDir) -> PathBuf {
    match lang {
        Lang::Rust => rust_guest("numbers"),
        _ => out.join(&format!("numbers-{}.wasm", lang.name())),
    }
}

/// Builds the component of `lang`: `(path, how, build time)`.
fn build(
    lang: Lang,
    weft: &Path,
    out: &TempDir,
    flags: &[&str],
) -> Result<(PathBuf, String, Option<f64>), String> {
    if lang.toolchain().is_none() {
        return Ok((
            component_path(lang, out),
            "cargo (wasm32-wasip2)".into(),
            None,
        ));
    }
    let wasm = component_path(lang, out);
    let build_ms = build_to(lang, weft, out, &wasm, flags)?;
    Ok((wasm, "weft build".into(), Some(build_ms)))
}

/// `weft build FLAGS` of `lang`'s example into `wasm`; how long it took, in ms.
fn build_to(
    lang: Lang,
    weft: &Path,
    out: &TempDir,
    wasm: &Path,
    flags: &[&str],
) -> Result<f64, String> {
    let Some((tool, version_arg, hint)) = lang.toolchain() else {
        return Err(format!("{} is built with cargo", lang.name()));
    };
    let present = Command::new(tool)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !present {
        return Err(format!("`{tool}` not found on PATH ({hint})"));
    }
    let clock = Instant::now();
    let built = Command::new(weft)
        .env("WEFT_HOME", out.join("home"))
        .arg("build")
        .args(flags)
        .arg(lang.example())
        .arg("-o")
        .arg(wasm)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", weft.display()))?;
    let build_ms = ms(clock.elapsed());
    if !built.status.success() {
        let stderr = String::from_utf8_lossy(&built.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!("weft build failed: {first}"));
    }
    Ok(build_ms)
}

/// Everything but the whole-process figure, on one host whose cache starts empty.
fn measure(lang: Lang, wasm: &Path, runs: usize) -> Result<Figures, String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
    let home = TempDir::new(&format!("bench-{}", lang.name()));
    let host = WasmHost::new(home.join("cache")).map_err(|e| e.to_string())?;
    let name = format!("numbers-{}", lang.name());

    // Once per digest: compile into the empty cache (and ask for the definitions).
    let clock = Instant::now();
    let first = host
        .load(&name, &bytes, Sandbox::default())
        .map_err(|e| e.to_string())?;
    let cold_load_ms = ms(clock.elapsed());
    drop(first);

    // Warm: the same host loads the digest again from its precompiled cache.
    let mut warm = Vec::with_capacity(runs);
    let mut location = None;
    for _ in 0..runs {
        let clock = Instant::now();
        let loaded = host
            .load(&name, &bytes, Sandbox::default())
            .map_err(|e| e.to_string())?;
        warm.push(ms(clock.elapsed()));
        location = Some(loaded);
    }
    let location = location.ok_or("no runs")?;

    let engine = Engine::with_location(location, home)?;
    let plan = engine.plan("process_numbers")?;

    // One warm step: the job's first step, which has no inputs (generate_numbers).
    let step = plan
        .steps
        .iter()
        .find(|s| s.inputs.is_empty())
        .ok_or("process_numbers has no step without inputs")?;
    let request = step_request(&plan, step, None);
    let call = || engine.time_step(&request);
    for _ in 0..3 {
        call()?;
    }
    let step_samples = (runs * 10).max(50);
    let mut steps = Vec::with_capacity(step_samples);
    for _ in 0..step_samples {
        steps.push(call()?);
    }

    let memory = InMemoryIoManager::default();
    let engine_process_numbers_ms = engine.time(&plan, ExecutorKind::InProcess, &memory, runs)?;

    Ok(Figures {
        size_bytes: bytes.len() as u64,
        built_by: String::new(),
        build_ms: None,
        cold_load_ms,
        warm_load_ms: median(warm),
        step_ms: median(steps),
        step_samples,
        step_name: step.key.clone(),
        step_without_preinit_ms: None,
        engine_process_numbers_ms,
        weft_run_warm_ms: f64::NAN,
    })
}
