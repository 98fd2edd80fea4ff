//! Tests of dynamic fan-out planning: which nodes are mapped, what a dynamic step's keys
//! expand into, what collects them, and re-execution from failure key by key.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::defs::{Definitions, InputBinding, JobDef, NodeDef, OpDef, OutputRef};
use crate::validate::validate;

fn op(name: &str, inputs: &[&str], dynamic: bool, required: bool) -> OpDef {
    let mut op = crate::validate::tests::op(name, inputs);
    op.outputs[0].dynamic = dynamic;
    op.outputs[0].required = required;
    op
}

/// `node` invoking `op`, its input `x` reading `from` (collecting it when `collect`).
pub(crate) fn node(name: &str, op: &str, from: Option<&str>, collect: bool) -> NodeDef {
    NodeDef {
        name: name.into(),
        op: op.into(),
        inputs: from
            .map(|up| InputBinding {
                input: "x".into(),
                sources: vec![OutputRef {
                    node: up.into(),
                    output: "result".into(),
                }],
                fan_in: false,
                collect,
            })
            .into_iter()
            .collect(),
        tags: Default::default(),
        hooks: Vec::new(),
    }
}

/// `fan_out` (dynamic, required unless `optional`) → `square` → `add_one` → collected by
/// `total`.
fn fanout(optional: bool) -> Definitions {
    Definitions {
        ops: vec![
            op("fan_out", &[], true, !optional),
            op("square", &["x"], false, true),
            op("add_one", &["x"], false, true),
            op("total", &["x"], false, true),
        ],
        jobs: vec![JobDef {
            name: "fanout_job".into(),
            description: None,
            tags: Default::default(),
            nodes: vec![
                node("fan_out", "fan_out", None, false),
                node("square", "square", Some("fan_out"), false),
                node("add_one", "add_one", Some("square"), false),
                node("total", "total", Some("add_one"), true),
            ],
        }],
        ..Default::default()
    }
}

fn keys(plan: &ExecutionPlan) -> Vec<&str> {
    plan.steps.iter().map(|s| s.key.as_str()).collect()
}

fn produced(output: &str, ks: &[&str]) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        output.to_owned(),
        ks.iter().map(|k| k.to_string()).collect(),
    )])
}

fn step(plan: &ExecutionPlan, key: &str) -> usize {
    plan.index_of(key).unwrap()
}

#[test]
fn mapped_nodes_are_templates_until_their_dynamic_step_has_run() {
    let defs = fanout(false);
    validate(&defs).unwrap();
    let plan = plan_job(&defs, "fanout_job").unwrap();
    assert_eq!(keys(&plan), ["fan_out", "square", "add_one", "total"]);
    let over = |key: &str| plan.steps[step(&plan, key)].mapped_over.clone();
    let fan = MappedOver {
        step: 0,
        output: "result".into(),
    };
    assert_eq!(over("square"), Some(fan.clone()));
    assert_eq!(
        over("add_one"),
        Some(fan),
        "a chain of maps is mapped over the same"
    );
    assert_eq!(over("total"), None);
    assert!(plan.steps[0].outputs[0].dynamic);
    assert_eq!(plan.steps[1].shown_key(), "square[?]");
}

#[test]
fn keys_expand_into_a_step_per_key_and_the_collector_reads_them_in_order() {
    let defs = fanout(false);
    let mut plan = plan_job(&defs, "fanout_job").unwrap();
    let expansion = expand(&mut plan, 0, &produced("result", &["k2", "k1"]));
    assert_eq!(
        keys(&plan)[4..],
        ["square[k2]", "square[k1]", "add_one[k2]", "add_one[k1]"]
    );
    assert_eq!(expansion.templates.len(), 2);
    assert_eq!(expansion.collectors, [step(&plan, "total")]);
    let sq = &plan.steps[step(&plan, "square[k1]")];
    assert_eq!(sq.mapping_key.as_deref(), Some("k1"));
    assert_eq!(sq.config_key(), "square");
    assert_eq!(
        sq.inputs[0].sources,
        [InputSource::Step {
            step: 0,
            output: "result[k1]".into()
        }]
    );
    let add = &plan.steps[step(&plan, "add_one[k1]")];
    assert_eq!(add.upstream, [step(&plan, "square[k1]")]);
    let total = &plan.steps[step(&plan, "total")];
    assert!(total.inputs[0].fan_in);
    let read: Vec<&str> = total.inputs[0]
        .sources
        .iter()
        .map(|s| match s {
            InputSource::Step { step, .. } => plan.steps[*step].key.as_str(),
            _ => "?",
        })
        .collect();
    assert_eq!(
        read,
        ["add_one[k2]", "add_one[k1]"],
        "in the order produced"
    );
    let ups: BTreeSet<&str> = total
        .upstream
        .iter()
        .map(|&u| plan.steps[u].key.as_str())
        .collect();
    assert_eq!(ups, BTreeSet::from(["add_one[k1]", "add_one[k2]"]));
}

