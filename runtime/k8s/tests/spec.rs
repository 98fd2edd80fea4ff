//! The Job specs of run, step and external pods, checked against what kube would send.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Container;
use weft_k8s::K8sError;
use weft_k8s::spec::*;

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
    assert_eq!(
        env,
        [
            "WEFT_HOME",
            "WEFT_POD_NAME",
            "WEFT_POD_UID",
            "WEFT_LOG",
            "WEFT_TOKEN",
            "SECRET_TOKEN"
        ]
    );
    // The pod's own name and uid, from the downward API.
    let uid = c.env.iter().flatten().find(|e| e.name == "WEFT_POD_UID");
    let field = uid.and_then(|e| e.value_from.as_ref()?.field_ref.as_ref());
    assert_eq!(field.map(|f| f.field_path.as_str()), Some("metadata.uid"));
    // Never root, no privilege escalation, no capabilities, unless weft.yaml says otherwise.
    let security = c.security_context.as_ref().expect("a security context");
    assert_eq!(security.allow_privilege_escalation, Some(false));
    let dropped = security.capabilities.as_ref().and_then(|c| c.drop.clone());
    assert_eq!(dropped, Some(vec!["ALL".to_owned()]));
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
    assert_eq!(c.env.as_ref().map(Vec::len), Some(7), "appended");
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
    let own =
        K8sTag::parse(r#"{"pod_spec_config": {"active_deadline_seconds": 600}}"#).expect("config");
    let workload = ExternalWorkload {
        name: external_job_name("r1", "transform", 1, 0),
        labels: BTreeMap::from([(RUN_LABEL.into(), "r1".into())]),
        image: "busybox:1.36".into(),
        command: vec!["sh".into(), "-c".into()],
        args: vec!["echo hi".into()],
        granted: vec![("GRANTED".into(), "1".into()), ("MODE".into(), "2".into())],
        env: vec![("MODE".into(), "job".into())],
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
        .map(|e| {
            let from = e
                .value_from
                .as_ref()
                .and_then(|f| f.secret_key_ref.as_ref());
            let secret = from.map(|s| s.name.as_str()).unwrap_or("");
            let value = e.value.as_deref().unwrap_or("");
            format!("{}={value}{}", e.name, &secret[..secret.len().min(9)])
        })
        .collect();
    assert_eq!(
        env,
        ["GRANTED=weft-env-", "MODE=job"],
        "no WEFT_HOME, no instance env; granted values by reference"
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

/// A tag that sets `field` of `part` to `value`.
fn tag_setting(part: &str, field: &str, value: serde_json::Value) -> K8sTag {
    let tag = serde_json::json!({ part: { field: value } });
    K8sTag::parse(&tag.to_string()).expect("tag")
}

#[test]
fn a_tag_may_not_change_what_a_pod_runs_or_its_rights() {
    let refused = [
        (
            "container_config",
            "image",
            serde_json::json!("evil:latest"),
        ),
        ("container_config", "command", serde_json::json!(["sh"])),
        (
            "container_config",
            "env_from",
            serde_json::json!([{"secretRef": {"name": "weft-db"}}]),
        ),
        (
            "container_config",
            "security_context",
            serde_json::json!({"privileged": true}),
        ),
        (
            "pod_spec_config",
            "service_account_name",
            serde_json::json!("admin"),
        ),
        ("pod_spec_config", "host_network", serde_json::json!(true)),
        (
            "pod_spec_config",
            "volumes",
            serde_json::json!([{"name": "h", "hostPath": {"path": "/"}}]),
        ),
        ("job_spec_config", "template", serde_json::json!({})),
    ];
    for (part, field, value) in refused {
        let workload = Workload {
            tags: vec![tag_setting(part, field, value)],
            ..workload(None)
        };
        let err = job(&config(), &workload).expect_err(field);
        let text = err.to_string();
        assert!(
            text.contains(&format!("may not set {part}.{field}")),
            "{text}"
        );
        assert!(text.contains("k8s.guest_overrides"), "{text}");
        let external = ExternalWorkload {
            image: "busybox:1.36".into(),
            tags: workload.tags.clone(),
            ..ExternalWorkload::default()
        };
        assert!(
            external_job(&config(), &external).is_err(),
            "{part}.{field}"
        );
    }
    // Environment: values it names, not Secrets, nor the instance's own variables.
    for env in [
        serde_json::json!([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "weft-db", "key": "url"}}}]),
        serde_json::json!([{"name": "WEFT_TOKEN", "value": "mine"}]),
        serde_json::json!([{"name": "SECRET_TOKEN", "value": "mine"}]),
        serde_json::json!({"X": "1"}),
    ] {
        let workload = Workload {
            tags: vec![tag_setting("container_config", "env", env.clone())],
            ..workload(None)
        };
        let err = job(&config(), &workload).expect_err("env");
        assert!(err.to_string().contains("env"), "{env}: {err}");
    }
}

#[test]
fn the_policy_widens_by_naming_fields_and_grants_external_jobs_weft_s_own() {
    let mut config = config();
    config.guest_overrides = serde_yaml_ng::from_str(
        "allow: [pod_spec_config.priority_class_name, container_config.*]\n\
         external_jobs: { service_account: true, instance_env: true }\n",
    )
    .expect("policy");
    let tag = tag_setting(
        "pod_spec_config",
        "priorityClassName",
        serde_json::json!("high"),
    );
    let image = tag_setting("container_config", "image", serde_json::json!("mine:1"));
    let job = job(
        &config,
        &Workload {
            tags: vec![tag, image],
            ..workload(None)
        },
    )
    .expect("job");
    assert_eq!(container(&job).image.as_deref(), Some("mine:1"));
    let selector = tag_setting("pod_spec_config", "node_selector", serde_json::json!({}));
    let workload = Workload {
        tags: vec![selector],
        ..workload(None)
    };
    assert!(
        job_refused(&config, &workload),
        "the list replaces the default"
    );

    let external = ExternalWorkload {
        image: "busybox:1.36".into(),
        ..ExternalWorkload::default()
    };
    let job = external_job(&config, &external).expect("job");
    let pod = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod");
    assert_eq!(pod.service_account_name.as_deref(), Some("weft"));
    let c = container(&job);
    assert!(c.env_from.is_some(), "the instance's Secrets, as granted");
    let env: Vec<_> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
    assert_eq!(env, ["WEFT_LOG", "WEFT_TOKEN"]);
}

fn job_refused(config: &PodConfig, workload: &Workload) -> bool {
    matches!(job(config, workload), Err(K8sError::Refused(_)))
}
