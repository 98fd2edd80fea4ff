//! Checks that a code location's definitions hang together before the host accepts them:
//! names are identifiers and unique, every reference (node → op, input → upstream output,
//! schedule → job, asset job → selection) resolves, and no graph has a cycle.
//!
//! An asset may depend on an asset the location does not define (an external asset, read
//! from storage at run time); everything else must resolve inside the location.

use std::collections::{BTreeMap, BTreeSet};

use crate::defs::{AssetKey, Definitions, JobDef, SensorKind};
use crate::plan::DynamicError;
use crate::selection::AssetSelection;

mod assets;
mod graphs;

use assets::{validate_assets, validate_checks, validate_multi_assets};
use graphs::validate_graph_assets;

/// Why a location's definitions were rejected. Each names the object at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("{kind} name {name:?} is not a name (use letters, digits and _, as Dagster does)")]
    BadName { kind: &'static str, name: String },
    #[error("{kind} {name:?} is defined twice")]
    Duplicate { kind: &'static str, name: String },
    #[error("job {job:?}: node {node:?} invokes op {op:?}, which the location does not define")]
    UnknownOp {
        job: String,
        node: String,
        op: String,
    },
    #[error("job {job:?}: node {node:?} binds input {input:?}, which op {op:?} does not have")]
    UnknownInput {
        job: String,
        node: String,
        op: String,
        input: String,
    },
    #[error("job {job:?}: node {node:?} input {input:?} is not fed by any node")]
    UnboundInput {
        job: String,
        node: String,
        input: String,
    },
    #[error("job {job:?}: node {node:?} reads {from}.{output}, which does not exist")]
    UnknownSource {
        job: String,
        node: String,
        from: String,
        output: String,
    },
    #[error("{kind} {name:?} has a cycle through {through:?}")]
    Cycle {
        kind: &'static str,
        name: String,
        through: String,
    },
    #[error("asset job {job:?}: {message}")]
    BadSelection { job: String, message: String },
    #[error("{kind} {name:?} has a config schema that is not valid JSON Schema: {message}")]
    BadConfigSchema {
        kind: &'static str,
        name: String,
        message: String,
    },
    #[error(
        "run-status sensor {sensor:?} watches runs that end {status}, but runs end SUCCESS, \
         FAILURE or CANCELED"
    )]
    BadRunStatus {
        sensor: String,
        status: &'static str,
    },
    #[error("job {job:?}: node {node:?} names hook {hook:?}, which the location does not define")]
    UnknownHook {
        job: String,
        node: String,
        hook: String,
    },
    #[error("asset check {check:?} checks asset {asset}, which the location does not define")]
    UnknownCheckedAsset { check: String, asset: AssetKey },
    #[error("graph asset {asset}: {message}")]
    BadGraphAsset { asset: AssetKey, message: String },
    #[error("multi-asset {name:?}: {message}")]
    BadMultiAsset { name: String, message: String },
    #[error("asset {asset} has two checks named {check:?}")]
    DuplicateCheck { asset: AssetKey, check: String },
    #[error("{kind} {name:?} targets job {job:?}, which the location does not define")]
    UnknownJob {
        kind: &'static str,
        name: String,
        job: String,
    },
    #[error(transparent)]
    Dynamic(#[from] DynamicError),
    #[error("asset {asset}: input {input:?} of its dependency on {dep} is repeated")]
    DuplicateAssetInput {
        asset: AssetKey,
        dep: AssetKey,
        input: String,
    },
}

/// True for `[A-Za-z0-9_]+`: Dagster's names (an input named `Nothing` included).
pub fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True for a node's name: an identifier, or a dotted path of them (`graph.op`: the name
/// Dagster gives an op invoked inside a graph, which is also its step key).
pub fn is_node_name(name: &str) -> bool {
    name.split('.').all(is_identifier)
}

pub(crate) fn check_name(kind: &'static str, name: &str) -> Result<(), DefinitionError> {
    let valid = if kind == "node" {
        is_node_name(name)
    } else {
        is_identifier(name)
    };
    if valid {
        Ok(())
    } else {
        Err(DefinitionError::BadName {
            kind,
            name: name.to_owned(),
        })
    }
}

