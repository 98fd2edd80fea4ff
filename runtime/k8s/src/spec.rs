//! The Jobs Weft creates, as data: a run's pod runs `weft execute-run RUN_ID`, a step's pod
//! `weft step RUN_ID STEP_KEY --attempt N --answer db`, both from the one image of the
//! instance. What the pod looks like comes in layers, as in Dagster's `dagster-k8s`: the
//! instance defaults in weft.yaml ([`PodConfig`]), then a `weft/k8s` tag on the job, op or
//! asset ([`K8sTag`]: `container_config`, `pod_spec_config`, `pod_template_spec_metadata`,
//! `job_spec_config`, `job_metadata`), merged deeply by default (maps merged key by key,
//! lists appended) or shallowly (top-level fields replaced; the tag itself is in `tag.rs`).
//! Pure: no client here.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, EnvVarSource, LocalObjectReference, ObjectFieldSelector,
    PodSecurityContext, PodSpec, PodTemplateSpec, ResourceRequirements, Secret, SecretEnvSource,
    SecretKeySelector, SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::K8sError;

mod policy;
pub mod security;
mod tag;

pub use policy::{DEFAULT_ALLOWED, ExternalJobGrants, GuestOverrides};
use tag::apply_tag;
pub use tag::{K8sTag, MergeBehavior, TAG, tag_layers};

/// The variables of Weft's pods that hold the pod's own name and uid.
pub const POD_NAME_ENV: &str = "WEFT_POD_NAME";
pub const POD_UID_ENV: &str = "WEFT_POD_UID";

/// The label every Job and pod Weft creates carries, with the run's id.
pub const RUN_LABEL: &str = "weft/run-id";

/// The label of a step's Job and pod, with the step's key (made a valid label value).
pub const STEP_LABEL: &str = "weft/step-key";

/// The instance's defaults for every pod it starts (`k8s:` in weft.yaml; Dagster's
/// `K8sRunLauncher` config).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodConfig {
    /// Where Jobs are created; default: the namespace of the kubeconfig or of the pod.
    #[serde(default)]
    pub namespace: Option<String>,
    /// The kubeconfig file to reach the cluster with (its current context); default:
    /// `KUBECONFIG`, `~/.kube/config`, else the pod's service account.
    #[serde(default)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The image that carries the `weft` binary (never user code). Needed by the `k8s`
    /// launcher and the `k8s-job` executor, not by ops' own Jobs.
    #[serde(default)]
    pub image: String,
    /// The command that runs `weft` in the image. Default: `["/weft"]`.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub image_pull_policy: Option<String>,
    #[serde(default)]
    pub image_pull_secrets: Vec<String>,
    #[serde(default)]
    pub service_account_name: Option<String>,
    /// `WEFT_HOME` in the pods (where the instance's weft.yaml is mounted). Default:
    /// `/var/lib/weft`.
    #[serde(default)]
    pub home: Option<String>,
    /// Environment variables by value.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// ConfigMaps whose keys become environment variables.
    #[serde(default)]
    pub env_config_maps: Vec<String>,
    /// Secrets whose keys become environment variables (the database URL, say).
    #[serde(default)]
    pub env_secrets: Vec<String>,
    /// Environment variables read from one key of a Secret each:
    /// `{WEFT_TOKEN: {secret: weft-auth, key: token}}`.
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretKey>,
    #[serde(default)]
    pub resources: Option<ResourceRequirements>,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    #[serde(default)]
    pub volume_mounts: Vec<VolumeMount>,
    /// The containers' security context. Default: Pod Security Admission's `restricted`
    /// ([`security::container_default`]).
    #[serde(default)]
    pub security_context: Option<SecurityContext>,
    /// The pods' security context. Default: never root, seccomp `RuntimeDefault`
    /// ([`security::pod_default`]).
    #[serde(default)]
    pub pod_security_context: Option<PodSecurityContext>,
    /// Labels of every Job and pod.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How long finished Jobs are kept. Default: one day.
    #[serde(default)]
    pub ttl_seconds_after_finished: Option<i32>,
    /// What `weft/k8s` tags and ops' external Jobs may change or get.
    #[serde(default)]
    pub guest_overrides: GuestOverrides,
}

/// One key of a Secret.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKey {
    pub secret: String,
    pub key: String,
}

/// What one Job runs: its name, `weft`'s arguments, its labels, the environment it adds
/// (a code location's) and the `weft/k8s` tags applied to it, in order.
#[derive(Clone, Debug, Default)]
pub struct Workload {
    pub name: String,
    pub args: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub env: Vec<(String, String)>,
    pub tags: Vec<K8sTag>,
}

/// The name of run `run_id`'s Job.
pub fn run_job_name(run_id: &str) -> String {
    format!("weft-run-{}", short_hash(&[run_id]))
}

/// The name of the Job of attempt `attempt` of step `step_key` of run `run_id`.
pub fn step_job_name(run_id: &str, step_key: &str, attempt: u32) -> String {
    format!(
        "weft-step-{}",
        short_hash(&[run_id, step_key, &attempt.to_string()])
    )
}

