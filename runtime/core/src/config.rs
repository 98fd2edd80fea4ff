//! Run config (Dagster's run config): `{"ops": {"<step key>": {"config": <any JSON>}}}`.
//!
//! The host checks the shape, that every step named exists, and each step's config
//! against its op's (or asset's) JSON Schema, naming the path of every error
//! (`ops.scale.config.factor`); the defaults a schema gives are filled in before the run
//! is created, so the run's stored config is what its steps receive (as JSON text).

use serde_json::Value as Json;

use crate::plan::ExecutionPlan;

/// Why run config was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("run config is not valid JSON: {0}")]
    NotJson(String),
    #[error(
        "run config must be a JSON object like {{\"ops\": {{\"step\": {{\"config\": ...}}}}}}, got {0}"
    )]
    NotAnObject(&'static str),
    #[error("run config has unknown top-level key {0:?} (expected \"ops\")")]
    UnknownKey(String),
    #[error("run config names step {step:?}, which job {job:?} does not have (steps: {known})")]
    UnknownStep {
        step: String,
        job: String,
        known: String,
    },
    #[error("run config for step {0:?} must be an object with a \"config\" key")]
    BadStepConfig(String),
    #[error("run config does not match the config schema of step {step:?}: {}", errors.join("; "))]
    Schema { step: String, errors: Vec<String> },
    #[error("step {step:?} has a config schema that is not valid JSON Schema: {message}")]
    BadSchema { step: String, message: String },
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Run config checked against a plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunConfig(pub Json);

impl RunConfig {
    /// Parses JSON text and checks it against `plan`.
    pub fn parse(text: &str, plan: &ExecutionPlan) -> Result<Self, ConfigError> {
        let json: Json =
            serde_json::from_str(text).map_err(|e| ConfigError::NotJson(e.to_string()))?;
        Self::check(json, plan)
    }

    /// Checks already-parsed config against `plan`.
    pub fn check(json: Json, plan: &ExecutionPlan) -> Result<Self, ConfigError> {
        let json = flatten_graphs(json);
        let Json::Object(top) = &json else {
            return Err(ConfigError::NotAnObject(kind(&json)));
        };
        for (key, value) in top {
            if key != "ops" {
                return Err(ConfigError::UnknownKey(key.clone()));
            }
            let Json::Object(ops) = value else {
                return Err(ConfigError::NotAnObject(kind(value)));
            };
            for (step, cfg) in ops {
                if plan.index_of(step).is_none() {
                    let known = plan
                        .steps
                        .iter()
                        .map(|s| s.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(ConfigError::UnknownStep {
                        step: step.clone(),
                        job: plan.job.clone(),
                        known,
                    });
                }
                if !matches!(cfg, Json::Object(o) if o.contains_key("config")) {
                    return Err(ConfigError::BadStepConfig(step.clone()));
                }
            }
        }
        let mut json = json;
        for step in &plan.steps {
            if let Some(schema) = &step.config_schema {
                check_step(&mut json, &step.key, schema)?;
            }
        }
        Ok(RunConfig(json))
    }

    /// The config of step `key` as JSON text, if the run config has one.
    pub fn step_config(&self, key: &str) -> Option<String> {
        self.0
            .get("ops")?
            .get(key)?
            .get("config")
            .map(Json::to_string)
    }
}

/// Run config with Dagster's nesting of graphs (`{"ops": {"g": {"ops": {"op": {"config":
/// ...}}}}}`) written as Weft's, by step key (`{"ops": {"g.op": {"config": ...}}}`).
fn flatten_graphs(mut json: Json) -> Json {
    fn flatten(
        prefix: &str,
        ops: serde_json::Map<String, Json>,
        out: &mut serde_json::Map<String, Json>,
    ) {
        for (name, value) in ops {
            let key = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}.{name}")
            };
            match value {
                Json::Object(mut node) if node.len() == 1 && node.contains_key("ops") => {
                    if let Some(Json::Object(inner)) = node.remove("ops") {
                        flatten(&key, inner, out);
                    }
                }
                other => {
                    out.insert(key, other);
                }
            }
        }
    }
    if let Some(Json::Object(ops)) = json.get_mut("ops") {
        let nested = std::mem::take(ops);
        flatten("", nested, ops);
    }
    json
}

