//! Planning an asset selection: one step per picked asset (one per multi-asset, for the
//! assets of it picked: Dagster's `@multi_asset`; one per op of a graph-backed asset, keyed
//! `<graph>.<op>`: Dagster's `@graph_asset`), and one per check of a picked asset
//! (Dagster's `@asset_check`, run after its asset). Data dependencies on assets
//! outside the selection are read from storage; an asset downstream of an asset with a
//! blocking check also waits for that check, so that a failed blocking check stops it.

use std::collections::{BTreeMap, BTreeSet};

use crate::defs::{AssetCheckDef, AssetDef, AssetKey, Definitions, NodeDef, StepTarget};
use crate::plan::graphs::graph_op_step;
use crate::plan::{
    ExecutionPlan, InputSource, PlanError, PlannedOutput, Step, StepInput, topo_order,
};
use crate::selection::AssetSelection;

/// One node of the selection's graph: an asset, a multi-asset (its picked assets, in
/// definition order), or a check of an asset.
enum Node<'a> {
    Asset(&'a AssetDef),
    Multi(&'a str, Vec<&'a AssetDef>),
    Check(&'a AssetCheckDef),
    /// An op of a graph-backed asset's graph.
    GraphOp(&'a AssetDef, &'a NodeDef),
}

impl<'a> Node<'a> {
    /// The assets it materializes.
    fn assets(&self) -> Vec<&'a AssetDef> {
        match self {
            Node::Asset(a) => vec![*a],
            Node::Multi(_, assets) => assets.clone(),
            Node::Check(_) => Vec::new(),
            // The node whose output is the asset's value materializes it.
            Node::GraphOp(a, node) => match a.graph.as_ref() {
                Some(g) if g.output.node == node.name => vec![*a],
                _ => Vec::new(),
            },
        }
    }

    fn key(&self) -> String {
        match self {
            Node::Asset(a) => a.key.to_string(),
            Node::Multi(name, _) => (*name).to_owned(),
            Node::Check(c) => c.step_key(),
            Node::GraphOp(_, node) => node.name.clone(),
        }
    }
}

/// Refuses a selection that picks some assets of a multi-asset that cannot be subset, but
/// not all.
fn check_subsets(defs: &Definitions, picked: &BTreeSet<AssetKey>) -> Result<(), PlanError> {
    let mut multis: BTreeMap<&str, (Vec<String>, Vec<String>, bool)> = BTreeMap::new();
    for asset in &defs.assets {
        let Some(multi) = &asset.multi else { continue };
        let entry = multis.entry(multi.name.as_str()).or_default();
        entry.2 |= multi.can_subset;
        match picked.contains(&asset.key) {
            true => entry.0.push(asset.key.to_string()),
            false => entry.1.push(asset.key.to_string()),
        }
    }
    for (name, (picked, missing, can_subset)) in multis {
        if !can_subset && !picked.is_empty() && !missing.is_empty() {
            return Err(PlanError::Subset {
                name: name.to_owned(),
                picked: picked.join(", "),
                missing: missing.join(", "),
            });
        }
    }
    Ok(())
}

