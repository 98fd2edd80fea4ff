//! Dynamic fan-out (Dagster's `DynamicOut`, `.map` and `.collect`): which nodes of a job
//! are mapped over which dynamic output, and the expansion of a plan once a dynamic step
//! has produced its mapping keys.
//!
//! A node reading a dynamic output (or an output of a node mapped over one) is planned as
//! a *template*: a step that never runs itself. When the dynamic step succeeds, [`expand`]
//! adds one step `node[key]` per mapping key for every template mapped over it (a chain of
//! maps expands key by key: `add_one[k1]` reads `square[k1]`), and rewires each input that
//! collects them to read the new steps in the order the keys were produced. A dynamic
//! output's value for key `k` is the output `name[k]` of its step, in memory and in the
//! I/O manager alike.

use std::collections::{BTreeMap, BTreeSet};

use super::{ExecutionPlan, InputSource, Step, Succeeded};
use crate::defs::{Definitions, JobDef};

/// The dynamic output a template step is mapped over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedOver {
    /// The dynamic step (an index of `ExecutionPlan::steps`).
    pub step: usize,
    /// Its dynamic output.
    pub output: String,
}

/// Why a job's dynamic fan-out cannot be planned; names the node at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job {job:?}: node {node:?} {message}")]
pub struct DynamicError {
    pub job: String,
    pub node: String,
    pub message: String,
}

/// The output a mapped node is mapped over: (dynamic node, output).
pub(crate) type Origin = (String, String);

/// For every node of `job`, the dynamic output it is mapped over (`None` for a node that
/// runs once). The job must be free of cycles and its references must resolve.
pub(crate) fn mappings(
    defs: &Definitions,
    job: &JobDef,
) -> Result<BTreeMap<String, Option<Origin>>, DynamicError> {
    let mut done: BTreeMap<String, Option<Origin>> = BTreeMap::new();
    let nodes: BTreeMap<&str, usize> = job
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.name.as_str(), i))
        .collect();
    // Depth first from every node; the job has no cycle, so this ends.
    let mut todo: Vec<usize> = (0..job.nodes.len()).rev().collect();
    while let Some(&i) = todo.last() {
        let node = &job.nodes[i];
        if done.contains_key(&node.name) {
            todo.pop();
            continue;
        }
        let pending: Vec<usize> = node
            .inputs
            .iter()
            .flat_map(|b| &b.sources)
            .filter_map(|s| nodes.get(s.node.as_str()).copied())
            .filter(|u| !done.contains_key(&job.nodes[*u].name))
            .collect();
        if !pending.is_empty() {
            todo.extend(pending);
            continue;
        }
        todo.pop();
        let origin = origin_of(defs, job, i, &done)?;
        done.insert(node.name.clone(), origin);
    }
    Ok(done)
}

/// The dynamic output node `i` is mapped over, from its upstream nodes' (all in `done`).
fn origin_of(
    defs: &Definitions,
    job: &JobDef,
    i: usize,
    done: &BTreeMap<String, Option<Origin>>,
) -> Result<Option<Origin>, DynamicError> {
    let node = &job.nodes[i];
    let fail = |message: String| DynamicError {
        job: job.name.clone(),
        node: node.name.clone(),
        message,
    };
    // The origin a source carries: its own output if dynamic, else its node's.
    let carried = |node: &str, output: &str| -> Option<Origin> {
        let op = job.nodes.iter().find(|n| n.name == node)?.op.as_str();
        let dynamic = defs
            .op(op)
            .and_then(|o| o.outputs.iter().find(|out| out.name == output))
            .is_some_and(|out| out.dynamic);
        match dynamic {
            true => Some((node.to_owned(), output.to_owned())),
            false => done.get(node).cloned().flatten(),
        }
    };
    let mut origins = BTreeSet::new();
    let mut collects = false;
    for binding in &node.inputs {
        let input = &binding.input;
        if binding.collect {
            collects = true;
            let [source] = binding.sources.as_slice() else {
                return Err(fail(format!(
                    "input {input:?} collects {} sources: a collect reads one",
                    binding.sources.len()
                )));
            };
            if carried(&source.node, &source.output).is_none() {
                return Err(fail(format!(
                    "input {input:?} collects {}.{}, which is neither a dynamic output nor \
                     mapped over one",
                    source.node, source.output
                )));
            }
            continue;
        }
        for source in &binding.sources {
            let Some(origin) = carried(&source.node, &source.output) else {
                continue;
            };
            if binding.fan_in {
                return Err(fail(format!(
                    "input {input:?} fans in {}.{}, which is dynamic: collect it instead",
                    source.node, source.output
                )));
            }
            origins.insert(origin);
        }
    }
    let mut origins = origins.into_iter();
    let origin = origins.next();
    if let (Some((a, ao)), Some((b, bo))) = (&origin, origins.next()) {
        return Err(fail(format!(
            "is mapped over both {a}.{ao} and {b}.{bo}: a node is mapped over one dynamic output"
        )));
    }
    if let Some((from, output)) = &origin {
        if collects {
            return Err(fail(format!(
                "is mapped over {from}.{output} and collects another: a mapped node cannot \
                 collect"
            )));
        }
        let own = defs.op(&node.op).into_iter().flat_map(|o| &o.outputs);
        if let Some(out) = own.into_iter().find(|o| o.dynamic) {
            return Err(fail(format!(
                "is mapped over {from}.{output} and has a dynamic output of its own ({}): \
                 nested dynamic outputs are not supported",
                out.name
            )));
        }
    }
    Ok(origin)
}

