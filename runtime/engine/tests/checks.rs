//! Asset checks through the executor, with a step runner written in plain Rust: a check
//! runs after its asset and reads its value, its evaluation is an event, a failed blocking
//! check fails its step and skips the assets downstream, and a failed non-blocking (or
//! `WARN`) check stops nothing.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::collections::BTreeMap;
use std::sync::Mutex;

use weft_core::checks::{CheckEvaluation, CheckSeverity};
use weft_core::config::RunConfig;
use weft_core::defs::{
    AssetCheckDef, AssetDef, AssetDep, AssetKey, Definitions, StepTarget, Value,
};
use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::plan::plan_assets;
use weft_core::ports::{
    HookAttempt, HookRequest, HookRunner, InputArg, StepAttempt, StepOutput, StepRequest,
    StepRunner,
};
use weft_engine::executor::{Executor, ExecutorKind, RunSpec};
use weft_engine::io::{FsComputeLogs, InMemoryIoManager};
use weft_engine::writer::EventSink;

/// Assets: `orders` is the run's tag `orders` (3 by default), `totals` is orders × 10.
/// Checks of `orders`: `enough` (blocking) passes when orders ≥ 5; `small` (not blocking)
/// passes when orders < 2, at severity `WARN`.
struct Stand;

fn number(v: &Value) -> i64 {
    std::str::from_utf8(&v.data).unwrap().parse().unwrap()
}

impl StepRunner for Stand {
    fn run_step(&self, req: &StepRequest, _cancel: &weft_core::Cancel) -> StepAttempt {
        let input = || match &req.inputs[0].1 {
            InputArg::Single(v) => number(v),
            InputArg::FanIn(_) => panic!("no fan-in here"),
        };
        let mut attempt = StepAttempt::failed("", weft_core::events::FailureKind::Error, false);
        match &req.target {
            StepTarget::Asset(key) => {
                let n = match key.to_string().as_str() {
                    "orders" => req.tags.get("orders").map_or(3, |t| t.parse().unwrap()),
                    _ => input() * 10,
                };
                attempt.result = Ok(vec![StepOutput {
                    mapping_key: None,
                    name: "result".into(),
                    value: Value::json(n.to_string()),
                    metadata: Default::default(),
                }]);
            }
            StepTarget::Check { name, .. } => {
                let orders = input();
                let (passed, severity) = match name.as_str() {
                    "enough" => (orders >= 5, CheckSeverity::Error),
                    _ => (orders < 2, CheckSeverity::Warn),
                };
                attempt.result = Ok(Vec::new());
                attempt.check = Some(CheckEvaluation {
                    passed,
                    severity,
                    description: Some(format!("{orders} orders")),
                    metadata: Default::default(),
                });
            }
            StepTarget::Op(_) | StepTarget::MultiAsset { .. } => panic!("assets only"),
        }
        attempt
    }
}

impl HookRunner for Stand {
    fn run_hook(&self, _: &HookRequest, _: &weft_core::Cancel) -> HookAttempt {
        panic!("no hooks here")
    }
}

#[derive(Default)]
struct Collect(Mutex<Vec<Event>>);

impl EventSink for Collect {
    fn emit(&self, events: Vec<Event>) {
        self.0.lock().unwrap().extend(events);
    }
}

fn defs() -> Definitions {
    let asset = |key: &str, deps: Vec<AssetDep>| AssetDef {
        key: AssetKey::parse(key),
        group: "default".into(),
        description: None,
        kinds: Vec::new(),
        deps,
        tags: Default::default(),
        retry_policy: None,
        config_schema: None,
        multi: None,
        graph: None,
    };
    let check = |name: &str, blocking| AssetCheckDef {
        name: name.into(),
        asset: AssetKey::parse("orders"),
        description: None,
        blocking,
        input: Some("orders".into()),
    };
    Definitions {
        assets: vec![
            asset("orders", Vec::new()),
            asset(
                "totals",
                vec![AssetDep {
                    key: AssetKey::parse("orders"),
                    input: Some("orders".into()),
                }],
            ),
        ],
        asset_checks: vec![check("enough", true), check("small", false)],
        ..Default::default()
    }
}

