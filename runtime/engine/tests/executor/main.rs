//! The executors against a step runner written in plain Rust (no wasm): values flow along
//! the graph, failures skip what is downstream, retries follow the policy, and the parallel
//! executor agrees with the in-process one.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::collections::BTreeMap;
use std::sync::Mutex;

use weft_core::config::RunConfig;
use weft_core::defs::{
    Backoff, Definitions, HookDef, HookTrigger, InputBinding, IoDef, JobDef, NodeDef, OpDef,
    OutputDef, OutputRef, RetryPolicy, StepTarget, Value,
};
use weft_core::events::{Event, EventKind, FailureKind, LogLevel, RunStatus};
use weft_core::plan::plan_job;
use weft_core::ports::{
    HookAttempt, HookRequest, HookRunner, InputArg, LogLine, StepAttempt, StepFailure, StepOutput,
    StepRequest, StepRunner,
};
use weft_engine::executor::{Executor, ExecutorKind, RunOutcome, RunSpec};
use weft_engine::io::{FsComputeLogs, InMemoryIoManager};
use weft_engine::writer::EventSink;

mod dynamic;

/// Ops: `one` → 1; `inc(x)` → x + 1; `sum(values: fan-in)`; `boom` fails (not retryable);
/// `flaky` fails (retryable) on attempts 1 and 2; `mute` returns no output, nor does
/// `quiet`, whose output is optional. Dynamic (`dynamic.rs`): `spread` → 1, 2, 3 under the
/// keys `k1`, `k2`, `k3`; `spread_none`, whose output is optional, produces no value;
/// `spread_boom` fails; `picky(x)` fails for 2 and returns x otherwise.
struct Arith;

pub(crate) fn number(v: &Value) -> i64 {
    std::str::from_utf8(&v.data)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(i64::MIN)
}

impl StepRunner for Arith {
    fn run_step(&self, req: &StepRequest, _cancel: &weft_core::Cancel) -> StepAttempt {
        let StepTarget::Op(op) = &req.target else {
            panic!("ops only")
        };
        // A mapped step is told its key, and only a mapped step.
        match &req.mapping_key {
            Some(key) => assert!(req.step_key.ends_with(&format!("[{key}]")), "{req:?}"),
            None => assert!(!req.step_key.contains('['), "{req:?}"),
        }
        let fail = |message: &str, retryable| StepFailure {
            message: message.into(),
            kind: FailureKind::Error,
            retryable,
        };
        let result = match op.as_str() {
            "one" => Ok(1),
            "inc" => match &req.inputs[0].1 {
                InputArg::Single(v) => Ok(number(v) + 1),
                InputArg::FanIn(_) => Err(fail("inc takes one value", false)),
            },
            "sum" => match &req.inputs[0].1 {
                InputArg::FanIn(vs) => Ok(vs.iter().map(number).sum()),
                InputArg::Single(_) => Err(fail("sum takes a fan-in", false)),
            },
            "boom" => Err(fail("boom", false)),
            // Stopped by a cancel its runner saw before the executor did.
            "stopped" => Err(StepFailure {
                kind: FailureKind::Canceled,
                ..fail("canceled", false)
            }),
            "flaky" if req.attempt < 3 => Err(fail("not yet", true)),
            "flaky" => Ok(7),
            "spread" => return dynamic::spread(req),
            "spread_none" => return dynamic::spread(req),
            "spread_boom" => Err(fail("spread_boom", false)),
            "picky" => match &req.inputs[0].1 {
                InputArg::Single(v) if number(v) == 2 => Err(fail("picky about 2", false)),
                InputArg::Single(v) => Ok(number(v)),
                InputArg::FanIn(_) => Err(fail("picky takes one value", false)),
            },
            "mute" | "quiet" => {
                return StepAttempt {
                    result: Ok(vec![]),
                    logs: vec![],
                    stdout: vec![],
                    stderr: vec![],
                    cost: None,
                    check: None,
                };
            }
            other => Err(fail(&format!("no op {other}"), false)),
        };
        let result = result.map(|n| {
            vec![StepOutput {
                name: "result".into(),
                value: Value::json(n.to_string()),
                metadata: Default::default(),
                mapping_key: None,
            }]
        });
        StepAttempt {
            result,
            logs: vec![],
            stdout: b"printed\n".to_vec(),
            stderr: vec![],
            cost: None,
            check: None,
        }
    }
}