/// The storage name of a dynamic output's value for `key` (`result[k1]`).
pub fn mapped_output(output: &str, key: &str) -> String {
    format!("{output}[{key}]")
}

/// Whether `key` can be a mapping key: letters, digits and `_` (Dagster's rule).
pub fn is_mapping_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What [`expand`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The templates expanded (they never run), each with the steps made of it.
    pub templates: Vec<(usize, Vec<usize>)>,
    /// The steps whose collecting inputs were rewired (their upstream changed).
    pub collectors: Vec<usize>,
}

impl Expansion {
    /// Every step [`expand`] added.
    pub fn added(&self) -> impl Iterator<Item = usize> + '_ {
        self.templates
            .iter()
            .flat_map(|(_, made)| made.iter().copied())
    }
}

/// Expands the templates mapped over the dynamic step `dynamic`, which produced `keys`
/// (each dynamic output that produced a value, with its keys in the order produced). A
/// required dynamic output that produced nothing maps nothing and collects an empty list;
/// an optional one leaves what collects it reading an output that was not produced.
pub fn expand(
    plan: &mut ExecutionPlan,
    dynamic: usize,
    keys: &BTreeMap<String, Vec<String>>,
) -> Expansion {
    let none: &[String] = &[];
    let keys_of = |plan: &ExecutionPlan, output: &str| match keys.get(output) {
        Some(keys) => Some(keys.as_slice()),
        None => plan.steps[dynamic]
            .output(output)
            .is_some_and(|o| o.required)
            .then_some(none),
    };
    let templates: Vec<usize> = (0..plan.steps.len())
        .filter(|&t| {
            plan.steps[t]
                .mapped_over
                .as_ref()
                .is_some_and(|m| m.step == dynamic)
        })
        .collect();
    let mut made: BTreeMap<(usize, String), usize> = BTreeMap::new();
    let mut expansion = Expansion::default();
    for &t in &templates {
        let template = plan.steps[t].clone();
        let Some(over) = &template.mapped_over else {
            continue;
        };
        let mut steps = Vec::new();
        for key in keys_of(plan, &over.output).unwrap_or_default().to_vec() {
            let source = |source: &InputSource| match source {
                InputSource::Step { step, output } if *step == dynamic => InputSource::Step {
                    step: dynamic,
                    output: mapped_output(output, &key),
                },
                InputSource::Step { step, output } => InputSource::Step {
                    step: made.get(&(*step, key.clone())).copied().unwrap_or(*step),
                    output: output.clone(),
                },
                other => other.clone(),
            };
            let mut step = Step {
                key: format!("{}[{key}]", template.key),
                mapped_over: None,
                mapping_key: Some(key.clone()),
                upstream: template
                    .upstream
                    .iter()
                    .map(|u| made.get(&(*u, key.clone())).copied().unwrap_or(*u))
                    .collect(),
                ..template.clone()
            };
            for input in &mut step.inputs {
                input.sources = input.sources.iter().map(source).collect();
            }
            plan.steps.push(step);
            steps.push(plan.steps.len() - 1);
            made.insert((t, key), plan.steps.len() - 1);
        }
        expansion.templates.push((t, steps));
    }
    let expanded: BTreeMap<usize, Vec<usize>> = expansion.templates.iter().cloned().collect();
    for c in 0..plan.steps.len() {
        let mut upstream: BTreeSet<usize> = plan.steps[c].upstream.iter().copied().collect();
        // Each collecting input of `c` reading `dynamic` or one of its templates, rewired:
        // (input, its new sources, or `None` to leave it reading what was not produced).
        let mut rewired = Vec::new();
        for (i, input) in plan.steps[c].inputs.iter().enumerate() {
            let (true, [InputSource::Step { step, output }]) = (input.collect, &input.sources[..])
            else {
                continue;
            };
            let read = |step: usize, output: String| InputSource::Step { step, output };
            let sources = if *step == dynamic {
                keys_of(plan, output).map(|ks| {
                    ks.iter()
                        .map(|k| read(dynamic, mapped_output(output, k)))
                        .collect()
                })
            } else if let Some(made) = expanded.get(step) {
                let over = plan.steps[*step].mapped_over.as_ref();
                upstream.remove(step);
                upstream.extend(made.iter().copied());
                over.and_then(|m| keys_of(plan, &m.output))
                    .map(|_| made.iter().map(|&m| read(m, output.clone())).collect())
            } else {
                continue;
            };
            rewired.push((i, sources));
        }
        if rewired.is_empty() {
            continue;
        }
        let step = &mut plan.steps[c];
        for (i, sources) in rewired {
            if let Some(sources) = sources {
                step.inputs[i].sources = sources;
                step.inputs[i].fan_in = true;
            }
        }
        step.upstream = upstream.into_iter().collect();
        expansion.collectors.push(c);
    }
    expansion
}

/// Expands every template whose dynamic step is in `succeeded` (a step of this plan that
/// succeeded earlier, with the keys it produced then), in plan order.
pub fn expand_succeeded(plan: &mut ExecutionPlan, succeeded: &BTreeMap<String, Succeeded>) {
    let dynamic: BTreeSet<usize> = plan
        .steps
        .iter()
        .filter_map(|s| s.mapped_over.as_ref().map(|m| m.step))
        .collect();
    for d in dynamic {
        if let Some(before) = succeeded.get(&plan.steps[d].key) {
            expand(plan, d, &before.mapping_keys);
        }
    }
}