/// Checks the config of `step` in `run_config` against `schema`, with its defaults filled
/// in (and written back, so the step receives them).
fn check_step(run_config: &mut Json, step: &str, schema: &str) -> Result<(), ConfigError> {
    let bad_schema = |message: String| ConfigError::BadSchema {
        step: step.to_owned(),
        message,
    };
    let schema: Json = serde_json::from_str(schema).map_err(|e| bad_schema(e.to_string()))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| bad_schema(e.to_string()))?;
    let given = run_config
        .get("ops")
        .and_then(|ops| ops.get(step))
        .and_then(|s| s.get("config"))
        .cloned();
    let absent = given.is_none();
    let config = with_defaults(&schema, given);
    // No config and no defaults: an object schema checks an empty object (its required
    // fields are then named), any other schema checks `null`.
    let checked = match &config {
        Json::Null if absent && is_object_schema(&schema) => Json::Object(Default::default()),
        other => other.clone(),
    };
    let errors: Vec<String> = validator
        .iter_errors(&checked)
        .map(|e| {
            let mut path = format!("ops.{step}.config");
            for part in e.instance_path().to_string().split('/').skip(1) {
                path.push('.');
                path.push_str(&part.replace("~1", "/").replace("~0", "~"));
            }
            if absent && path.ends_with(".config") {
                format!("at {path} (no config given): {e}")
            } else {
                format!("at {path}: {e}")
            }
        })
        .collect();
    if !errors.is_empty() {
        return Err(ConfigError::Schema {
            step: step.to_owned(),
            errors,
        });
    }
    if config.is_null() {
        return Ok(());
    }
    let Json::Object(top) = run_config else {
        return Ok(());
    };
    let ops = top
        .entry("ops")
        .or_insert_with(|| Json::Object(Default::default()));
    if let Json::Object(ops) = ops {
        ops.insert(step.to_owned(), serde_json::json!({ "config": config }));
    }
    Ok(())
}

fn is_object_schema(schema: &Json) -> bool {
    schema.get("type").and_then(Json::as_str) == Some("object")
        || schema.get("properties").is_some()
}

