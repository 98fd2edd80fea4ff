//! External Kubernetes Jobs started by ops (`k8s-jobs.execute`; Dagster's
//! `execute_k8s_job`), the [`ExternalJobs`] port for every process that runs steps: the
//! Job is built by [`spec::external_job`] from the instance's `k8s:` defaults, the step's
//! `weft/k8s` tag and the op's own request, created in the cluster kube finds
//! (`KUBECONFIG`, else the pod's service account; connected on first use), followed line by
//! line into the step's stdout and waited for within the step's deadline. The location's
//! granted environment reaches the Job's pod through a Secret, as it reaches step pods.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use weft_core::Cancel;
use weft_core::ports::{ExternalJob, ExternalJobError, ExternalJobStep, ExternalJobs};

use crate::spec::{self, RUN_LABEL, STEP_LABEL};
use crate::{ExternalWorkload, K8sTag, Kube, PodConfig};

/// Lines of the end of a failed Job's log quoted in the step's failure.
const QUOTED_LINES: usize = 10;

/// The label that tells an op's Job from Weft's own run and step Jobs.
const EXTERNAL_LABEL: &str = "weft/external-job";

/// Starts ops' Jobs in the instance's cluster.
pub struct KubeJobs {
    config: PodConfig,
    kube: tokio::sync::OnceCell<Kube>,
    runtime: tokio::runtime::Handle,
}

impl KubeJobs {
    /// The Jobs of ops, in pods shaped by `config` (weft.yaml's `k8s:`), started from the
    /// async runtime `runtime` (the calls themselves come from step threads, off it).
    pub fn new(config: PodConfig, runtime: tokio::runtime::Handle) -> Arc<KubeJobs> {
        Arc::new(KubeJobs {
            config,
            kube: tokio::sync::OnceCell::new(),
            runtime,
        })
    }

    fn workload(
        &self,
        job: &ExternalJob,
        step: &ExternalJobStep<'_>,
    ) -> Result<ExternalWorkload, String> {
        let mut tags =
            spec::tag_layers(step.tags, step.step_tags).map_err(|e| format!("the step's {e}"))?;
        if let Some(text) = &job.config {
            tags.push(
                K8sTag::parse(text).map_err(|e| format!("the Job's config is not valid: {e}"))?,
            );
        }
        Ok(ExternalWorkload {
            name: spec::external_job_name(step.run_id, step.step_key, step.attempt, step.index),
            labels: [
                (RUN_LABEL, spec::label_value(step.run_id)),
                (STEP_LABEL, spec::label_value(step.step_key)),
                (EXTERNAL_LABEL, "true".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            image: job.image.clone(),
            command: job.command.clone(),
            args: job.args.clone(),
            granted: step.env.to_vec(),
            env: job.env.clone(),
            resources: job.resources.clone(),
            tags,
        })
    }
}

impl ExternalJobs for KubeJobs {
    fn execute(
        &self,
        job: &ExternalJob,
        step: &ExternalJobStep<'_>,
        line: &(dyn Fn(&str) + Send + Sync),
        cancel: &Cancel,
    ) -> Result<String, ExternalJobError> {
        let refused = |message: String| ExternalJobError {
            name: None,
            exit_code: None,
            message,
        };
        let workload = self.workload(job, step).map_err(refused)?;
        let mut spec =
            spec::external_job(&self.config, &workload).map_err(|e| refused(e.to_string()))?;
        // Run from a step's pod, the Job is that pod's: Kubernetes deletes it with the pod,
        // whatever becomes of the step's process.
        if let (Ok(name), Ok(uid)) = (
            std::env::var(spec::POD_NAME_ENV),
            std::env::var(spec::POD_UID_ENV),
        ) {
            spec.metadata.owner_references = Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Pod".into(),
                name,
                uid,
                ..OwnerReference::default()
            }]);
        }
        let left = step.deadline.saturating_duration_since(Instant::now());
        let timeout = job.timeout.map_or(left, |t| t.min(left));
        if timeout < Duration::from_secs(1) {
            return Err(refused(
                "the step's deadline leaves no time to run a Job (raise the location's step \
                 timeout: sandbox.step_timeout_seconds in weft.yaml)"
                    .into(),
            ));
        }
        let tail = Mutex::new(VecDeque::with_capacity(QUOTED_LINES));
        let follow = |text: &str| {
            line(text);
            if let Ok(mut tail) = tail.lock() {
                if tail.len() == QUOTED_LINES {
                    tail.pop_front();
                }
                tail.push_back(text.to_owned());
            }
        };
        let name = workload.name.clone();
        let finished = self.runtime.block_on(async {
            let kube = self
                .kube
                .get_or_try_init(|| {
                    Kube::connect(
                        self.config.namespace.as_deref(),
                        self.config.kubeconfig.as_deref(),
                    )
                })
                .await?;
            if !workload.granted.is_empty() {
                kube.ensure_secret(&spec::env_secret(&workload.granted))
                    .await?;
            }
            kube.run_following(&spec, timeout, cancel, follow).await
        });
        let finished = finished.map_err(|e| ExternalJobError {
            name: Some(name.clone()),
            exit_code: None,
            message: e.to_string(),
        })?;
        if finished.succeeded {
            return Ok(name);
        }
        let mut message = format!("Job {name}: {}", finished.reason);
        let tail = tail.into_inner().unwrap_or_default();
        if !tail.is_empty() {
            message.push_str("; the end of its log:\n");
            message.push_str(&Vec::from(tail).join("\n"));
        }
        Err(ExternalJobError {
            name: Some(name),
            exit_code: finished.exit_code.filter(|code| *code != 0),
            message,
        })
    }
}
