//! Asset checks on the host: `#[asset_check]` described in the definitions (its asset,
//! whether it blocks, the input that receives the asset's value), and `checks.evaluate`
//! decoding that value and calling the check through the same registry the component's
//! export dispatches to.

use weft_sdk::__private::bindings::weft::plugin::types as wit;
use weft_sdk::__private::{Location, Registry};
use weft_sdk::prelude::*;

#[asset]
fn orders() -> Vec<i64> {
    vec![3, 4]
}

#[asset_check(asset = "orders", blocking = true, description = "Every order counts")]
fn orders_are_positive(orders: Vec<i64>) -> AssetCheckResult {
    AssetCheckResult::new(orders.iter().all(|n| *n > 0))
        .metadata("rows", orders.len() as i64)
        .description(format!("{} orders", orders.len()))
}

#[asset_check(asset = "orders", name = "audited")]
fn audit(ctx: &OpContext) -> Result<AssetCheckResult, String> {
    if ctx.attempt() > 1 {
        return Err("audits run once".into());
    }
    Ok(AssetCheckResult::new(false).severity(AssetCheckSeverity::Warn))
}

weft_sdk::definitions! {
    assets: [orders],
    asset_checks: [orders_are_positive, audit],
}

fn registry() -> &'static Registry {
    match __WeftLocation::registry() {
        Ok(r) => r,
        Err(e) => panic!("invalid location: {e}"),
    }
}

fn ctx(check: &str, attempt: u32) -> wit::StepContext {
    wit::StepContext {
        run_id: "r1".into(),
        job: "__asset_job".into(),
        step_key: format!("orders_{check}"),
        target: wit::StepTarget::Check(wit::CheckTarget {
            asset: vec!["orders".into()],
            name: check.into(),
        }),
        attempt,
        partition: None,
        tags: Vec::new(),
        config: None,
        mapping_key: None,
    }
}

#[test]
fn checks_are_defined_with_their_asset_and_input() {
    let defs = registry().definitions();
    let checks: Vec<(&str, Vec<String>, bool, Option<&str>, Option<&str>)> = defs
        .asset_checks
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.asset.clone(),
                c.blocking,
                c.input.as_deref(),
                c.description.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            (
                "orders_are_positive",
                vec!["orders".to_owned()],
                true,
                Some("orders"),
                Some("Every order counts")
            ),
            ("audited", vec!["orders".to_owned()], false, None, None),
        ]
    );
}

#[test]
fn evaluate_decodes_the_assets_value_and_returns_the_result() {
    let value = wit::StepInput {
        name: "orders".into(),
        arg: wit::InputArg::Single(wit::Value {
            codec: "json".into(),
            data: b"[3, -4]".to_vec(),
        }),
    };
    let result = registry()
        .evaluate_check(ctx("orders_are_positive", 1), vec![value])
        .expect("evaluates");
    assert!(!result.passed);
    assert_eq!(result.severity, wit::CheckSeverity::Error);
    assert_eq!(result.description.as_deref(), Some("2 orders"));
    assert!(matches!(result.metadata[0], (ref k, wit::MetadataValue::Int(2)) if k == "rows"));

    let warned = registry()
        .evaluate_check(ctx("audited", 1), Vec::new())
        .expect("evaluates");
    assert_eq!(warned.severity, wit::CheckSeverity::Warn);
    let failed = registry()
        .evaluate_check(ctx("audited", 2), Vec::new())
        .expect_err("fails");
    assert_eq!(failed.message(), "audits run once");

    let missing = registry()
        .evaluate_check(ctx("orders_are_positive", 1), Vec::new())
        .expect_err("no input");
    assert!(
        missing.message().contains("orders"),
        "{}",
        missing.message()
    );
    let unknown = registry()
        .evaluate_check(ctx("nope", 1), Vec::new())
        .expect_err("unknown");
    assert_eq!(
        unknown.message(),
        "this location has no check `nope` of asset `orders`"
    );
}
