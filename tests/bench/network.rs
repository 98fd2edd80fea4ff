//! Outbound HTTP from an op, per language, against the same GET made natively: the
//! conformance location's `fetch` op (Rust's `weft_sdk::http`, Go's `net/http` over the
//! SDK's transport, Python's `weft.http`) GETs `/json` from the loopback server of
//! `http_server.rs` in a warm step (instantiate + op call + its GETs, each on a new
//! connection); the same location's `configured` op is the step without any; reqwest
//! makes the same GET from Rust, on the calling thread, on a new connection each time.
//!
//! Each sample times back to back the native GET, a step of one GET, a step of [`GETS`]
//! GETs and the step without any, so that a slow moment of the machine falls on all four.
//! Weft's overhead per request is the median over the samples of the many-GET step less
//! the one-GET step, per further GET, less the native GET. A step's first GET costs more:
//! it is the first in a fresh instance to run the client's code and write to its memory
//! (page faults); its overhead, the one-GET step less the step without it less the native
//! GET, is shown beside, and so is the time per further GET spent in the guest's own code
//! (SDK and language runtime, host calls excluded, as a step's cost counts it).

use std::time::Instant;

use serde_json::{Value as Json, json};
use weft_core::hosts::HostPattern;
use weft_tests::{Home, TempDir, TestServers, repo_root, wasm_target_dir};
use weft_wasm::{Sandbox, WasmHost};

use crate::engine::{Engine, step_request};
use crate::languages::Lang;
use crate::{median, ms};

/// The GETs of the many-GET step.
const GETS: u32 = 11;

/// Targets of Weft's overhead per request, in ms: Rust and Go ≤ 100 µs, Python ≤ 1 ms.
fn target_ms(lang: Lang) -> f64 {
    match lang {
        Lang::Rust | Lang::Go => 0.1,
        Lang::Python => 1.0,
    }
}

/// One language's figures, in ms: medians over the samples.
pub struct Row {
    lang: Lang,
    native_ms: f64,
    plain_step_ms: f64,
    /// Weft's overhead of each GET after a step's first.
    overhead_ms: f64,
    /// Of it, the guest's own time.
    guest_ms: f64,
    /// Weft's overhead of a step's first GET.
    first_overhead_ms: f64,
}

/// Each language's row (or why not).
pub struct Network {
    rows: Vec<Result<Row, (Lang, String)>>,
}

/// Measures every language, `runs` × 10 samples each (50 at least).
pub fn measure(runs: usize) -> Result<Network, String> {
    let dir = TempDir::new("bench-network");
    let servers = TestServers::start(&dir.0)?;
    let url = format!("{}/json", servers.http);
    let native = Native {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| e.to_string())?,
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?,
    };
    let native = || native.get(&url);
    let samples = (runs * 10).max(50);
    let rows = Lang::ALL
        .iter()
        .map(|&lang| measure_lang(lang, &servers, &url, &native, samples).map_err(|e| (lang, e)))
        .collect();
    Ok(Network { rows })
}

/// The native GET's client and the runtime it runs on.
struct Native {
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Native {
    /// One GET on a new connection (as a step makes), on a runtime of the calling thread
    /// (no hand-off to another thread: the least Rust takes for it), in ms.
    fn get(&self, url: &str) -> Result<f64, String> {
        let clock = Instant::now();
        let body = self
            .runtime
            .block_on(async { self.client.get(url).send().await?.bytes().await });
        let elapsed = ms(clock.elapsed());
        if body.map_err(|e| e.to_string())?.is_empty() {
            return Err("an empty answer".into());
        }
        Ok(elapsed)
    }
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
    let one = step_timer(&engine, "fetch_job", json!({ "url": url }))?;
    let many = step_timer(&engine, "fetch_job", json!({ "url": url, "times": GETS }))?;
    let plain = step_timer(&engine, "config_job", json!({ "factor": 6 }))?;
    let sample = || -> Result<Sample, String> {
        Ok(Sample {
            native: native()?,
            one: one()?,
            many: many()?,
            plain: plain()?,
        })
    };
    for _ in 0..5 {
        sample()?;
    }
    let taken = (0..samples)
        .map(|_| sample())
        .collect::<Result<Vec<_>, _>>()?;
    let of = |figure: fn(&Sample) -> f64| median(taken.iter().map(figure).collect());
    let further = f64::from(GETS - 1);
    Ok(Row {
        lang,
        native_ms: of(|s| s.native),
        plain_step_ms: of(|s| s.plain.0),
        overhead_ms: median(
            taken
                .iter()
                .map(|s| (s.many.0 - s.one.0) / further - s.native)
                .collect(),
        ),
        guest_ms: median(
            taken
                .iter()
                .map(|s| (s.many.1 - s.one.1) / further)
                .collect(),
        ),
        first_overhead_ms: of(|s| s.one.0 - s.plain.0 - s.native),
    })
}

/// One sample: the native GET's time, and the (wall, guest) times of the three steps, in
/// ms.
struct Sample {
    native: f64,
    one: (f64, f64),
    many: (f64, f64),
    plain: (f64, f64),
}

/// A timer of one warm step of `job`'s only op, with `config`: its wall and guest times.
fn step_timer<'a>(
    engine: &'a Engine,
    job: &str,
    config: Json,
) -> Result<impl Fn() -> Result<(f64, f64), String> + 'a, String> {
    let plan = engine.plan(job)?;
    let step = plan.steps.first().ok_or(format!("{job} has no step"))?;
    let request = step_request(&plan, step, Some(config.to_string()));
    Ok(move || engine.time_step_guest(&request))
}

/// The table, one row per language.
pub fn print(network: &Network, runs: usize) {
    println!(
        "\nOutbound HTTP: GETs to loopback from an op, beside the same GET from Rust \
         (reqwest); {} interleaved samples each, medians; Weft's overhead per GET after a \
         step's first, of which the guest's own code, and of a step's first GET",
        (runs * 10).max(50)
    );
    println!(
        "{:<8} {:>11} {:>13} {:>13} {:>11} {:>16} {:>13}",
        "", "native GET", "step, no GET", "overhead/GET", "of it guest", "target", "first GET"
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
                    "{:<8} {:>8.1} µs {:>10.1} µs {:>10.1} µs {:>8.1} µs {:>6.0} µs {verdict:<6} {:>10.1} µs",
                    row.lang.name(),
                    row.native_ms * 1e3,
                    row.plain_step_ms * 1e3,
                    row.overhead_ms * 1e3,
                    row.guest_ms * 1e3,
                    target_ms(row.lang) * 1e3,
                    row.first_overhead_ms * 1e3
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
                    "plain_step_ms": r.plain_step_ms,
                    "overhead_per_get_ms": r.overhead_ms,
                    "guest_per_get_ms": r.guest_ms,
                    "first_get_overhead_ms": r.first_overhead_ms,
                    "target_ms": target_ms(r.lang),
                });
                (r.lang.name().to_owned(), figures)
            })
            .collect();
        json!({ "languages": rows })
    }
}
