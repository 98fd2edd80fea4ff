//! The end of one step attempt: its log lines and compute logs become events, its outputs
//! are checked against what the step declares and stored through the I/O manager
//! (`STEP_OUTPUT`, and `ASSET_MATERIALIZATION` for an asset's new value). A dynamic
//! output's values are stored one per mapping key, as the outputs `name[key]` that the
//! steps mapped over it read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use weft_core::defs::{StepTarget, Tags, Value};
use weft_core::events::{Event, EventKind, FailureKind, LogLevel};
use weft_core::now_ms;
use weft_core::plan::{PlannedOutput, Step, is_mapping_key, mapped_output};
use weft_core::ports::{StepAttempt, StepFailure, StepOutput};

use crate::checks::finish_check;
use crate::executor::{Executor, RunSpec};

/// What a step that succeeded produced.
#[derive(Default)]
pub(crate) struct Produced {
    /// By output name (a dynamic output's values as `name[key]`).
    pub values: HashMap<String, Value>,
    /// Of each dynamic output that produced values, their keys in the order produced.
    pub keys: BTreeMap<String, Vec<String>>,
}

fn io_failure(message: String) -> StepFailure {
    StepFailure {
        message,
        kind: FailureKind::Io,
        retryable: false,
    }
}

impl Executor<'_> {
    /// Turns an attempt's logs and outputs into events, stores its outputs and compute logs.
    pub(crate) fn finish_attempt(
        &self,
        spec: &RunSpec<'_>,
        step: &Step,
        attempt: StepAttempt,
        events: &mut Vec<Event>,
        event: &dyn Fn(EventKind, i64) -> Event,
    ) -> Result<Produced, StepFailure> {
        for line in attempt.logs {
            let at = line.timestamp_ms;
            events.push(event(line.into(), at));
        }
        if !attempt.stdout.is_empty() || !attempt.stderr.is_empty() {
            let kind = self.store_compute_logs(spec, step, &attempt.stdout, &attempt.stderr);
            events.push(event(kind, now_ms()));
        }
        if let StepTarget::Check {
            asset,
            name,
            blocking,
        } = &step.target
        {
            attempt.result?;
            let values = finish_check(asset, name, *blocking, attempt.check, events, event)?;
            return Ok(Produced {
                values,
                keys: BTreeMap::new(),
            });
        }
        let outputs = attempt.result?;
        if let Some(extra) = outputs.iter().find(|o| step.output(&o.name).is_none()) {
            return Err(io_failure(format!(
                "returned output {:?}, which the op does not declare",
                extra.name
            )));
        }
        let mut produced = Produced::default();
        for declared in &step.outputs {
            let mut values = outputs
                .iter()
                .filter(|o| o.name == declared.name)
                .peekable();
            if values.peek().is_none() {
                if declared.required && !declared.dynamic {
                    return Err(io_failure(format!(
                        "did not return its output {:?}, which is required (declare it \
                         optional to leave it out)",
                        declared.name
                    )));
                }
                continue;
            }
            if !declared.dynamic {
                if let Some(value) = values.next() {
                    if let Some(key) = &value.mapping_key {
                        return Err(io_failure(format!(
                            "returned output {:?} with mapping key {key:?}, but it is not \
                             dynamic (declare it a DynamicOut)",
                            declared.name
                        )));
                    }
                    let at = now_ms();
                    let kinds = self.store(spec, step, declared, value, None)?;
                    events.extend(kinds.into_iter().map(|kind| event(kind, at)));
                    produced
                        .values
                        .insert(value.name.clone(), value.value.clone());
                }
                continue;
            }
            let mut keys = Vec::new();
            let mut seen = BTreeSet::new();
            for value in values {
                let key = mapping_key(declared, value, &mut seen)?;
                let at = now_ms();
                let kinds = self.store(spec, step, declared, value, Some(key))?;
                events.extend(kinds.into_iter().map(|kind| event(kind, at)));
                produced
                    .values
                    .insert(mapped_output(&declared.name, key), value.value.clone());
                keys.push(key.to_owned());
            }
            produced.keys.insert(declared.name.clone(), keys);
        }
        Ok(produced)
    }

    /// Stores one output value (a dynamic output's under its key); returns its events'
    /// kinds (`STEP_OUTPUT`, and `ASSET_MATERIALIZATION` for an asset's new value).
    fn store(
        &self,
        spec: &RunSpec<'_>,
        step: &Step,
        declared: &PlannedOutput,
        output: &StepOutput,
        key: Option<&str>,
    ) -> Result<Vec<EventKind>, StepFailure> {
        let name = &declared.name;
        // An asset's new value (an asset's or a multi-asset's output), or an op's output.
        let saved = match (&declared.asset, key) {
            (Some(asset), _) => self.io.store_asset(asset, &output.value),
            (None, Some(key)) => {
                let stored = mapped_output(name, key);
                self.io
                    .store_output(spec.run_id, &step.key, &stored, &output.value)
            }
            (None, None) => self
                .io
                .store_output(spec.run_id, &step.key, name, &output.value),
        };
        saved.map_err(|e| io_failure(format!("storing output {name:?}: {e}")))?;
        let mut kinds = vec![EventKind::StepOutput {
            output: name.clone(),
            codec: output.value.codec.clone(),
            size: output.value.data.len() as u64,
            preview: output.value.preview(200),
            metadata: output.metadata.clone(),
            mapping_key: key.map(str::to_owned),
        }];
        if let Some(asset) = &declared.asset {
            kinds.push(EventKind::AssetMaterialization {
                asset_key: asset.clone(),
                metadata: output.metadata.clone(),
            });
        }
        Ok(kinds)
    }

    /// Stores what a step printed as its compute logs: `LOGS_CAPTURED`, or a warning that
    /// they were lost.
    pub(crate) fn store_compute_logs(
        &self,
        spec: &RunSpec<'_>,
        step: &Step,
        stdout: &[u8],
        stderr: &[u8],
    ) -> EventKind {
        match self
            .compute_logs
            .store(spec.run_id, &step.key, stdout, stderr)
        {
            Ok(()) => EventKind::LogsCaptured {
                stdout_bytes: stdout.len() as u64,
                stderr_bytes: stderr.len() as u64,
            },
            Err(e) => EventKind::Log {
                level: LogLevel::Warning,
                message: format!("compute logs lost: {e}"),
                fields: Tags::new(),
            },
        }
    }
}

/// The mapping key of a dynamic output's value: present, valid and not seen before.
fn mapping_key<'a>(
    declared: &PlannedOutput,
    value: &'a StepOutput,
    seen: &mut BTreeSet<&'a str>,
) -> Result<&'a str, StepFailure> {
    let name = &declared.name;
    let Some(key) = value.mapping_key.as_deref() else {
        return Err(io_failure(format!(
            "returned a value of its dynamic output {name:?} without a mapping key (each \
             value is a DynamicOutput with its own key)"
        )));
    };
    if !is_mapping_key(key) {
        return Err(io_failure(format!(
            "mapping key {key:?} of output {name:?} is not a key: use letters, digits and _"
        )));
    }
    if !seen.insert(key) {
        return Err(io_failure(format!(
            "mapping key {key:?} of output {name:?} was produced twice: each value of a \
             dynamic output needs its own key"
        )));
    }
    Ok(key)
}
