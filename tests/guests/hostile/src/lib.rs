//! A hostile code location for the sandbox tests: one job per misbehaviour, each a single
//! op (`panics`, `loops_forever`, `eats_memory`, `recurses`, `reads_passwd`, `reads_env`),
//! a healthy `ok_job` (42), `flaky_job` (fails twice, then `"ok"`), `config_job` (returns
//! `factor * 7` from its config), `slow_job` (sleeps `ms` milliseconds from its config, 1000
//! by default: a run still in flight while a test acts) and `slow_chain` (`sleepy`, then
//! `wake`: a run to cancel between its steps), `retried_chain` (the same with a retried
//! `sleepy_retried`: a step whose process a test kills), `flag_chain` (`answer`, then `needs_flag`,
//! which fails until the location is given `WEFT_FLAG`: a run to re-execute from failure),
//! the schedules `scaled_on_even_minutes`, whose function decides each tick, and
//! `slow_decision`, which takes three seconds to, and `flag_chain_failed`, a run-failure
//! sensor on `flag_chain` that fails until the location is given `WEFT_FLAG`, then asks
//! for `ok_job`.
//!
//! The schedule `endless_decision` never decides, nor does the sensor `endless_sensor`,
//! while `ticking_sensor` skips every second beside it; and `endless_definitions`, whose graph
//! never ends building when the location is given `WEFT_ENDLESS_DEFINITIONS` (so its
//! `definitions.get` loops). (Floods of the log and of outputs are the conformance
//! locations' `flood` and `huge`.)

use std::hint::black_box;
use weft_sdk::prelude::*;

#[op]
fn panic_op() -> i64 {
    panic!("boom")
}

#[op]
fn loop_op() -> i64 {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

#[op]
fn memory_op() -> usize {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 64 << 20];
        for i in (0..chunk.len()).step_by(4096) {
            chunk[i] = 1;
        }
        chunks.push(black_box(chunk));
        black_box(&chunks);
    }
}

fn depth(n: u64) -> u64 {
    if black_box(n) == u64::MAX {
        return 0;
    }
    let local = black_box([n; 16]);
    black_box(depth(black_box(local[0] + 1))) + local[15]
}

#[op]
fn recurse_op() -> u64 {
    depth(0)
}

#[op]
fn passwd_op() -> Result<String, String> {
    std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))
}

#[op]
fn env_op() -> Result<String, Failure> {
    std::env::var("SECRET_TOKEN").map_err(|e| Failure::retryable(format!("SECRET_TOKEN: {e}")))
}

#[op]
fn answer() -> i64 {
    42
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

/// The config of `scaled`.
#[derive(serde::Deserialize)]
struct ScaleConfig {
    factor: i64,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"factor":{"type":"integer"}},"required":["factor"]}"#
)]
fn scaled(ctx: &OpContext) -> Result<i64, Failure> {
    let config: ScaleConfig = ctx.config()?;
    ctx.log().info(format!("factor = {}", config.factor));
    Ok(config.factor * 7)
}

/// The config of `sleepy`.
#[derive(serde::Deserialize)]
struct SleepConfig {
    ms: u64,
}

#[op(config_schema = r#"{"type":"object","properties":{"ms":{"type":"integer"}}}"#)]
fn sleepy(ctx: &OpContext) -> Result<u64, Failure> {
    sleep_as_configured(ctx)
}

/// Sleeps `ms` milliseconds from the step's config, 1000 by default.
fn sleep_as_configured(ctx: &OpContext) -> Result<u64, Failure> {
    let ms = ctx.config::<SleepConfig>().map_or(1000, |c| c.ms);
    std::thread::sleep(std::time::Duration::from_millis(ms));
    Ok(ms)
}

/// Sleeps `ms` milliseconds from its config (1000 by default), retried once: a step whose
/// process a test can kill while it sleeps.
#[op(
    config_schema = r#"{"type":"object","properties":{"ms":{"type":"integer"}}}"#,
    retry_policy(max_retries = 1, delay_ms = 1)
)]
fn sleepy_retried(ctx: &OpContext) -> Result<u64, Failure> {
    sleep_as_configured(ctx)
}

