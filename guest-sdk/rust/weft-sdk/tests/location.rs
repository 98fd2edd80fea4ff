//! A whole code location on the host: graph building (wiring, aliases, repeated ops,
//! fan-in), step execution, input decode errors, failures, sensors and schedules, through
//! the same registry the component exports dispatch to.

use weft_sdk::__private::bindings::weft::plugin::types as wit;
use weft_sdk::__private::{Location, Registry};
use weft_sdk::prelude::*;

#[op(
    description = "Generate a list of numbers from 1 to 10",
    tags(kind = "source")
)]
fn generate_numbers() -> Vec<i64> {
    (1..=10).collect()
}

#[op]
fn sum_numbers(numbers: Vec<i64>) -> i64 {
    numbers.iter().sum()
}

#[op]
fn add(first_number: i64, second_number: i64) -> i64 {
    first_number + second_number
}

#[op]
fn add_one(x: i64) -> i64 {
    x + 1
}

#[op]
fn total(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[op(retry_policy(max_retries = 2, delay_ms = 5, backoff = "exponential"))]
fn fails(ctx: &OpContext) -> Result<i64, String> {
    Err(format!("attempt {} failed", ctx.attempt()))
}

#[op]
fn fails_fatally() -> Result<i64, Failure> {
    Err(Failure::fatal("no point retrying"))
}

/// Config as a serde type: its JSON Schema (schemars) is the op's config schema.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Scale {
    factor: i64,
    #[serde(default = "one")]
    #[allow(dead_code)]
    offset: i64,
}

fn one() -> i64 {
    1
}

#[op(config = Scale)]
fn scaled(ctx: &OpContext, x: i64) -> Result<i64, Failure> {
    ctx.add_output_metadata("factor_seen", "yes");
    Ok(x * ctx.config::<Scale>()?.factor)
}

#[job(description = "Sums", tags(domain = "numbers"))]
fn sums() {
    let numbers = generate_numbers();
    let a = sum_numbers(numbers);
    let b = sum_numbers(numbers);
    let c = sum_numbers(numbers);
    let d = add(a, b);
    add(d, c);
}

#[job]
fn wide() {
    let start = generate_numbers();
    let one = sum_numbers.alias("one")(start);
    let values: Vec<_> = (0..3)
        .map(|i| add_one.alias(format!("add_{i}"))(one))
        .collect();
    total(values);
    total([one, one]);
    let _ = fails();
    let _ = fails_fatally();
    scaled(one);
}

#[asset(group = "numbers", kinds = ["rust"])]
fn generated() -> Vec<i64> {
    (1..=3).collect()
}

#[asset(key_prefix = ["warehouse"], deps = ["generated"])]
fn doubled(generated: Vec<i64>) -> Vec<i64> {
    generated.iter().map(|n| n * 2).collect()
}

fn numbers_job() -> AssetJob {
    define_asset_job(
        "numbers_job",
        AssetSelection::groups(["numbers"]).downstream(),
    )
}

fn hourly() -> ScheduleDefinition {
    ScheduleDefinition::new("hourly", "sums", "0 * * * *").timezone("Europe/Paris")
}

#[schedule(cron = "*/5 * * * *", job = "sums")]
fn every_five(ctx: &ScheduleContext) -> ScheduleResult {
    if ctx.scheduled_time_ms.is_multiple_of(2) {
        RunRequest::new().config(json!({"ops": {}})).into()
    } else {
        SkipReason::new("odd tick").into()
    }
}

#[sensor(job = "sums", minimum_interval_seconds = 5)]
fn cursor_sensor(ctx: &SensorContext) -> SensorResult {
    let n: u32 = ctx.cursor().and_then(|c| c.parse().ok()).unwrap_or(0);
    SensorResult::from(RunRequest::new().run_key(format!("k{n}"))).cursor((n + 1).to_string())
}

#[run_failure_sensor(monitored_jobs = ["sums"], request_job = "wide")]
fn on_sums_failure(ctx: &RunStatusSensorContext) -> Result<RunRequest, String> {
    let run = ctx.run();
    let error = run
        .error
        .as_deref()
        .ok_or("a failed run without its error")?;
    Ok(RunRequest::new()
        .tag("failed_run", &run.run_id)
        .tag("error", error))
}

#[run_status_sensor(run_status = "success", monitor_all_code_locations = true)]
fn log_successes(ctx: &RunStatusSensorContext) {
    ctx.log().info(format!("{} succeeded", ctx.run().job));
}

