//! Execution planning: turns a job's op graph, or an asset selection, into an ordered list
//! of steps with their inputs wired to upstream outputs (Dagster's `ExecutionPlan`).
//!
//! Steps come in a topological order (every step after the steps it reads from), with ties
//! kept in definition order so that plans, and so event logs, are deterministic. Asset
//! selections are planned in `assets.rs`, with their checks.

use std::collections::{BTreeMap, BTreeSet};

use crate::defs::{AssetKey, Definitions, HookDef, RetryPolicy, StepTarget, Tags};
use crate::selection::{AssetSelection, SelectionError};

mod assets;

pub use assets::plan_assets;

/// Why a run could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no job named {name:?} in this code location (jobs: {known})")]
    UnknownJob { name: String, known: String },
    #[error(transparent)]
    Selection(#[from] SelectionError),
    #[error("job {0:?} has a cycle")]
    Cycle(String),
    #[error(
        "the selection picks {picked} of multi-asset {name:?} but not {missing}: it cannot be \
         subset (can_subset is false), select all of its assets or none"
    )]
    Subset {
        name: String,
        picked: String,
        missing: String,
    },
    #[error("job {job:?}: node {node:?} refers to {missing:?}, which is not defined")]
    Dangling {
        job: String,
        node: String,
        missing: String,
    },
}

/// Where a step input's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// An output of an earlier step of this plan (`step` indexes `ExecutionPlan::steps`).
    Step { step: usize, output: String },
    /// The stored value of an asset that this plan does not materialize.
    Asset(AssetKey),
    /// An output of a step of an earlier run (a re-execution from failure reads what the
    /// steps that succeeded then produced).
    RunOutput {
        run_id: String,
        step: String,
        output: String,
    },
    /// An optional output that a step of an earlier run succeeded without producing: the
    /// step reading it is skipped again, as it was then.
    NotProduced { step: String, output: String },
}

/// One input of a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepInput {
    pub name: String,
    pub sources: Vec<InputSource>,
    pub fan_in: bool,
}

/// One step: an op invocation or an asset materialization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub key: String,
    pub target: StepTarget,
    pub inputs: Vec<StepInput>,
    /// Indices of the steps that must succeed before this one starts.
    pub upstream: Vec<usize>,
    /// The outputs the step declares.
    pub outputs: Vec<PlannedOutput>,
    pub retry_policy: Option<RetryPolicy>,
    /// The job's tags overlaid with the op's or asset's.
    pub tags: Tags,
    /// The JSON Schema its config must match, if the op or asset has one.
    pub config_schema: Option<String>,
    /// The hooks that run after it, in its node's order.
    pub hooks: Vec<HookDef>,
}

/// An output a step declares, whether it must produce it, and the asset it materializes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedOutput {
    pub name: String,
    pub required: bool,
    /// The asset whose new value it is (an asset's `result`, a multi-asset's outputs);
    /// `None` for an op's output.
    pub asset: Option<AssetKey>,
}

impl PlannedOutput {
    /// One required output `result` of an op.
    pub fn result() -> Self {
        PlannedOutput {
            name: "result".into(),
            required: true,
            asset: None,
        }
    }

    /// The output `name` that materializes `asset` (required unless the step may leave
    /// it out).
    pub fn materializing(name: &str, asset: &AssetKey, required: bool) -> Self {
        PlannedOutput {
            name: name.to_owned(),
            required,
            asset: Some(asset.clone()),
        }
    }
}

impl Step {
    /// The declared output `name`.
    pub fn output(&self, name: &str) -> Option<&PlannedOutput> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

/// A step that succeeded in an earlier run: which run, and the outputs it produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Succeeded {
    pub run_id: String,
    pub outputs: BTreeSet<String>,
}

/// The steps of one run, in topological order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionPlan {
    pub job: String,
    pub steps: Vec<Step>,
}

