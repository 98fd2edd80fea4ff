//! The checks of graph-backed assets (Dagster's `@graph_asset`): each node invokes an op of
//! the location under a name no other step has, every op input is fed (by another node of
//! the graph, or by one of the asset's upstream assets), the output exists, and the graph
//! has no cycle. Dynamic outputs are not supported inside an asset's graph.

use std::collections::{BTreeMap, BTreeSet};

use crate::defs::{AssetDef, AssetGraph, Definitions};
use crate::validate::{DefinitionError, find_cycle};

pub(super) fn validate_graph_assets(defs: &Definitions) -> Result<(), DefinitionError> {
    let mut steps = BTreeSet::new();
    for asset in &defs.assets {
        let Some(graph) = &asset.graph else { continue };
        let bad = |message: String| DefinitionError::BadGraphAsset {
            asset: asset.key.clone(),
            message,
        };
        if asset.multi.is_some() {
            return Err(bad(
                "an asset of a multi-asset cannot also be a graph".into()
            ));
        }
        for node in &graph.nodes {
            if !steps.insert(node.name.as_str()) {
                return Err(bad(format!("node name {:?} is used twice", node.name)));
            }
        }
        validate_graph(defs, asset, graph).map_err(bad)?;
    }
    Ok(())
}

fn validate_graph(defs: &Definitions, asset: &AssetDef, graph: &AssetGraph) -> Result<(), String> {
    let ops: BTreeMap<&str, &str> = graph
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.op.as_str()))
        .collect();
    let op_of = |node: &str| ops.get(node).and_then(|op| defs.op(op));
    let deps: BTreeSet<&str> = asset
        .deps
        .iter()
        .filter_map(|d| d.input.as_deref())
        .collect();
    for input in &graph.inputs {
        if !deps.contains(input.dep.as_str()) {
            return Err(format!(
                "node {:?} reads {:?}, which is not one of the asset's inputs",
                input.node, input.dep
            ));
        }
        let takes =
            op_of(&input.node).is_some_and(|op| op.inputs.iter().any(|i| i.name == input.input));
        if !takes {
            return Err(format!(
                "{:?} feeds input {:?} of node {:?}, which has no such input",
                input.dep, input.input, input.node
            ));
        }
    }
    for node in &graph.nodes {
        let Some(op) = defs.op(&node.op) else {
            return Err(format!(
                "node {:?} invokes op {:?}, which the location does not define",
                node.name, node.op
            ));
        };
        if let Some(hook) = node.hooks.iter().find(|h| defs.hook(h).is_none()) {
            return Err(format!(
                "node {:?} names hook {hook:?}, which is not defined",
                node.name
            ));
        }
        for binding in &node.inputs {
            if binding.collect || op.outputs.iter().any(|o| o.dynamic) {
                return Err(format!(
                    "node {:?}: dynamic outputs are not supported in an asset's graph",
                    node.name
                ));
            }
            for src in &binding.sources {
                let has = op_of(&src.node)
                    .is_some_and(|o| o.outputs.iter().any(|out| out.name == src.output));
                if !has {
                    return Err(format!(
                        "node {:?} reads {}.{}, which does not exist",
                        node.name, src.node, src.output
                    ));
                }
            }
        }
        for input in &op.inputs {
            let bound = node.inputs.iter().any(|b| b.input == input.name)
                || graph
                    .inputs
                    .iter()
                    .any(|g| g.node == node.name && g.input == input.name);
            if !bound {
                return Err(format!(
                    "input {:?} of node {:?} is fed by nothing",
                    input.name, node.name
                ));
            }
        }
    }
    let output = &graph.output;
    let produces =
        op_of(&output.node).and_then(|op| op.outputs.iter().find(|o| o.name == output.output));
    match produces {
        Some(out) if !out.dynamic => {}
        Some(_) => {
            return Err(format!(
                "its output {}.{} is dynamic",
                output.node, output.output
            ));
        }
        None => {
            return Err(format!(
                "its output {}.{} does not exist",
                output.node, output.output
            ));
        }
    }
    let edges = graph.nodes.iter().map(|n| {
        let ups = n
            .inputs
            .iter()
            .flat_map(|b| b.sources.iter().map(|s| s.node.clone()));
        (n.name.clone(), ups.collect())
    });
    match find_cycle(edges.collect()) {
        Some(through) => Err(format!("its graph has a cycle through {through:?}")),
        None => Ok(()),
    }
}
