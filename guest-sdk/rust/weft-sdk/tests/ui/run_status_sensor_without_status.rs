use weft_sdk::prelude::*;

#[run_status_sensor(monitored_jobs = ["process_numbers"])]
fn after(ctx: &RunStatusSensorContext) {
    let _ = ctx;
}

fn main() {}
