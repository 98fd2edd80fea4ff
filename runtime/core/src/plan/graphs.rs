//! Planning graph-backed assets (Dagster's `@graph_asset`): each op of an asset's graph is
//! a step keyed `<graph>.<op>`, reading the graph's other steps or the asset's upstream
//! assets; the step of the graph's output materializes the asset.

use crate::defs::{AssetDef, AssetKey, Definitions, NodeDef, StepTarget};
use crate::plan::{InputSource, PlanError, PlannedOutput, Step, StepInput, merged};

/// The step of node `n` of graph-backed asset `asset`: its op, its inputs read from the
/// graph's other steps (`step`: a node's position) or from the asset's upstream assets
/// (`input`), the graph's output materializing the asset.
pub(super) fn graph_op_step(
    defs: &Definitions,
    asset: &AssetDef,
    n: &NodeDef,
    upstream: Vec<usize>,
    step: &dyn Fn(&str) -> Option<usize>,
    input: &dyn Fn(&str, &AssetKey) -> StepInput,
) -> Result<Step, PlanError> {
    let dangling = |missing: &str| PlanError::Dangling {
        job: asset.key.to_string(),
        node: n.name.clone(),
        missing: missing.to_owned(),
    };
    let graph = asset.graph.as_ref().ok_or_else(|| dangling("its graph"))?;
    let op = defs.op(&n.op).ok_or_else(|| dangling(&n.op))?;
    let mut inputs = Vec::new();
    for binding in &n.inputs {
        let sources = binding
            .sources
            .iter()
            .map(|s| {
                let at = step(&s.node).ok_or_else(|| dangling(&s.node))?;
                Ok(InputSource::Step {
                    step: at,
                    output: s.output.clone(),
                })
            })
            .collect::<Result<_, PlanError>>()?;
        inputs.push(StepInput {
            name: binding.input.clone(),
            sources,
            fan_in: binding.fan_in,
            collect: false,
        });
    }
    for fed in graph.inputs.iter().filter(|g| g.node == n.name) {
        let dep = asset
            .deps
            .iter()
            .find(|d| d.input.as_deref() == Some(fed.dep.as_str()));
        let dep = dep.ok_or_else(|| dangling(&fed.dep))?;
        inputs.push(input(&fed.input, &dep.key));
    }
    let hooks = n
        .hooks
        .iter()
        .map(|h| defs.hook(h).cloned().ok_or_else(|| dangling(h)))
        .collect::<Result<_, _>>()?;
    let outputs = op
        .outputs
        .iter()
        .map(|o| PlannedOutput {
            name: o.name.clone(),
            required: o.required,
            asset: (graph.output.node == n.name && graph.output.output == o.name)
                .then(|| asset.key.clone()),
            dynamic: false,
        })
        .collect();
    Ok(Step {
        key: n.name.clone(),
        target: StepTarget::Op(op.name.clone()),
        inputs,
        upstream,
        outputs,
        retry_policy: op.retry_policy,
        tags: merged(&merged(&asset.tags, &op.tags), &n.tags),
        config_schema: op.config_schema.clone(),
        hooks,
        mapped_over: None,
        mapping_key: None,
    })
}

#[cfg(test)]
mod tests {
    use crate::defs::{AssetKey, Definitions, StepTarget};
    use crate::plan::{InputSource, plan_assets};
    use crate::selection::tests::asset;

    #[test]
    fn a_graph_asset_is_a_step_per_op_and_its_output_step_materializes_it() {
        use crate::defs::{AssetGraph, AssetGraphInput, OutputRef};
        let node =
            |name: &str, op: &str, from| crate::plan::dynamic_tests::node(name, op, from, false);
        let mut boosted = asset("boosted", &["scored"]);
        boosted.graph = Some(AssetGraph {
            nodes: vec![
                node("boosted.double_score", "double_score", None),
                node("boosted.add_half", "add_half", Some("boosted.double_score")),
            ],
            inputs: vec![AssetGraphInput {
                dep: "scored".into(),
                node: "boosted.double_score".into(),
                input: "x".into(),
            }],
            output: OutputRef {
                node: "boosted.add_half".into(),
                output: "result".into(),
            },
        });
        let op = crate::validate::tests::op;
        let defs = Definitions {
            ops: vec![op("double_score", &["x"]), op("add_half", &["x"])],
            assets: vec![asset("scored", &[]), boosted, asset("total", &["boosted"])],
            ..Default::default()
        };
        crate::validate::validate(&defs).unwrap();
        let plan = plan_assets(&defs, &"*".parse().unwrap()).unwrap();
        let keys: Vec<&str> = plan.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "scored",
                "boosted.double_score",
                "boosted.add_half",
                "total"
            ]
        );
        let (double, add, total) = (&plan.steps[1], &plan.steps[2], &plan.steps[3]);
        assert_eq!(double.target, StepTarget::Op("double_score".into()));
        assert_eq!(
            double.inputs[0].sources,
            [InputSource::Step {
                step: 0,
                output: "result".into()
            }]
        );
        assert_eq!(double.outputs[0].asset, None);
        assert_eq!(add.outputs[0].asset, Some(AssetKey::parse("boosted")));
        assert_eq!(add.upstream, [0, 1]);
        assert_eq!(
            total.inputs[0].sources,
            [InputSource::Step {
                step: 2,
                output: "result".into()
            }]
        );
        // Alone, it reads its upstream asset from storage.
        let plan = plan_assets(&defs, &"boosted".parse().unwrap()).unwrap();
        assert_eq!(
            plan.steps[0].inputs[0].sources,
            [InputSource::Asset(AssetKey::parse("scored"))]
        );
        // A graph whose output does not exist is refused.
        let mut bad = defs.clone();
        bad.assets[1].graph.as_mut().unwrap().output.output = "nope".into();
        assert_eq!(
            crate::validate::validate(&bad).unwrap_err().to_string(),
            "graph asset boosted: its output boosted.add_half.nope does not exist"
        );
    }
}