weft_sdk::k8s_job_op!(
    echo_hello,
    weft_sdk::k8s::K8sJob {
        image: "busybox".into(),
        args: vec!["echo HELLO".into()],
        ..Default::default()
    }
);

#[op]
fn after_hello(hello: String) -> String {
    format!("after {hello}")
}

#[job]
fn words() {
    after_hello(echo_hello());
}

/// Several outputs: `odd` is optional, left out when there are no odd numbers.
#[op(outs(even: Vec<i64>, odd: Vec<i64>), optional(odd))]
fn split(ctx: &OpContext, numbers: Vec<i64>) -> split::Outs {
    let (even, odd): (Vec<i64>, Vec<i64>) = numbers.into_iter().partition(|n| n % 2 == 0);
    ctx.add_output_metadata("total", even.len() + odd.len());
    ctx.add_metadata_to("even", "ratio", 0.5);
    split::Outs {
        even,
        odd: (!odd.is_empty()).then_some(odd),
    }
}

/// Several outputs from a function that may fail.
#[op(outs(first: i64, rest: Vec<i64>))]
fn head(numbers: Vec<i64>) -> Result<head::Outs, String> {
    let (first, rest) = numbers.split_first().ok_or("no numbers")?;
    Ok(head::Outs {
        first: *first,
        rest: rest.to_vec(),
    })
}

/// A graph: two `add_one`s; called twice in `graphs`, once under an alias.
#[graph]
fn twice(x: Output<i64>) -> Output<i64> {
    add_one(add_one(x))
}

#[graph]
fn outer(x: Output<i64>) -> Output<i64> {
    twice(add_one(x))
}

#[job]
fn graphs() {
    let one = outer(seed());
    twice.alias("again")(one);
    add_one(one);
}

#[op]
fn seed() -> i64 {
    1
}

#[job]
fn parity() {
    let (even, odd) = split(generate_numbers());
    add(sum_numbers(even), sum_numbers(odd));
    let (first, _) = head(generate_numbers());
    add_one(first);
}

weft_sdk::definitions! {
    assets: [generated, doubled],
    jobs: [sums, wide, words, parity, graphs],
    asset_jobs: [numbers_job],
    schedules: [hourly, every_five],
    sensors: [cursor_sensor, on_sums_failure, log_successes],
}

fn registry() -> &'static Registry {
    match __WeftLocation::registry() {
        Ok(r) => r,
        Err(e) => panic!("invalid location: {e}"),
    }
}

fn json_value(text: &str) -> wit::Value {
    wit::Value {
        codec: "json".into(),
        data: text.as_bytes().to_vec(),
    }
}

fn single(name: &str, text: &str) -> wit::StepInput {
    wit::StepInput {
        name: name.into(),
        arg: wit::InputArg::Single(json_value(text)),
    }
}

fn step(op: &str, step_key: &str, inputs: Vec<wit::StepInput>) -> Result<String, Failure> {
    step_with(wit::StepTarget::Op(op.into()), step_key, None, inputs)
}

fn step_with(
    target: wit::StepTarget,
    step_key: &str,
    config: Option<&str>,
    inputs: Vec<wit::StepInput>,
) -> Result<String, Failure> {
    let ctx = wit::StepContext {
        run_id: "r1".into(),
        job: "wide".into(),
        step_key: step_key.into(),
        target,
        attempt: 2,
        partition: None,
        tags: vec![],
        config: config.map(Into::into),
        mapping_key: None,
    };
    let outputs = registry().execute(ctx, inputs)?;
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].name, "result");
    Ok(String::from_utf8_lossy(&outputs[0].value.data).into_owned())
}

#[test]
fn ops_stay_callable() {
    assert_eq!(add(1, 2), 3);
    assert_eq!(sum_numbers(generate_numbers()), 55);
    let ctx = OpContext::for_test().with_config(r#"{"factor": 3}"#);
    assert_eq!(scaled(&ctx, 2), Ok(6));
}

#[test]
fn repeated_ops_get_numbered_names_and_edges() {
    let job = sums();
    let names: Vec<&str> = job.nodes().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "generate_numbers",
            "sum_numbers",
            "sum_numbers_2",
            "sum_numbers_3",
            "add",
            "add_2"
        ]
    );
    let last = job.node("add_2").expect("add_2");
    assert_eq!(last.inputs[0].input, "first_number");
    assert_eq!(last.inputs[0].sources, ["add"]);
    assert_eq!(last.inputs[1].sources, ["sum_numbers_3"]);
    assert!(!last.inputs[0].fan_in);
    assert!(job.errors().is_empty());
}

