//! Multi-assets on the host: `#[multi_asset]` listed as one asset per output (each naming
//! the multi-asset, its output and whether it can be subset, with the function's deps), and
//! `ops.execute` of a multi-asset target producing only what the run selected; and
//! `MaterializeResult` (an asset, or an asset of a multi-asset, that stores no value of its
//! own: `null`, with its metadata).

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

#[asset]
fn audit(spread: f64) -> MaterializeResult {
    MaterializeResult::new().metadata("spread", spread)
}

#[multi_asset(outs(report: MaterializeResult, archive: MaterializeResult))]
fn publish(ctx: &OpContext) -> publish::Outs {
    ctx.add_output_metadata("by", "publish");
    publish::Outs {
        report: MaterializeResult::new().metadata("where", "report"),
        archive: MaterializeResult::new(),
    }
}

weft_sdk::definitions! {
    assets: [scored, spread, audit],
    multi_assets: [split_scores, publish],
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
    let published = |out: &str| Some(("publish".to_owned(), out.to_owned(), false));
    assert_eq!(
        assets,
        [
            ("scored".to_owned(), None, 0),
            ("spread".to_owned(), None, 2),
            ("audit".to_owned(), None, 1),
            ("low".to_owned(), multi("low"), 1),
            ("high".to_owned(), multi("high"), 1),
            ("report".to_owned(), published("report"), 0),
            ("archive".to_owned(), published("archive"), 0),
        ]
    );
    assert_eq!(defs.assets[3].group, "split");
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

fn step(target: wit::StepTarget, key: &str, inputs: Vec<wit::StepInput>) -> Vec<wit::StepOutput> {
    let ctx = wit::StepContext {
        run_id: "r1".into(),
        job: "__asset_job".into(),
        step_key: key.into(),
        target,
        attempt: 1,
        partition: None,
        tags: Vec::new(),
        config: None,
        mapping_key: None,
    };
    registry().execute(ctx, inputs).expect("runs")
}

#[test]
fn a_materialize_result_is_null_with_its_metadata() {
    let input = wit::StepInput {
        name: "spread".into(),
        arg: wit::InputArg::Single(wit::Value {
            codec: "json".into(),
            data: b"2.0".to_vec(),
        }),
    };
    let outputs = step(
        wit::StepTarget::Asset(vec!["audit".into()]),
        "audit",
        vec![input],
    );
    assert_eq!(outputs[0].value.data, b"null");
    let keys: Vec<&str> = outputs[0]
        .metadata
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["spread"]);

    let target = wit::StepTarget::MultiAsset(wit::MultiAssetTarget {
        name: "publish".into(),
        selected: vec![vec!["report".into()], vec!["archive".into()]],
    });
    let outputs = step(target, "publish", Vec::new());
    let shown: Vec<(&str, &[u8], Vec<&str>)> = outputs
        .iter()
        .map(|o| {
            let keys = o.metadata.iter().map(|(k, _)| k.as_str()).collect();
            (o.name.as_str(), o.value.data.as_slice(), keys)
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("report", b"null".as_slice(), vec!["by", "where"]),
            ("archive", b"null".as_slice(), vec!["by"])
        ]
    );
}