fn check_unique<'a>(
    kind: &'static str,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<(), DefinitionError> {
    let mut seen = BTreeSet::new();
    for name in names {
        check_name(kind, name)?;
        if !seen.insert(name) {
            return Err(DefinitionError::Duplicate {
                kind,
                name: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// A config schema must be JSON and a JSON Schema the host can check run config against.
fn check_schema(
    kind: &'static str,
    name: &str,
    schema: Option<&str>,
) -> Result<(), DefinitionError> {
    let Some(schema) = schema else { return Ok(()) };
    let bad = |message: String| DefinitionError::BadConfigSchema {
        kind,
        name: name.to_owned(),
        message,
    };
    let json: serde_json::Value = serde_json::from_str(schema).map_err(|e| bad(e.to_string()))?;
    jsonschema::validator_for(&json).map_err(|e| bad(e.to_string()))?;
    Ok(())
}

/// Validates a whole location's definitions; the first problem found is returned.
pub fn validate(defs: &Definitions) -> Result<(), DefinitionError> {
    check_unique("op", defs.ops.iter().map(|o| o.name.as_str()))?;
    check_unique(
        "job",
        defs.jobs
            .iter()
            .map(|j| j.name.as_str())
            .chain(defs.asset_jobs.iter().map(|j| j.name.as_str())),
    )?;
    check_unique("schedule", defs.schedules.iter().map(|s| s.name.as_str()))?;
    check_unique("sensor", defs.sensors.iter().map(|s| s.name.as_str()))?;
    check_unique("hook", defs.hooks.iter().map(|h| h.name.as_str()))?;
    validate_checks(defs)?;
    validate_multi_assets(defs)?;
    validate_graph_assets(defs)?;
    for op in &defs.ops {
        check_unique("input", op.inputs.iter().map(|i| i.name.as_str()))?;
        check_unique("output", op.outputs.iter().map(|o| o.name.as_str()))?;
        check_schema("op", &op.name, op.config_schema.as_deref())?;
    }
    for asset in &defs.assets {
        check_schema(
            "asset",
            &asset.key.to_string(),
            asset.config_schema.as_deref(),
        )?;
    }
    for job in &defs.jobs {
        validate_job(defs, job)?;
    }
    validate_assets(defs)?;
    for job in &defs.asset_jobs {
        let bad = |message: String| DefinitionError::BadSelection {
            job: job.name.clone(),
            message,
        };
        let selection: AssetSelection = job.selection.parse().map_err(|e| bad(format!("{e}")))?;
        selection
            .resolve(&defs.assets)
            .map_err(|e| bad(format!("{e}")))?;
    }
    let has_job = |name: &str| defs.job(name).is_some() || defs.asset_job(name).is_some();
    for s in &defs.schedules {
        if !has_job(&s.job) {
            return Err(DefinitionError::UnknownJob {
                kind: "schedule",
                name: s.name.clone(),
                job: s.job.clone(),
            });
        }
    }
    for s in &defs.sensors {
        if let Some(job) = &s.job
            && !has_job(job)
        {
            return Err(DefinitionError::UnknownJob {
                kind: "sensor",
                name: s.name.clone(),
                job: job.clone(),
            });
        }
        if let SensorKind::RunStatus(filter) = &s.kind {
            if !filter.status.is_finished() {
                return Err(DefinitionError::BadRunStatus {
                    sensor: s.name.clone(),
                    status: filter.status.as_str(),
                });
            }
            // Jobs of other locations cannot be checked here.
            if !filter.all_locations
                && let Some(job) = filter.monitored_jobs.iter().find(|j| !has_job(j))
            {
                return Err(DefinitionError::UnknownJob {
                    kind: "run-status sensor",
                    name: s.name.clone(),
                    job: job.clone(),
                });
            }
        }
    }
    Ok(())
}

fn validate_job(defs: &Definitions, job: &JobDef) -> Result<(), DefinitionError> {
    check_unique("node", job.nodes.iter().map(|n| n.name.as_str()))?;
    let nodes: BTreeMap<&str, &str> = job
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.op.as_str()))
        .collect();
    for node in &job.nodes {
        let op = defs
            .op(&node.op)
            .ok_or_else(|| DefinitionError::UnknownOp {
                job: job.name.clone(),
                node: node.name.clone(),
                op: node.op.clone(),
            })?;
        if let Some(hook) = node.hooks.iter().find(|h| defs.hook(h).is_none()) {
            return Err(DefinitionError::UnknownHook {
                job: job.name.clone(),
                node: node.name.clone(),
                hook: hook.clone(),
            });
        }
        for binding in &node.inputs {
            if !op.inputs.iter().any(|i| i.name == binding.input) {
                return Err(DefinitionError::UnknownInput {
                    job: job.name.clone(),
                    node: node.name.clone(),
                    op: op.name.clone(),
                    input: binding.input.clone(),
                });
            }
            for src in &binding.sources {
                let upstream_op = nodes.get(src.node.as_str()).and_then(|o| defs.op(o));
                if !upstream_op.is_some_and(|o| o.outputs.iter().any(|out| out.name == src.output))
                {
                    return Err(DefinitionError::UnknownSource {
                        job: job.name.clone(),
                        node: node.name.clone(),
                        from: src.node.clone(),
                        output: src.output.clone(),
                    });
                }
            }
        }
        for input in &op.inputs {
            if !node.inputs.iter().any(|b| b.input == input.name) {
                return Err(DefinitionError::UnboundInput {
                    job: job.name.clone(),
                    node: node.name.clone(),
                    input: input.name.clone(),
                });
            }
        }
    }
    let edges = job.nodes.iter().map(|n| {
        let ups = n
            .inputs
            .iter()
            .flat_map(|b| b.sources.iter().map(|s| s.node.clone()))
            .collect();
        (n.name.clone(), ups)
    });
    if let Some(through) = find_cycle(edges.collect()) {
        return Err(DefinitionError::Cycle {
            kind: "job",
            name: job.name.clone(),
            through,
        });
    }
    // Which nodes are mapped over which dynamic output, and whether they may be.
    crate::plan::mappings(defs, job)?;
    Ok(())
}

/// Returns a node on a cycle, if the graph (node → upstream nodes) has one.
pub(crate) fn find_cycle(graph: BTreeMap<String, Vec<String>>) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for start in graph.keys() {
        if marks.contains_key(start.as_str()) {
            continue;
        }
        // Iterative depth-first search: (node, index of the next upstream to visit).
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Visiting);
        while let Some((node, next)) = stack.pop() {
            let ups = graph.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(up) = ups.get(next) {
                stack.push((node, next + 1));
                match marks.get(up.as_str()) {
                    Some(Mark::Visiting) => return Some(up.clone()),
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(up, Mark::Visiting);
                        stack.push((up, 0));
                    }
                }
            } else {
                marks.insert(node, Mark::Done);
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::defs::{InputBinding, IoDef, NodeDef, OpDef, OutputDef, OutputRef};

    /// Op `name` with the inputs `inputs` and the output `result`.
    pub(crate) fn op(name: &str, inputs: &[&str]) -> OpDef {
        OpDef {
            name: name.into(),
            description: None,
            inputs: inputs
                .iter()
                .map(|i| IoDef {
                    name: (*i).into(),
                    description: None,
                    type_name: None,
                })
                .collect(),
            outputs: vec![OutputDef::result(None)],
            config_schema: None,
            tags: Default::default(),
            retry_policy: None,
        }
    }

    fn node(name: &str, op: &str, from: &[(&str, &str)]) -> NodeDef {
        NodeDef {
            name: name.into(),
            op: op.into(),
            inputs: from
                .iter()
                .map(|(input, up)| InputBinding {
                    input: (*input).into(),
                    sources: vec![OutputRef {
                        node: (*up).into(),
                        output: "result".into(),
                    }],
                    fan_in: false,
                    collect: false,
                })
                .collect(),
            tags: Default::default(),
            hooks: Vec::new(),
        }
    }

    fn defs(nodes: Vec<NodeDef>) -> Definitions {
        Definitions {
            ops: vec![op("a", &[]), op("b", &["x"])],
            jobs: vec![JobDef {
                name: "j".into(),
                description: None,
                tags: Default::default(),
                nodes,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn accepts_a_chain() {
        assert_eq!(
            validate(&defs(vec![
                node("a", "a", &[]),
                node("b", "b", &[("x", "a")])
            ])),
            Ok(())
        );
    }

    #[test]
    fn names_the_unknown_op_and_the_unbound_input() {
        let err = validate(&defs(vec![node("a", "nope", &[])])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "job \"j\": node \"a\" invokes op \"nope\", which the location does not define"
        );
        let err = validate(&defs(vec![node("b", "b", &[])])).unwrap_err();
        assert!(matches!(err, DefinitionError::UnboundInput { .. }), "{err}");
    }

    #[test]
    fn a_node_names_hooks_the_location_defines() {
        use crate::defs::{HookDef, HookTrigger};
        let mut hooked = node("a", "a", &[]);
        hooked.hooks = vec!["alarm".into()];
        let mut d = defs(vec![hooked]);
        let err = validate(&d).unwrap_err();
        assert_eq!(
            err.to_string(),
            "job \"j\": node \"a\" names hook \"alarm\", which the location does not define"
        );
        d.hooks.push(HookDef {
            name: "alarm".into(),
            description: None,
            on: HookTrigger::Failure,
        });
        assert_eq!(validate(&d), Ok(()));
        d.hooks.push(d.hooks[0].clone());
        let err = validate(&d).unwrap_err();
        assert_eq!(err.to_string(), "hook \"alarm\" is defined twice");
    }

    #[test]
    fn run_status_sensors_watch_jobs_that_exist_and_statuses_that_end() {
        use crate::defs::{DefaultStatus, RunStatusFilter, SensorDef};
        use crate::events::RunStatus;
        let with = |status, jobs: &[&str], all_locations| {
            let mut d = defs(vec![node("a", "a", &[])]);
            d.sensors.push(SensorDef {
                name: "on_end".into(),
                job: None,
                minimum_interval_seconds: 30,
                description: None,
                default_status: DefaultStatus::Stopped,
                kind: SensorKind::RunStatus(RunStatusFilter {
                    status,
                    monitored_jobs: jobs.iter().map(|j| (*j).to_owned()).collect(),
                    all_locations,
                }),
            });
            validate(&d)
        };
        assert_eq!(with(RunStatus::Failure, &["j"], false), Ok(()));
        assert_eq!(with(RunStatus::Success, &[], false), Ok(()));
        let err = with(RunStatus::Failure, &["elsewhere"], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "run-status sensor \"on_end\" targets job \"elsewhere\", which the location does not define"
        );
        // Another location's job is its business.
        assert_eq!(with(RunStatus::Failure, &["elsewhere"], true), Ok(()));
        let err = with(RunStatus::Started, &[], false).unwrap_err();
        assert!(matches!(err, DefinitionError::BadRunStatus { .. }), "{err}");

        let filter = RunStatusFilter {
            status: RunStatus::Success,
            monitored_jobs: vec!["j".into()],
            all_locations: false,
        };
        assert!(filter.watches("here", "here", "j"));
        assert!(!filter.watches("here", "there", "j"));
        assert!(!filter.watches("here", "here", "k"));
        let everything = RunStatusFilter {
            monitored_jobs: vec![],
            all_locations: true,
            ..filter
        };
        assert!(everything.watches("here", "there", "k"));
    }

    #[test]
    fn finds_cycles() {
        let err = validate(&defs(vec![
            node("b", "b", &[("x", "c")]),
            node("c", "b", &[("x", "b")]),
        ]))
        .unwrap_err();
        assert!(matches!(err, DefinitionError::Cycle { .. }), "{err}");
    }

    #[test]
    fn rejects_bad_names_and_duplicates() {
        assert!(!is_identifier("Add-One"));
        assert!(is_identifier("add_1"));
        assert!(is_node_name("process.add_1") && is_node_name("a.b.c"));
        assert!(!is_node_name("process.") && !is_node_name(".a") && !is_identifier("a.b"));
        let err = validate(&defs(vec![node("a", "a", &[]), node("a", "a", &[])])).unwrap_err();
        assert_eq!(
            err,
            DefinitionError::Duplicate {
                kind: "node",
                name: "a".into()
            }
        );
    }

    #[test]
    fn rejects_a_config_schema_the_host_cannot_check() {
        let mut d = defs(vec![node("a", "a", &[])]);
        d.ops[0].config_schema = Some(r#"{"type": 3}"#.into());
        let err = validate(&d).unwrap_err().to_string();
        assert!(
            err.starts_with("op \"a\" has a config schema that is not valid JSON Schema"),
            "{err}"
        );
        d.ops[0].config_schema = Some("{oops".into());
        assert!(validate(&d).is_err());
        d.ops[0].config_schema = Some(r#"{"type": "object"}"#.into());
        validate(&d).unwrap();
    }
}
