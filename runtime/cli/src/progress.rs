//! What `weft run` shows while a run goes: one line per finished step (a bar on a
//! terminal), and the run's step results kept for the summary. Every event passes through
//! here on its way to the event writer.

use std::collections::BTreeMap;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use weft_core::events::{Event, EventKind};
use weft_engine::writer::{EventSink, EventWriter};

/// How a step ended, as the summary shows it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct StepResult {
    pub status: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// What an asset check's step found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<weft_core::checks::CheckEvaluation>,
}

/// Prints progress and forwards events to the writer.
pub struct Progress {
    writer: EventWriter,
    bar: Option<ProgressBar>,
    lines: bool,
    steps: Mutex<BTreeMap<String, StepResult>>,
}

impl Progress {
    /// `lines`: print a line per step; `bar`: draw a bar of `total` steps (terminals only).
    pub fn new(writer: EventWriter, lines: bool, bar: bool, total: usize) -> Self {
        let bar = (lines && bar).then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} steps {elapsed}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            writer,
            bar,
            lines,
            steps: Mutex::default(),
        }
    }

    /// Each step's result, by step key.
    pub fn results(&self) -> BTreeMap<String, StepResult> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.steps.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn say(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
    }
}

/// A JSON output shown as JSON, anything else as its preview text.
fn shown(preview: &str) -> serde_json::Value {
    serde_json::from_str(preview).unwrap_or_else(|_| serde_json::Value::String(preview.to_owned()))
}

impl EventSink for Progress {
    fn emit(&self, events: Vec<Event>) {
        if let Ok(mut steps) = self.steps.lock() {
            for event in &events {
                let Some(key) = &event.step_key else { continue };
                let step = steps.entry(key.clone()).or_default();
                match &event.kind {
                    EventKind::StepStart { attempt } => {
                        step.attempts = *attempt;
                        step.status = "STARTED";
                    }
                    EventKind::StepOutput {
                        output,
                        preview,
                        mapping_key,
                        ..
                    } => {
                        let name = match mapping_key {
                            Some(key) => weft_core::plan::mapped_output(output, key),
                            None => output.clone(),
                        };
                        step.outputs.insert(name, shown(preview));
                    }
                    EventKind::StepSuccess { duration_ms, .. } => {
                        step.status = "SUCCESS";
                        step.duration_ms = Some(*duration_ms);
                    }
                    EventKind::StepFailure { message, .. } => {
                        step.status = "FAILURE";
                        step.error = Some(message.clone());
                    }
                    EventKind::StepSkipped { reason } => {
                        step.status = "SKIPPED";
                        step.error = Some(reason.clone());
                    }
                    EventKind::AssetCheckEvaluation { evaluation, .. } => {
                        step.check = Some(evaluation.clone());
                    }
                    // Said, and changes nothing of the step.
                    EventKind::HookErrored { .. } => {}
                    _ => continue,
                }
                if self.lines {
                    self.print(key, &event.kind, step);
                }
            }
        }
        self.writer.emit(events);
    }

    fn written(&self, run_id: &str) {
        self.writer.written(run_id);
    }
}

impl Progress {
    fn print(&self, key: &str, kind: &EventKind, step: &StepResult) {
        let line = match kind {
            EventKind::StepSuccess { duration_ms, .. } => {
                let mut outputs: Vec<String> = step
                    .outputs
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect();
                if let Some(check) = &step.check {
                    let verdict = match (check.passed, check.severity) {
                        (true, _) => "passed",
                        (false, weft_core::checks::CheckSeverity::Error) => "failed",
                        (false, weft_core::checks::CheckSeverity::Warn) => "failed (WARN)",
                    };
                    outputs.push(format!("check {verdict}"));
                }
                format!(
                    "  ✓ {key:<24} {duration_ms:>9.2} ms  {}",
                    outputs.join(", ")
                )
            }
            EventKind::StepFailure { message, .. } => format!("  ✗ {key:<24} failed: {message}"),
            EventKind::StepSkipped { reason } => format!("  - {key:<24} skipped: {reason}"),
            EventKind::HookErrored { hook, message } => {
                format!("  ! {key:<24} hook {hook} failed: {message}")
            }

            EventKind::StepStart { attempt } if *attempt > 1 => {
                format!("  ↻ {key:<24} attempt {attempt}")
            }
            _ => return,
        };
        if matches!(
            kind,
            EventKind::StepSuccess { .. }
                | EventKind::StepFailure { .. }
                | EventKind::StepSkipped { .. }
        ) && let Some(bar) = &self.bar
        {
            bar.inc(1);
        }
        self.say(line);
    }
}
