//! Multi-assets on the host: `#[multi_asset]` listed as one asset per output (each naming
//! the multi-asset, its output and whether it can be subset, with the function's deps), and
//! `ops.execute` of a multi-asset target producing only what the run selected.

use weft_sdk::__private::bindings::weft::plugin::types as wit;
use weft_sdk::__private::{Location, Registry};
use weft_sdk::prelude::*;

#[asset]
fn scored() -> f64 {
    1.0
}

#[multi_asset(outs(low: f64, high: f64), group = "split", can_subset = true)]
fn split_scores(ctx: &OpContext, scored: f64) -> split_scores::Outs {
    split_scores::Outs {
        low: ctx.is_selected("low").then_some(scored - 1.0),
        high: ctx.is_selected("high").then_some(scored + 1.0),
    }
}

#[asset]
fn spread(low: f64, high: f64) -> f64 {
    high - low
}

weft_sdk::definitions! {
    assets: [scored, spread],
    multi_assets: [split_scores],
}

fn registry() -> &'static Registry {
    match __WeftLocation::registry() {
        Ok(r) => r,
        Err(e) => panic!("invalid location: {e}"),
    }
}

#[test]
fn each_output_is_an_asset_of_the_multi_asset() {
    let defs = registry().definitions();
    let assets: Vec<(String, Option<(String, String, bool)>, usize)> = defs
        .assets
        .iter()
        .map(|a| {
            (
                a.key.join("/"),
                a.multi
                    .as_ref()
                    .map(|m| (m.name.clone(), m.output.clone(), m.can_subset)),
                a.deps.len(),
            )
        })
        .collect();
    let multi = |out: &str| Some(("split_scores".to_owned(), out.to_owned(), true));
    assert_eq!(
        assets,
        [
            ("scored".to_owned(), None, 0),
            ("spread".to_owned(), None, 2),
            ("low".to_owned(), multi("low"), 1),
            ("high".to_owned(), multi("high"), 1),
        ]
    );
    assert_eq!(defs.assets[2].group, "split");
}

#[test]
fn a_multi_asset_step_returns_the_selected_outputs() {
    let ctx = wit::StepContext {
        run_id: "r1".into(),
        job: "__asset_job".into(),
        step_key: "split_scores".into(),
        target: wit::StepTarget::MultiAsset(wit::MultiAssetTarget {
            name: "split_scores".into(),
            selected: vec![vec!["high".into()]],
        }),
        attempt: 1,
        partition: None,
        tags: Vec::new(),
        config: None,
        mapping_key: None,
    };
    let input = wit::StepInput {
        name: "scored".into(),
        arg: wit::InputArg::Single(wit::Value {
            codec: "json".into(),
            data: b"4.0".to_vec(),
        }),
    };
    let outputs = registry().execute(ctx, vec![input]).expect("runs");
    let produced: Vec<(&str, &[u8])> = outputs
        .iter()
        .map(|o| (o.name.as_str(), o.value.data.as_slice()))
        .collect();
    assert_eq!(produced, [("high", b"5.0".as_slice())]);
}