fn op(name: &str, inputs: &[&str], retry: Option<RetryPolicy>) -> OpDef {
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
        outputs: vec![OutputDef {
            required: !matches!(name, "quiet" | "spread_none"),
            dynamic: name.starts_with("spread"),
            ..OutputDef::result(None)
        }],
        config_schema: None,
        tags: Default::default(),
        retry_policy: retry,
    }
}

pub(crate) fn node(name: &str, op: &str, from: &[&str], fan_in: bool) -> NodeDef {
    let sources = from
        .iter()
        .map(|f| OutputRef {
            node: (*f).into(),
            output: "result".into(),
        })
        .collect();
    let input = if op == "sum" { "values" } else { "x" };
    NodeDef {
        name: name.into(),
        op: op.into(),
        inputs: if from.is_empty() {
            vec![]
        } else {
            vec![InputBinding {
                input: input.into(),
                sources,
                fan_in,
                collect: false,
            }]
        },
        tags: Default::default(),
        hooks: Vec::new(),
    }
}

pub(crate) fn defs(jobs: Vec<(&str, Vec<NodeDef>)>) -> Definitions {
    let retry = RetryPolicy {
        max_retries: 2,
        delay_ms: 1,
        backoff: Backoff::Exponential,
    };
    Definitions {
        ops: vec![
            op("one", &[], None),
            op("inc", &["x"], None),
            op("sum", &["values"], None),
            op("boom", &["x"], None),
            op("stopped", &["x"], None),
            op("flaky", &[], Some(retry)),
            op("mute", &[], None),
            op("quiet", &[], None),
            op("spread", &[], None),
            op("spread_none", &[], None),
            op("spread_boom", &[], None),
            op("picky", &["x"], None),
        ],
        jobs: jobs
            .into_iter()
            .map(|(name, nodes)| JobDef {
                name: name.into(),
                description: None,
                tags: Default::default(),
                nodes,
            })
            .collect(),
        hooks: vec![
            hook("cheer", HookTrigger::Success),
            hook("alarm", HookTrigger::Failure),
            hook("sulk", HookTrigger::Failure),
        ],
        ..Default::default()
    }
}

fn hook(name: &str, on: HookTrigger) -> HookDef {
    HookDef {
        name: name.into(),
        description: None,
        on,
    }
}

/// Hooks: `cheer` and `alarm` log what they were told and print `hook <name>`; `sulk`
/// fails.
impl HookRunner for Arith {
    fn run_hook(&self, req: &HookRequest, _cancel: &weft_core::Cancel) -> HookAttempt {
        let line = LogLine {
            timestamp_ms: 0,
            level: LogLevel::Info,
            message: format!(
                "{} {} of {}: {:?}",
                req.hook, req.step_key, req.op, req.failure
            ),
            fields: Default::default(),
        };
        let result = match req.hook.as_str() {
            "sulk" => Err(StepFailure {
                message: "sulk fails".into(),
                kind: FailureKind::Error,
                retryable: true,
            }),
            _ => Ok(()),
        };
        HookAttempt {
            result,
            logs: vec![line],
            stdout: format!("hook {}\n", req.hook).into_bytes(),
            stderr: Vec::new(),
        }
    }
}

/// Collects events in memory.
#[derive(Default)]
pub(crate) struct Collect(pub(crate) Mutex<Vec<Event>>);

impl EventSink for Collect {
    fn emit(&self, events: Vec<Event>) {
        self.0.lock().unwrap().extend(events);
    }
}

impl Collect {
    pub(crate) fn types(&self, step: &str) -> Vec<&'static str> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|e| e.step_key.as_deref() == Some(step))
            .map(|e| e.kind.type_name())
            .collect()
    }

    pub(crate) fn output(&self, step: &str) -> Option<String> {
        let events = self.0.lock().unwrap();
        events.iter().find_map(|e| match &e.kind {
            EventKind::StepOutput { preview, .. } if e.step_key.as_deref() == Some(step) => {
                Some(preview.clone())
            }
            _ => None,
        })
    }
}

pub(crate) fn execute(defs: &Definitions, job: &str, kind: ExecutorKind) -> (RunOutcome, Collect) {
    let plan = plan_job(defs, job).unwrap();
    let io = InMemoryIoManager::default();
    let logs_dir = std::env::temp_dir().join(format!(
        "weft-engine-test-{}-{job}-{kind:?}",
        std::process::id()
    ));
    let logs = FsComputeLogs::new(&logs_dir);
    let sink = Collect::default();
    let cancel = weft_core::Cancel::new();
    let executor = Executor {
        runner: &Arith,
        hooks: &Arith,
        io: &io,
        compute_logs: &logs,
        sink: &sink,
        cancel: &cancel,
    };
    let config = RunConfig::default();
    let tags = BTreeMap::new();
    let spec = RunSpec {
        run_id: "run",
        plan: &plan,
        config: &config,
        tags: &tags,
    };
    let outcome = executor.execute(&spec, kind);
    let _ = std::fs::remove_dir_all(logs_dir);
    (outcome, sink)
}

