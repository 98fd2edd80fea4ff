//! What a step reads: the request for one attempt of a step (its tags, config and input
//! values), from upstream outputs held in memory or stored by the I/O manager, and whether
//! the step can run at all (an optional output it reads may not have been produced).

use std::collections::HashMap;

use weft_core::defs::Value;
use weft_core::plan::{ExecutionPlan, InputSource, Step};
use weft_core::ports::{InputArg, IoManager, StepRequest};

use crate::executor::RunSpec;

/// The request for `attempt` of `step` of `plan`: the step's tags under the run's, its
/// config (a mapped step's is its node's), its mapping key.
pub(crate) fn request_for(
    spec: &RunSpec<'_>,
    plan: &ExecutionPlan,
    step: &Step,
    inputs: Vec<(String, InputArg)>,
    attempt: u32,
) -> StepRequest {
    let mut tags = step.tags.clone();
    tags.extend(spec.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    StepRequest {
        run_id: spec.run_id.to_owned(),
        job: plan.job.clone(),
        step_key: step.key.clone(),
        target: step.target.clone(),
        attempt,
        tags,
        step_tags: step.tags.clone(),
        config: spec.config.step_config(step.config_key()),
        inputs,
        mapping_key: step.mapping_key.clone(),
    }
}

/// The request for `attempt` of the step `step_key` with every input read from `io` —
/// upstream outputs as their steps stored them (an asset by its key) — which is what a
/// step's own process runs, with nothing in memory from the steps before it. A mapped
/// step (`node[key]`) is found once `spec.plan` is expanded with the keys produced so far.
pub fn stored_step_request(
    spec: &RunSpec<'_>,
    step_key: &str,
    attempt: u32,
    io: &dyn IoManager,
) -> Result<StepRequest, String> {
    let steps = &spec.plan.steps;
    let step = steps
        .iter()
        .find(|s| s.key == step_key)
        .ok_or_else(|| format!("the run's plan has no step {step_key:?}"))?;
    let mut outputs = vec![HashMap::new(); steps.len()];
    for input in &step.inputs {
        for source in &input.sources {
            let InputSource::Step { step: up, output } = source else {
                continue;
            };
            let upstream = &steps[*up];
            // An asset's output is stored as the asset; an op's by run and step.
            let loaded = match upstream.output(output).and_then(|o| o.asset.as_ref()) {
                Some(key) => io.load_asset(key),
                None => io.load_output(spec.run_id, &upstream.key, output),
            };
            // The executor ran this step, so a fan-in's optional source that is not
            // stored was not produced; it gets the others.
            let optional = upstream.output(output).is_some_and(|o| !o.required);
            if loaded.is_err() && input.fan_in && optional {
                continue;
            }
            let value = loaded.map_err(|e| {
                format!(
                    "input {:?}: {e} (the output {output:?} of step {})",
                    input.name, upstream.key
                )
            })?;
            outputs[*up].insert(output.clone(), value);
        }
    }
    let inputs = collect_inputs(step, &outputs, io)?;
    Ok(request_for(spec, spec.plan, step, inputs, attempt))
}

/// The values of a step's inputs: upstream outputs from memory, unselected assets from the
/// I/O manager.
pub(crate) fn collect_inputs(
    step: &Step,
    outputs: &[HashMap<String, Value>],
    io: &dyn IoManager,
) -> Result<Vec<(String, InputArg)>, String> {
    let mut args = Vec::with_capacity(step.inputs.len());
    for input in &step.inputs {
        let mut values = Vec::with_capacity(input.sources.len());
        for source in &input.sources {
            let value = match source {
                // A fan-in gets the outputs that were produced (Dagster's behaviour).
                InputSource::Step { step: up, output }
                    if input.fan_in && !outputs[*up].contains_key(output) =>
                {
                    continue;
                }
                InputSource::NotProduced { .. } if input.fan_in => continue,
                InputSource::Step { step: up, output } => {
                    outputs[*up].get(output).cloned().ok_or_else(|| {
                        format!(
                            "input {:?}: upstream output {output:?} is missing",
                            input.name
                        )
                    })?
                }
                InputSource::NotProduced { step, output } => {
                    return Err(format!(
                        "input {:?}: step {step} did not produce its output {output:?}",
                        input.name
                    ));
                }
                InputSource::Asset(key) => io.load_asset(key).map_err(|e| {
                    format!("input {:?}: {e} (materialize {key} first)", input.name)
                })?,
                InputSource::RunOutput {
                    run_id,
                    step,
                    output,
                } => io.load_output(run_id, step, output).map_err(|e| {
                    format!(
                        "input {:?}: {e} (the output {output:?} of step {step} in run {run_id})",
                        input.name
                    )
                })?,
            };
            values.push(value);
        }
        let arg = if input.fan_in {
            InputArg::FanIn(values)
        } else {
            match values.pop() {
                Some(v) if values.is_empty() => InputArg::Single(v),
                _ => return Err(format!("input {:?} needs exactly one source", input.name)),
            }
        };
        args.push((input.name.clone(), arg));
    }
    Ok(args)
}

/// Why `step` cannot run: an input reads an output its step did not produce (an optional
/// output left out, or a step skipped for the same reason). A fan-in input runs with what
/// was produced, unless nothing was.
pub(crate) fn missing_input(
    step: &Step,
    plan: &ExecutionPlan,
    outputs: &[HashMap<String, Value>],
) -> Option<String> {
    for input in &step.inputs {
        let mut missing = Vec::new();
        for source in &input.sources {
            match source {
                InputSource::Step { step: up, output } if !outputs[*up].contains_key(output) => {
                    missing.push(format!("{}.{output}", plan.steps[*up].key));
                }
                InputSource::NotProduced { step, output } => {
                    missing.push(format!("{step}.{output} (in an earlier run)"));
                }
                _ => {}
            }
        }
        if !missing.is_empty() && (!input.fan_in || missing.len() == input.sources.len()) {
            return Some(format!(
                "input {:?} reads {}, which was not produced",
                input.name,
                missing.join(", ")
            ));
        }
    }
    None
}
