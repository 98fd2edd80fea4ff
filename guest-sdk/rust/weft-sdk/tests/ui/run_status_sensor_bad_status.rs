use weft_sdk::prelude::*;

#[run_status_sensor(run_status = "started")]
fn after(ctx: &RunStatusSensorContext) -> SensorResult {
    let _ = ctx;
    SensorResult::default()
}

#[run_failure_sensor]
fn wrong_context(ctx: &SensorContext) {
    let _ = ctx;
}

fn main() {}
