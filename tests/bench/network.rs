//! Outbound HTTP from an op, per language, against the same GET made natively: the
//! conformance location's `fetch` op (Rust's `weft_sdk::http`, Go's `net/http` over the
//! SDK's transport, Python's `weft.http`) GETs `/json` from the loopback server of
//! `http_server.rs`, as a warm step (instantiate + op call + one request on a new
//! connection); the same location's `configured` op (no network) is the step without the
//! request; reqwest makes the same GET from Rust on a new connection each time. The three
//! are timed back to back in each sample; Weft's overhead per request is the median over
//! the samples of the fetch step, less the step without it, less the native GET.

use std::time::Instant;

use serde_json::{Value as Json, json};
use weft_core::hosts::HostPattern;
use weft_tests::{Home, TempDir, TestServers, repo_root, wasm_target_dir};
use weft_wasm::{Sandbox, WasmHost};

use crate::engine::{Engine, step_request};
use crate::languages::Lang;
use crate::{median, ms};

/// Targets of Weft's overhead per request, in ms: Rust and Go ≤ 100 µs, Python ≤ 1 ms.
fn target_ms(lang: Lang) -> f64 {
    match lang {
        Lang::Rust | Lang::Go => 0.1,
        Lang::Python => 1.0,
    }
}

/// One language's figures, in ms: medians of samples that each take the native GET, the
/// fetch step and the plain step back to back (so that a slow moment of the machine or
/// the server falls on all three), and the median of their per-sample differences.
pub struct Row {
    lang: Lang,
    native_ms: f64,
    fetch_step_ms: f64,
    plain_step_ms: f64,
    overhead_ms: f64,
}

/// Each language's row (or why not).
pub struct Network {
    rows: Vec<Result<Row, (Lang, String)>>,
}

/// Measures every language, `runs` × 10 samples each.
pub fn measure(runs: usize) -> Result<Network, String> {
    let dir = TempDir::new("bench-network");
    let servers = TestServers::start(&dir.0)?;
    let url = format!("{}/json", servers.http);
    let client = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())?;
    let native = || native_get(&client, &url);
    let samples = (runs * 10).max(50);
    let rows = Lang::ALL
        .iter()
        .map(|&lang| measure_lang(lang, &servers, &url, &native, samples).map_err(|e| (lang, e)))
        .collect();
    Ok(Network { rows })
}

/// reqwest's blocking client, a new connection per request (as a step makes), in ms.
fn native_get(client: &reqwest::blocking::Client, url: &str) -> Result<f64, String> {
    let clock = Instant::now();
    let body = client
        .get(url)
        .send()
        .and_then(|r| r.bytes())
        .map_err(|e| e.to_string())?;
    let elapsed = ms(clock.elapsed());
    if body.is_empty() {
        return Err("an empty answer".into());
    }
    Ok(elapsed)
}

fn measure_lang(
    lang: Lang,
    servers: &TestServers,
    url: &str,
    native: &impl Fn() -> Result<f64, String>,
    samples: usize,
) -> Result<Row, String> {
    let project = repo_root().join(format!("tests/guests/conformance-{}", lang.name()));
    let wasm = wasm_target_dir()
        .join("polyglot")
        .join(format!("conformance-{}.wasm", lang.name()));
    Home::new().build_shared(&project, &wasm)?;
    let bytes = std::fs::read(&wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
    let home = TempDir::new(&format!("bench-network-{}", lang.name()));
    let host = WasmHost::new(home.join("cache")).map_err(|e| e.to_string())?;
    let sandbox = Sandbox {
        hosts: vec![HostPattern::parse(&servers.http).map_err(|e| e.to_string())?],
        ..Sandbox::default()
    };
    let location = host
        .load("conformance", &bytes, sandbox)
        .map_err(|e| e.to_string())?;
    let engine = Engine::with_location(location, home)?;
    let fetch = step_timer(&engine, "fetch_job", json!({ "url": url }))?;
    let plain = step_timer(&engine, "config_job", json!({ "factor": 6 }))?;
    let sample = || -> Result<[f64; 3], String> { Ok([native()?, fetch()?, plain()?]) };
    for _ in 0..5 {
        sample()?;
    }
    let taken = (0..samples)
        .map(|_| sample())
        .collect::<Result<Vec<_>, _>>()?;
    let column = |i: usize| median(taken.iter().map(|s| s[i]).collect());
    Ok(Row {
        lang,
        native_ms: column(0),
        fetch_step_ms: column(1),
        plain_step_ms: column(2),
        overhead_ms: median(taken.iter().map(|[n, f, p]| f - p - n).collect()),
    })
}

/// A timer of one warm step of `job`'s only op, with `config`.
fn step_timer<'a>(
    engine: &'a Engine,
    job: &str,
    config: Json,
) -> Result<impl Fn() -> Result<f64, String> + 'a, String> {
    let plan = engine.plan(job)?;
    let step = plan.steps.first().ok_or(format!("{job} has no step"))?;
    let request = step_request(&plan, step, Some(config.to_string()));
    Ok(move || engine.time_step(&request))
}

/// The table, one row per language.
pub fn print(network: &Network, runs: usize) {
    println!(
        "\nOutbound HTTP: one GET to loopback from an op, beside the same GET from Rust \
         (reqwest); {} interleaved samples each, medians",
        (runs * 10).max(50)
    );
    println!(
        "{:<8} {:>12} {:>14} {:>16} {:>18} {:>10}",
        "", "native GET", "fetch step", "step, no GET", "overhead per GET", "target"
    );
    for row in &network.rows {
        match row {
            Ok(row) => {
                let verdict = if row.overhead_ms <= target_ms(row.lang) {
                    "met"
                } else {
                    "MISSED"
                };
                println!(
                    "{:<8} {:>9.1} µs {:>11.1} µs {:>13.1} µs {:>15.1} µs {:>7.0} µs {verdict}",
                    row.lang.name(),
                    row.native_ms * 1e3,
                    row.fetch_step_ms * 1e3,
                    row.plain_step_ms * 1e3,
                    row.overhead_ms * 1e3,
                    target_ms(row.lang) * 1e3
                );
            }
            Err((lang, why)) => println!("{:<8} skipped: {why}", lang.name()),
        }
    }
}

impl Network {
    pub fn to_json(&self) -> Json {
        let rows: serde_json::Map<String, Json> = self
            .rows
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| {
                let figures = json!({
                    "native_get_ms": r.native_ms,
                    "fetch_step_ms": r.fetch_step_ms,
                    "plain_step_ms": r.plain_step_ms,
                    "overhead_per_get_ms": r.overhead_ms,
                    "target_ms": target_ms(r.lang),
                });
                (r.lang.name().to_owned(), figures)
            })
            .collect();
        json!({ "languages": rows })
    }
}
