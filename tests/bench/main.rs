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
//! A second table follows, from the same run: the numbers location per guest language
//! (Rust, Go, Python; see `languages.rs`): component size, compile once per digest, warm
//! load, one warm step (instantiate + op call) against issue 3's targets, process_numbers
//! through the engine and as a whole `weft run`, beside Dagster's process_numbers.
//!
//! A third table: the control plane (`weft serve` on loopback): upload → runnable and launch
//! → run succeeded (see `control.rs`), against issue 4's targets, and a step in a fresh
//! process: `weft step` beside Dagster's `dagster api execute_step` (what a step pod of its
//! k8s_job_executor runs) for the same op, with the ratio (`dagster_step.rs`, through
//! `tests/bench/dagster_step.py`), when Dagster is installed.
//!
//! A fourth: outbound HTTP, GETs to loopback from a Rust, Go and Python op, beside the
//! same GET made natively from Rust with reqwest: Weft's overhead per request against the
//! network issue's targets, the guest's share of it, and the overhead of a step's first
//! GET (`network.rs`).
//!
//! A fifth: Weft on Kubernetes, launch → run succeeded with a Job per run and per step on
//! the tests' cluster (when `tests/k8s/cluster.sh` runs), beside the same through the
//! API-server double given by `--kube-double PATH` and without Kubernetes
//! (`kubernetes.rs`).
//!
//! Flags: `--runs N` (default 20; medians of N), `--dagster-runs N` (default: `--runs`, at
//! most 10: a Dagster wide_job takes seconds), `--dagster-bench PATH` (default
//! `../shared/peers/dagster/bench.py` from the repository root), `--json` (also print the
//! results as one JSON object), `--engine-only` (just the engine figures, for profiling),
//! `--languages-only` (just the per-language table, and Dagster's figures beside it),
//! `--control-only` (just the control-plane table), `--network-only` (just the
//! outbound-HTTP table), `--kubernetes-only` (just the Kubernetes table), `--kube-double
//! PATH` (see above), `--image-binary PATH` (also time the
//! step in a fresh process with that build of `weft`: the image's static binary from
//! `deploy/musl.sh`).

mod control;
mod dagster;
mod dagster_step;
mod engine;
mod kubernetes;
mod languages;
mod native;
mod network;
mod process;
mod table;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use weft_engine::executor::ExecutorKind;
use weft_engine::io::{FsIoManager, InMemoryIoManager};
use weft_tests::{repo_root, rust_guest};

use crate::dagster::{Dagster, dagster, dagster_installed};
use crate::engine::{Engine, engine_times};
use crate::native::{native_process_numbers, native_wide_job, per_call_ns};
use crate::process::{weft_binary, weft_processes};
use crate::table::fmt_ms;

