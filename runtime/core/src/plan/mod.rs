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
mod dynamic;
#[cfg(test)]
mod dynamic_tests;
mod graphs;
mod reexecution;

pub use assets::plan_assets;
pub(crate) use dynamic::mappings;
pub use dynamic::{
    DynamicError, Expansion, MappedOver, expand, expand_succeeded, is_mapping_key, mapped_output,
};
pub use reexecution::from_failure;

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
    #[error(transparent)]
    Dynamic(#[from] DynamicError),
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
    /// Collects a dynamic output (or the steps mapped over one) as a list; until the
    /// dynamic step has run, its one source names the dynamic step or a template.
    pub collect: bool,
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
    /// For a template (a node mapped over a dynamic output, `dynamic.rs`): which. A
    /// template never runs; the steps made of it do.
    pub mapped_over: Option<MappedOver>,
    /// For a step made of a template: its mapping key (its key is `node[key]`).
    pub mapping_key: Option<String>,
}

/// An output a step declares, whether it must produce it, and the asset it materializes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedOutput {
    pub name: String,
    pub required: bool,
    /// The asset whose new value it is (an asset's `result`, a multi-asset's outputs);
    /// `None` for an op's output.
    pub asset: Option<AssetKey>,
    /// A dynamic output: its values are the outputs `name[key]`.
    pub dynamic: bool,
}

impl PlannedOutput {
    /// One required output `result` of an op.
    pub fn result() -> Self {
        PlannedOutput {
            name: "result".into(),
            required: true,
            asset: None,
            dynamic: false,
        }
    }

    /// The output `name` that materializes `asset` (required unless the step may leave
    /// it out).
    pub fn materializing(name: &str, asset: &AssetKey, required: bool) -> Self {
        PlannedOutput {
            name: name.to_owned(),
            required,
            asset: Some(asset.clone()),
            dynamic: false,
        }
    }
}

impl Step {
    /// The declared output `name`.
    pub fn output(&self, name: &str) -> Option<&PlannedOutput> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// The key its config is given under in run config: its node's name (a mapped step's
    /// node, without the `[key]`).
    pub fn config_key(&self) -> &str {
        match &self.mapping_key {
            Some(key) => self
                .key
                .strip_suffix(&format!("[{key}]"))
                .unwrap_or(&self.key),
            None => &self.key,
        }
    }

    /// The key it is shown under: a template's is `node[?]` (Dagster's name for a mapped
    /// step whose keys are not known).
    pub fn shown_key(&self) -> String {
        match self.mapped_over {
            Some(_) => format!("{}[?]", self.key),
            None => self.key.clone(),
        }
    }
}

/// A step that succeeded in an earlier run: which run, and the outputs it produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Succeeded {
    pub run_id: String,
    pub outputs: BTreeSet<String>,
    /// Of a dynamic step: each dynamic output that produced values, with their keys in
    /// the order produced.
    pub mapping_keys: BTreeMap<String, Vec<String>>,
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
    let mapped = dynamic::mappings(defs, job)?;
    let mut steps = Vec::with_capacity(order.len());
    for &i in &order {
        let node = &job.nodes[i];
        let dangling = |missing: &str| PlanError::Dangling {
            job: name.to_owned(),
            node: node.name.clone(),
            missing: missing.to_owned(),
        };
        let op = defs.op(&node.op).ok_or_else(|| dangling(&node.op))?;
        let mapped_over = match mapped.get(&node.name).cloned().flatten() {
            Some((from, output)) => Some(MappedOver {
                step: *position.get(from.as_str()).ok_or_else(|| dangling(&from))?,
                output,
            }),
            None => None,
        };
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
                collect: binding.collect,
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
                    dynamic: o.dynamic,
                })
                .collect(),
            retry_policy: op.retry_policy,
            tags: merged(&merged(&job.tags, &op.tags), &node.tags),
            config_schema: op.config_schema.clone(),
            hooks,
            mapped_over,
            mapping_key: None,
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
