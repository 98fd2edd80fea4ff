//! Dynamic fan-out on the host: an op returning `Vec<DynamicOutput<T>>` declares a dynamic
//! output and produces one value per mapping key; `.map(op)` in a job body makes nodes
//! reading it (the host maps them), `.collect()` a collecting input; a mapped step is told
//! its key; a bad or repeated key fails the step, not retryably.

use weft_sdk::__private::bindings::weft::plugin::types as wit;
use weft_sdk::__private::{Location, Registry};
use weft_sdk::prelude::*;

#[op]
fn fan_out(ctx: &OpContext) -> Vec<DynamicOutput<i64>> {
    let keys: Vec<String> = match ctx.tag("keys") {
        Some(keys) => keys.split(',').map(str::to_owned).collect(),
        None => vec!["a".into(), "b".into()],
    };
    keys.into_iter()
        .zip(1..)
        .map(|(key, i)| DynamicOutput::new(i, key))
        .collect()
}

#[op]
fn double(ctx: &OpContext, x: i64) -> Result<i64, Failure> {
    match ctx.mapping_key() {
        Some(key) => {
            ctx.log().info(format!("doubling {key}"));
            Ok(x * 2)
        }
        None => Err(Failure::fatal("double runs mapped only")),
    }
}

#[op]
fn add(x: i64, y: i64) -> i64 {
    x + y
}

#[op]
fn ten() -> i64 {
    10
}

#[op]
fn sum(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

#[job]
fn fanout() {
    let offset = ten();
    sum(fan_out().map(double).map(|x| add(x, offset)).collect());
}

weft_sdk::definitions! {
    jobs: [fanout],
}

fn registry() -> &'static Registry {
    match __WeftLocation::registry() {
        Ok(r) => r,
        Err(e) => panic!("invalid location: {e}"),
    }
}

/// `(input, [(node, output)], fan_in, collect)` of each binding of node `name`.
fn bindings(defs: &wit::Definitions, name: &str) -> Vec<(String, Vec<String>, bool, bool)> {
    let node = defs.jobs[0].nodes.iter().find(|n| n.name == name).unwrap();
    node.inputs
        .iter()
        .map(|b| {
            let sources = b
                .sources
                .iter()
                .map(|s| format!("{}.{}", s.node, s.output))
                .collect();
            (b.input.clone(), sources, b.fan_in, b.collect)
        })
        .collect()
}

#[test]
fn map_and_collect_wire_mapped_nodes_and_a_collecting_input() {
    let defs = registry().definitions();
    let fan_out = defs.ops.iter().find(|o| o.name == "fan_out").unwrap();
    assert!(fan_out.outputs[0].dynamic && fan_out.outputs[0].required);
    let double = defs.ops.iter().find(|o| o.name == "double").unwrap();
    assert!(!double.outputs[0].dynamic);
    let names: Vec<&str> = defs.jobs[0].nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["ten", "fan_out", "double", "add", "sum"]);
    let b = |input: &str, source: &str, collect| {
        (input.to_owned(), vec![source.to_owned()], false, collect)
    };
    assert_eq!(bindings(&defs, "double"), [b("x", "fan_out.result", false)]);
    assert_eq!(
        bindings(&defs, "add"),
        [b("x", "double.result", false), b("y", "ten.result", false)]
    );
    assert_eq!(bindings(&defs, "sum"), [b("values", "add.result", true)]);
}

fn ctx(op: &str, step: &str, key: Option<&str>, tags: Vec<(String, String)>) -> wit::StepContext {
    wit::StepContext {
        run_id: "r1".into(),
        job: "fanout".into(),
        step_key: step.into(),
        target: wit::StepTarget::Op(op.into()),
        attempt: 1,
        partition: None,
        tags,
        config: None,
        mapping_key: key.map(Into::into),
    }
}

#[test]
fn a_dynamic_step_produces_a_value_per_key_and_a_mapped_step_knows_its_key() {
    let outputs = registry()
        .execute(ctx("fan_out", "fan_out", None, Vec::new()), Vec::new())
        .expect("runs");
    let produced: Vec<(&str, Option<&str>, &[u8])> = outputs
        .iter()
        .map(|o| {
            (
                o.name.as_str(),
                o.mapping_key.as_deref(),
                o.value.data.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        produced,
        [
            ("result", Some("a"), b"1".as_slice()),
            ("result", Some("b"), b"2".as_slice())
        ]
    );

    let input = wit::StepInput {
        name: "x".into(),
        arg: wit::InputArg::Single(wit::Value {
            codec: "json".into(),
            data: b"4".to_vec(),
        }),
    };
    let outputs = registry()
        .execute(
            ctx("double", "double[a]", Some("a"), Vec::new()),
            vec![input],
        )
        .expect("runs");
    assert_eq!(outputs[0].value.data, b"8");
    assert_eq!(outputs[0].mapping_key, None, "an ordinary output");
}

#[test]
fn a_bad_or_repeated_mapping_key_fails_the_step_for_good() {
    for (keys, why) in [
        ("a,b-c", "mapping key \"b-c\" is not a key"),
        ("a,a", "mapping key \"a\" is produced twice"),
    ] {
        let tags = vec![("keys".to_owned(), keys.to_owned())];
        let failure = registry()
            .execute(ctx("fan_out", "fan_out", None, tags), Vec::new())
            .unwrap_err();
        assert!(failure.message().contains(why), "{}", failure.message());
        assert!(!failure.is_retryable(), "{keys}");
    }
}