/// `value` with the defaults `schema` gives filled in: the schema's own default when there
/// is no value, and every absent property that has a default, all the way down (an absent
/// object only when something in it has a default). `Json::Null` when there is nothing.
fn with_defaults(schema: &Json, value: Option<Json>) -> Json {
    let properties = schema.get("properties").and_then(Json::as_object);
    let absent = value.is_none();
    let mut value = match value {
        Some(v) => v,
        None => match (schema.get("default"), properties) {
            (Some(default), _) => default.clone(),
            (None, Some(_)) => Json::Object(Default::default()),
            (None, None) => return Json::Null,
        },
    };
    if let (Json::Object(object), Some(properties)) = (&mut value, properties) {
        for (name, property) in properties {
            let current = object.remove(name);
            match with_defaults(property, current.clone()) {
                Json::Null if current.is_none() => {}
                filled => {
                    object.insert(name.clone(), filled);
                }
            }
        }
        if absent && object.is_empty() && schema.get("default").is_none() {
            return Json::Null;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::StepTarget;
    use crate::plan::Step;

    fn plan() -> ExecutionPlan {
        let step = Step {
            key: "scale".into(),
            target: StepTarget::Op("scale".into()),
            inputs: vec![],
            upstream: vec![],
            outputs: vec![crate::plan::PlannedOutput::result()],
            retry_policy: None,
            tags: Default::default(),
            config_schema: None,
            hooks: Vec::new(),
            mapped_over: None,
            mapping_key: None,
        };
        ExecutionPlan {
            job: "j".into(),
            steps: vec![step],
        }
    }

    #[test]
    fn hands_each_step_its_config() {
        let cfg =
            RunConfig::parse(r#"{"ops": {"scale": {"config": {"factor": 3}}}}"#, &plan()).unwrap();
        assert_eq!(cfg.step_config("scale").as_deref(), Some(r#"{"factor":3}"#));
        assert_eq!(cfg.step_config("other"), None);
    }

    #[test]
    fn names_what_is_wrong() {
        let err = RunConfig::parse("{oops", &plan()).unwrap_err();
        assert!(
            err.to_string().starts_with("run config is not valid JSON"),
            "{err}"
        );
        let err = RunConfig::parse(r#"{"ops": {"nope": {"config": 1}}}"#, &plan()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "run config names step \"nope\", which job \"j\" does not have (steps: scale)"
        );
        let err = RunConfig::parse("[]", &plan()).unwrap_err();
        assert_eq!(err, ConfigError::NotAnObject("an array"));
    }

    fn schema_plan() -> ExecutionPlan {
        let mut plan = plan();
        plan.steps[0].config_schema = Some(
            r#"{"type": "object",
                "properties": {
                    "factor": {"type": "integer", "minimum": 1},
                    "label": {"type": "string", "default": "x"},
                    "window": {"type": "object",
                               "properties": {"days": {"type": "integer", "default": 7}}}
                },
                "required": ["factor"], "additionalProperties": false}"#
                .into(),
        );
        plan
    }

    #[test]
    fn checks_each_step_against_its_schema_naming_every_path() {
        let plan = schema_plan();
        let err = RunConfig::parse(
            r#"{"ops": {"scale": {"config": {"factor": "3", "window": {"days": "a"}}}}}"#,
            &plan,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("run config does not match the config schema of step \"scale\""),
            "{text}"
        );
        assert!(
            text.contains("at ops.scale.config.factor: \"3\" is not of type \"integer\""),
            "{text}"
        );
        assert!(
            text.contains("at ops.scale.config.window.days: \"a\""),
            "{text}"
        );
        let err = RunConfig::parse("{}", &plan).unwrap_err().to_string();
        assert!(
            err.contains(
                "at ops.scale.config (no config given): \"factor\" is a required property"
            ),
            "{err}"
        );
    }

    #[test]
    fn reads_dagsters_nesting_of_graphs() {
        let mut plan = plan();
        plan.steps[0].key = "outer.inner.scale".into();
        let cfg = RunConfig::parse(
            r#"{"ops": {"outer": {"ops": {"inner": {"ops": {"scale": {"config": {"f": 2}}}}}}}}"#,
            &plan,
        )
        .unwrap();
        assert_eq!(
            cfg.step_config("outer.inner.scale").as_deref(),
            Some(r#"{"f":2}"#)
        );
        let flat =
            RunConfig::parse(r#"{"ops": {"outer.inner.scale": {"config": 1}}}"#, &plan).unwrap();
        assert_eq!(flat.step_config("outer.inner.scale").as_deref(), Some("1"));
    }

    #[test]
    fn fills_in_defaults() {
        let cfg = RunConfig::parse(
            r#"{"ops": {"scale": {"config": {"factor": 3}}}}"#,
            &schema_plan(),
        )
        .unwrap();
        assert_eq!(
            cfg.step_config("scale").as_deref(),
            Some(r#"{"factor":3,"label":"x","window":{"days":7}}"#)
        );
        let mut plan = plan();
        plan.steps[0].config_schema =
            Some(r#"{"type":"object","properties":{"n":{"type":"integer","default":2}}}"#.into());
        let cfg = RunConfig::parse("{}", &plan).unwrap();
        assert_eq!(cfg.step_config("scale").as_deref(), Some(r#"{"n":2}"#));
        // An absent object with no defaults inside stays absent.
        plan.steps[0].config_schema = Some(
            r#"{"type":"object","properties":{"n":{"type":"integer"},
                "limits":{"type":"object","properties":{"cpu":{"type":"string"}}}}}"#
                .into(),
        );
        let cfg = RunConfig::parse(r#"{"ops": {"scale": {"config": {"n": 1}}}}"#, &plan).unwrap();
        assert_eq!(cfg.step_config("scale").as_deref(), Some(r#"{"n":1}"#));
        let cfg = RunConfig::parse("{}", &plan).unwrap();
        assert_eq!(cfg.step_config("scale"), None);
        plan.steps[0].config_schema = Some(r#"{"type": "nope"}"#.into());
        let err = RunConfig::parse("{}", &plan).unwrap_err();
        assert!(matches!(err, ConfigError::BadSchema { .. }), "{err}");
    }
}
