//! The `weft/k8s` tag (Dagster's `dagster-k8s/config`): its parts (`container_config`,
//! `pod_spec_config`, `pod_template_spec_metadata`, `job_spec_config`, `job_metadata`), the
//! order a step's tags apply in, and how one is merged into a Job: deeply by default (maps
//! merged key by key, lists appended) or shallowly (top-level fields replaced), with
//! snake_case field names made camelCase but for the keys of free-form maps. Pure.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::K8sError;

/// The tag that overrides the pod of a job's run or of an op's or asset's step.
pub const TAG: &str = weft_core::tags::K8S;

/// How a tag's fields combine with the instance's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MergeBehavior {
    /// Maps merged key by key, lists appended, other values replaced.
    #[default]
    Deep,
    /// Each top-level field given replaces the instance's.
    Shallow,
}

/// A `weft/k8s` tag (JSON), as Dagster's `dagster-k8s/config`. Field names inside may be
/// snake_case or camelCase.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K8sTag {
    #[serde(default)]
    pub container_config: Map<String, Value>,
    #[serde(default)]
    pub pod_spec_config: Map<String, Value>,
    #[serde(default)]
    pub pod_template_spec_metadata: Map<String, Value>,
    #[serde(default)]
    pub job_spec_config: Map<String, Value>,
    #[serde(default)]
    pub job_metadata: Map<String, Value>,
    #[serde(default)]
    pub merge_behavior: MergeBehavior,
}

impl K8sTag {
    /// Reads the tag's JSON text.
    pub fn parse(text: &str) -> Result<K8sTag, K8sError> {
        serde_json::from_str(text).map_err(|e| K8sError::Tag(e.to_string()))
    }
}

/// The `weft/k8s` tags (or Dagster's `dagster-k8s/config`) of a step, in the order they
/// apply: the run's (or its job's), then the op's or asset's own, which wins where both
/// set a field (as in Dagster). `tags` is
/// the step's tags with the run's over them; `step_tags` its own.
pub fn tag_layers(
    tags: &BTreeMap<String, String>,
    step_tags: &BTreeMap<String, String>,
) -> Result<Vec<K8sTag>, K8sError> {
    let own = weft_core::tags::get(step_tags, TAG);
    let run = weft_core::tags::get(tags, TAG).filter(|run| Some(*run) != own);
    run.into_iter()
        .chain(own)
        .map(|text| K8sTag::parse(text))
        .collect()
}

/// Merges `tag` into `job`'s metadata, spec, pod template and first container.
pub(super) fn apply_tag(job: Job, tag: &K8sTag) -> Result<Job, K8sError> {
    let mut value = serde_json::to_value(&job).map_err(|e| K8sError::Tag(e.to_string()))?;
    let how = tag.merge_behavior;
    let parts: [(&[&str], &Map<String, Value>); 5] = [
        (&["metadata"], &tag.job_metadata),
        (&["spec"], &tag.job_spec_config),
        (
            &["spec", "template", "metadata"],
            &tag.pod_template_spec_metadata,
        ),
        (&["spec", "template", "spec"], &tag.pod_spec_config),
        (
            &["spec", "template", "spec", "containers", "0"],
            &tag.container_config,
        ),
    ];
    for (path, fields) in parts {
        if fields.is_empty() {
            continue;
        }
        let target = at(&mut value, path)
            .ok_or_else(|| K8sError::Tag(format!("the Job has no {}", path.join("."))))?;
        merge(
            target,
            &camel_case_keys(&Value::Object(fields.clone()), None),
            how,
        );
    }
    serde_json::from_value(value).map_err(|e| K8sError::Tag(e.to_string()))
}

/// The value at `path` (object keys, or list indexes as numbers), made an object if missing.
fn at<'v>(mut value: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    for key in path {
        value = match value {
            Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?)?,
            Value::Object(map) => map
                .entry((*key).to_owned())
                .or_insert_with(|| Value::Object(Map::new())),
            _ => return None,
        };
    }
    Some(value)
}

fn merge(target: &mut Value, overlay: &Value, how: MergeBehavior) {
    let (Value::Object(target), Value::Object(overlay)) = (&mut *target, overlay) else {
        *target = overlay.clone();
        return;
    };
    for (key, new) in overlay {
        match (target.get_mut(key), how) {
            (Some(old @ Value::Object(_)), MergeBehavior::Deep) if new.is_object() => {
                merge(old, new, MergeBehavior::Deep);
            }
            (Some(Value::Array(old)), MergeBehavior::Deep) if new.is_array() => {
                if let Value::Array(items) = new {
                    old.extend(items.iter().cloned());
                }
            }
            _ => {
                target.insert(key.clone(), new.clone());
            }
        }
    }
}

/// Maps whose keys are the user's own (labels, resource names...): left as written.
const FREE_FORM: &[&str] = &[
    "labels",
    "annotations",
    "nodeSelector",
    "requests",
    "limits",
    "matchLabels",
    "data",
    "stringData",
];

/// `value` with its field names in camelCase (`node_selector` → `nodeSelector`), but for
/// the keys of free-form maps.
fn camel_case_keys(value: &Value, parent: Option<&str>) -> Value {
    match value {
        Value::Object(map) => {
            let free = parent.is_some_and(|p| FREE_FORM.contains(&p));
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let key = if free { k.clone() } else { camel(k) };
                        let child = camel_case_keys(v, Some(&key));
                        (key, child)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| camel_case_keys(v, parent)).collect())
        }
        other => other.clone(),
    }
}

pub(super) fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
