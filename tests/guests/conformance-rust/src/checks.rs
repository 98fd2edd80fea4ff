//! The asset checks scenario: `scored_twice` is twice `scored`; `scored_is_positive`
//! (blocking) passes when the score is above 0, with the metadata `score`;
//! `scored_is_small` (not blocking, severity `WARN`) passes when it is below 10. The asset
//! job `checked_job` materializes `scored` and what is downstream of it.

use weft_sdk::prelude::*;

#[asset]
pub fn scored_twice(scored: f64) -> f64 {
    scored * 2.0
}

#[asset_check(asset = "scored", blocking = true)]
pub fn scored_is_positive(scored: f64) -> AssetCheckResult {
    AssetCheckResult::new(scored > 0.0).metadata("score", scored)
}

#[asset_check(asset = "scored")]
pub fn scored_is_small(scored: f64) -> AssetCheckResult {
    AssetCheckResult::new(scored < 10.0).severity(AssetCheckSeverity::Warn)
}

pub fn checked_job() -> AssetJob {
    define_asset_job("checked_job", AssetSelection::keys(["scored"]).downstream())
}
