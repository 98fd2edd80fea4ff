//! One idea: an op calls a JSON API. The location reaches only the hosts it is granted
//! (`--grant-host http://127.0.0.1:8000`); the API's address is the op's config.

use weft_sdk::http;
use weft_sdk::prelude::*;

#[derive(serde::Deserialize)]
struct Api {
    url: String,
}

#[op(
    config_schema = r#"{"type":"object","properties":{"url":{"type":"string"}},"required":["url"]}"#
)]
fn fetch_orders(ctx: &OpContext) -> Result<serde_json::Value, Failure> {
    let api: Api = ctx.config()?;
    let orders: serde_json::Value = http::get(&api.url)?.error_for_status()?.json()?;
    ctx.log().info(format!("fetched {}", api.url));
    Ok(orders)
}

#[op]
fn count_orders(orders: serde_json::Value) -> usize {
    orders["orders"].as_array().map_or(0, Vec::len)
}

#[job]
fn orders_job() {
    count_orders(fetch_orders());
}

weft_sdk::definitions! { jobs: [orders_job] }
