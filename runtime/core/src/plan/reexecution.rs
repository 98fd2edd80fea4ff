//! Re-execution from failure: the plan of a run that runs again only what did not succeed
//! in the runs before it, reading the rest from the runs that produced it.

use std::collections::BTreeMap;

use super::{ExecutionPlan, InputSource, Step, StepInput, Succeeded, expand_succeeded};

/// The plan that re-executes `plan` from failure: only the steps that did not succeed
/// before (every step not in `succeeded`, which maps a step key to the run where it
/// succeeded and what it produced there), in the same order, each input that read a
/// succeeded step now reading that run's stored output (or knowing it was not produced).
pub fn from_failure(
    plan: &ExecutionPlan,
    succeeded: &BTreeMap<String, Succeeded>,
) -> ExecutionPlan {
    // A dynamic step that succeeded then maps what it produced then; its templates are
    // done with.
    let mut plan = plan.clone();
    expand_succeeded(&mut plan, succeeded);
    let plan = &plan;
    let expanded = |step: &Step| {
        step.mapped_over
            .as_ref()
            .is_some_and(|m| succeeded.contains_key(&plan.steps[m.step].key))
    };
    let kept: Vec<usize> = (0..plan.steps.len())
        .filter(|&i| !succeeded.contains_key(&plan.steps[i].key) && !expanded(&plan.steps[i]))
        .collect();
    let new_index: BTreeMap<usize, usize> = kept
        .iter()
        .enumerate()
        .map(|(new, &old)| (old, new))
        .collect();
    let steps = kept
        .iter()
        .map(|&old| {
            let step = &plan.steps[old];
            let inputs = step
                .inputs
                .iter()
                .map(|input| StepInput {
                    sources: input
                        .sources
                        .iter()
                        .map(|source| match source {
                            InputSource::Step { step: up, output } => match new_index.get(up) {
                                Some(&i) => InputSource::Step {
                                    step: i,
                                    output: output.clone(),
                                },
                                None => {
                                    let key = &plan.steps[*up].key;
                                    let before = succeeded.get(key).cloned().unwrap_or_default();
                                    if before.outputs.contains(output) {
                                        InputSource::RunOutput {
                                            run_id: before.run_id,
                                            step: key.clone(),
                                            output: output.clone(),
                                        }
                                    } else {
                                        InputSource::NotProduced {
                                            step: key.clone(),
                                            output: output.clone(),
                                        }
                                    }
                                }
                            },
                            other => other.clone(),
                        })
                        .collect(),
                    ..input.clone()
                })
                .collect();
            Step {
                inputs,
                upstream: step
                    .upstream
                    .iter()
                    .filter_map(|u| new_index.get(u).copied())
                    .collect(),
                ..step.clone()
            }
        })
        .collect();
    ExecutionPlan {
        job: plan.job.clone(),
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::{StepTarget, Tags};
    use crate::plan::PlannedOutput;

    fn chain() -> ExecutionPlan {
        let input = |step: usize| StepInput {
            name: "x".into(),
            sources: vec![InputSource::Step {
                step,
                output: "result".into(),
            }],
            fan_in: false,
            collect: false,
        };
        let step = |key: &str, inputs: Vec<StepInput>, upstream: Vec<usize>| Step {
            key: key.into(),
            target: StepTarget::Op(key.into()),
            inputs,
            upstream,
            outputs: vec![PlannedOutput::result()],
            retry_policy: None,
            config_schema: None,
            tags: Tags::new(),
            hooks: Vec::new(),
            mapped_over: None,
            mapping_key: None,
        };
        ExecutionPlan {
            job: "j".into(),
            steps: vec![
                step("a", vec![], vec![]),
                step("b", vec![input(0)], vec![0]),
                step("c", vec![input(1)], vec![1]),
            ],
        }
    }

    #[test]
    fn from_failure_keeps_what_did_not_succeed_and_reads_the_rest_from_its_run() {
        let plan = chain();
        let produced = |outputs: &[&str]| Succeeded {
            run_id: "r1".into(),
            outputs: outputs.iter().map(|o| o.to_string()).collect(),
            mapping_keys: BTreeMap::new(),
        };
        let succeeded = BTreeMap::from([("a".to_owned(), produced(&["result"]))]);
        let again = from_failure(&plan, &succeeded);
        let keys: Vec<&str> = again.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["b", "c"]);
        assert_eq!(
            again.steps[0].inputs[0].sources,
            [InputSource::RunOutput {
                run_id: "r1".into(),
                step: "a".into(),
                output: "result".into()
            }]
        );
        assert!(again.steps[0].upstream.is_empty());
        assert_eq!(again.steps[1].upstream, [0]);
        assert_eq!(
            again.steps[1].inputs[0].sources,
            [InputSource::Step {
                step: 0,
                output: "result".into()
            }]
        );
        assert_eq!(from_failure(&plan, &BTreeMap::new()), plan);
        // An optional output left out then is known not to be there now.
        let succeeded = BTreeMap::from([("a".to_owned(), produced(&[]))]);
        assert_eq!(
            from_failure(&plan, &succeeded).steps[0].inputs[0].sources,
            [InputSource::NotProduced {
                step: "a".into(),
                output: "result".into()
            }]
        );
    }
}
