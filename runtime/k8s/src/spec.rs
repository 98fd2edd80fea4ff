//! The Jobs Weft creates, as data: a run's pod runs `weft execute-run RUN_ID`, a step's pod
//! `weft step RUN_ID STEP_KEY --attempt N --answer db`, both from the one image of the
//! instance. What the pod looks like comes in layers, as in Dagster's `dagster-k8s`: the
//! instance defaults in weft.yaml ([`PodConfig`]), then a `weft/k8s` tag on the job, op or
//! asset ([`K8sTag`]: `container_config`, `pod_spec_config`, `pod_template_spec_metadata`,
//! `job_spec_config`, `job_metadata`), merged deeply by default (maps merged key by key,
//! lists appended) or shallowly (top-level fields replaced; the tag itself is in `tag.rs`).
//! Pure: no client here.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, EnvVarSource, LocalObjectReference, PodSecurityContext,
    PodSpec, PodTemplateSpec, ResourceRequirements, SecretEnvSource, SecretKeySelector,
    SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::K8sError;

mod tag;

use tag::apply_tag;
pub use tag::{K8sTag, MergeBehavior, TAG, tag_layers};

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
    #[serde(default)]
    pub security_context: Option<SecurityContext>,
    #[serde(default)]
    pub pod_security_context: Option<PodSecurityContext>,
    /// Labels of every Job and pod.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How long finished Jobs are kept. Default: one day.
    #[serde(default)]
    pub ttl_seconds_after_finished: Option<i32>,
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
    env.extend(workload.env.iter().map(|(k, v)| env_var(k, v)));
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
        security_context: config.security_context.clone(),
        ..Container::default()
    };
    let pod = PodSpec {
        containers: vec![container],
        restart_policy: Some("Never".into()),
        service_account_name: config.service_account_name.clone(),
        node_selector: (!config.node_selector.is_empty()).then(|| config.node_selector.clone()),
        tolerations: (!config.tolerations.is_empty()).then(|| config.tolerations.clone()),
        volumes: (!config.volumes.is_empty()).then(|| config.volumes.clone()),
        security_context: config.pod_security_context.clone(),
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
    workload.tags.iter().try_fold(job, apply_tag)
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
    /// The step's environment then the Job's own; a later variable replaces an earlier
    /// one of the same name.
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
/// secrets, security contexts, labels, TTL), but nothing that is Weft's own: not the
/// instance's environment, ConfigMaps or Secrets, service account, volumes or home.
pub fn external_job(config: &PodConfig, workload: &ExternalWorkload) -> Result<Job, K8sError> {
    let inherited = PodConfig {
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
    let base = Workload {
        name: workload.name.clone(),
        args: workload.args.clone(),
        labels: workload.labels.clone(),
        env: Vec::new(),
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
    let mut env: Vec<EnvVar> = Vec::new();
    for (name, value) in &workload.env {
        match env.iter_mut().find(|e| e.name == *name) {
            Some(var) => var.value = Some(value.clone()),
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
    workload.tags.iter().try_fold(job, apply_tag)
}

fn env_var(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..EnvVar::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PodConfig {
        serde_yaml_ng::from_str(
            "image: registry.example/weft:1\n\
             namespace: data\n\
             service_account_name: weft\n\
             env: {WEFT_LOG: info}\n\
             env_secrets: [weft-db]\n\
             secret_env: {WEFT_TOKEN: {secret: weft-auth, key: token}}\n\
             resources: {requests: {cpu: 250m}}\n\
             node_selector: {pool: batch}\n\
             tolerations: [{key: batch, operator: Exists}]\n\
             labels: {team: data}\n",
        )
        .expect("config")
    }

    fn workload(tag: Option<&str>) -> Workload {
        Workload {
            name: step_job_name("r1", "add_one", 1),
            args: vec!["step".into(), "r1".into(), "add_one".into()],
            labels: BTreeMap::from([(STEP_LABEL.into(), label_value("add_one"))]),
            env: vec![("SECRET_TOKEN".into(), "s3cr3t".into())],
            tags: tag
                .map(|t| K8sTag::parse(t).expect("tag"))
                .into_iter()
                .collect(),
        }
    }

    fn container(job: &Job) -> &Container {
        let spec = job.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        &spec.expect("pod spec").containers[0]
    }

    #[test]
    fn the_instance_defaults_make_the_pod() {
        let job = job(&config(), &workload(None)).expect("job");
        let c = container(&job);
        assert_eq!(c.image.as_deref(), Some("registry.example/weft:1"));
        assert_eq!(c.command.as_deref(), Some(&["/weft".to_owned()][..]));
        let env: Vec<_> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
        assert_eq!(env, ["WEFT_HOME", "WEFT_LOG", "WEFT_TOKEN", "SECRET_TOKEN"]);
        let token = c.env.iter().flatten().find(|e| e.name == "WEFT_TOKEN");
        let from = token.and_then(|e| e.value_from.as_ref()?.secret_key_ref.as_ref());
        assert_eq!(
            from.map(|s| (s.name.as_str(), s.key.as_str())),
            Some(("weft-auth", "token"))
        );
        let spec = job.spec.as_ref().expect("spec");
        assert_eq!(spec.backoff_limit, Some(0), "Weft retries, not the Job");
        let pod = spec.template.spec.as_ref().expect("pod");
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(pod.service_account_name.as_deref(), Some("weft"));
        let labels = job.metadata.labels.as_ref().expect("labels");
        assert_eq!(labels.get("team").map(String::as_str), Some("data"));
        assert_eq!(labels.get(STEP_LABEL).map(String::as_str), Some("add_one"));
    }

    #[test]
    fn a_tag_merges_deeply_by_default() {
        let tag = r#"{
            "container_config": {"resources": {"requests": {"memory": "1Gi"}},
                                 "env": [{"name": "EXTRA", "value": "1"}]},
            "pod_spec_config": {"node_selector": {"disk": "ssd"},
                                "tolerations": [{"key": "gpu", "operator": "Exists"}]},
            "pod_template_spec_metadata": {"annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}},
            "job_metadata": {"labels": {"my_label": "x"}}
        }"#;
        let job = job(&config(), &workload(Some(tag))).expect("job");
        let c = container(&job);
        let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        let requests: Vec<_> = requests.expect("requests").keys().cloned().collect();
        assert_eq!(requests, ["cpu", "memory"]);
        assert_eq!(c.env.as_ref().map(Vec::len), Some(5), "appended");
        let pod = job.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        let pod = pod.expect("pod");
        assert_eq!(pod.node_selector.as_ref().map(|n| n.len()), Some(2));
        assert_eq!(pod.tolerations.as_ref().map(Vec::len), Some(2));
        let labels = job.metadata.labels.as_ref().expect("labels");
        assert!(
            labels.contains_key("my_label"),
            "label keys stay as written"
        );
    }

    #[test]
    fn a_shallow_tag_replaces_fields() {
        let tag = r#"{"merge_behavior": "SHALLOW",
                      "pod_spec_config": {"tolerations": [{"key": "gpu", "operator": "Exists"}]}}"#;
        let job = job(&config(), &workload(Some(tag))).expect("job");
        let pod = job.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        let tolerations = pod
            .and_then(|p| p.tolerations.as_ref())
            .expect("tolerations");
        assert_eq!(tolerations.len(), 1);
        assert_eq!(tolerations[0].key.as_deref(), Some("gpu"));
    }

    #[test]
    fn a_bad_tag_is_an_error_that_says_why() {
        let err = K8sTag::parse(r#"{"container": {}}"#).expect_err("unknown field");
        assert!(
            err.to_string().contains("unknown field `container`"),
            "{err}"
        );
        let tag = r#"{"container_config": {"resources": {"requests": "lots"}}}"#;
        let err = job(&config(), &workload(Some(tag))).expect_err("not a map");
        assert!(err.to_string().contains("weft/k8s"), "{err}");
    }

    #[test]
    fn an_external_job_inherits_where_not_what_weft_pods_run_with() {
        let step_tag =
            K8sTag::parse(r#"{"container_config": {"resources": {"limits": {"memory": "2Gi"}}}}"#)
                .expect("tag");
        let own = K8sTag::parse(r#"{"pod_spec_config": {"active_deadline_seconds": 600}}"#)
            .expect("config");
        let workload = ExternalWorkload {
            name: external_job_name("r1", "transform", 1, 0),
            labels: BTreeMap::from([(RUN_LABEL.into(), "r1".into())]),
            image: "busybox:1.36".into(),
            command: vec!["sh".into(), "-c".into()],
            args: vec!["echo hi".into()],
            env: vec![
                ("GRANTED".into(), "1".into()),
                ("MODE".into(), "step".into()),
                ("MODE".into(), "job".into()),
            ],
            resources: None,
            tags: vec![step_tag, own],
        };
        let job = external_job(&config(), &workload).expect("job");
        let c = container(&job);
        assert_eq!(c.image.as_deref(), Some("busybox:1.36"));
        assert_eq!(
            c.command.as_deref(),
            Some(&["sh".to_owned(), "-c".to_owned()][..])
        );
        let env: Vec<_> = c
            .env
            .iter()
            .flatten()
            .map(|e| format!("{}={}", e.name, e.value.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            env,
            ["GRANTED=1", "MODE=job"],
            "no WEFT_HOME, no instance env"
        );
        assert!(c.env_from.is_none(), "the instance's Secrets are Weft's");
        let resources = c.resources.as_ref().expect("resources");
        assert!(
            resources
                .requests
                .as_ref()
                .is_some_and(|r| r.contains_key("cpu"))
        );
        assert!(
            resources
                .limits
                .as_ref()
                .is_some_and(|l| l.contains_key("memory"))
        );
        let pod = job
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .expect("pod");
        assert_eq!(pod.service_account_name, None);
        assert_eq!(pod.node_selector.as_ref().map(|n| n.len()), Some(1));
        assert_eq!(pod.active_deadline_seconds, Some(600));
        assert_eq!(job.metadata.namespace.as_deref(), Some("data"));

        let own_resources = ExternalWorkload {
            resources: Some((
                BTreeMap::new(),
                BTreeMap::from([("cpu".into(), "2".into())]),
            )),
            tags: Vec::new(),
            command: Vec::new(),
            ..workload
        };
        let job = external_job(&config(), &own_resources).expect("job");
        let c = container(&job);
        assert_eq!(c.command, None, "the image's entrypoint");
        let resources = c.resources.as_ref().expect("resources");
        assert_eq!(resources.requests, None, "replaced, not merged");
        assert!(
            resources
                .limits
                .as_ref()
                .is_some_and(|l| l.contains_key("cpu"))
        );
    }

    #[test]
    fn an_ops_tag_merges_over_its_runs() {
        let run = r#"{"container_config": {"resources": {"limits": {"memory": "512Mi"}}},
                      "pod_spec_config": {"tolerations": [{"key": "batch", "operator": "Exists"}]}}"#;
        let op = r#"{"container_config": {"resources": {"limits": {"memory": "4Gi"}}}}"#;
        let step_tags = BTreeMap::from([(TAG.to_owned(), op.to_owned())]);
        let tags = BTreeMap::from([(TAG.to_owned(), run.to_owned())]);
        let workload = Workload {
            tags: tag_layers(&tags, &step_tags).expect("tags"),
            ..workload(None)
        };
        let job = job(&config(), &workload).expect("job");
        let limits = container(&job)
            .resources
            .as_ref()
            .and_then(|r| r.limits.as_ref());
        assert_eq!(limits.expect("limits")["memory"].0, "4Gi", "the op's wins");
        let pod = job.spec.as_ref().and_then(|s| s.template.spec.as_ref());
        let tolerations = pod
            .and_then(|p| p.tolerations.as_ref())
            .expect("tolerations");
        assert_eq!(tolerations.len(), 2, "the run's still applies");
        // Without a run tag of its own, the step's tags carry the op's once.
        assert_eq!(tag_layers(&step_tags, &step_tags).expect("tags").len(), 1);
        assert!(
            tag_layers(&BTreeMap::new(), &BTreeMap::new())
                .expect("none")
                .is_empty()
        );
    }

    #[test]
    fn names_are_valid_and_distinct() {
        assert_ne!(
            external_job_name("r1", "a", 1, 0),
            external_job_name("r1", "a", 1, 1)
        );
        let a = step_job_name("r1", "a", 1);
        assert_ne!(a, step_job_name("r1", "a", 2));
        assert_ne!(a, step_job_name("r2", "a", 1));
        assert!(a.len() <= 63 && run_job_name("0193-x").len() <= 63);
        assert_eq!(label_value("fan.out[2]"), "fan.out_2");
        assert_eq!(label_value(&"x".repeat(80)).len(), 63);
    }
}