#[test]
fn aliases_and_fan_in() {
    let job = wide();
    let total = job.node("total").expect("total");
    assert_eq!(total.inputs[0].sources, ["add_0", "add_1", "add_2"]);
    assert!(total.inputs[0].fan_in);
    assert_eq!(
        job.node("total_2").expect("total_2").inputs[0].sources,
        ["one", "one"]
    );
    assert_eq!(job.node("add_1").expect("add_1").op.name, "add_one");
}

#[test]
fn duplicate_alias_is_an_error() {
    #[job]
    fn twice() {
        let n = generate_numbers();
        sum_numbers.alias("same")(n);
        sum_numbers.alias("same")(n);
    }
    assert_eq!(
        twice().errors(),
        ["job `twice`: node name `same` is used twice"]
    );
}

#[test]
fn definitions_describe_everything() {
    let defs = registry().definitions();
    let ops: Vec<&str> = defs.ops.iter().map(|o| o.name.as_str()).collect();
    assert!(
        ops.contains(&"generate_numbers") && ops.contains(&"add_one") && ops.contains(&"scaled"),
        "{ops:?}"
    );
    let generate = defs
        .ops
        .iter()
        .find(|o| o.name == "generate_numbers")
        .expect("op");
    assert_eq!(
        generate.description.as_deref(),
        Some("Generate a list of numbers from 1 to 10")
    );
    assert_eq!(generate.outputs[0].type_name.as_deref(), Some("Vec<i64>"));
    assert_eq!(generate.tags, [("kind".to_string(), "source".to_string())]);
    let fails = defs.ops.iter().find(|o| o.name == "fails").expect("op");
    let retry = fails.retry_policy.expect("retry policy");
    assert_eq!((retry.max_retries, retry.delay_ms), (2, 5));
    assert_eq!(fails.outputs[0].type_name.as_deref(), Some("i64"));
    let sums = defs.jobs.iter().find(|j| j.name == "sums").expect("job");
    assert_eq!(sums.tags, [("domain".to_string(), "numbers".to_string())]);
    assert_eq!(defs.assets.len(), 2);
    let doubled = &defs.assets[1];
    assert_eq!(doubled.key, ["warehouse", "doubled"]);
    assert_eq!(doubled.group, "default");
    assert_eq!(doubled.deps[0].key, ["generated"]);
    assert_eq!(doubled.deps[0].input.as_deref(), Some("generated"));
    assert_eq!(doubled.deps[1].input, None);
    assert_eq!(defs.asset_jobs[0].selection, "group:numbers+");
    assert_eq!(defs.schedules.len(), 2);
    assert!(!defs.schedules[0].evaluates && defs.schedules[1].evaluates);
    assert_eq!(defs.schedules[0].timezone.as_deref(), Some("Europe/Paris"));
    assert_eq!(defs.sensors[0].minimum_interval_seconds, 5);
    assert_eq!(defs.sensors[0].job.as_deref(), Some("sums"));
}