#[test]
fn no_keys_collect_an_empty_list_or_nothing_for_an_optional_output() {
    let mut plan = plan_job(&fanout(false), "fanout_job").unwrap();
    expand(&mut plan, 0, &BTreeMap::new());
    assert_eq!(plan.steps.len(), 4);
    let total = &plan.steps[3];
    assert!(total.inputs[0].sources.is_empty() && total.inputs[0].fan_in);
    assert!(total.upstream.is_empty());

    let mut plan = plan_job(&fanout(true), "fanout_job").unwrap();
    expand(&mut plan, 0, &BTreeMap::new());
    let total = &plan.steps[3];
    assert_eq!(
        total.inputs[0].sources,
        [InputSource::Step {
            step: 2,
            output: "result".into()
        }],
        "still the template's, which is never produced: the collector is skipped"
    );
}

#[test]
fn from_failure_runs_again_only_the_keys_that_did_not_succeed() {
    let plan = plan_job(&fanout(false), "fanout_job").unwrap();
    let done = |outputs: &[&str], keys: BTreeMap<String, Vec<String>>| Succeeded {
        run_id: "r1".into(),
        outputs: outputs.iter().map(|o| o.to_string()).collect(),
        mapping_keys: keys,
    };
    let succeeded = BTreeMap::from([
        (
            "fan_out".to_owned(),
            done(
                &["result[k1]", "result[k2]"],
                produced("result", &["k1", "k2"]),
            ),
        ),
        ("square[k1]".to_owned(), done(&["result"], BTreeMap::new())),
        ("add_one[k1]".to_owned(), done(&["result"], BTreeMap::new())),
    ]);
    let again = from_failure(&plan, &succeeded);
    assert_eq!(keys(&again), ["total", "square[k2]", "add_one[k2]"]);
    assert_eq!(
        again.steps[1].inputs[0].sources,
        [InputSource::RunOutput {
            run_id: "r1".into(),
            step: "fan_out".into(),
            output: "result[k2]".into()
        }]
    );
    assert_eq!(
        again.steps[0].inputs[0].sources,
        [
            InputSource::RunOutput {
                run_id: "r1".into(),
                step: "add_one[k1]".into(),
                output: "result".into()
            },
            InputSource::Step {
                step: 2,
                output: "result".into()
            }
        ]
    );
    assert_eq!(again.steps[0].upstream, [2]);
}

#[test]
fn mapping_the_wrong_way_is_refused_naming_the_node() {
    let mut defs = fanout(false);
    // Fanning in a dynamic output instead of collecting it.
    defs.jobs[0].nodes[3].inputs[0].collect = false;
    defs.jobs[0].nodes[3].inputs[0].fan_in = true;
    let err = validate(&defs).unwrap_err().to_string();
    assert_eq!(
        err,
        "job \"fanout_job\": node \"total\" input \"x\" fans in add_one.result, which is \
         dynamic: collect it instead"
    );
    // Collecting what is not dynamic.
    let mut defs = fanout(false);
    defs.jobs[0].nodes[2].inputs[0].collect = true;
    defs.jobs[0].nodes[2].inputs[0].sources[0].node = "total".into();
    defs.jobs[0].nodes[3].inputs[0].sources[0].node = "square".into();
    let err = validate(&defs).unwrap_err().to_string();
    assert!(err.contains("node \"add_one\" input \"x\" collects total.result, which is neither"));
    // A mapped op with a dynamic output of its own.
    let mut defs = fanout(false);
    defs.ops[1].outputs[0].dynamic = true;
    let err = validate(&defs).unwrap_err().to_string();
    assert!(
        err.contains("nested dynamic outputs are not supported"),
        "{err}"
    );
    assert!(is_mapping_key("k_1") && !is_mapping_key("a-b") && !is_mapping_key(""));
}