pub(crate) const BOTH: [ExecutorKind; 2] = [
    ExecutorKind::InProcess,
    ExecutorKind::Parallel { max_concurrent: 4 },
];

#[test]
fn values_flow_through_a_fan_out_and_fan_in() {
    let nodes = vec![
        node("start", "one", &[], false),
        node("a", "inc", &["start"], false),
        node("b", "inc", &["start"], false),
        node("c", "inc", &["b"], false),
        node("total", "sum", &["a", "b", "c"], true),
    ];
    let defs = defs(vec![("fan", nodes)]);
    for kind in BOTH {
        let (outcome, events) = execute(&defs, "fan", kind);
        assert_eq!(outcome.status, RunStatus::Success, "{kind:?}");
        assert_eq!(
            events.output("total").as_deref(),
            Some("7"),
            "{kind:?}: 2 + 2 + 3"
        );
        assert_eq!(
            events.types("c"),
            ["STEP_START", "LOGS_CAPTURED", "STEP_OUTPUT", "STEP_SUCCESS"]
        );
        let all = events.0.lock().unwrap();
        assert_eq!(all.first().map(|e| e.kind.type_name()), Some("RUN_START"));
        assert_eq!(all.last().map(|e| e.kind.type_name()), Some("RUN_SUCCESS"));
    }
}

#[test]
fn a_failure_skips_downstream_steps_only() {
    let nodes = vec![
        node("start", "one", &[], false),
        node("bad", "boom", &["start"], false),
        node("after_bad", "inc", &["bad"], false),
        node("good", "inc", &["start"], false),
    ];
    let defs = defs(vec![("fails", nodes)]);
    for kind in BOTH {
        let (outcome, events) = execute(&defs, "fails", kind);
        assert_eq!(outcome.status, RunStatus::Failure);
        assert_eq!(outcome.failed, [("bad".to_owned(), "boom".to_owned())]);
        assert_eq!(outcome.skipped, ["after_bad"]);
        assert_eq!(
            events.types("bad"),
            ["STEP_START", "LOGS_CAPTURED", "STEP_FAILURE"],
            "no retry policy"
        );
        assert_eq!(events.types("after_bad"), ["STEP_SKIPPED"]);
        assert_eq!(events.output("good").as_deref(), Some("2"));
        let all = events.0.lock().unwrap();
        let last = all.last().map(|e| e.kind.clone());
        assert_eq!(
            last,
            Some(EventKind::RunFailure {
                message: "step bad failed: boom".into()
            })
        );
    }
}

#[test]
fn a_step_stopped_by_a_cancel_cancels_its_run() {
    let nodes = vec![
        node("start", "one", &[], false),
        node("stopped", "stopped", &["start"], false),
        node("after", "inc", &["stopped"], false),
    ];
    let defs = defs(vec![("stops", nodes)]);
    for kind in BOTH {
        let (outcome, events) = execute(&defs, "stops", kind);
        assert_eq!(outcome.status, RunStatus::Canceled, "{kind:?}");
        assert!(outcome.failed.is_empty(), "{outcome:?}");
        assert_eq!(outcome.skipped, ["after"]);
        assert_eq!(events.types("after"), ["STEP_SKIPPED"]);
    }
}

#[test]
fn retries_follow_the_policy() {
    let defs = defs(vec![("retry", vec![node("f", "flaky", &[], false)])]);
    let (outcome, events) = execute(&defs, "retry", ExecutorKind::InProcess);
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(
        events.types("f"),
        [
            "STEP_START",
            "LOGS_CAPTURED",
            "STEP_UP_FOR_RETRY",
            "STEP_START",
            "LOGS_CAPTURED",
            "STEP_UP_FOR_RETRY",
            "STEP_START",
            "LOGS_CAPTURED",
            "STEP_OUTPUT",
            "STEP_SUCCESS"
        ]
    );
    let delays: Vec<u64> = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::StepUpForRetry { delay_ms, .. } => Some(delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [1, 2], "exponential backoff");
}

