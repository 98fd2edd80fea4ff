//! The conformance code location in Rust. `conformance-go` and `conformance-python`
//! define the same objects with the same names and behaviour; `tests/e2e/conformance_errors.rs`
//! runs all three and compares what a user sees:
//!
//! - `explode_job`: `explode` panics with `kaboom`;
//! - `flaky_job`: `flaky` fails (retryably) on attempts 1 and 2, then returns `"ok"`;
//! - `chatty_job`: `chatty` logs `chatty says hi` (info), prints `to stdout`, returns 1;
//! - `config_job`: `configured` returns its config's `factor` times 7;
//! - `resource_job`: `resourceful` returns the resource `greeting` (set in `weft.yaml`);
//! - `external_job`: `external` runs a Kubernetes Job (`busybox:1.36`, `sh -c`) that prints
//!   `job says $GREETING` (`GREETING=hello`) and exits with its config's `code`, then
//!   returns `"done"`;
//! - `k8s_op_job`: `echo_hello`, an op made by `k8s_job_op!` (Dagster's
//!   `k8s_job_op.configured`, described `Echoes hello in a Kubernetes Job`), runs
//!   `busybox:1.36` printing `hello from k8s_job_op`; `after_echo` takes the Job's name
//!   (`job`) and returns whether it starts with `weft-job-`;
//! - `instance_job`: `instance` returns `"<$WEFT_INSTANCE_VAR> <a random number>"` (the
//!   variable granted, the number drawn from the language's own generator: std's
//!   `RandomState` here);
//! - `nap_job`: `nap` sleeps its config's `ms` milliseconds (a blocking WASI call), returns
//!   `ms`;
//! - `flood_job`: `flood` logs `lines` lines (`line <i>`) each with a field `payload` of
//!   `field_bytes` bytes, returns `lines`;
//! - `huge_job`: `huge` returns a string of its config's `mb` MiB;
//! - `fetch_job`: `fetch` sends its config's `method` (default `GET`) to its `url`, with
//!   its `body` as JSON if given, and returns `{"status": <code>, "body": <the answer as
//!   JSON, or as text when it is not JSON>}`; a failed request fails the op with its error;
//!   with `times` (1 unless given) it sends the request that many times in a row and
//!   answers the last (the benchmark's requests after a step's first);
//! - `parity_job`: `evens_odds` has two outputs, `even` (the even numbers of 1..=`upto`)
//!   and the optional `odd` (the odd ones, left out when its config's `odd` is false); its
//!   config schema gives `upto` 4 and `odd` true by default. Each output has the int
//!   metadata `count` (= `upto`); `even` also the float `ratio` 0.5 and the url `doc`.
//!   `total_even` and `total_odd` (the op `total`) sum each;
//! - `graph_job`: `one` (1) into the graph `twice` (`add_one` twice: the nodes
//!   `twice.add_one` and `twice.add_one_2`), then into `twice` again under the alias `again`;
//! - `fanout_job` (`fanout.rs`): `fan_out` produces 1..=n (config `n`, 3 by default) under
//!   the mapping keys `k1`..`kn`; `square`, mapped over them (one retry), logs `square
//!   <key>`, fails retryably on the first attempt of `k2`, fails for good (`square <key>
//!   fails on purpose`) for the key the run's tag `square_fails` names unless the run has
//!   the tag `weft/parent_run_id`, and returns x²; `add_one` is mapped after it, and
//!   `total` collects: steps `fan_out`, `square[k1]`.., `add_one[k1]`.., `total` (17);
//! - the asset `scored` (asset job `scored_job`) returns its config's `score` (1.0 by
//!   default), with the metadata `score` (a float, the same) and `rows` (the int 3);
//! - asset checks (`checks.rs`): `scored_twice` (twice `scored`); the checks of `scored`:
//!   `scored_is_positive` (blocking; passes when the score is above 0, with the float
//!   metadata `score`) and `scored_is_small` (not blocking; passes when it is below 10, at
//!   severity `WARN`); the asset job `checked_job` selects `scored+`;
//! - multi-assets (`multi.rs`): `split_scores` (can be subset, group `split`) materializes
//!   `low` (the score minus 1) and `high` (plus 1), each with the text metadata `side`, only
//!   those the run selects; `spread` is `high - low`; `split_job` selects `scored`, `low`,
//!   `high` and `spread`, `low_job` only `low`;
//! - graph-backed assets (`boosted.rs`): `boosted` is `add_half(double_score(scored))`
//!   (2x, then + 0.5), steps `boosted.double_score` and `boosted.add_half`; the asset job
//!   `boosted_job` selects `scored` and `boosted`;
//! - `tcp_job` (Rust only): `echo` connects to its config's `addr` over TCP, writes its
//!   `message` and a newline, and returns the line read back;
//! - `hooks_job` (`hooks.rs`): `fine` returns 1; `broken` fails (not retryably) with
//!   `broken on purpose`. The job's hooks: `announce` (success: logs `announce: <step key>
//!   of <job> succeeded`) and `alarm` (failure: logs `alarm: <op> failed` with the field
//!   `saw_failure`, `yes` when the failure names `broken on purpose`); `broken` alone also
//!   has `grumpy` (failure), which fails with `grumpy hook fails`;
//! - `cursor_sensor`: run key `key-<cursor>` (no cursor: `0`), new cursor `<cursor> + 1`;
//! - `explode_alert`: a run-failure sensor on `explode_job` asking for `chatty_job` with the
//!   tags `failed_run` (the failed run's id), `failed_status` (`FAILURE`) and `saw_kaboom`
//!   (`yes` when the run's error names `kaboom`).
//!
//! Build: `weft build tests/guests/conformance-rust -o conformance-rust.wasm`

