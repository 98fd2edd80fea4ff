//! Run config (Dagster's run config): `{"ops": {"<step key>": {"config": <any JSON>}}}`.
//!
//! The host only checks the shape and that every step named exists; what a step's config
//! means is the op's business (it receives it as JSON text).

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
            outputs: vec!["result".into()],
            retry_policy: None,
            tags: Default::default(),
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
}
