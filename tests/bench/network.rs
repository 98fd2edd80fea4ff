//! Outbound HTTP from an op, per language, against the same GET made natively: the
//! conformance location's `fetch` op (Rust's `weft_sdk::http`, Go's `net/http` over the
//! SDK's transport, Python's `weft.http`) GETs `/json` from the loopback server of
//! `http_server.rs`, as a warm step (instantiate + op call + one request on a new
//! connection); the same location's `configured` op (no network) is the step without the
//! request; reqwest makes the same GET from Rust on a new connection each time. Weft's
//! overhead per request is the fetch step, less the step without it, less the native GET.

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

/// One language's figures, in ms (medians).
pub struct Row {
    lang: Lang,
    fetch_step_ms: f64,
    plain_step_ms: f64,
}

impl Row {
    fn overhead_ms(&self, native_ms: f64) -> f64 {
        self.fetch_step_ms - self.plain_step_ms - native_ms
    }
}

/// The figures of one run: the native GET and each language's rows (or why not).
pub struct Network {
    native_ms: f64,
    rows: Vec<Result<Row, (Lang, String)>>,
}

/// Measures the native GET and every language, `runs` × 10 samples each.
pub fn measure(runs: usize) -> Result<Network, String> {
    let dir = TempDir::new("bench-network");
    let servers = TestServers::start(&dir.0)?;
    let url = format!("{}/json", servers.http);
    let samples = (runs * 10).max(50);
    let native_ms = native_get(&url, samples)?;
    let rows = Lang::ALL
        .iter()
        .map(|&lang| measure_lang(lang, &servers, &url, samples).map_err(|e| (lang, e)))
        .collect();
    Ok(Network { native_ms, rows })
}

/// reqwest's blocking client, a new connection per request (as a step makes).
fn native_get(url: &str, samples: usize) -> Result<f64, String> {
    let client = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())?;
    let get = || -> Result<f64, String> {
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
    };
    for _ in 0..5 {
        get()?;
    }
    (0..samples)
        .map(|_| get())
        .collect::<Result<Vec<_>, _>>()
        .map(median)
}

fn measure_lang(
    lang: Lang,
    servers: &TestServers,
    url: &str,
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
    Ok(Row {
        lang,
        fetch_step_ms: median_of(&fetch, samples)?,
        plain_step_ms: median_of(&plain, samples)?,
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

fn median_of(timer: &impl Fn() -> Result<f64, String>, samples: usize) -> Result<f64, String> {
    for _ in 0..5 {
        timer()?;
    }
    (0..samples)
        .map(|_| timer())
        .collect::<Result<Vec<_>, _>>()
        .map(median)
}

/// The table, one row per language.
pub fn print(network: &Network, runs: usize) {
    let native = network.native_ms;
    println!(
        "\nOutbound HTTP: one GET to loopback from an op ({} samples each, medians; native: \
         reqwest from Rust, {:.1} µs)",
        (runs * 10).max(50),
        native * 1e3
    );
    println!(
        "{:<8} {:>14} {:>16} {:>18} {:>10}",
        "", "fetch step", "step, no GET", "overhead per GET", "target"
    );
    for row in &network.rows {
        match row {
            Ok(row) => {
                let overhead = row.overhead_ms(native);
                let verdict = if overhead <= target_ms(row.lang) {
                    "met"
                } else {
                    "MISSED"
                };
                println!(
                    "{:<8} {:>11.1} µs {:>13.1} µs {:>15.1} µs {:>7.0} µs {verdict}",
                    row.lang.name(),
                    row.fetch_step_ms * 1e3,
                    row.plain_step_ms * 1e3,
                    overhead * 1e3,
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
                    "fetch_step_ms": r.fetch_step_ms,
                    "plain_step_ms": r.plain_step_ms,
                    "overhead_per_get_ms": r.overhead_ms(self.native_ms),
                    "target_ms": target_ms(r.lang),
                });
                (r.lang.name().to_owned(), figures)
            })
            .collect();
        json!({ "native_get_ms": self.native_ms, "languages": rows })
    }
}