mod boosted;
mod checks;
mod fanout;
mod hooks;
mod multi;

use weft_sdk::http;
use weft_sdk::k8s::{K8sJob, execute_k8s_job};
use weft_sdk::prelude::*;

#[op]
fn explode() -> i64 {
    panic!("kaboom")
}

#[op(retry_policy(max_retries = 3, delay_ms = 1))]
fn flaky(ctx: &OpContext) -> Result<String, Failure> {
    if ctx.attempt() < 3 {
        Err(Failure::retryable(format!(
            "flaky: attempt {} fails",
            ctx.attempt()
        )))
    } else {
        Ok("ok".to_string())
    }
}

#[op]
fn chatty(ctx: &OpContext) -> i64 {
    ctx.log().info("chatty says hi");
    println!("to stdout");
    1
}

/// The config of `configured`.
#[derive(serde::Deserialize)]
struct FactorConfig {
    factor: i64,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"factor":{"type":"integer"}},"required":["factor"]}"#
)]
fn configured(ctx: &OpContext) -> Result<i64, Failure> {
    let config: FactorConfig = ctx.config()?;
    Ok(config.factor * 7)
}

#[op]
fn resourceful(ctx: &OpContext) -> Result<String, Failure> {
    ctx.resource("greeting")
        .and_then(|r| r.as_text())
        .ok_or_else(|| Failure::fatal("no resource `greeting`: set it in weft.yaml"))
}

/// The config of `external`.
#[derive(serde::Deserialize)]
struct ExternalConfig {
    code: i32,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"code":{"type":"integer"}},"required":["code"]}"#
)]
fn external(ctx: &OpContext) -> Result<String, Failure> {
    let config: ExternalConfig = ctx.config()?;
    let job = K8sJob::new("busybox:1.36")
        .command(["sh", "-c"])
        .args([format!("echo job says $GREETING; exit {}", config.code)])
        .env("GREETING", "hello");
    execute_k8s_job(ctx, &job)?;
    Ok("done".into())
}

#[op]
fn instance() -> String {
    use std::hash::BuildHasher;
    let var = std::env::var("WEFT_INSTANCE_VAR").unwrap_or_default();
    let random = std::collections::hash_map::RandomState::new().hash_one(0u64);
    format!("{var} {random}")
}

