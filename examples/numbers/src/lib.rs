//! The numbers code location: Dagster's seed example in Weft, object for object
//! (see `shared/peers/dagster/defs.py`): ops and the job `process_numbers`, six assets
//! and the asset job `process_numbers_asset`, the fan-out/fan-in `wide_job`, two
//! schedules, a sensor and a run-status sensor.
//!
//! Build: `cargo build --target wasm32-wasip2 --profile guest --target-dir target/wasm -p numbers`
//! Run:   `weft run target/wasm/wasm32-wasip2/guest/numbers.wasm --job process_numbers`

use weft_sdk::prelude::*;

// --- ops and a job -----------------------------------------------------------

#[op(description = "Generate a list of numbers from 1 to 10")]
fn generate_numbers() -> Vec<i64> {
    (1..=10).collect()
}

#[op(description = "Filter even numbers from the list")]
fn filter_even_numbers(numbers: Vec<i64>) -> Vec<i64> {
    numbers.into_iter().filter(|n| n % 2 == 0).collect()
}

#[op(description = "Filter odd numbers from the list")]
fn filter_odd_numbers(numbers: Vec<i64>) -> Vec<i64> {
    numbers.into_iter().filter(|n| n % 2 != 0).collect()
}

#[op(description = "Calculate the sum of the given list of even numbers")]
fn sum_even_numbers(numbers: Vec<i64>) -> i64 {
    numbers.iter().sum()
}

#[op(description = "Calculate the sum of the given list of odd numbers")]
fn sum_odd_numbers(numbers: Vec<i64>) -> i64 {
    numbers.iter().sum()
}

#[op(description = "Sum the two numbers")]
fn sum_two_sums(first_number: i64, second_number: i64) -> i64 {
    first_number + second_number
}

#[job(description = "Process numbers", tags(domain = "numbers"))]
fn process_numbers() {
    let numbers = generate_numbers();
    let even_numbers = filter_even_numbers(numbers);
    let odd_numbers = filter_odd_numbers(numbers);
    let even_sum = sum_even_numbers(even_numbers);
    let odd_sum = sum_odd_numbers(odd_numbers);
    sum_two_sums(even_sum, odd_sum);
}

// --- assets and an asset job ----------------------------------------------------

#[asset(group = "numbers", description = "Generated a list of numbers from 1 to 10", kinds = ["rust"])]
fn generated_numbers() -> Vec<i64> {
    (1..=10).collect()
}

#[asset(group = "numbers", description = "Filtered even numbers from the list", kinds = ["rust"])]
fn filtered_even_numbers(generated_numbers: Vec<i64>) -> Vec<i64> {
    generated_numbers
        .into_iter()
        .filter(|n| n % 2 == 0)
        .collect()
}

#[asset(group = "numbers", description = "Filtered odd numbers from the list", kinds = ["rust"])]
fn filtered_odd_numbers(generated_numbers: Vec<i64>) -> Vec<i64> {
    generated_numbers
        .into_iter()
        .filter(|n| n % 2 != 0)
        .collect()
}

#[asset(group = "numbers", description = "Summed the even numbers", kinds = ["rust"])]
fn summed_even_numbers(filtered_even_numbers: Vec<i64>) -> i64 {
    filtered_even_numbers.iter().sum()
}

#[asset(group = "numbers", description = "Summed the odd numbers", kinds = ["rust"])]
fn summed_odd_numbers(filtered_odd_numbers: Vec<i64>) -> i64 {
    filtered_odd_numbers.iter().sum()
}

#[asset(group = "numbers", description = "Summed the two sums", kinds = ["rust"])]
fn summed_two_sums(summed_even_numbers: i64, summed_odd_numbers: i64) -> i64 {
    summed_even_numbers + summed_odd_numbers
}

fn process_numbers_asset() -> AssetJob {
    define_asset_job("process_numbers_asset", AssetSelection::groups(["numbers"]))
}

// --- a wide job: per-step overhead -------------------------------------------------

#[op]
fn seed_number() -> i64 {
    1
}

#[op]
fn add_one(x: i64) -> i64 {
    x + 1
}

#[op]
fn total(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[job]
fn wide_job() {
    let start = seed_number();
    let values: Vec<_> = (0..100)
        .map(|i| add_one.alias(format!("add_{i}"))(start))
        .collect();
    total(values);
}

// --- schedules and sensors -------------------------------------------------------------

fn process_numbers_every_minute() -> ScheduleDefinition {
    ScheduleDefinition::new(
        "process_numbers_every_minute",
        "process_numbers",
        "* * * * *",
    )
}

fn process_numbers_asset_every_minute() -> ScheduleDefinition {
    ScheduleDefinition::new(
        "process_numbers_asset_every_minute",
        "process_numbers_asset",
        "* * * * *",
    )
}

#[sensor(job = "process_numbers", minimum_interval_seconds = 5)]
fn check_file_sensor(_ctx: &SensorContext) -> SensorResult {
    if std::path::Path::new("/check").exists() {
        RunRequest::new().run_key("check_file_exists").into()
    } else {
        SkipReason::new("check file not exists").into()
    }
}

/// A run-status sensor: once for each successful run of `process_numbers`, it asks for a
/// run of the asset job, keyed by the run that succeeded (so it launches once per run).
#[run_status_sensor(
    run_status = "success",
    monitored_jobs = ["process_numbers"],
    request_job = "process_numbers_asset",
    description = "Materializes the assets after each successful process_numbers run"
)]
fn materialize_after_process_numbers(ctx: &RunStatusSensorContext) -> RunRequest {
    RunRequest::new().tag("upstream_run_id", &ctx.run().run_id)
}

weft_sdk::definitions! {
    assets: [
        generated_numbers,
        filtered_even_numbers,
        filtered_odd_numbers,
        summed_even_numbers,
        summed_odd_numbers,
        summed_two_sums,
    ],
    jobs: [process_numbers, wide_job],
    asset_jobs: [process_numbers_asset],
    schedules: [process_numbers_every_minute, process_numbers_asset_every_minute],
    sensors: [check_file_sensor, materialize_after_process_numbers],
}
