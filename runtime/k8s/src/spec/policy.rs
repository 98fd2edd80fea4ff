//! What a `weft/k8s` tag may change in a pod (`k8s.guest_overrides` in weft.yaml). Tags come
//! from a code location's job, op and asset definitions, from a run's tags, and from the
//! config of the Jobs ops start, so they are the guest's say over its pods: by default they
//! may shape where a pod runs and how big it is (resources, node selector, tolerations,
//! affinity, deadlines, labels and annotations, environment values they name themselves),
//! never what it runs or with which rights (image, command, service account, volumes, host
//! namespaces, privileges, `envFrom`, values read from Secrets). The instance's admin widens
//! the list by naming fields. External Jobs get neither the instance's service account nor
//! its environment (Secrets) unless this policy says so. Pure.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::tag::{K8sTag, camel};
use crate::K8sError;

/// The fields a tag may set when weft.yaml does not list them, as `part.field`.
pub const DEFAULT_ALLOWED: &[&str] = &[
    "container_config.resources",
    "container_config.env",
    "pod_spec_config.node_selector",
    "pod_spec_config.tolerations",
    "pod_spec_config.affinity",
    "pod_spec_config.active_deadline_seconds",
    "pod_template_spec_metadata.labels",
    "pod_template_spec_metadata.annotations",
    "job_spec_config.active_deadline_seconds",
    "job_metadata.labels",
    "job_metadata.annotations",
];

/// `k8s.guest_overrides` in weft.yaml.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestOverrides {
    /// The fields tags may set, as `part.field` (`pod_spec_config.priority_class_name`), or
    /// `part.*` for all of a part. Replaces [`DEFAULT_ALLOWED`] when given.
    #[serde(default = "default_allowed")]
    pub allow: Vec<String>,
    /// What an op's external Jobs get of Weft's own.
    #[serde(default)]
    pub external_jobs: ExternalJobGrants,
}

/// What of the instance's own an op's external Job gets (by default: nothing).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalJobGrants {
    /// Run under the instance's `service_account_name`.
    #[serde(default)]
    pub service_account: bool,
    /// Get the instance's `env`, `env_config_maps`, `env_secrets` and `secret_env` (its
    /// database URL and token among them).
    #[serde(default)]
    pub instance_env: bool,
}

impl Default for GuestOverrides {
    fn default() -> Self {
        GuestOverrides {
            allow: default_allowed(),
            external_jobs: ExternalJobGrants::default(),
        }
    }
}

fn default_allowed() -> Vec<String> {
    DEFAULT_ALLOWED.iter().map(|s| (*s).to_owned()).collect()
}

impl GuestOverrides {
    /// Checks that `tag` sets only allowed fields, and that the environment it adds holds
    /// values it names itself, none of them one of `taken` (the variables the pod already
    /// has: Weft's own and the granted ones).
    pub fn check(&self, tag: &K8sTag, taken: &BTreeSet<String>) -> Result<(), K8sError> {
        let allowed = |part: &str, field: &str| {
            self.allow.iter().any(|entry| match entry.split_once('.') {
                Some((p, "*")) => p == part,
                Some((p, f)) => p == part && camel(f) == field,
                None => false,
            })
        };
        for (part, fields) in tag.parts() {
            for (key, value) in fields {
                let field = camel(key);
                if !allowed(part, &field) {
                    return Err(K8sError::Refused(format!(
                        "a weft/k8s tag may not set {part}.{key} (k8s.guest_overrides.allow in \
                         weft.yaml lists what tags may set: {})",
                        self.allow.join(", ")
                    )));
                }
                if part == "container_config" && field == "env" {
                    check_env(value, taken)?;
                }
            }
        }
        Ok(())
    }
}

/// A tag's `env`: a list of `{name, value}` whose names the pod does not already have.
fn check_env(env: &Value, taken: &BTreeSet<String>) -> Result<(), K8sError> {
    let refused = |why: String| Err(K8sError::Refused(format!("a weft/k8s tag's env: {why}")));
    let Value::Array(items) = env else {
        return refused("must be a list of {name, value}".into());
    };
    for item in items {
        let Some(var) = item.as_object() else {
            return refused("must be a list of {name, value}".into());
        };
        let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
        if let Some(other) = var.keys().find(|k| !matches!(k.as_str(), "name" | "value")) {
            return refused(format!(
                "{name} sets {other}: a tag names values, it may not read them from Secrets, \
                 ConfigMaps or the pod"
            ));
        }
        if taken.contains(name) || name.starts_with("WEFT_") {
            return refused(format!(
                "{name} is the instance's own and cannot be replaced"
            ));
        }
    }
    Ok(())
}

impl K8sTag {
    /// The tag's parts by name, as written in it.
    pub(super) fn parts(&self) -> [(&'static str, &Map<String, Value>); 5] {
        [
            ("container_config", &self.container_config),
            ("pod_spec_config", &self.pod_spec_config),
            (
                "pod_template_spec_metadata",
                &self.pod_template_spec_metadata,
            ),
            ("job_spec_config", &self.job_spec_config),
            ("job_metadata", &self.job_metadata),
        ]
    }
}
