//! Planning an asset selection: one step per picked asset, and one per check of a picked
//! asset (Dagster's `@asset_check`, run after its asset). Data dependencies on assets
//! outside the selection are read from storage; an asset downstream of an asset with a
//! blocking check also waits for that check, so that a failed blocking check stops it.

use std::collections::{BTreeMap, BTreeSet};

use crate::defs::{AssetCheckDef, AssetDef, Definitions, StepTarget};
use crate::plan::{
    ExecutionPlan, InputSource, PlanError, PlannedOutput, Step, StepInput, topo_order,
};
use crate::selection::AssetSelection;

/// One node of the selection's graph: an asset or a check of one.
enum Node<'a> {
    Asset(&'a AssetDef),
    Check(&'a AssetCheckDef),
}

/// Plans the materialization of the assets `selection` picks, with their checks.
pub fn plan_assets(
    defs: &Definitions,
    selection: &AssetSelection,
) -> Result<ExecutionPlan, PlanError> {
    let picked = selection.resolve(&defs.assets)?;
    // Each asset, followed by its checks: ties in the order keep that order.
    let mut nodes = Vec::new();
    for asset in defs.assets.iter().filter(|a| picked.contains(&a.key)) {
        nodes.push(Node::Asset(asset));
        nodes.extend(defs.checks_of(&asset.key).map(Node::Check));
    }
    let keys: Vec<String> = nodes
        .iter()
        .map(|n| match n {
            Node::Asset(a) => a.key.to_string(),
            Node::Check(c) => c.step_key(),
        })
        .collect();
    let blocking = |upstream: &crate::defs::AssetKey| {
        defs.checks_of(upstream)
            .filter(|c| c.blocking)
            .map(AssetCheckDef::step_key)
            .collect::<Vec<_>>()
    };
    let deps: Vec<Vec<String>> = nodes
        .iter()
        .map(|n| match n {
            Node::Asset(a) => a
                .deps
                .iter()
                .flat_map(|d| std::iter::once(d.key.to_string()).chain(blocking(&d.key)))
                .collect(),
            Node::Check(c) => vec![c.asset.to_string()],
        })
        .collect();
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let dep_refs: Vec<Vec<&str>> = deps
        .iter()
        .map(|d| d.iter().map(String::as_str).collect())
        .collect();
    let order = topo_order(&key_refs, &dep_refs)
        .ok_or_else(|| PlanError::Cycle("asset selection".into()))?;
    let position: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| (key_refs[i], pos))
        .collect();
    let steps = order
        .iter()
        .map(|&i| {
            let mut upstream: BTreeSet<usize> = dep_refs[i]
                .iter()
                .filter_map(|d| position.get(d).copied())
                .collect();
            let source = |key: &crate::defs::AssetKey| match position.get(key.to_string().as_str())
            {
                Some(&step) => InputSource::Step {
                    step,
                    output: "result".into(),
                },
                None => InputSource::Asset(key.clone()),
            };
            let input = |name: &str, key| StepInput {
                name: name.to_owned(),
                sources: vec![source(key)],
                fan_in: false,
            };
            match nodes[i] {
                Node::Asset(asset) => Step {
                    key: keys[i].clone(),
                    target: StepTarget::Asset(asset.key.clone()),
                    inputs: asset
                        .deps
                        .iter()
                        .filter_map(|d| d.input.as_deref().map(|name| input(name, &d.key)))
                        .collect(),
                    upstream: upstream.into_iter().collect(),
                    outputs: vec![PlannedOutput::result()],
                    retry_policy: asset.retry_policy,
                    tags: asset.tags.clone(),
                    config_schema: asset.config_schema.clone(),
                    hooks: Vec::new(),
                },
                Node::Check(check) => {
                    upstream.extend(position.get(check.asset.to_string().as_str()));
                    Step {
                        key: keys[i].clone(),
                        target: StepTarget::Check {
                            asset: check.asset.clone(),
                            name: check.name.clone(),
                            blocking: check.blocking,
                        },
                        inputs: check
                            .input
                            .as_deref()
                            .map(|name| input(name, &check.asset))
                            .into_iter()
                            .collect(),
                        upstream: upstream.into_iter().collect(),
                        outputs: Vec::new(),
                        retry_policy: None,
                        tags: defs
                            .asset(&check.asset)
                            .map(|a| a.tags.clone())
                            .unwrap_or_default(),
                        config_schema: None,
                        hooks: Vec::new(),
                    }
                }
            }
        })
        .collect();
    Ok(ExecutionPlan {
        job: "__asset_job".into(),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::AssetKey;
    use crate::selection::tests::asset;

    fn check(asset: &str, name: &str, blocking: bool) -> AssetCheckDef {
        AssetCheckDef {
            name: name.into(),
            asset: AssetKey::parse(asset),
            description: None,
            blocking,
            input: Some(asset.into()),
        }
    }

    #[test]
    fn checks_follow_their_asset_and_a_blocking_one_holds_up_what_is_downstream() {
        let defs = Definitions {
            assets: vec![asset("orders", &[]), asset("totals", &["orders"])],
            asset_checks: vec![
                check("orders", "no_nulls", true),
                check("orders", "small", false),
                check("totals", "positive", false),
            ],
            ..Default::default()
        };
        let plan = plan_assets(&defs, &"*".parse().unwrap()).unwrap();
        let keys: Vec<&str> = plan.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "orders",
                "orders_no_nulls",
                "orders_small",
                "totals",
                "totals_positive"
            ]
        );
        let upstream = |key: &str| {
            let step = &plan.steps[plan.index_of(key).unwrap()];
            step.upstream
                .iter()
                .map(|&i| plan.steps[i].key.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(upstream("totals"), ["orders", "orders_no_nulls"]);
        assert_eq!(upstream("orders_small"), ["orders"]);
        let no_nulls = &plan.steps[1];
        assert_eq!(
            no_nulls.target,
            StepTarget::Check {
                asset: AssetKey::parse("orders"),
                name: "no_nulls".into(),
                blocking: true,
            }
        );
        assert_eq!(
            no_nulls.inputs[0].sources,
            [InputSource::Step {
                step: 0,
                output: "result".into()
            }]
        );
        assert!(no_nulls.outputs.is_empty());
        // A check of an asset outside the selection is not run; the asset is read.
        let plan = plan_assets(&defs, &"totals".parse().unwrap()).unwrap();
        let keys: Vec<&str> = plan.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["totals", "totals_positive"]);
        assert_eq!(
            plan.steps[0].inputs[0].sources,
            [InputSource::Asset(AssetKey::parse("orders"))]
        );
    }
}