#[test]
fn steps_run_ops_and_assets() {
    assert_eq!(
        step("add_one", "add_7", vec![single("x", "41")]),
        Ok("42".into())
    );
    let fan_in = wit::StepInput {
        name: "values".into(),
        arg: wit::InputArg::FanIn(vec![json_value("1"), json_value("2")]),
    };
    assert_eq!(step("total", "total", vec![fan_in]), Ok("3".into()));
    let asset = step_with(
        wit::StepTarget::Asset(vec!["warehouse".into(), "doubled".into()]),
        "warehouse/doubled",
        None,
        vec![single("generated", "[1,2]")],
    );
    assert_eq!(asset, Ok("[2,4]".into()));
    let scaled = step_with(
        wit::StepTarget::Op("scaled".into()),
        "scaled",
        Some(r#"{"factor":5}"#),
        vec![single("x", "2")],
    );
    assert_eq!(scaled, Ok("10".into()));
}

#[test]
fn failures_are_clear() {
    let err = step("add_one", "add_7", vec![single("x", "\"seven\"")]).expect_err("bad input");
    assert!(
        err.message()
            .starts_with("op `add_one` (step `add_7`): cannot decode input `x` as `i64`"),
        "{err}"
    );
    assert!(!err.is_retryable());
    let err = step("add_one", "add_one", vec![]).expect_err("missing input");
    assert_eq!(err.message(), "op `add_one`: missing input `x`");
    let err = step("fails", "fails", vec![]).expect_err("fails");
    assert_eq!(
        (err.message(), err.is_retryable()),
        ("attempt 2 failed", true)
    );
    let err = step("fails_fatally", "fails_fatally", vec![]).expect_err("fails");
    assert!(!err.is_retryable());
    let err = step("nope", "nope", vec![]).expect_err("unknown op");
    assert!(err.message().contains("no op `nope`"), "{err}");
    let err = step_with(
        wit::StepTarget::Op("scaled".into()),
        "scaled",
        None,
        vec![single("x", "2")],
    )
    .expect_err("no config");
    assert!(err.message().contains("needs config"), "{err}");
}

#[test]
fn sensors_and_schedules_evaluate() {
    let result = registry()
        .evaluate_sensor(
            "cursor_sensor",
            wit::SensorContext {
                cursor: Some("4".into()),
                last_evaluation_ms: None,
                run: None,
            },
        )
        .expect("sensor");
    assert_eq!(result.run_requests[0].run_key.as_deref(), Some("k4"));
    assert_eq!(result.cursor.as_deref(), Some("5"));
    let tick = registry().evaluate_schedule(
        "every_five",
        wit::ScheduleContext {
            scheduled_time_ms: 3,
        },
    );
    assert!(matches!(tick, Ok(wit::ScheduleResult::Skip(ref r)) if r == "odd tick"));
    let tick = every_five()
        .evaluate(&ScheduleContext {
            scheduled_time_ms: 2,
        })
        .expect("tick");
    assert!(matches!(tick, ScheduleResult::RunRequests(ref r) if r.len() == 1));
    assert!(
        registry()
            .evaluate_sensor(
                "nope",
                wit::SensorContext {
                    cursor: None,
                    last_evaluation_ms: None,
                    run: None,
                }
            )
            .is_err()
    );
}

#[test]
fn run_status_sensors_declare_what_they_watch_and_see_the_run() {
    let defs = registry().definitions();
    let kind = |name: &str| {
        defs.sensors
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.kind.clone())
    };
    match kind("on_sums_failure") {
        Some(wit::SensorKind::RunStatus(f)) => {
            assert_eq!(f.status, wit::RunEnd::Failure);
            assert_eq!(f.monitored_jobs, ["sums"]);
            assert!(!f.all_locations);
        }
        other => panic!("on_sums_failure: {other:?}"),
    }
    match kind("log_successes") {
        Some(wit::SensorKind::RunStatus(f)) => {
            assert_eq!(f.status, wit::RunEnd::Success);
            assert!(f.monitored_jobs.is_empty());
            assert!(f.all_locations);
        }
        other => panic!("log_successes: {other:?}"),
    }
    assert!(matches!(
        kind("cursor_sensor"),
        Some(wit::SensorKind::Standard)
    ));

    let failed = wit::EndedRun {
        run_id: "r1".into(),
        job: "sums".into(),
        location: "here".into(),
        status: wit::RunEnd::Failure,
        tags: vec![],
        error: Some("boom".into()),
        ended_ms: 7,
    };
    let ctx = |run| wit::SensorContext {
        cursor: None,
        last_evaluation_ms: None,
        run,
    };
    let result = registry()
        .evaluate_sensor("on_sums_failure", ctx(Some(failed.clone())))
        .expect("evaluates");
    assert_eq!(result.run_requests.len(), 1);
    let tags = &result.run_requests[0].tags;
    assert!(
        tags.contains(&("failed_run".into(), "r1".into())),
        "{tags:?}"
    );
    assert!(tags.contains(&("error".into(), "boom".into())), "{tags:?}");
    // An action-only sensor asks for nothing.
    let result = registry()
        .evaluate_sensor("log_successes", ctx(Some(failed)))
        .expect("evaluates");
    assert!(result.run_requests.is_empty());
    // Without the run, a run-status sensor fails clearly instead of guessing.
    let err = registry()
        .evaluate_sensor("on_sums_failure", ctx(None))
        .expect_err("no run");
    assert!(err.message().contains("without the run"), "{err}");
}

