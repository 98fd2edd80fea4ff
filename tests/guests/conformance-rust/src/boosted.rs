//! The graph-backed asset scenario: `boosted` (Dagster's `@graph_asset`) is computed from
//! `scored` by two ops, `double_score` (2x) then `add_half` (x + 0.5): steps
//! `boosted.double_score` and `boosted.add_half`, the second materializing `boosted`
//! (2.5 for the default score 1.0); `boosted_job` selects `scored` and `boosted`.

use weft_sdk::prelude::*;

#[op]
fn double_score(x: f64) -> f64 {
    2.0 * x
}

#[op]
fn add_half(x: f64) -> f64 {
    x + 0.5
}

#[graph_asset]
pub fn boosted(scored: Output<f64>) -> Output<f64> {
    add_half(double_score(scored))
}

pub fn boosted_job() -> AssetJob {
    define_asset_job("boosted_job", AssetSelection::keys(["scored", "boosted"]))
}