#[test]
fn a_missing_output_fails_the_step() {
    let defs = defs(vec![("mute", vec![node("m", "mute", &[], false)])]);
    let (outcome, _) = execute(&defs, "mute", ExecutorKind::InProcess);
    assert_eq!(
        outcome.failed,
        [(
            "m".to_owned(),
            "did not return its output \"result\", which is required (declare it optional to \
             leave it out)"
                .to_owned()
        )]
    );
}

#[test]
fn an_optional_output_left_out_skips_its_readers_and_theirs() {
    for kind in [
        ExecutorKind::InProcess,
        ExecutorKind::Parallel { max_concurrent: 4 },
    ] {
        let defs = defs(vec![(
            "j",
            vec![
                node("q", "quiet", &[], false),
                node("o", "one", &[], false),
                node("a", "inc", &["q"], false),
                node("b", "inc", &["a"], false),
                // A fan-in runs with what was produced.
                node("s", "sum", &["q", "o"], true),
                node("t", "sum", &["q"], true),
            ],
        )]);
        let (outcome, events) = execute(&defs, "j", kind);
        assert_eq!(outcome.status, RunStatus::Success, "{kind:?}");
        assert!(outcome.failed.is_empty());
        let mut skipped = outcome.skipped.clone();
        skipped.sort();
        assert_eq!(skipped, ["a", "b", "t"], "{kind:?}");
        assert_eq!(events.types("q"), ["STEP_START", "STEP_SUCCESS"]);
        assert_eq!(events.types("a"), ["STEP_SKIPPED"]);
        assert_eq!(events.output("s").as_deref(), Some("1"));
        let reason = events.0.lock().unwrap().iter().find_map(|e| match &e.kind {
            EventKind::StepSkipped { reason } if e.step_key.as_deref() == Some("a") => {
                Some(reason.clone())
            }
            _ => None,
        });
        assert_eq!(
            reason.as_deref(),
            Some("input \"x\" reads q.result, which was not produced")
        );
    }
}

#[test]
fn hooks_run_after_a_steps_last_outcome_and_fail_nothing() {
    let hooked = |mut n: NodeDef| {
        n.hooks = vec!["alarm".into(), "cheer".into(), "sulk".into()];
        n
    };
    let defs = defs(vec![(
        "hooked",
        vec![
            hooked(node("a", "one", &[], false)),
            hooked(node("f", "flaky", &[], false)),
            hooked(node("b", "boom", &["a"], false)),
        ],
    )]);
    for kind in BOTH {
        let (outcome, events) = execute(&defs, "hooked", kind);
        assert_eq!(outcome.status, RunStatus::Failure, "{kind:?}");
        assert_eq!(outcome.failed, [("b".to_owned(), "boom".to_owned())]);
        let after_success = [
            "HOOK_SKIPPED",
            "LOG",
            "HOOK_COMPLETED",
            "HOOK_SKIPPED",
            "LOGS_CAPTURED",
        ];
        let a = events.types("a");
        assert_eq!(
            a[a.len() - 6..],
            ["STEP_SUCCESS"]
                .iter()
                .chain(&after_success)
                .copied()
                .collect::<Vec<_>>()[..]
        );
        // An attempt to be retried calls no hook; the last one does.
        let f = events.types("f");
        let skipped = ["HOOK_SKIPPED"; 3];
        assert_eq!(
            f[2..6],
            ["STEP_UP_FOR_RETRY"]
                .iter()
                .chain(&skipped)
                .copied()
                .collect::<Vec<_>>()[..]
        );
        assert_eq!(
            f[f.len() - 6..],
            ["STEP_SUCCESS"]
                .iter()
                .chain(&after_success)
                .copied()
                .collect::<Vec<_>>()[..]
        );
        assert_eq!(
            events.types("b")[2..],
            [
                "STEP_FAILURE",
                "LOG",
                "HOOK_COMPLETED",
                "HOOK_SKIPPED",
                "LOG",
                "HOOK_ERRORED",
                "LOGS_CAPTURED"
            ]
        );
        let logged: Vec<String> = events
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.step_key.as_deref() == Some("b"))
            .filter_map(|e| match &e.kind {
                EventKind::Log { message, .. } => Some(message.clone()),
                EventKind::HookErrored { hook, message } => Some(format!("{hook}: {message}")),
                _ => None,
            })
            .collect();
        assert_eq!(
            logged,
            [
                "alarm b of boom: Some(\"boom\")",
                "sulk b of boom: Some(\"boom\")",
                "sulk: sulk fails"
            ]
        );
    }
}