/// Plans the materialization of the assets `selection` picks, with their checks: one step
/// per asset, one per multi-asset (for the assets of it picked), one per check.
pub fn plan_assets(
    defs: &Definitions,
    selection: &AssetSelection,
) -> Result<ExecutionPlan, PlanError> {
    let picked = selection.resolve(&defs.assets)?;
    check_subsets(defs, &picked)?;
    let chosen: Vec<&AssetDef> = defs
        .assets
        .iter()
        .filter(|a| picked.contains(&a.key))
        .collect();
    // Each node, followed by the checks of its assets: ties in the order keep that order.
    let mut nodes = Vec::new();
    let mut multis = BTreeSet::new();
    for asset in &chosen {
        let made = match (&asset.graph, &asset.multi) {
            (Some(graph), _) => graph
                .nodes
                .iter()
                .map(|n| Node::GraphOp(asset, n))
                .collect(),
            (None, None) => vec![Node::Asset(asset)],
            (None, Some(multi)) if multis.insert(multi.name.as_str()) => {
                let same = |a: &&&AssetDef| a.multi.as_ref().is_some_and(|m| m.name == multi.name);
                let picked = chosen.iter().filter(same).copied().collect();
                vec![Node::Multi(&multi.name, picked)]
            }
            (None, Some(_)) => continue,
        };
        for node in made {
            let checks: Vec<Node> = node
                .assets()
                .iter()
                .flat_map(|a| defs.checks_of(&a.key).map(Node::Check))
                .collect();
            nodes.push(node);
            nodes.extend(checks);
        }
    }
    // The step that materializes each picked asset, and its output.
    let producer: BTreeMap<String, (String, &str)> = chosen
        .iter()
        .map(|a| (a.key.to_string(), (a.step_key(), a.output())))
        .collect();
    let keys: Vec<String> = nodes.iter().map(Node::key).collect();
    let blocking = |upstream: &AssetKey| {
        defs.checks_of(upstream)
            .filter(|c| c.blocking)
            .map(AssetCheckDef::step_key)
            .collect::<Vec<_>>()
    };
    let deps: Vec<Vec<String>> = nodes
        .iter()
        .zip(&keys)
        .map(|(node, own)| match node {
            Node::Check(c) => producer
                .get(&c.asset.to_string())
                .map(|(step, _)| vec![step.clone()])
                .unwrap_or_default(),
            // The nodes it reads, and (each node) the asset's upstream assets.
            Node::GraphOp(asset, n) => n
                .inputs
                .iter()
                .flat_map(|b| b.sources.iter().map(|s| s.node.clone()))
                .chain(asset.deps.iter().flat_map(|d| {
                    let upstream = producer
                        .get(&d.key.to_string())
                        .map(|(step, _)| step.clone());
                    upstream.into_iter().chain(blocking(&d.key))
                }))
                .collect(),
            _ => node
                .assets()
                .iter()
                .flat_map(|a| &a.deps)
                .flat_map(|d| {
                    let upstream = producer
                        .get(&d.key.to_string())
                        .map(|(step, _)| step.clone());
                    upstream.into_iter().chain(blocking(&d.key))
                })
                .filter(|step| step != own)
                .collect(),
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
    let source = |key: &AssetKey| {
        let producing = producer.get(&key.to_string());
        match producing.and_then(|(step, output)| Some((*position.get(step.as_str())?, output))) {
            Some((step, output)) => InputSource::Step {
                step,
                output: (*output).to_owned(),
            },
            None => InputSource::Asset(key.clone()),
        }
    };
    let input = |name: &str, key: &AssetKey| StepInput {
        name: name.to_owned(),
        sources: vec![source(key)],
        fan_in: false,
        collect: false,
    };
    let steps = order
        .iter()
        .map(|&i| {
            let upstream: Vec<usize> = dep_refs[i]
                .iter()
                .filter_map(|d| position.get(d).copied())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let node = &nodes[i];
            if let Node::GraphOp(asset, n) = node {
                let step = |name: &str| position.get(name).copied();
                return graph_op_step(defs, asset, n, upstream, &step, &input);
            }
            if let Node::Check(check) = node {
                return Ok(Step {
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
                    upstream,
                    outputs: Vec::new(),
                    retry_policy: None,
                    tags: defs
                        .asset(&check.asset)
                        .map(|a| a.tags.clone())
                        .unwrap_or_default(),
                    config_schema: None,
                    hooks: Vec::new(),
                    mapped_over: None,
                    mapping_key: None,
                });
            }
            let assets = node.assets();
            let first = assets[0];
            // The inputs of every asset it materializes, each name once (a multi-asset's
            // assets share its function's parameters).
            let mut inputs: Vec<StepInput> = Vec::new();
            for dep in assets.iter().flat_map(|a| &a.deps) {
                if let Some(name) = &dep.input
                    && !inputs.iter().any(|i| &i.name == name)
                {
                    inputs.push(input(name, &dep.key));
                }
            }
            let (target, outputs) = match node {
                Node::Multi(name, _) => (
                    StepTarget::MultiAsset {
                        name: (*name).to_owned(),
                        selected: assets.iter().map(|a| a.key.clone()).collect(),
                    },
                    assets
                        .iter()
                        .map(|a| {
                            let can_subset = a.multi.as_ref().is_some_and(|m| m.can_subset);
                            PlannedOutput::materializing(a.output(), &a.key, !can_subset)
                        })
                        .collect(),
                ),
                _ => (
                    StepTarget::Asset(first.key.clone()),
                    vec![PlannedOutput::materializing("result", &first.key, true)],
                ),
            };
            Ok(Step {
                key: keys[i].clone(),
                target,
                inputs,
                upstream,
                outputs,
                retry_policy: first.retry_policy,
                tags: first.tags.clone(),
                config_schema: first.config_schema.clone(),
                hooks: Vec::new(),
                mapped_over: None,
                mapping_key: None,
            })
        })
        .collect::<Result<_, PlanError>>()?;
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

    fn split(key: &str, can_subset: bool) -> AssetDef {
        let mut a = asset(key, &["scored"]);
        a.multi = Some(crate::defs::MultiAssetOut {
            name: "split_scores".into(),
            output: key.into(),
            can_subset,
        });
        a
    }

    #[test]
    fn a_multi_asset_is_one_step_for_its_picked_assets_and_feeds_each_by_its_output() {
        let defs = |can_subset| Definitions {
            assets: vec![
                asset("scored", &[]),
                split("low", can_subset),
                split("high", can_subset),
                asset("spread", &["low", "high"]),
            ],
            ..Default::default()
        };
        let plan = plan_assets(&defs(false), &"*".parse().unwrap()).unwrap();
        let keys: Vec<&str> = plan.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["scored", "split_scores", "spread"]);
        let multi = &plan.steps[1];
        assert_eq!(
            multi.target,
            StepTarget::MultiAsset {
                name: "split_scores".into(),
                selected: vec![AssetKey::parse("low"), AssetKey::parse("high")],
            }
        );
        let outputs: Vec<(&str, bool, Option<String>)> = multi
            .outputs
            .iter()
            .map(|o| {
                (
                    o.name.as_str(),
                    o.required,
                    o.asset.as_ref().map(ToString::to_string),
                )
            })
            .collect();
        assert_eq!(
            outputs,
            [
                ("low", true, Some("low".to_owned())),
                ("high", true, Some("high".to_owned()))
            ]
        );
        assert_eq!(multi.inputs.len(), 1, "scored, once");
        let spread = &plan.steps[2];
        let sources: Vec<&InputSource> = spread.inputs.iter().flat_map(|i| &i.sources).collect();
        assert_eq!(
            sources,
            [
                &InputSource::Step {
                    step: 1,
                    output: "low".into()
                },
                &InputSource::Step {
                    step: 1,
                    output: "high".into()
                }
            ]
        );
        // Some of a multi-asset that cannot be subset: refused; one that can: its step
        // materializes only those, each optional.
        let err = plan_assets(&defs(false), &"low".parse().unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the selection picks low of multi-asset \"split_scores\" but not high: it cannot be \
             subset (can_subset is false), select all of its assets or none"
        );
        let plan = plan_assets(&defs(true), &"low".parse().unwrap()).unwrap();
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(
            plan.steps[0].target,
            StepTarget::MultiAsset {
                name: "split_scores".into(),
                selected: vec![AssetKey::parse("low")],
            }
        );
        assert!(!plan.steps[0].outputs[0].required);
        assert_eq!(
            plan.steps[0].inputs[0].sources,
            [InputSource::Asset(AssetKey::parse("scored"))]
        );
    }
}