#[op]
fn wake(ms: u64) -> u64 {
    ms
}

/// Fails unless `WEFT_FLAG` is set (granted as the location's environment).
#[op]
fn needs_flag(x: i64) -> Result<i64, Failure> {
    match std::env::var("WEFT_FLAG") {
        Ok(_) => Ok(x + 1),
        Err(_) => Err(Failure::fatal("WEFT_FLAG is not set")),
    }
}

#[job]
fn flag_chain() {
    needs_flag(answer());
}

#[job]
fn slow_job() {
    sleepy();
}

#[job]
fn retried_chain() {
    wake(sleepy_retried());
}

#[job]
fn slow_chain() {
    wake(sleepy());
}

#[job]
fn panics() {
    panic_op();
}

#[job]
fn loops_forever() {
    loop_op();
}

#[job]
fn eats_memory() {
    memory_op();
}

#[job]
fn recurses() {
    recurse_op();
}

#[job]
fn reads_passwd() {
    passwd_op();
}

#[job]
fn reads_env() {
    env_op();
}

#[job]
fn ok_job() {
    answer();
}

#[job]
fn flaky_job() {
    flaky();
}

#[job]
fn config_job() {
    scaled();
}

/// Decides each tick: on even minutes `config_job` with factor 2, on odd ones a skip.
#[schedule(cron = "* * * * *", job = "config_job")]
fn scaled_on_even_minutes(ctx: &ScheduleContext) -> ScheduleResult {
    if (ctx.scheduled_time_ms / 60_000).is_multiple_of(2) {
        RunRequest::new()
            .config(serde_json::json!({ "ops": { "scaled": { "config": { "factor": 2 } } } }))
            .into()
    } else {
        SkipReason::new("odd minute").into()
    }
}

/// Takes three seconds to decide, then asks for `ok_job`: a daemon can be killed while
/// it decides.
#[schedule(cron = "* * * * *", job = "ok_job")]
fn slow_decision(_ctx: &ScheduleContext) -> ScheduleResult {
    std::thread::sleep(std::time::Duration::from_secs(3));
    RunRequest::new().into()
}

/// Fails until the location is given `WEFT_FLAG`: a run-status sensor whose errors must
/// not lose the run it was called for.
#[run_failure_sensor(monitored_jobs = ["flag_chain"], request_job = "ok_job")]
fn flag_chain_failed(ctx: &RunStatusSensorContext) -> Result<RunRequest, String> {
    match std::env::var("WEFT_FLAG") {
        Ok(_) => Ok(RunRequest::new().tag("handled", &ctx.run().run_id)),
        Err(_) => Err(format!(
            "cannot handle the failure of {}: WEFT_FLAG is not set",
            ctx.run().run_id
        )),
    }
}

/// Never ends building when `WEFT_ENDLESS_DEFINITIONS` is set: a location whose
/// `definitions.get` loops.
#[job]
fn endless_definitions() {
    if std::env::var("WEFT_ENDLESS_DEFINITIONS").is_ok() {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
    answer();
}

/// Never decides: its evaluation loops until its deadline.
#[schedule(cron = "* * * * *", job = "ok_job")]
fn endless_decision(_ctx: &ScheduleContext) -> ScheduleResult {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Never ends evaluating: stopped at its evaluation deadline, while the daemon's other
/// sensors tick on.
#[sensor(job = "ok_job", minimum_interval_seconds = 1)]
fn endless_sensor(_ctx: &SensorContext) -> SensorResult {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Skips every second: a sensor that ticks beside a slow one.
#[sensor(job = "ok_job", minimum_interval_seconds = 1)]
fn ticking_sensor(_ctx: &SensorContext) -> SensorResult {
    SkipReason::new("nothing new").into()
}

weft_sdk::definitions! {
    jobs: [panics, loops_forever, eats_memory, recurses, reads_passwd, reads_env, ok_job, flaky_job, config_job, slow_job, slow_chain, flag_chain, retried_chain, endless_definitions],
    schedules: [scaled_on_even_minutes, slow_decision, endless_decision],
    sensors: [flag_chain_failed, endless_sensor, ticking_sensor],
}