#[derive(serde::Deserialize)]
struct Parity {
    upto: i64,
    odd: bool,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"upto":{"type":"integer","default":4},"odd":{"type":"boolean","default":true}},"additionalProperties":false}"#,
    outs(even: Vec<i64>, odd: Vec<i64>),
    optional(odd)
)]
fn evens_odds(ctx: &OpContext) -> Result<evens_odds::Outs, Failure> {
    let config: Parity = ctx.config()?;
    let (even, odd): (Vec<i64>, Vec<i64>) = (1..=config.upto).partition(|n| n % 2 == 0);
    ctx.add_output_metadata("count", config.upto);
    ctx.add_metadata_to("even", "ratio", 0.5);
    ctx.add_metadata_to("even", "doc", MetadataValue::url("https://docs.dagster.io"));
    Ok(evens_odds::Outs {
        even,
        odd: config.odd.then_some(odd),
    })
}

#[op]
fn total(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[job]
fn parity_job() {
    let (even, odd) = evens_odds();
    total.alias("total_even")(even);
    total.alias("total_odd")(odd);
}

#[op]
fn one() -> i64 {
    1
}

#[op]
fn add_one(x: i64) -> i64 {
    x + 1
}

#[graph]
fn twice(x: Output<i64>) -> Output<i64> {
    add_one(add_one(x))
}

#[job]
fn graph_job() {
    let two = twice(one());
    twice.alias("again")(two);
}

#[derive(serde::Deserialize)]
struct Score {
    score: f64,
}

#[asset(
    config_schema = r#"{"type":"object","properties":{"score":{"type":"number","default":1.0}},"additionalProperties":false}"#
)]
fn scored(ctx: &OpContext) -> Result<f64, Failure> {
    let config: Score = ctx.config()?;
    ctx.add_output_metadata("score", config.score);
    ctx.add_output_metadata("rows", 3);
    Ok(config.score)
}

fn scored_job() -> AssetJob {
    define_asset_job("scored_job", AssetSelection::keys(["scored"]))
}

#[job]
fn explode_job() {
    explode();
}

#[job]
fn flaky_job() {
    flaky();
}

#[job]
fn chatty_job() {
    chatty();
}

#[job]
fn config_job() {
    configured();
}

#[job]
fn resource_job() {
    resourceful();
}

#[job]
fn external_job() {
    external();
}

weft_sdk::k8s_job_op!(
    echo_hello,
    K8sJob::new("busybox:1.36")
        .command(["sh", "-c"])
        .args(["echo hello from k8s_job_op"]),
    description = "Echoes hello in a Kubernetes Job"
);

#[op]
fn after_echo(job: String) -> bool {
    job.starts_with("weft-job-")
}

#[job]
fn k8s_op_job() {
    after_echo(echo_hello());
}

#[job]
fn instance_job() {
    instance();
}

/// The config of `nap`.
#[derive(serde::Deserialize)]
struct NapConfig {
    ms: u64,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"ms":{"type":"integer"}},"required":["ms"]}"#
)]
fn nap(ctx: &OpContext) -> Result<u64, Failure> {
    let config: NapConfig = ctx.config()?;
    std::thread::sleep(std::time::Duration::from_millis(config.ms));
    Ok(config.ms)
}

/// The config of `flood`.
#[derive(serde::Deserialize)]
struct FloodConfig {
    lines: u64,
    field_bytes: usize,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"lines":{"type":"integer"},"field_bytes":{"type":"integer"}},"required":["lines","field_bytes"]}"#
)]
fn flood(ctx: &OpContext) -> Result<u64, Failure> {
    let config: FloodConfig = ctx.config()?;
    let fields = [("payload".to_owned(), "x".repeat(config.field_bytes))];
    for i in 0..config.lines {
        ctx.log()
            .with_fields(weft_sdk::log::Level::Info, format!("line {i}"), &fields);
    }
    Ok(config.lines)
}

