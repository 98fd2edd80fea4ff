//! The dynamic fan-out scenario: `fan_out` produces 1..=n (config `n`, 3 by default) under
//! the mapping keys `k1`.. `kn`; `square` (mapped over them; one retry) logs `square
//! <key>`, fails retryably on the first attempt of `k2`, fails for good for the key the
//! run's tag `square_fails` names unless the run re-executes another (it has the tag
//! `weft/parent_run_id`), and returns x²; `fanout_job` maps `square` then `add_one` over
//! `fan_out` and collects the results into `total` (2 + 5 + 10 = 17).

use weft_sdk::prelude::*;

use super::{add_one, total};

/// The config of `fan_out`.
#[derive(serde::Deserialize)]
struct FanOut {
    n: i64,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"n":{"type":"integer","default":3}},"additionalProperties":false}"#
)]
fn fan_out(ctx: &OpContext) -> Vec<DynamicOutput<i64>> {
    let n = ctx.config::<FanOut>().map_or(3, |c| c.n);
    (1..=n)
        .map(|i| DynamicOutput::new(i, format!("k{i}")))
        .collect()
}

#[op(retry_policy(max_retries = 1, delay_ms = 1))]
fn square(ctx: &OpContext, x: i64) -> Result<i64, Failure> {
    let key = ctx.mapping_key().unwrap_or_default();
    ctx.log().info(format!("square {key}"));
    if key == "k2" && ctx.attempt() == 1 {
        return Err(Failure::retryable("square k2: first attempt fails"));
    }
    if ctx.tag("square_fails") == Some(key) && ctx.tag("weft/parent_run_id").is_none() {
        return Err(Failure::fatal(format!("square {key} fails on purpose")));
    }
    Ok(x * x)
}

#[job]
pub fn fanout_job() {
    total(fan_out().map(square).map(add_one).collect());
}
