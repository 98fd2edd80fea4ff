//! `weft-bench`: Weft beside Dagster on the numbers code location, measured in one run.
//!
//! ```text
//! cargo build --release -p weft-tests --bin weft-bench && ./target/release/weft-bench --runs 10
//! ```
//!
//! Prints one table: the time of `process_numbers` (6 steps) and `wide_job` (102 steps)
//! driven in-process through the engine (host, SQLite store with durable events, event
//! writer, executor: what `weft run` wires up) for the in-process and parallel executors,
//! and the per-step overhead `(wide_job - process_numbers) / (102 - 6)` that Dagster's
//! `bench.py` computes; the same pipelines as plain Rust calls; whole `weft run` processes
//! with a warm precompile cache and with a never-seen component; and Dagster's figures
//! (`execute_in_process` through `shared/peers/dagster/bench.py`, and the `dagster job
//! execute` CLI with the in_process executor on a fresh SQLite instance) with the ratios,
//! when `python3 -c "import dagster"` works (else rows say how to install it).
//!
//! The engine figures use the in-memory I/O manager, as `execute_in_process` does; a third
//! block repeats them with the filesystem I/O manager that `weft run` uses by default.
//! Medians are after one warm-up run; one location and one database serve every run.
//!
//! Flags: `--runs N` (default 20; medians of N), `--dagster-runs N` (default: `--runs`, at
//! most 10: a Dagster wide_job takes seconds), `--dagster-bench PATH` (default
//! `../shared/peers/dagster/bench.py` from the repository root), `--json` (also print the
//! results as one JSON object), `--engine-only` (just the engine figures, for profiling).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use weft_core::config::RunConfig;
use weft_core::events::RunStatus;
use weft_core::plan::{ExecutionPlan, plan_job};
use weft_core::run::RunRecord;
use weft_engine::executor::{Executor, ExecutorKind, RunSpec};
use weft_engine::io::{FsComputeLogs, FsIoManager, InMemoryIoManager};
use weft_engine::ports::{IoManager, RunStorage};
use weft_engine::writer::EventWriter;
use weft_tests::{TempDir, repo_root, rust_guest};
use weft_wasm::{CodeLocation, Sandbox, WasmHost};

/// Steps of the two jobs, as Dagster's bench.py counts them.
const WIDE_STEPS: f64 = 102.0;
const PROCESS_STEPS: f64 = 6.0;