impl ExecutionPlan {
    /// The index of the step with key `key`.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.key == key)
    }

    /// Indices of the steps that read from step `index`.
    pub fn downstream_of(&self, index: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut todo = vec![index];
        while let Some(i) = todo.pop() {
            for (j, s) in self.steps.iter().enumerate() {
                if s.upstream.contains(&i) && seen.insert(j) {
                    out.push(j);
                    todo.push(j);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

/// The plan that re-executes `plan` from failure: only the steps that did not succeed
/// before (every step not in `succeeded`, which maps a step key to the run where it
/// succeeded and what it produced there), in the same order, each input that read a
/// succeeded step now reading that run's stored output (or knowing it was not produced).
pub fn from_failure(
    plan: &ExecutionPlan,
    succeeded: &BTreeMap<String, Succeeded>,
) -> ExecutionPlan {
    let kept: Vec<usize> = (0..plan.steps.len())
        .filter(|&i| !succeeded.contains_key(&plan.steps[i].key))
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

/// Plans the job (or asset job) named `name`.
pub fn plan_job(defs: &Definitions, name: &str) -> Result<ExecutionPlan, PlanError> {
    if defs.job(name).is_some() {
        return plan_op_job(defs, name);
    } else if let Some(job) = defs.asset_job(name) {
        let selection: AssetSelection = job.selection.parse()?;
        let mut plan = plan_assets(defs, &selection)?;
        plan.job = job.name.clone();
        for step in &mut plan.steps {
            step.tags = merged(&job.tags, &step.tags);
        }
        return Ok(plan);
    }
    Err(PlanError::UnknownJob {
        name: name.to_owned(),
        known: defs.job_names().join(", "),
    })
}

pub(crate) fn merged(base: &Tags, over: &Tags) -> Tags {
    let mut tags = base.clone();
    tags.extend(over.iter().map(|(k, v)| (k.clone(), v.clone())));
    tags
}

fn plan_op_job(defs: &Definitions, name: &str) -> Result<ExecutionPlan, PlanError> {
    let Some(job) = defs.job(name) else {
        return Err(PlanError::UnknownJob {
            name: name.to_owned(),
            known: defs.job_names().join(", "),
        });
    };
    let deps: Vec<Vec<&str>> = job
        .nodes
        .iter()
        .map(|n| {
            n.inputs
                .iter()
                .flat_map(|b| b.sources.iter().map(|s| s.node.as_str()))
                .collect()
        })
        .collect();
    let names: Vec<&str> = job.nodes.iter().map(|n| n.name.as_str()).collect();
    let order = topo_order(&names, &deps).ok_or_else(|| PlanError::Cycle(name.to_owned()))?;
    let position: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(pos, &i)| (names[i], pos))
        .collect();
    let mut steps = Vec::with_capacity(order.len());
    for &i in &order {
        let node = &job.nodes[i];
        let dangling = |missing: &str| PlanError::Dangling {
            job: name.to_owned(),
            node: node.name.clone(),
            missing: missing.to_owned(),
        };
        let op = defs.op(&node.op).ok_or_else(|| dangling(&node.op))?;
        let hooks = node
            .hooks
            .iter()
            .map(|h| defs.hook(h).cloned().ok_or_else(|| dangling(h)))
            .collect::<Result<_, _>>()?;
        let mut upstream = BTreeSet::new();
        let mut inputs = Vec::with_capacity(node.inputs.len());
        for binding in &node.inputs {
            let mut sources = Vec::with_capacity(binding.sources.len());
            for src in &binding.sources {
                let &step = position
                    .get(src.node.as_str())
                    .ok_or_else(|| dangling(&src.node))?;
                upstream.insert(step);
                sources.push(InputSource::Step {
                    step,
                    output: src.output.clone(),
                });
            }
            inputs.push(StepInput {
                name: binding.input.clone(),
                sources,
                fan_in: binding.fan_in,
            });
        }
        steps.push(Step {
            key: node.name.clone(),
            target: StepTarget::Op(op.name.clone()),
            inputs,
            upstream: upstream.into_iter().collect(),
            outputs: op
                .outputs
                .iter()
                .map(|o| PlannedOutput {
                    name: o.name.clone(),
                    required: o.required,
                    asset: None,
                })
                .collect(),
            retry_policy: op.retry_policy,
            tags: merged(&merged(&job.tags, &op.tags), &node.tags),
            config_schema: op.config_schema.clone(),
            hooks,
        });
    }
    Ok(ExecutionPlan {
        job: name.to_owned(),
        steps,
    })
}

pub(crate) fn topo_order(names: &[&str], deps: &[Vec<&str>]) -> Option<Vec<usize>> {
    let index: BTreeMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut pending = vec![0usize; names.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
    for (i, ups) in deps.iter().enumerate() {
        let ups: BTreeSet<usize> = ups.iter().filter_map(|u| index.get(u).copied()).collect();
        pending[i] = ups.len();
        for u in ups {
            readers[u].push(i);
        }
    }
    let mut ready: BTreeSet<usize> = (0..names.len()).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::with_capacity(names.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &r in &readers[i] {
            pending[r] -= 1;
            if pending[r] == 0 {
                ready.insert(r);
            }
        }
    }
    (order.len() == names.len()).then_some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> ExecutionPlan {
        let input = |step: usize| StepInput {
            name: "x".into(),
            sources: vec![InputSource::Step {
                step,
                output: "result".into(),
            }],
            fan_in: false,
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
    use crate::selection::tests::numbers;

    fn keys(plan: &ExecutionPlan) -> Vec<&str> {
        plan.steps.iter().map(|s| s.key.as_str()).collect()
    }

    #[test]
    fn assets_in_dependency_order() {
        let defs = Definitions {
            assets: numbers(),
            ..Default::default()
        };
        let plan = plan_assets(&defs, &"group:numbers".parse().unwrap()).unwrap();
        assert_eq!(
            keys(&plan),
            [
                "generated_numbers",
                "filtered_even_numbers",
                "filtered_odd_numbers",
                "summed_even_numbers",
                "summed_odd_numbers",
                "summed_two_sums"
            ]
        );
        let last = &plan.steps[5];
        assert_eq!(last.upstream, [3, 4]);
        assert_eq!(
            last.inputs[0].sources,
            [InputSource::Step {
                step: 3,
                output: "result".into()
            }]
        );
    }

    #[test]
    fn unselected_upstream_is_read_from_storage() {
        let defs = Definitions {
            assets: numbers(),
            ..Default::default()
        };
        let plan = plan_assets(&defs, &"summed_even_numbers+".parse().unwrap()).unwrap();
        assert_eq!(keys(&plan), ["summed_even_numbers", "summed_two_sums"]);
        assert_eq!(
            plan.steps[0].inputs[0].sources,
            [InputSource::Asset(AssetKey::parse("filtered_even_numbers"))]
        );
        assert_eq!(
            plan.steps[1].inputs[1].sources,
            [InputSource::Asset(AssetKey::parse("summed_odd_numbers"))]
        );
    }

    #[test]
    fn unknown_job_lists_the_known_ones() {
        let defs = Definitions {
            assets: numbers(),
            ..Default::default()
        };
        let err = plan_job(&defs, "nope").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no job named \"nope\" in this code location (jobs: )"
        );
    }

    #[test]
    fn downstream_closure() {
        let defs = Definitions {
            assets: numbers(),
            ..Default::default()
        };
        let plan = plan_assets(&defs, &"*".parse().unwrap()).unwrap();
        assert_eq!(plan.downstream_of(1), [3, 5]);
    }
}