/// The config of `huge`.
#[derive(serde::Deserialize)]
struct HugeConfig {
    mb: usize,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"mb":{"type":"integer"}},"required":["mb"]}"#
)]
fn huge(ctx: &OpContext) -> Result<String, Failure> {
    let config: HugeConfig = ctx.config()?;
    Ok("x".repeat(config.mb << 20))
}

#[job]
fn huge_job() {
    huge();
}

#[job]
fn nap_job() {
    nap();
}

#[job]
fn flood_job() {
    flood();
}

#[sensor(job = "chatty_job", minimum_interval_seconds = 30)]
fn cursor_sensor(ctx: &SensorContext) -> Result<SensorResult, String> {
    let cursor = ctx.cursor().unwrap_or("0");
    let n: u64 = cursor
        .parse()
        .map_err(|e| format!("cursor {cursor:?} is not a number: {e}"))?;
    Ok(
        SensorResult::from(RunRequest::new().run_key(format!("key-{cursor}")))
            .cursor((n + 1).to_string()),
    )
}

#[run_failure_sensor(monitored_jobs = ["explode_job"], request_job = "chatty_job")]
fn explode_alert(ctx: &RunStatusSensorContext) -> RunRequest {
    let run = ctx.run();
    let kaboom = run.error.as_deref().is_some_and(|e| e.contains("kaboom"));
    RunRequest::new()
        .tag("failed_run", &run.run_id)
        .tag("failed_status", run.status.as_str())
        .tag("saw_kaboom", if kaboom { "yes" } else { "no" })
}

/// The config of `fetch`.
#[derive(serde::Deserialize)]
struct FetchConfig {
    url: String,
    method: Option<String>,
    body: Option<serde_json::Value>,
    times: Option<u32>,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"url":{"type":"string"},"method":{"type":"string"},"times":{"type":"integer","minimum":1}},"required":["url"]}"#
)]
fn fetch(ctx: &OpContext) -> Result<serde_json::Value, Failure> {
    let config: FetchConfig = ctx.config()?;
    let method = config.method.as_deref().unwrap_or("GET");
    let send = || -> Result<http::Response, Failure> {
        let mut request = http::Request::new(method, &config.url);
        if let Some(body) = &config.body {
            request = request.json(body)?;
        }
        Ok(request.send()?)
    };
    let mut answer = send()?;
    for _ in 1..config.times.unwrap_or(1) {
        answer = send()?;
    }
    let body = answer
        .json()
        .unwrap_or_else(|_| serde_json::Value::String(answer.text()));
    Ok(serde_json::json!({ "status": answer.status(), "body": body }))
}

#[job]
fn fetch_job() {
    fetch();
}

/// The config of `echo`.
#[derive(serde::Deserialize)]
struct EchoConfig {
    addr: String,
    message: String,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"addr":{"type":"string"},"message":{"type":"string"}},"required":["addr","message"]}"#
)]
fn echo(ctx: &OpContext) -> Result<String, Failure> {
    use std::io::{BufRead, Write};
    let config: EchoConfig = ctx.config()?;
    let failed = |e: std::io::Error| Failure::retryable(format!("{}: {e}", config.addr));
    let mut stream = std::net::TcpStream::connect(&config.addr).map_err(failed)?;
    writeln!(stream, "{}", config.message).map_err(failed)?;
    let mut line = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut line)
        .map_err(failed)?;
    Ok(line.trim_end().to_owned())
}

#[job]
fn tcp_job() {
    echo();
}

weft_sdk::definitions! {
    jobs: [explode_job, flaky_job, chatty_job, config_job, resource_job, external_job, k8s_op_job, instance_job, nap_job, flood_job, huge_job, fetch_job, tcp_job, parity_job, graph_job, hooks::hooks_job, fanout::fanout_job],
    sensors: [cursor_sensor, explode_alert],
    assets: [scored, checks::scored_twice, multi::spread],
    multi_assets: [multi::split_scores],
    asset_checks: [checks::scored_is_positive, checks::scored_is_small],
    asset_jobs: [scored_job, checks::checked_job, multi::split_job, multi::low_job, boosted::boosted_job],
    graph_assets: [boosted::boosted],
}