#[test]
fn a_k8s_job_op_is_an_op_of_any_job_that_runs_its_job() {
    let defs = registry().definitions();
    let job = defs
        .jobs
        .iter()
        .find(|j| j.name == "words")
        .expect("the words job");
    let ops: Vec<&str> = job.nodes.iter().map(|n| n.op.as_str()).collect();
    assert_eq!(ops, ["echo_hello", "after_hello"]);
    // Outside the host the Job cannot start: the step fails saying so.
    let err = step("echo_hello", "echo_hello", vec![]).expect_err("no host");
    assert!(
        err.message().contains("only inside the Weft host"),
        "{err:?}"
    );
}

#[test]
fn several_outputs_some_optional() {
    let defs = registry().definitions();
    let op = defs.ops.iter().find(|o| o.name == "split").expect("split");
    let outs: Vec<(&str, bool)> = op
        .outputs
        .iter()
        .map(|o| (o.name.as_str(), o.required))
        .collect();
    assert_eq!(outs, [("even", true), ("odd", false)]);
    assert_eq!(op.outputs[0].type_name.as_deref(), Some("Vec<i64>"));
    let job = parity();
    let sums: Vec<_> = job
        .nodes()
        .iter()
        .filter(|n| n.op.name == "sum_numbers")
        .map(|n| {
            (
                n.inputs[0].sources[0].as_str(),
                n.inputs[0].outputs[0].as_str(),
            )
        })
        .collect();
    assert_eq!(sums, [("split", "even"), ("split", "odd")]);
    let run = |numbers: &str| {
        let ctx = wit::StepContext {
            run_id: "r1".into(),
            job: "parity".into(),
            step_key: "split".into(),
            target: wit::StepTarget::Op("split".into()),
            attempt: 1,
            partition: None,
            tags: vec![],
            config: None,
            mapping_key: None,
        };
        registry()
            .execute(ctx, vec![single("numbers", numbers)])
            .expect("split runs")
    };
    let outputs = run("[1,2,3,4]");
    let shown: Vec<(&str, String)> = outputs
        .iter()
        .map(|o| {
            (
                o.name.as_str(),
                String::from_utf8_lossy(&o.value.data).into_owned(),
            )
        })
        .collect();
    assert_eq!(shown, [("even", "[2,4]".into()), ("odd", "[1,3]".into())]);
    let metadata = |o: &wit::StepOutput| format!("{:?}", o.metadata);
    assert_eq!(
        metadata(&outputs[0]),
        r#"[("total", MetadataValue::Int(4)), ("ratio", MetadataValue::Float(0.5))]"#
    );
    assert_eq!(
        metadata(&outputs[1]),
        r#"[("total", MetadataValue::Int(4))]"#
    );
    let only_even = run("[2]");
    assert_eq!(only_even.len(), 1, "the optional output is left out");
    assert_eq!(only_even[0].name, "even");
    let ctx = |step: &str| wit::StepContext {
        run_id: "r1".into(),
        job: "parity".into(),
        step_key: step.into(),
        target: wit::StepTarget::Op(step.into()),
        attempt: 1,
        partition: None,
        tags: vec![],
        config: None,
        mapping_key: None,
    };
    let err = registry()
        .execute(ctx("head"), vec![single("numbers", "[]")])
        .expect_err("no numbers");
    assert!(err.message().contains("no numbers"), "{err:?}");
    let outputs = registry()
        .execute(ctx("head"), vec![single("numbers", "[5,6]")])
        .expect("head runs");
    assert_eq!(outputs.len(), 2);
}

#[test]
fn a_serde_config_type_is_the_ops_json_schema() {
    let defs = registry().definitions();
    let op = defs
        .ops
        .iter()
        .find(|o| o.name == "scaled")
        .expect("scaled");
    let schema: serde_json::Value =
        serde_json::from_str(op.config_schema.as_deref().expect("a schema")).expect("JSON");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], serde_json::json!(["factor"]));
    assert_eq!(schema["properties"]["offset"]["default"], 1);
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn ops_in_a_graph_are_named_graph_dot_op() {
    let job = graphs();
    assert!(job.errors().is_empty(), "{:?}", job.errors());
    let names: Vec<&str> = job.nodes().iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "seed",
            "outer.add_one",
            "outer.twice.add_one",
            "outer.twice.add_one_2",
            "again.add_one",
            "again.add_one_2",
            "add_one",
        ]
    );
    let again = job.node("again.add_one").expect("again.add_one");
    assert_eq!(again.inputs[0].sources, ["outer.twice.add_one_2"]);
}