/// Runs every asset with the run's tag `orders`; the events of each step, as
/// `(step, type)`, and the evaluations.
fn materialize(orders: &str) -> (RunStatus, Vec<(String, &'static str)>, Vec<EventKind>) {
    let defs = defs();
    let plan = plan_assets(&defs, &"*".parse().unwrap()).unwrap();
    let io = InMemoryIoManager::default();
    let dir = std::env::temp_dir().join(format!("weft-checks-{}-{orders}", std::process::id()));
    let logs = FsComputeLogs::new(&dir);
    let sink = Collect::default();
    let cancel = weft_core::Cancel::new();
    let executor = Executor {
        runner: &Stand,
        hooks: &Stand,
        io: &io,
        compute_logs: &logs,
        sink: &sink,
        cancel: &cancel,
    };
    let tags = BTreeMap::from([("orders".to_owned(), orders.to_owned())]);
    let config = RunConfig::default();
    let spec = RunSpec {
        run_id: "run",
        plan: &plan,
        config: &config,
        tags: &tags,
    };
    let outcome = executor.execute(&spec, ExecutorKind::InProcess);
    let _ = std::fs::remove_dir_all(dir);
    let events = sink.0.into_inner().unwrap();
    let types = events
        .iter()
        .filter_map(|e| Some((e.step_key.clone()?, e.kind.type_name())))
        .collect();
    let evaluations = events
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::AssetCheckEvaluation { .. }))
        .map(|e| e.kind)
        .collect();
    (outcome.status, types, evaluations)
}

fn of(types: &[(String, &'static str)], step: &str) -> Vec<&'static str> {
    types
        .iter()
        .filter(|(s, _)| s == step)
        .map(|(_, t)| *t)
        .collect()
}

#[test]
fn a_failed_blocking_check_fails_its_step_and_skips_what_is_downstream() {
    let (status, types, evaluations) = materialize("3");
    assert_eq!(status, RunStatus::Failure);
    assert_eq!(
        of(&types, "orders_enough"),
        ["STEP_START", "ASSET_CHECK_EVALUATION", "STEP_FAILURE"]
    );
    assert_eq!(
        of(&types, "orders_small"),
        ["STEP_START", "ASSET_CHECK_EVALUATION", "STEP_SUCCESS"]
    );
    assert_eq!(of(&types, "totals"), ["STEP_SKIPPED"]);
    let EventKind::AssetCheckEvaluation {
        asset_key,
        check,
        evaluation,
    } = &evaluations[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (asset_key.to_string().as_str(), check.as_str()),
        ("orders", "enough")
    );
    assert!(!evaluation.passed);
    assert_eq!(evaluation.description.as_deref(), Some("3 orders"));
    let json = serde_json::to_value(Event {
        run_id: "run".into(),
        step_key: Some("orders_enough".into()),
        timestamp_ms: 1,
        kind: evaluations[0].clone(),
    })
    .unwrap();
    assert_eq!(json["type"], "ASSET_CHECK_EVALUATION");
    assert_eq!(json["severity"], "ERROR");
    assert_eq!(json["passed"], false);
    let back: Event = serde_json::from_value(json).unwrap();
    assert_eq!(back.kind, evaluations[0]);
}

#[test]
fn a_passed_blocking_check_lets_downstream_run_and_a_warning_stops_nothing() {
    let (status, types, evaluations) = materialize("7");
    assert_eq!(status, RunStatus::Success);
    assert_eq!(of(&types, "totals").last(), Some(&"STEP_SUCCESS"));
    let verdicts: Vec<(bool, CheckSeverity)> = evaluations
        .iter()
        .map(|e| match e {
            EventKind::AssetCheckEvaluation { evaluation, .. } => {
                (evaluation.passed, evaluation.severity)
            }
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        verdicts,
        [(true, CheckSeverity::Error), (false, CheckSeverity::Warn)]
    );
}
