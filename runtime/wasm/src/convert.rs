//! Conversions between the generated bindings of `wit/` and `weft-core`'s plain types.

use weft_core::checks::{CheckEvaluation, CheckSeverity};
use weft_core::defs::{
    AssetCheckDef, AssetDef, AssetDep, AssetGraph, AssetGraphInput, AssetJobDef, AssetKey, Backoff,
    DefaultStatus, Definitions, HookDef, HookTrigger, InputBinding, IoDef, JobDef, MultiAssetOut,
    NodeDef, OpDef, OutputDef, OutputRef, RetryPolicy, RunStatusFilter, ScheduleDef, SensorDef,
    SensorKind, StepTarget, Tags, Value,
};
use weft_core::events::RunStatus;
use weft_core::metadata::{Metadata, MetadataValue, TableColumn};
use weft_core::ports::{HookRequest, InputArg, RunRequest, StepOutput, StepRequest};
use weft_core::run::EndedRun;

use crate::bindings::types as t;

pub(crate) fn tags(list: Vec<(String, String)>) -> Tags {
    list.into_iter().collect()
}

fn tag_list(tags: &Tags) -> Vec<(String, String)> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn retry(policy: Option<t::RetryPolicy>) -> Option<RetryPolicy> {
    policy.map(|p| RetryPolicy {
        max_retries: p.max_retries,
        delay_ms: p.delay_ms,
        backoff: match p.backoff {
            t::Backoff::Constant => Backoff::Constant,
            t::Backoff::Exponential => Backoff::Exponential,
        },
    })
}

fn io_defs(list: Vec<t::InputDef>) -> Vec<IoDef> {
    list.into_iter()
        .map(|i| IoDef {
            name: i.name,
            description: i.description,
            type_name: i.type_name,
        })
        .collect()
}

/// A node of a job or of an asset's graph.
fn node(n: t::NodeDef) -> NodeDef {
    NodeDef {
        name: n.name,
        op: n.op,
        inputs: n
            .inputs
            .into_iter()
            .map(|b| InputBinding {
                input: b.input,
                sources: b
                    .sources
                    .into_iter()
                    .map(|s| OutputRef {
                        node: s.node,
                        output: s.output,
                    })
                    .collect(),
                fan_in: b.fan_in,
                collect: b.collect,
            })
            .collect(),
        tags: tags(n.tags),
        hooks: n.hooks,
    }
}

fn out_defs(list: Vec<t::OutputDef>) -> Vec<OutputDef> {
    list.into_iter()
        .map(|o| OutputDef {
            name: o.name,
            description: o.description,
            type_name: o.type_name,
            required: o.required,
            dynamic: o.dynamic,
        })
        .collect()
}

/// Typed metadata; a key given twice keeps its last value.
fn metadata(list: Vec<(String, t::MetadataValue)>) -> Metadata {
    list.into_iter()
        .map(|(key, value)| {
            let value = match value {
                t::MetadataValue::Text(s) => MetadataValue::Text(s),
                t::MetadataValue::Int(n) => MetadataValue::Int(n),
                t::MetadataValue::Float(x) => MetadataValue::float(x),
                t::MetadataValue::Bool(b) => MetadataValue::Bool(b),
                t::MetadataValue::Json(text) => MetadataValue::json_text(&text),
                t::MetadataValue::Url(s) => MetadataValue::Url(s),
                t::MetadataValue::Path(s) => MetadataValue::Path(s),
                t::MetadataValue::Markdown(s) => MetadataValue::Markdown(s),
                t::MetadataValue::TableSchema(columns) => MetadataValue::TableSchema(
                    columns
                        .into_iter()
                        .map(|c| TableColumn {
                            name: c.name,
                            type_name: c.type_,
                            description: c.description,
                        })
                        .collect(),
                ),
            };
            (key, value)
        })
        .collect()
}

