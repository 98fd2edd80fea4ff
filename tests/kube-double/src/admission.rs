//! Job admission in the test double of the Kubernetes API server (not a Kubernetes): the
//! defaults and validation the real server applies to a Job on create (`spec.selector` on
//! `batch.kubernetes.io/controller-uid`, the `controller-uid`/`job-name` labels on the
//! template and, when it has none, on the Job, `backoffLimit` 6, the pod template's defaults;
//! 422 for what the real server refuses and for what the double does not support), and the
//! pod the Job controller makes from the template (name, labels, ownerReference, what
//! admission adds to every pod, its QoS class).

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::{Pod, PodSpec, PodStatus, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference};

use crate::status::{ApiError, FieldError};
use crate::store::{Kind, new_uid, now, random_suffix};

const UNSUPPORTED: &str = "(not supported by the test double of the Kubernetes API server)";

fn invalid(name: &str, errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(Job::resource(), name, errors))
    }
}

/// Defaults and validates a Job being created (its uid already set), as the real server does.
pub(crate) fn admit(job: &mut Job) -> Result<(), ApiError> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let mut errors = Vec::new();
    if name.len() > 63 {
        errors.push(FieldError::invalid(
            "metadata.name",
            &name,
            "must be no more than 63 characters",
        ));
    }
    let Some(spec) = job.spec.as_mut() else {
        errors.push(FieldError::required("spec.template", ""));
        return invalid(&name, errors);
    };
    if spec.selector.is_some() && spec.manual_selector != Some(true) {
        errors.push(FieldError::invalid(
            "spec.selector",
            "",
            "`selector` will be auto-generated",
        ));
    }
    for (field, value) in [
        ("spec.parallelism", spec.parallelism),
        ("spec.completions", spec.completions),
    ] {
        if value.is_some_and(|v| v != 1) {
            errors.push(FieldError::invalid(
                field,
                &value.unwrap_or_default().to_string(),
                &format!("only 1 is supported {UNSUPPORTED}"),
            ));
        }
    }
    if spec
        .completion_mode
        .as_deref()
        .is_some_and(|m| m != "NonIndexed")
    {
        errors.push(FieldError::not_supported(
            "spec.completionMode",
            spec.completion_mode.as_deref().unwrap_or_default(),
            &format!("\"NonIndexed\" {UNSUPPORTED}"),
        ));
    }
    if spec.suspend == Some(true) {
        errors.push(FieldError::invalid("spec.suspend", "true", UNSUPPORTED));
    }
    if spec.pod_failure_policy.is_some() {
        errors.push(FieldError::invalid(
            "spec.podFailurePolicy",
            "",
            UNSUPPORTED,
        ));
    }
    if spec.success_policy.is_some() {
        errors.push(FieldError::invalid("spec.successPolicy", "", UNSUPPORTED));
    }
    if spec.backoff_limit.is_some_and(|b| b < 0) {
        errors.push(FieldError::invalid(
            "spec.backoffLimit",
            &spec.backoff_limit.unwrap_or_default().to_string(),
            "must be greater than or equal to 0",
        ));
    }
    if spec.active_deadline_seconds.is_some_and(|d| d <= 0) {
        errors.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            &spec.active_deadline_seconds.unwrap_or_default().to_string(),
            "must be greater than 0",
        ));
    }
    let template = &mut spec.template;
    let pod_spec = template.spec.get_or_insert_with(Default::default);
    match pod_spec.restart_policy.as_deref() {
        Some("Never") => {}
        Some("OnFailure") => errors.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            "OnFailure",
            &format!("\"Never\" {UNSUPPORTED}"),
        )),
        None | Some("") => errors.push(FieldError::required(
            "spec.template.spec.restartPolicy",
            "valid values: \"OnFailure\", \"Never\"",
        )),
        Some(other) => errors.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            other,
            "\"OnFailure\", \"Never\"",
        )),
    }
    if pod_spec.containers.is_empty() {
        errors.push(FieldError::required("spec.template.spec.containers", ""));
    }
    if pod_spec.containers.len() > 1
        || pod_spec
            .init_containers
            .as_ref()
            .is_some_and(|c| !c.is_empty())
    {
        errors.push(FieldError::invalid(
            "spec.template.spec.containers",
            "",
            &format!("only one container and no init containers {UNSUPPORTED}"),
        ));
    }
    for (i, c) in pod_spec.containers.iter_mut().enumerate() {
        if c.name.is_empty() {
            errors.push(FieldError::required(
                format!("spec.template.spec.containers[{i}].name"),
                "",
            ));
        }
        let image = c.image.clone().unwrap_or_default();
        if image.is_empty() {
            errors.push(FieldError::required(
                format!("spec.template.spec.containers[{i}].image"),
                "",
            ));
        }
        c.termination_message_path
            .get_or_insert_with(|| "/dev/termination-log".to_string());
        c.termination_message_policy
            .get_or_insert_with(|| "File".to_string());
        let tag = image.rsplit('/').next().unwrap_or_default();
        let latest = !tag.contains(':') || tag.ends_with(":latest");
        c.image_pull_policy
            .get_or_insert_with(|| if latest { "Always" } else { "IfNotPresent" }.to_string());
        c.resources.get_or_insert_with(Default::default);
    }
    invalid(&name, errors)?;
    pod_spec
        .dns_policy
        .get_or_insert_with(|| "ClusterFirst".to_string());
    pod_spec
        .scheduler_name
        .get_or_insert_with(|| "default-scheduler".to_string());
    pod_spec
        .security_context
        .get_or_insert_with(Default::default);
    pod_spec.termination_grace_period_seconds.get_or_insert(30);
    let labels = template.metadata.get_or_insert_with(Default::default);
    let labels = labels.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", uid.as_str()),
        ("batch.kubernetes.io/job-name", name.as_str()),
        ("controller-uid", uid.as_str()),
        ("job-name", name.as_str()),
    ] {
        labels.insert(k.to_string(), v.to_string());
    }
    let template_labels = labels.clone();
    spec.selector = Some(LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "batch.kubernetes.io/controller-uid".to_string(),
            uid,
        )])),
        ..LabelSelector::default()
    });
    spec.backoff_limit.get_or_insert(6);
    spec.completions.get_or_insert(1);
    spec.parallelism.get_or_insert(1);
    spec.completion_mode
        .get_or_insert_with(|| "NonIndexed".to_string());
    spec.suspend.get_or_insert(false);
    spec.manual_selector = None;
    spec.pod_replacement_policy
        .get_or_insert_with(|| "TerminatingOrFailed".to_string());
    if job.metadata.labels.as_ref().is_none_or(BTreeMap::is_empty) {
        job.metadata.labels = Some(template_labels);
    }
    job.metadata.generation = Some(1);
    job.status = Some(JobStatus::default());
    Ok(())
}