struct Args {
    runs: usize,
    dagster_runs: usize,
    dagster_bench: PathBuf,
    json: bool,
    /// Only the in-process engine figures (for profiling).
    engine_only: bool,
    /// Only the per-language table.
    languages_only: bool,
    /// Only the control-plane table.
    control_only: bool,
    /// Only the outbound-HTTP table.
    network_only: bool,
    /// Only the Kubernetes table.
    kubernetes_only: bool,
    /// A binary of the API-server double to time Kubernetes runs through too.
    kube_double: Option<PathBuf>,
    /// Another `weft` build whose step in a fresh process is timed too (the image's).
    image_binary: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut runs = 20;
    let mut dagster_runs = None;
    let mut dagster_bench = repo_root().join("../shared/peers/dagster/bench.py");
    let mut json = false;
    let mut engine_only = false;
    let mut languages_only = false;
    let mut control_only = false;
    let mut network_only = false;
    let mut image_binary = None;
    let mut kubernetes_only = false;
    let mut kube_double = None;
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
            "--languages-only" => languages_only = true,
            "--control-only" => control_only = true,
            "--network-only" => network_only = true,
            "--kubernetes-only" => kubernetes_only = true,
            "--kube-double" => {
                kube_double = Some(args.next().ok_or("--kube-double needs a path")?.into())
            }
            "--image-binary" => {
                image_binary = Some(args.next().ok_or("--image-binary needs a path")?.into())
            }
            "-h" | "--help" => {
                println!(
                    "weft-bench [--runs N] [--dagster-runs N] [--dagster-bench PATH] [--json]\n\
                     [--engine-only | --languages-only | --control-only | --network-only |\n\
                      --kubernetes-only] [--kube-double PATH] [--image-binary PATH]\n\
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
        languages_only,
        control_only,
        network_only,
        kubernetes_only,
        kube_double,
        image_binary,
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

fn main() {
    if let Err(e) = real_main() {
        eprintln!("weft-bench: {e}");
        std::process::exit(1);
    }
}

/// Dagster's `execute_step` figures, with the code location beside `--dagster-bench`.
fn run_dagster_step(args: &Args) -> (Option<dagster_step::DagsterStep>, &'static str) {
    let script = repo_root().join("tests/bench/dagster_step.py");
    let defs = args.dagster_bench.with_file_name("defs.py");
    dagster_step::measure(&script, &defs, args.dagster_runs)
}

/// Dagster's figures when it is installed and its bench ran, and otherwise why not.
fn run_dagster(args: &Args) -> (Option<Dagster>, &'static str) {
    if !dagster_installed() {
        return (None, "dagster: not installed (pip install dagster)");
    }
    eprintln!(
        "weft-bench: Dagster, {} runs each (a wide_job takes seconds) ...",
        args.dagster_runs
    );
    match dagster(&args.dagster_bench, args.dagster_runs) {
        Ok(d) => (Some(d), "dagster: failed (see above)"),
        Err(e) => {
            eprintln!("warning: {e}");
            (None, "dagster: failed (see above)")
        }
    }
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    let wasm = rust_guest("numbers");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let n = args.runs;
    eprintln!("weft-bench: {n} runs each ...");

    if args.network_only {
        let network = network::measure(n)?;
        network::print(&network, n);
        if args.json {
            println!("{}", json!({"runs": n, "network": network.to_json()}));
        }
        return Ok(());
    }

    if args.kubernetes_only {
        let k8s = kubernetes::measure(&wasm, n.min(10), args.kube_double.as_deref())?;
        kubernetes::print(&k8s);
        if args.json {
            println!("{}", json!({"runs": n, "kubernetes": k8s.to_json()}));
        }
        return Ok(());
    }

    if args.control_only {
        let control = control::control_times(&wasm, n, args.image_binary.as_deref())?;
        let (step, step_missing) = run_dagster_step(&args);
        table::print_control(&control, n, step.as_ref(), step_missing);
        if args.json {
            println!(
                "{}",
                json!({
                    "runs": n,
                    "control": control.to_json(),
                    "dagster_step": step.as_ref().map(|d| d.to_json(control.step_process)),
                })
            );
        }
        return Ok(());
    }

    if args.languages_only {
        let weft = weft_binary()?;
        let languages = languages::measure_all(&weft, n);
        let (dagster, missing) = run_dagster(&args);
        table::print_languages(&languages, n, dagster.as_ref(), missing);
        if args.json {
            println!(
                "{}",
                json!({"runs": n, "languages": languages_json(&languages)})
            );
        }
        return Ok(());
    }

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
    drop(engine);

    let languages = languages::measure_all(&weft, n);
    let control = control::control_times(&wasm, n, args.image_binary.as_deref())?;
    let network = network::measure(n)?;
    let k8s = kubernetes::measure(&wasm, n.min(10), args.kube_double.as_deref())?;
    let (dagster, missing) = run_dagster(&args);
    let (step, step_missing) = run_dagster_step(&args);

    let figures = table::Figures {
        runs: n,
        dagster_runs: args.dagster_runs,
        cores,
        in_process,
        parallel,
        in_process_fs,
        native_process_ns: native_process,
        native_wide_ns: native_wide,
        weft_run_warm: warm,
        weft_run_cold: cold,
        dagster: dagster.as_ref(),
        dagster_missing: missing,
    };
    table::print_main(&figures);
    table::print_languages(&languages, n, dagster.as_ref(), missing);
    table::print_control(&control, n, step.as_ref(), step_missing);
    network::print(&network, n);
    kubernetes::print(&k8s);

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
            "languages": languages_json(&languages),
            "control": control.to_json(),
            "network": network.to_json(),
            "kubernetes": k8s.to_json(),
            "dagster_step": step.as_ref().map(|d| d.to_json(control.step_process)),
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

/// The per-language figures as `{"rust": {...}, "go": {...}, "python": {...}}`.
fn languages_json(languages: &[languages::Language]) -> serde_json::Value {
    languages
        .iter()
        .map(|l| (l.lang.name().to_owned(), l.to_json()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}