fn status(s: t::DefaultStatus) -> DefaultStatus {
    match s {
        t::DefaultStatus::Running => DefaultStatus::Running,
        t::DefaultStatus::Stopped => DefaultStatus::Stopped,
    }
}

/// The guest's definitions as core types.
pub(crate) fn definitions(d: t::Definitions) -> Definitions {
    Definitions {
        ops: d
            .ops
            .into_iter()
            .map(|o| OpDef {
                name: o.name,
                description: o.description,
                inputs: io_defs(o.inputs),
                outputs: out_defs(o.outputs),
                config_schema: o.config_schema,
                tags: tags(o.tags),
                retry_policy: retry(o.retry_policy),
            })
            .collect(),
        jobs: d
            .jobs
            .into_iter()
            .map(|j| JobDef {
                name: j.name,
                description: j.description,
                tags: tags(j.tags),
                nodes: j.nodes.into_iter().map(node).collect(),
            })
            .collect(),
        assets: d
            .assets
            .into_iter()
            .map(|a| AssetDef {
                key: AssetKey(a.key),
                group: a.group,
                description: a.description,
                kinds: a.kinds,
                deps: a
                    .deps
                    .into_iter()
                    .map(|d| AssetDep {
                        key: AssetKey(d.key),
                        input: d.input,
                    })
                    .collect(),
                tags: tags(a.tags),
                retry_policy: retry(a.retry_policy),
                config_schema: a.config_schema,
                multi: a.multi.map(|m| MultiAssetOut {
                    name: m.name,
                    output: m.output,
                    can_subset: m.can_subset,
                }),
                graph: a.graph.map(|g| AssetGraph {
                    nodes: g.nodes.into_iter().map(node).collect(),
                    inputs: g
                        .inputs
                        .into_iter()
                        .map(|i| AssetGraphInput {
                            dep: i.dep,
                            node: i.node,
                            input: i.input,
                        })
                        .collect(),
                    output: OutputRef {
                        node: g.output.node,
                        output: g.output.output,
                    },
                }),
            })
            .collect(),
        asset_jobs: d
            .asset_jobs
            .into_iter()
            .map(|j| AssetJobDef {
                name: j.name,
                description: j.description,
                selection: j.selection,
                tags: tags(j.tags),
            })
            .collect(),
        schedules: d
            .schedules
            .into_iter()
            .map(|s| ScheduleDef {
                name: s.name,
                job: s.job,
                cron: s.cron,
                timezone: s.timezone,
                description: s.description,
                tags: tags(s.tags),
                default_status: status(s.default_status),
                evaluates: s.evaluates,
            })
            .collect(),
        sensors: d
            .sensors
            .into_iter()
            .map(|s| SensorDef {
                name: s.name,
                job: s.job,
                minimum_interval_seconds: s.minimum_interval_seconds,
                description: s.description,
                default_status: status(s.default_status),
                kind: sensor_kind(s.kind),
            })
            .collect(),
        hooks: d
            .hooks
            .into_iter()
            .map(|h| HookDef {
                name: h.name,
                description: h.description,
                on: match h.on {
                    t::HookTrigger::Success => HookTrigger::Success,
                    t::HookTrigger::Failure => HookTrigger::Failure,
                },
            })
            .collect(),
        asset_checks: d
            .asset_checks
            .into_iter()
            .map(|c| AssetCheckDef {
                name: c.name,
                asset: AssetKey(c.asset),
                description: c.description,
                blocking: c.blocking,
                input: c.input,
            })
            .collect(),
    }
}

/// What a hook is told.
pub(crate) fn hook_context(request: &HookRequest) -> t::HookContext {
    t::HookContext {
        run_id: request.run_id.clone(),
        job: request.job.clone(),
        step_key: request.step_key.clone(),
        op: request.op.clone(),
        failure: request.failure.clone(),
    }
}

