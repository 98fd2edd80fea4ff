//! Dynamic fan-out in both executors: a step per mapping key for each mapped node, a chain
//! of maps key by key, a collector reading them in the order produced; a mapped step that
//! fails costs only its key (and what collects it); a dynamic step that fails or maps
//! nothing skips its mapped nodes, shown as `node[?]`.

use weft_core::defs::{NodeDef, StepTarget, Value};
use weft_core::events::RunStatus;
use weft_core::ports::{StepAttempt, StepOutput, StepRequest};

use super::{BOTH, defs, execute, node};

/// `spread`: 1, 2, 3 under `k1`, `k2`, `k3`; `spread_none` nothing.
pub(crate) fn spread(req: &StepRequest) -> StepAttempt {
    assert_eq!(req.mapping_key, None, "a dynamic step is not mapped");
    let values = match &req.target {
        StepTarget::Op(op) if op == "spread" => vec![1, 2, 3],
        _ => vec![],
    };
    StepAttempt {
        result: Ok(values
            .into_iter()
            .map(|n| StepOutput {
                name: "result".into(),
                value: Value::json(n.to_string()),
                metadata: Default::default(),
                mapping_key: Some(format!("k{n}")),
            })
            .collect()),
        logs: vec![],
        stdout: vec![],
        stderr: vec![],
        cost: None,
        check: None,
    }
}

fn collect(mut n: NodeDef) -> NodeDef {
    n.inputs[0].collect = true;
    n
}

#[test]
fn a_dynamic_output_maps_a_chain_of_steps_per_key_and_collects_them() {
    let defs = defs(vec![(
        "j",
        vec![
            node("spread", "spread", &[], false),
            node("inc", "inc", &["spread"], false),
            node("inc_2", "inc", &["inc"], false),
            collect(node("sum", "sum", &["inc_2"], false)),
        ],
    )]);
    for kind in BOTH {
        let (outcome, events) = execute(&defs, "j", kind);
        assert_eq!(outcome.status, RunStatus::Success, "{kind:?}: {outcome:?}");
        // (1 + 2) + (2 + 2) + (3 + 2)
        assert_eq!(events.output("sum").as_deref(), Some("12"), "{kind:?}");
        for key in ["inc[k1]", "inc[k2]", "inc[k3]", "inc_2[k1]", "inc_2[k3]"] {
            assert_eq!(
                events.types(key),
                ["STEP_START", "LOGS_CAPTURED", "STEP_OUTPUT", "STEP_SUCCESS"],
                "{kind:?} {key}"
            );
        }
        assert_eq!(events.output("inc_2[k2]").as_deref(), Some("4"));
        // The templates never run, nor appear.
        assert!(events.types("inc").is_empty() && events.types("inc[?]").is_empty());
    }
}

#[test]
fn a_mapped_step_that_fails_costs_its_key_and_the_collector() {
    let defs = defs(vec![(
        "j",
        vec![
            node("spread", "spread", &[], false),
            node("picky", "picky", &["spread"], false),
            collect(node("sum", "sum", &["picky"], false)),
        ],
    )]);
    for kind in BOTH {
        let (outcome, events) = execute(&defs, "j", kind);
        assert_eq!(outcome.status, RunStatus::Failure);
        assert_eq!(outcome.failed.len(), 1);
        assert_eq!(outcome.failed[0].0, "picky[k2]");
        assert_eq!(outcome.skipped, ["sum"]);
        assert_eq!(events.output("picky[k3]").as_deref(), Some("3"));
        assert_eq!(events.types("sum"), ["STEP_SKIPPED"]);
    }
}

#[test]
fn a_dynamic_step_that_fails_or_maps_nothing_skips_what_is_mapped_over_it() {
    let defs = defs(vec![
        (
            "boom",
            vec![
                node("spread_boom", "spread_boom", &[], false),
                node("inc", "inc", &["spread_boom"], false),
                collect(node("sum", "sum", &["inc"], false)),
            ],
        ),
        (
            "none",
            vec![
                node("spread_none", "spread_none", &[], false),
                node("inc", "inc", &["spread_none"], false),
                collect(node("sum", "sum", &["inc"], false)),
            ],
        ),
    ]);
    for kind in BOTH {
        let (outcome, events) = execute(&defs, "boom", kind);
        assert_eq!(outcome.status, RunStatus::Failure);
        assert_eq!(outcome.skipped, ["inc[?]", "sum"], "{kind:?}");
        assert_eq!(events.types("inc[?]"), ["STEP_SKIPPED"]);
        // An optional dynamic output that produced nothing: nothing to collect.
        let (outcome, events) = execute(&defs, "none", kind);
        assert_eq!(outcome.status, RunStatus::Success, "{kind:?}: {outcome:?}");
        assert_eq!(outcome.skipped, ["sum"]);
        assert_eq!(events.types("sum"), ["STEP_SKIPPED"]);
    }
}