/// `value` as a valid label value: at most 63 characters of `[A-Za-z0-9._-]`, starting and
/// ending with an alphanumeric.
pub fn label_value(value: &str) -> String {
    let mapped: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    mapped
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

fn short_hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..10])
}

/// The name of the Secret holding the granted environment `env`: `weft-env-` and a hash
/// of its names and values, so that a Secret of that name holds exactly these.
pub fn env_secret_name(env: &[(String, String)]) -> String {
    let parts: Vec<&str> = env
        .iter()
        .flat_map(|(k, v)| [k.as_str(), v.as_str()])
        .collect();
    format!("weft-env-{}", short_hash(&parts))
}

/// The Secret a Job's pod reads a code location's granted environment from (the variables
/// it is granted by name, with the launching process's values), which the launcher creates
/// before the Job ([`crate::Kube::ensure_secret`]).
pub fn env_secret(env: &[(String, String)]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(env_secret_name(env)),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "weft".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(
            env.iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes())))
                .collect(),
        ),
        type_: Some("Opaque".into()),
        ..Secret::default()
    }
}

/// The Job for `workload` under the instance's `config`, with its tag applied.
pub fn job(config: &PodConfig, workload: &Workload) -> Result<Job, K8sError> {
    let mut labels = config.labels.clone();
    labels.extend(workload.labels.clone());
    labels.insert("app.kubernetes.io/managed-by".into(), "weft".into());
    let mut env: Vec<EnvVar> = vec![EnvVar {
        name: "WEFT_HOME".into(),
        value: Some(
            config
                .home
                .clone()
                .unwrap_or_else(|| "/var/lib/weft".into()),
        ),
        ..EnvVar::default()
    }];
    // The pod's own name and uid (the downward API): an op's external Jobs name the step's
    // pod as their owner, so that deleting it deletes them (`crate::external`).
    for (name, field) in [
        (POD_NAME_ENV, "metadata.name"),
        (POD_UID_ENV, "metadata.uid"),
    ] {
        env.push(EnvVar {
            name: name.into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: field.into(),
                    api_version: None,
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
    }
    env.extend(config.env.iter().map(|(k, v)| env_var(k, v)));
    env.extend(config.secret_env.iter().map(|(name, from)| EnvVar {
        name: name.clone(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: from.secret.clone(),
                key: from.key.clone(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }));
    // The location's granted environment, by reference to its Secret: the Job's spec
    // never carries the values.
    let secret = env_secret_name(&workload.env);
    env.extend(workload.env.iter().map(|(name, _)| EnvVar {
        name: name.clone(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.clone(),
                key: name.clone(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }));
    let env_from = config
        .env_config_maps
        .iter()
        .map(|name| EnvFromSource {
            config_map_ref: Some(k8s_openapi::api::core::v1::ConfigMapEnvSource {
                name: name.clone(),
                optional: None,
            }),
            ..EnvFromSource::default()
        })
        .chain(config.env_secrets.iter().map(|name| EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: name.clone(),
                optional: None,
            }),
            ..EnvFromSource::default()
        }))
        .collect::<Vec<_>>();
    let container = Container {
        name: "weft".into(),
        image: Some(config.image.clone()),
        image_pull_policy: config.image_pull_policy.clone(),
        command: Some(
            config
                .command
                .clone()
                .unwrap_or_else(|| vec!["/weft".into()]),
        ),
        args: Some(workload.args.clone()),
        env: Some(env),
        env_from: (!env_from.is_empty()).then_some(env_from),
        resources: config.resources.clone(),
        volume_mounts: (!config.volume_mounts.is_empty()).then(|| config.volume_mounts.clone()),
        security_context: Some(
            config
                .security_context
                .clone()
                .unwrap_or_else(security::container_default),
        ),
        ..Container::default()
    };
    let pod = PodSpec {
        containers: vec![container],
        restart_policy: Some("Never".into()),
        service_account_name: config.service_account_name.clone(),
        node_selector: (!config.node_selector.is_empty()).then(|| config.node_selector.clone()),
        tolerations: (!config.tolerations.is_empty()).then(|| config.tolerations.clone()),
        volumes: (!config.volumes.is_empty()).then(|| config.volumes.clone()),
        security_context: Some(
            config
                .pod_security_context
                .clone()
                .unwrap_or_else(security::pod_default),
        ),
        image_pull_secrets: (!config.image_pull_secrets.is_empty()).then(|| {
            config
                .image_pull_secrets
                .iter()
                .map(|name| LocalObjectReference { name: name.clone() })
                .collect()
        }),
        ..PodSpec::default()
    };
    let meta = ObjectMeta {
        name: Some(workload.name.clone()),
        namespace: config.namespace.clone(),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    };
    let job = Job {
        metadata: meta,
        spec: Some(JobSpec {
            // Weft retries steps and runs itself, under their policies.
            backoff_limit: Some(0),
            ttl_seconds_after_finished: Some(config.ttl_seconds_after_finished.unwrap_or(86_400)),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..JobSpec::default()
        }),
        status: None,
    };
    apply_tags(&config.guest_overrides, job, &workload.tags)
}

/// `tags` applied to `job` in order, each first checked against `policy`.
fn apply_tags(policy: &GuestOverrides, job: Job, tags: &[K8sTag]) -> Result<Job, K8sError> {
    let taken: std::collections::BTreeSet<String> = job
        .spec
        .iter()
        .filter_map(|s| s.template.spec.as_ref())
        .flat_map(|p| p.containers.first())
        .flat_map(|c| c.env.iter().flatten())
        .map(|e| e.name.clone())
        .collect();
    for tag in tags {
        policy.check(tag, &taken)?;
    }
    tags.iter().try_fold(job, apply_tag)
}

/// A Job an op's step starts from an image of its own (Dagster's `execute_k8s_job`).
#[derive(Clone, Debug, Default)]
pub struct ExternalWorkload {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub image: String,
    /// The entrypoint; empty keeps the image's.
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// The environment the step's code location is granted, which the pod reads from the
    /// Secret [`env_secret`] makes of it (its values never in the Job's spec).
    pub granted: Vec<(String, String)>,
    /// The Job's own variables, by value; one replaces a granted variable of its name.
    pub env: Vec<(String, String)>,
    /// `(requests, limits)`, replacing the instance's resources when given.
    pub resources: Option<(BTreeMap<String, String>, BTreeMap<String, String>)>,
    /// The step's `weft/k8s` tag, then the Job's own config, applied in order.
    pub tags: Vec<K8sTag>,
}

/// The name of the `index`th external Job of attempt `attempt` of step `step_key`.
pub fn external_job_name(run_id: &str, step_key: &str, attempt: u32, index: u32) -> String {
    format!(
        "weft-job-{}",
        short_hash(&[run_id, step_key, &attempt.to_string(), &index.to_string()])
    )
}

/// The Job for an op's `workload` under the instance's `config`. Its pod inherits where
/// and how Weft's pods run (namespace, resources, node selector, tolerations, pull
/// secrets, security contexts, labels, TTL) and its location's granted environment, but
/// nothing that is Weft's own (the instance's environment, ConfigMaps and Secrets, its
/// service account) unless `k8s.guest_overrides.external_jobs` grants it; never its
/// volumes or home.
pub fn external_job(config: &PodConfig, workload: &ExternalWorkload) -> Result<Job, K8sError> {
    let grants = &config.guest_overrides.external_jobs;
    let mut inherited = PodConfig {
        namespace: config.namespace.clone(),
        image: workload.image.clone(),
        image_pull_secrets: config.image_pull_secrets.clone(),
        resources: config.resources.clone(),
        node_selector: config.node_selector.clone(),
        tolerations: config.tolerations.clone(),
        security_context: config.security_context.clone(),
        pod_security_context: config.pod_security_context.clone(),
        labels: config.labels.clone(),
        ttl_seconds_after_finished: config.ttl_seconds_after_finished,
        ..PodConfig::default()
    };
    if grants.service_account {
        inherited.service_account_name = config.service_account_name.clone();
    }
    if grants.instance_env {
        inherited.env = config.env.clone();
        inherited.env_config_maps = config.env_config_maps.clone();
        inherited.env_secrets = config.env_secrets.clone();
        inherited.secret_env = config.secret_env.clone();
    }
    let base = Workload {
        name: workload.name.clone(),
        args: workload.args.clone(),
        labels: workload.labels.clone(),
        env: workload.granted.clone(),
        tags: Vec::new(),
    };
    let mut job = job(&inherited, &base)?;
    let container = job
        .spec
        .as_mut()
        .and_then(|s| s.template.spec.as_mut())
        .and_then(|p| p.containers.first_mut())
        .ok_or_else(|| K8sError::Tag("the Job has no container".into()))?;
    container.name = "job".into();
    container.command = (!workload.command.is_empty()).then(|| workload.command.clone());
    container.args = (!workload.args.is_empty()).then(|| workload.args.clone());
    // Not Weft's home: the image is not Weft's.
    let mut env: Vec<EnvVar> = container.env.take().unwrap_or_default();
    env.retain(|e| !["WEFT_HOME", POD_NAME_ENV, POD_UID_ENV].contains(&e.name.as_str()));
    for (name, value) in &workload.env {
        match env.iter_mut().find(|e| e.name == *name) {
            Some(var) => *var = env_var(name, value),
            None => env.push(env_var(name, value)),
        }
    }
    container.env = (!env.is_empty()).then_some(env);
    if let Some((requests, limits)) = &workload.resources {
        let quantities = |map: &BTreeMap<String, String>| {
            (!map.is_empty()).then(|| {
                map.iter()
                    .map(|(k, v)| (k.clone(), Quantity(v.clone())))
                    .collect()
            })
        };
        container.resources = Some(ResourceRequirements {
            requests: quantities(requests),
            limits: quantities(limits),
            ..ResourceRequirements::default()
        });
    }
    apply_tags(&config.guest_overrides, job, &workload.tags)
}

fn env_var(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..EnvVar::default()
    }
}
