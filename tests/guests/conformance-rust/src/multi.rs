//! The multi-asset scenario: `split_scores` (can be subset) materializes `low` (the score
//! minus 1) and `high` (plus 1), each with the text metadata `side`, only those the run
//! selects; `spread` is `high - low`. `split_job` materializes `scored`, `low`, `high` and
//! `spread`; `low_job` only `low` (reading `scored` from storage).

use weft_sdk::prelude::*;

#[multi_asset(outs(low: f64, high: f64), group = "split", can_subset = true)]
pub fn split_scores(ctx: &OpContext, scored: f64) -> split_scores::Outs {
    for (side, selected) in [
        ("low", ctx.is_selected("low")),
        ("high", ctx.is_selected("high")),
    ] {
        if selected {
            ctx.add_metadata_to(side, "side", side);
        }
    }
    split_scores::Outs {
        low: ctx.is_selected("low").then_some(scored - 1.0),
        high: ctx.is_selected("high").then_some(scored + 1.0),
    }
}

#[asset(group = "split")]
pub fn spread(low: f64, high: f64) -> f64 {
    high - low
}

pub fn split_job() -> AssetJob {
    define_asset_job(
        "split_job",
        AssetSelection::keys(["scored", "low", "high", "spread"]),
    )
}

pub fn low_job() -> AssetJob {
    define_asset_job("low_job", AssetSelection::keys(["low"]))
}
