//! Graph-backed assets on the host: `#[graph_asset]` is listed as an asset with its graph
//! (nodes named `<graph>.<op>`, the parameter feeding a node input, the output node), its
//! ops are the location's, and a step of one of them runs by its step key.

use weft_sdk::__private::bindings::weft::plugin::types as wit;
use weft_sdk::__private::{Location, Registry};
use weft_sdk::prelude::*;

#[asset]
fn scored() -> f64 {
    1.0
}

#[op]
fn double_score(x: f64) -> f64 {
    2.0 * x
}

#[op]
fn add_half(x: f64) -> f64 {
    x + 0.5
}

#[graph_asset(group = "boost")]
fn boosted(scored: Output<f64>) -> Output<f64> {
    add_half(double_score(scored))
}

weft_sdk::definitions! {
    assets: [scored],
    graph_assets: [boosted],
}

fn registry() -> &'static Registry {
    match __WeftLocation::registry() {
        Ok(r) => r,
        Err(e) => panic!("invalid location: {e}"),
    }
}

#[test]
fn a_graph_asset_lists_its_graph_and_its_ops() {
    let defs = registry().definitions();
    let ops: Vec<&str> = defs.ops.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(ops, ["double_score", "add_half"]);
    let boosted = &defs.assets[1];
    assert_eq!(boosted.key, ["boosted"]);
    assert_eq!(boosted.group, "boost");
    let deps: Vec<(String, Option<String>)> = boosted
        .deps
        .iter()
        .map(|d| (d.key.join("/"), d.input.clone()))
        .collect();
    assert_eq!(deps, [("scored".to_owned(), Some("scored".to_owned()))]);
    let graph = boosted.graph.as_ref().expect("a graph");
    let nodes: Vec<(&str, &str, usize)> = graph
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.op.as_str(), n.inputs.len()))
        .collect();
    assert_eq!(
        nodes,
        [
            ("boosted.double_score", "double_score", 0),
            ("boosted.add_half", "add_half", 1)
        ]
    );
    assert_eq!(
        graph.nodes[1].inputs[0].sources[0].node,
        "boosted.double_score"
    );
    let fed: Vec<(&str, &str, &str)> = graph
        .inputs
        .iter()
        .map(|i| (i.dep.as_str(), i.node.as_str(), i.input.as_str()))
        .collect();
    assert_eq!(fed, [("scored", "boosted.double_score", "x")]);
    assert_eq!(
        (graph.output.node.as_str(), graph.output.output.as_str()),
        ("boosted.add_half", "result")
    );
}

#[test]
fn an_op_of_the_graph_runs_by_its_step_key() {
    let ctx = wit::StepContext {
        run_id: "r1".into(),
        job: "__asset_job".into(),
        step_key: "boosted.add_half".into(),
        target: wit::StepTarget::Op("add_half".into()),
        attempt: 1,
        partition: None,
        tags: Vec::new(),
        config: None,
        mapping_key: None,
    };
    let input = wit::StepInput {
        name: "x".into(),
        arg: wit::InputArg::Single(wit::Value {
            codec: "json".into(),
            data: b"2.0".to_vec(),
        }),
    };
    let outputs = registry().execute(ctx, vec![input]).expect("runs");
    assert_eq!(outputs[0].value.data, b"2.5");
}