struct Args {
    runs: usize,
    dagster_runs: usize,
    dagster_bench: PathBuf,
    json: bool,
    /// Only the in-process engine figures (for profiling).
    engine_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut runs = 20;
    let mut dagster_runs = None;
    let mut dagster_bench = repo_root().join("../shared/peers/dagster/bench.py");
    let mut json = false;
    let mut engine_only = false;
    let mut args = std::env::args().skip(1);
    let number = |flag: &str, v: Option<String>| -> Result<usize, String> {
        v.and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .ok_or(format!("{flag} needs a positive number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = number("--runs", args.next())?,
            "--dagster-runs" => dagster_runs = Some(number("--dagster-runs", args.next())?),
            "--dagster-bench" => {
                dagster_bench = args.next().ok_or("--dagster-bench needs a path")?.into()
            }
            "--json" => json = true,
            "--engine-only" => engine_only = true,
            "-h" | "--help" => {
                println!(
                    "weft-bench [--runs N] [--dagster-runs N] [--dagster-bench PATH] [--json]\n\
                     Times Weft (and Dagster, if installed) on the numbers code location."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(Args {
        runs,
        dagster_runs: dagster_runs.unwrap_or(runs.min(10)),
        dagster_bench,
        json,
        engine_only,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

// --- the engine, in-process ----------------------------------------------------------

/// One code location and one database, reused by every timed run (as a long-lived
/// `weft serve` would): what is timed is a run, not start-up.
struct Engine {
    rt: tokio::runtime::Runtime,
    location: CodeLocation,
    store: Arc<weft_store::Store>,
    home: TempDir,
}

impl Engine {
    fn new(wasm: &Path) -> Result<Self, String> {
        let home = TempDir::new("bench-engine");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let host = WasmHost::new(home.join("cache")).map_err(|e| e.to_string())?;
        let bytes = std::fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
        let location = host
            .load("numbers", &bytes, Sandbox::default())
            .map_err(|e| e.to_string())?;
        let store = rt
            .block_on(weft_store::Store::open_sqlite(&home.join("weft.db")))
            .map_err(|e| e.to_string())?;
        Ok(Engine {
            rt,
            location,
            store: Arc::new(store),
            home,
        })
    }

    fn plan(&self, job: &str) -> Result<ExecutionPlan, String> {
        plan_job(self.location.definitions(), job).map_err(|e| e.to_string())
    }

    /// One whole run as `weft run` does it after loading: record the run, execute every
    /// step, wait until every event is committed. Returns its wall time.
    fn run(
        &self,
        plan: &ExecutionPlan,
        kind: ExecutorKind,
        io: &dyn IoManager,
    ) -> Result<Duration, String> {
        let clock = Instant::now();
        let run_id = uuid::Uuid::now_v7().to_string();
        let config = RunConfig(json!({}));
        let tags = BTreeMap::new();
        let record = RunRecord {
            run_id: run_id.clone(),
            job: plan.job.clone(),
            location: "numbers".into(),
            digest: self.location.digest().to_owned(),
            status: RunStatus::NotStarted,
            tags: tags.clone(),
            config: config.0.clone(),
            asset_selection: None,
            created_ms: weft_engine::now_ms(),
            started_ms: None,
            finished_ms: None,
        };
        self.rt
            .block_on(RunStorage::create_run(self.store.as_ref(), &record))
            .map_err(|e| e.to_string())?;
        let writer = {
            let _guard = self.rt.enter();
            EventWriter::spawn(self.store.clone())
        };
        let logs = FsComputeLogs::new(self.home.join("logs"));
        let cancel = AtomicBool::new(false);
        let executor = Executor {
            runner: &self.location,
            io,
            compute_logs: &logs,
            sink: &writer,
            cancel: &cancel,
        };
        let spec = RunSpec {
            run_id: &run_id,
            plan,
            config: &config,
            tags: &tags,
        };
        let outcome = executor.execute(&spec, kind);
        self.rt
            .block_on(writer.flush())
            .map_err(|e| e.to_string())?;
        let elapsed = clock.elapsed();
        if outcome.status != RunStatus::Success {
            return Err(format!(
                "{} did not succeed: {:?}",
                plan.job, outcome.failed
            ));
        }
        Ok(elapsed)
    }

    /// Median wall time of `runs` runs of `plan`, in ms, after one warm-up run.
    fn time(
        &self,
        plan: &ExecutionPlan,
        kind: ExecutorKind,
        io: &dyn IoManager,
        runs: usize,
    ) -> Result<f64, String> {
        self.run(plan, kind, io)?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            times.push(ms(self.run(plan, kind, io)?));
        }
        Ok(median(times))
    }
}

/// The figures of one executor: both jobs and the per-step overhead, in ms.
#[derive(Clone, Copy)]
struct JobTimes {
    process_numbers: f64,
    wide_job: f64,
}

impl JobTimes {
    fn per_step(self) -> f64 {
        (self.wide_job - self.process_numbers) / (WIDE_STEPS - PROCESS_STEPS)
    }

    fn to_json(self) -> Json {
        json!({"process_numbers_ms": self.process_numbers, "wide_job_ms": self.wide_job, "per_step_ms": self.per_step()})
    }
}

fn engine_times(
    engine: &Engine,
    kind: ExecutorKind,
    io: &dyn IoManager,
    runs: usize,
) -> Result<JobTimes, String> {
    let process = engine.plan("process_numbers")?;
    let wide = engine.plan("wide_job")?;
    Ok(JobTimes {
        process_numbers: engine.time(&process, kind, io, runs)?,
        wide_job: engine.time(&wide, kind, io, runs)?,
    })
}

// --- plain Rust --------------------------------------------------------------------------

/// The numbers pipeline as plain calls: what each op of `process_numbers` computes.
fn native_process_numbers() -> i64 {
    let numbers: Vec<i64> = black_box((1..=10).collect());
    let even: Vec<i64> = black_box(numbers.iter().copied().filter(|n| n % 2 == 0).collect());
    let odd: Vec<i64> = black_box(numbers.into_iter().filter(|n| n % 2 != 0).collect());
    let even_sum: i64 = black_box(even.iter().sum());
    let odd_sum: i64 = black_box(odd.iter().sum());
    even_sum + odd_sum
}

/// `wide_job` as plain calls: a seed, 100 × add_one, a total.
fn native_wide_job() -> i64 {
    let start = black_box(1_i64);
    let values: Vec<i64> = (0..100).map(|_| black_box(black_box(start) + 1)).collect();
    values.iter().sum()
}

/// Nanoseconds per call of `f`, the median of a few timed batches.
fn per_call_ns(f: fn() -> i64, expect: i64) -> Result<f64, String> {
    if f() != expect {
        return Err(format!(
            "the plain Rust pipeline returned {} instead of {expect}",
            f()
        ));
    }
    let batch = 20_000;
    let mut samples = Vec::new();
    for _ in 0..7 {
        let clock = Instant::now();
        for _ in 0..batch {
            black_box(f());
        }
        samples.push(clock.elapsed().as_secs_f64() * 1e9 / batch as f64);
    }
    Ok(median(samples))
}

// --- whole processes ---------------------------------------------------------------------

/// The `weft` binary beside this one, built first (release) so that it is current.
fn weft_binary() -> Result<PathBuf, String> {
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
fn time_process(cmd: &mut Command) -> Result<f64, String> {
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

/// `(warm, cold)` medians in ms: `weft run` with the component already precompiled in
/// `WEFT_HOME`, and with a fresh `WEFT_HOME` each time (compiled from scratch).
fn weft_processes(weft: &Path, wasm: &Path, runs: usize) -> Result<(f64, f64), String> {
    let home = TempDir::new("bench-warm");
    time_process(&mut weft_run(weft, &home.0, wasm))?;
    let mut warm = Vec::new();
    for _ in 0..runs {
        warm.push(time_process(&mut weft_run(weft, &home.0, wasm))?);
    }
    let mut cold = Vec::new();
    for _ in 0..runs.min(5) {
        let fresh = TempDir::new("bench-cold");
        cold.push(time_process(&mut weft_run(weft, &fresh.0, wasm))?);
    }
    Ok((median(warm), median(cold)))
}

// --- Dagster -----------------------------------------------------------------------------

struct Dagster {
    version: String,
    in_process: JobTimes,
    cli_ms: Option<f64>,
    cli_runs: usize,
}

fn dagster_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import dagster"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn dagster(bench: &Path, runs: usize) -> Result<Dagster, String> {
    let out = Command::new("python3")
        .arg(bench)
        .arg(runs.to_string())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot start python3 {}: {e}", bench.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            bench.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .ok_or("bench.py printed no JSON")?;
    let parsed: Json = serde_json::from_str(line).map_err(|e| format!("bench.py's JSON: {e}"))?;
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

// --- the table ---------------------------------------------------------------------------

/// `1.23 ms`, `45.6 µs`, `78 ns`, `3.21 s`.
fn fmt_ms(x: f64) -> String {
    if !x.is_finite() {
        "—".into()
    } else if x >= 1000.0 {
        format!("{:.2} s", x / 1e3)
    } else if x >= 1.0 {
        format!("{x:.2} ms")
    } else if x >= 1e-3 {
        format!("{:.1} µs", x * 1e3)
    } else {
        format!("{:.0} ns", x * 1e6)
    }
}

fn ratio(dagster: Option<f64>, weft: f64) -> String {
    match dagster {
        Some(d) if weft > 0.0 => format!("{:.0}×", d / weft),
        _ => String::new(),
    }
}

struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    fn section(&mut self, title: &str) {
        self.rows.push([
            title.to_owned(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }

    fn row(&mut self, what: &str, weft: f64, dagster: Option<f64>, dagster_note: &str) {
        let d = match dagster {
            Some(d) => format!("{}{dagster_note}", fmt_ms(d)),
            None => dagster_note.to_owned(),
        };
        self.rows
            .push([format!("  {what}"), fmt_ms(weft), d, ratio(dagster, weft)]);
    }

    fn print(&self) {
        let header = ["", "Weft", "Dagster", "Dagster ÷ Weft"];
        let width = |i: usize| {
            self.rows
                .iter()
                .chain([&header.map(String::from)])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths = [width(0), width(1), width(2), width(3)];
        let line = |r: &[String; 4]| {
            let pad = |s: &str, w: usize| " ".repeat(w.saturating_sub(s.chars().count()));
            println!(
                "{}{}  {}{}  {}{}  {}{}",
                r[0],
                pad(&r[0], widths[0]),
                pad(&r[1], widths[1]),
                r[1],
                pad(&r[2], widths[2]),
                r[2],
                pad(&r[3], widths[3]),
                r[3]
            );
        };
        line(&header.map(String::from));
        println!("{}", "-".repeat(widths.iter().sum::<usize>() + 6));
        for r in &self.rows {
            line(r);
        }
    }
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("weft-bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    let wasm = rust_guest("numbers");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let n = args.runs;
    eprintln!("weft-bench: {n} runs each ...");

    let engine = Engine::new(&wasm)?;
    let memory = InMemoryIoManager::default();
    let in_process = engine_times(&engine, ExecutorKind::InProcess, &memory, n)?;
    if args.engine_only {
        println!(
            "in-process: process_numbers {}, wide_job {}, per step {}",
            fmt_ms(in_process.process_numbers),
            fmt_ms(in_process.wide_job),
            fmt_ms(in_process.per_step())
        );
        let parallel = engine_times(
            &engine,
            ExecutorKind::Parallel {
                max_concurrent: cores,
            },
            &memory,
            n,
        )?;
        println!(
            "parallel:   process_numbers {}, wide_job {}, per step {}",
            fmt_ms(parallel.process_numbers),
            fmt_ms(parallel.wide_job),
            fmt_ms(parallel.per_step())
        );
        return Ok(());
    }
    let parallel = engine_times(
        &engine,
        ExecutorKind::Parallel {
            max_concurrent: cores,
        },
        &memory,
        n,
    )?;
    let fs_io = FsIoManager::new(engine.home.join("storage"));
    let in_process_fs = engine_times(&engine, ExecutorKind::InProcess, &fs_io, n)?;
    let native_process = per_call_ns(native_process_numbers, 55)?;
    let native_wide = per_call_ns(native_wide_job, 200)?;
    let weft = weft_binary()?;
    let (warm, cold) = weft_processes(&weft, &wasm, n)?;

    let dagster = if dagster_installed() {
        eprintln!(
            "weft-bench: Dagster, {} runs each (a wide_job takes seconds) ...",
            args.dagster_runs
        );
        match dagster(&args.dagster_bench, args.dagster_runs) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("warning: {e}");
                None
            }
        }
    } else {
        None
    };

    let mut t = Table { rows: Vec::new() };
    let missing = if dagster_installed() {
        "dagster: failed (see above)"
    } else {
        "dagster: not installed (pip install dagster)"
    };
    let dj = dagster.as_ref().map(|d| d.in_process);
    let note = |present: &str| {
        if dagster.is_some() {
            present.to_owned()
        } else {
            missing.to_owned()
        }
    };
    for (title, times) in [
        (
            "in-process executor, in-memory I/O (Dagster: execute_in_process)",
            in_process,
        ),
        (
            &*format!("parallel executor ({cores} at once), in-memory I/O"),
            parallel,
        ),
        (
            "in-process executor, filesystem I/O manager (weft run's default)",
            in_process_fs,
        ),
    ] {
        t.section(title);
        t.row(
            "process_numbers (6 steps)",
            times.process_numbers,
            dj.map(|d| d.process_numbers),
            &note(""),
        );
        t.row(
            "wide_job (102 steps)",
            times.wide_job,
            dj.map(|d| d.wide_job),
            &note(""),
        );
        t.row(
            "per-step overhead",
            times.per_step(),
            dj.map(JobTimes::per_step),
            &note(""),
        );
    }
    t.section("plain Rust (the same work as native calls), per call");
    t.row("process_numbers pipeline", native_process / 1e6, None, "");
    t.row("wide_job pipeline", native_wide / 1e6, None, "");
    t.section("whole process, process_numbers (weft run | dagster job execute, in_process)");
    let cli = dagster.as_ref().and_then(|d| d.cli_ms);
    let cli_note = match &dagster {
        Some(d) if d.cli_ms.is_some() => format!(" ({} runs)", d.cli_runs),
        Some(_) => "dagster job execute: failed".into(),
        None => missing.into(),
    };
    t.row("warm precompile cache", warm, cli, &cli_note);
    t.row("never-seen component (cold cache)", cold, None, "");

    println!();
    match &dagster {
        Some(d) => println!(
            "Weft vs Dagster {} — medians of {n} runs (Dagster: {} runs); per-step = (wide_job - process_numbers) / 96",
            d.version, args.dagster_runs
        ),
        None => {
            println!("Weft — medians of {n} runs; per-step = (wide_job - process_numbers) / 96")
        }
    }
    t.print();

    if args.json {
        let out = json!({
            "runs": n,
            "cores": cores,
            "weft": {
                "in_process": in_process.to_json(),
                "parallel": parallel.to_json(),
                "in_process_fs_io": in_process_fs.to_json(),
                "weft_run_warm_ms": warm,
                "weft_run_cold_ms": cold,
            },
            "plain_rust_ns": {"process_numbers": native_process, "wide_job": native_wide},
            "dagster": dagster.as_ref().map(|d| json!({
                "version": d.version,
                "runs": args.dagster_runs,
                "in_process": d.in_process.to_json(),
                "cli_process_numbers_ms": d.cli_ms,
            })),
        });
        println!("{out}");
    }
    Ok(())
}