fn sensor_kind(kind: t::SensorKind) -> SensorKind {
    match kind {
        t::SensorKind::Standard => SensorKind::Standard,
        t::SensorKind::RunStatus(f) => SensorKind::RunStatus(RunStatusFilter {
            status: match f.status {
                t::RunEnd::Success => RunStatus::Success,
                t::RunEnd::Failure => RunStatus::Failure,
                t::RunEnd::Canceled => RunStatus::Canceled,
            },
            monitored_jobs: f.monitored_jobs,
            all_locations: f.all_locations,
        }),
    }
}

/// An ended run as the guest sees it; `None` for a status that is not an end.
pub(crate) fn ended_run(run: &EndedRun) -> Option<t::EndedRun> {
    let status = match run.status {
        RunStatus::Success => t::RunEnd::Success,
        RunStatus::Failure => t::RunEnd::Failure,
        RunStatus::Canceled => t::RunEnd::Canceled,
        _ => return None,
    };
    Some(t::EndedRun {
        run_id: run.run_id.clone(),
        job: run.job.clone(),
        location: run.location.clone(),
        status,
        tags: tag_list(&run.tags),
        error: run.error.clone(),
        ended_ms: u64::try_from(run.ended_ms).unwrap_or_default(),
    })
}

pub(crate) fn value(v: &Value) -> t::Value {
    t::Value {
        codec: v.codec.clone(),
        data: v.data.clone(),
    }
}

/// A step request as the guest's `step-context` and inputs.
pub(crate) fn step_call(req: &StepRequest) -> (t::StepContext, Vec<t::StepInput>) {
    let ctx = t::StepContext {
        run_id: req.run_id.clone(),
        job: req.job.clone(),
        step_key: req.step_key.clone(),
        target: match &req.target {
            StepTarget::Op(name) => t::StepTarget::Op(name.clone()),
            StepTarget::Asset(key) => t::StepTarget::Asset(key.0.clone()),
            StepTarget::Check { asset, name, .. } => t::StepTarget::Check(t::CheckTarget {
                asset: asset.0.clone(),
                name: name.clone(),
            }),
            StepTarget::MultiAsset { name, selected } => {
                t::StepTarget::MultiAsset(t::MultiAssetTarget {
                    name: name.clone(),
                    selected: selected.iter().map(|k| k.0.clone()).collect(),
                })
            }
        },
        attempt: req.attempt,
        partition: None,
        tags: tag_list(&req.tags),
        config: req.config.clone(),
        mapping_key: req.mapping_key.clone(),
    };
    let inputs = req
        .inputs
        .iter()
        .map(|(name, arg)| t::StepInput {
            name: name.clone(),
            arg: match arg {
                InputArg::Single(v) => t::InputArg::Single(value(v)),
                InputArg::FanIn(vs) => t::InputArg::FanIn(vs.iter().map(value).collect()),
            },
        })
        .collect();
    (ctx, inputs)
}

/// What a check evaluated, as core's.
pub(crate) fn check_result(result: t::CheckResult) -> CheckEvaluation {
    CheckEvaluation {
        passed: result.passed,
        severity: match result.severity {
            t::CheckSeverity::Error => CheckSeverity::Error,
            t::CheckSeverity::Warn => CheckSeverity::Warn,
        },
        description: result.description,
        metadata: metadata(result.metadata),
    }
}

/// The guest's outputs as core types.
pub(crate) fn outputs(list: Vec<t::StepOutput>) -> Vec<StepOutput> {
    list.into_iter()
        .map(|o| StepOutput {
            name: o.name,
            value: Value {
                codec: o.value.codec,
                data: o.value.data,
            },
            metadata: metadata(o.metadata),
            mapping_key: o.mapping_key,
        })
        .collect()
}

pub(crate) fn run_requests(list: Vec<t::RunRequest>) -> Vec<RunRequest> {
    list.into_iter()
        .map(|r| RunRequest {
            run_key: r.run_key,
            job: r.job,
            config: r.config,
            tags: tags(r.tags),
        })
        .collect()
}