/// The pod the controller creates from the Job's template.
pub(crate) fn pod_for(job: &Job) -> Pod {
    let job_name = job.metadata.name.clone().unwrap_or_default();
    let template = job.spec.clone().unwrap_or_default().template;
    let mut meta = template.metadata.unwrap_or_default();
    let mut spec = template.spec.unwrap_or_default();
    let base: String = job_name.chars().take(57).collect();
    meta.generate_name = Some(format!("{base}-"));
    meta.name = Some(format!("{base}-{}", random_suffix()));
    meta.namespace = job.metadata.namespace.clone();
    meta.uid = Some(new_uid());
    meta.creation_timestamp = Some(now());
    meta.owner_references = Some(vec![OwnerReference {
        api_version: "batch/v1".to_string(),
        kind: "Job".to_string(),
        name: job_name,
        uid: job.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }]);
    // What admission adds to every pod.
    spec.service_account_name
        .get_or_insert_with(|| "default".to_string());
    spec.service_account = spec.service_account_name.clone();
    spec.enable_service_links.get_or_insert(true);
    spec.priority.get_or_insert(0);
    spec.preemption_policy
        .get_or_insert_with(|| "PreemptLowerPriority".to_string());
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        if !tolerations.iter().any(|t| t.key.as_deref() == Some(key)) {
            tolerations.push(Toleration {
                key: Some(key.to_string()),
                operator: Some("Exists".to_string()),
                effect: Some("NoExecute".to_string()),
                toleration_seconds: Some(300),
                value: None,
            });
        }
    }
    let qos = qos_class(&spec);
    Pod {
        metadata: meta,
        spec: Some(spec),
        status: Some(PodStatus {
            phase: Some("Pending".to_string()),
            qos_class: Some(qos.to_string()),
            ..PodStatus::default()
        }),
    }
}

fn qos_class(spec: &PodSpec) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for c in &spec.containers {
        let r = c.resources.clone().unwrap_or_default();
        let limits = r.limits.unwrap_or_default();
        let requests = r.requests.unwrap_or_default();
        any |= !limits.is_empty() || !requests.is_empty();
        for res in ["cpu", "memory"] {
            let limit = limits.get(res);
            guaranteed &= limit.is_some() && requests.get(res).is_none_or(|q| Some(q) == limit);
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}
