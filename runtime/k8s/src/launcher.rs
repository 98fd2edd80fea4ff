//! Runs and steps as Kubernetes Jobs: the `k8s` run launcher (Dagster's `K8sRunLauncher`: a
//! Job per run whose pod runs `weft execute-run RUN_ID`) and the `k8s-job` executor
//! (Dagster's `k8s_job_executor`: a Job per step attempt whose pod runs `weft step RUN_ID
//! STEP_KEY --attempt N --answer db`). Both pods run the instance's one image, read the run
//! and its pinned components by digest from the database, and write there: a run's pod
//! writes its events, a step's pod its answer, which [`K8sStepRunner`] reads once the Job
//! ended (through the [`StepAnswers`] port). The run's executor keeps its job (the graph,
//! `max_concurrent`, retries under the step's policy, never the Job's `backoffLimit`). Pods
//! get what `k8s:` in weft.yaml says, a `weft/k8s` tag's overrides, and the environment
//! their code locations are granted.

use std::collections::BTreeMap;
use std::sync::Arc;

use weft_core::Cancel;
use weft_core::defs::Tags;
use weft_core::events::FailureKind;
use weft_core::ports::{RunLauncher, StepAnswers, StepAttempt, StepRequest, StepRunner};
use weft_core::run::RunRecord;

use crate::spec::{self, K8sTag, RUN_LABEL, STEP_LABEL};
use crate::{K8sError, Kube, PodConfig, Workload};

/// Lines of a pod's log quoted when its Job ended without doing its work.
const TAIL_LINES: i64 = 20;

/// The instance's Kubernetes: the client, the pods' defaults, and the environment each code
/// location is granted (by name, with this process's values).
pub struct K8sPods {
    kube: Kube,
    config: PodConfig,
    env: BTreeMap<String, Vec<(String, String)>>,
    runtime: tokio::runtime::Handle,
}

impl K8sPods {
    /// Connects to the cluster `config` names (its `kubeconfig`, else `KUBECONFIG`, else
    /// the pod's service account); `env` is the environment each code location is granted.
    /// The caller checks that `config` names an image.
    pub async fn connect(
        config: PodConfig,
        env: BTreeMap<String, Vec<(String, String)>>,
    ) -> Result<Arc<K8sPods>, K8sError> {
        let kube = Kube::connect(config.namespace.as_deref(), config.kubeconfig.as_deref()).await?;
        Ok(Arc::new(K8sPods {
            kube,
            config,
            env,
            runtime: tokio::runtime::Handle::current(),
        }))
    }

    /// The environment of the code locations of `location` (`a+b` across locations).
    fn env_of(&self, location: &str) -> Vec<(String, String)> {
        location
            .split('+')
            .filter_map(|name| self.env.get(name))
            .flatten()
            .cloned()
            .collect()
    }

    /// The `weft/k8s` tags of a run (`step_tags` empty) or of a step: the run's, then the
    /// op's or asset's own.
    fn tags(tags: &Tags, step_tags: &Tags) -> Result<Vec<K8sTag>, String> {
        spec::tag_layers(tags, step_tags).map_err(|e| e.to_string())
    }

    /// Deletes Job `name` with its pods (blocking); a failure is only logged.
    fn delete(&self, name: &str) {
        if let Err(e) = self.runtime.block_on(self.kube.delete(name)) {
            tracing::warn!("{e}");
        }
    }

    /// Runs `workload` as a Job to its end, or until `cancel` deletes it (blocking; not on
    /// the async runtime). Returns whether it completed and how it ended, with its pod's
    /// last log lines if it failed.
    fn run(&self, workload: &Workload, cancel: &Cancel) -> Result<(bool, String), String> {
        let job = spec::job(&self.config, workload).map_err(|e| e.to_string())?;
        self.runtime.block_on(async {
            if !workload.env.is_empty() {
                self.kube
                    .ensure_secret(&spec::env_secret(&workload.env))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let finished = self
                .kube
                .run(&job, cancel)
                .await
                .map_err(|e| e.to_string())?;
            let mut how = format!("Job {}: {}", workload.name, finished.reason);
            if !finished.succeeded {
                match self.kube.tail(&workload.name, TAIL_LINES).await {
                    Ok(tail) if !tail.trim().is_empty() => {
                        how.push_str("; the end of its log:\n");
                        how.push_str(tail.trim_end());
                    }
                    Ok(_) => {}
                    Err(e) => how.push_str(&format!("; its log could not be read: {e}")),
                }
            }
            Ok((finished.succeeded, how))
        })
    }
}

/// The `k8s` run launcher (Dagster's `K8sRunLauncher`): each run in a Job of its own.
pub struct K8sRunLauncher(pub Arc<K8sPods>);

impl RunLauncher for K8sRunLauncher {
    fn execute(&self, run: &RunRecord) -> Result<String, String> {
        let pods = &self.0;
        let workload = Workload {
            name: spec::run_job_name(&run.run_id),
            args: vec!["execute-run".into(), run.run_id.clone()],
            labels: BTreeMap::from([(RUN_LABEL.into(), spec::label_value(&run.run_id))]),
            env: pods.env_of(&run.location),
            tags: K8sPods::tags(&run.tags, &Tags::new())?,
        };
        // A canceled run stops in its own pod (it watches the database), not here.
        pods.run(&workload, &Cancel::new()).map(|(_, how)| how)
    }
}

/// The `k8s-job` executor's step runner: each attempt in a Job of its own.
pub struct K8sStepRunner {
    pub pods: Arc<K8sPods>,
    /// Where the steps' pods answer.
    pub answers: Arc<dyn StepAnswers>,
}

impl StepRunner for K8sStepRunner {
    fn run_step(&self, request: &StepRequest, cancel: &Cancel) -> StepAttempt {
        let (run_id, step, attempt) = (&request.run_id, &request.step_key, request.attempt);
        let location = self.answers.location_of(run_id).unwrap_or_default();
        let tags = match K8sPods::tags(&request.tags, &request.step_tags) {
            Ok(tags) => tags,
            Err(message) => return StepAttempt::lost(message, false),
        };
        let workload = Workload {
            name: spec::step_job_name(run_id, step, attempt),
            args: vec![
                "step".into(),
                run_id.clone(),
                step.clone(),
                "--attempt".into(),
                attempt.to_string(),
                "--answer".into(),
                "db".into(),
            ],
            labels: BTreeMap::from([
                (RUN_LABEL.into(), spec::label_value(run_id)),
                (STEP_LABEL.into(), spec::label_value(step)),
            ]),
            env: self.pods.env_of(&location),
            tags,
        };
        let ended = self.pods.run(&workload, cancel);
        if cancel.is_canceled() {
            return StepAttempt::failed(
                format!(
                    "canceled: the run was canceled while the step ran; {}",
                    ended.map_or_else(|e| e, |(_, how)| how)
                ),
                FailureKind::Canceled,
                false,
            );
        }
        // The pod's answer counts, whatever happened to the pod after it answered.
        match self.answers.answer(request) {
            Some(Ok(attempt)) => {
                // A step its run's cancel stopped ended its pod itself, maybe before this
                // process saw the cancel: its Job goes, as a canceled step's Job does.
                if matches!(&attempt.result, Err(f) if f.kind == FailureKind::Canceled) {
                    self.pods.delete(&workload.name);
                }
                attempt
            }
            Some(Err(message)) => StepAttempt::lost(message, true),
            None => match ended {
                Err(message) => {
                    StepAttempt::lost(format!("the step's Job could not run: {message}"), true)
                }
                Ok((_, how)) => {
                    StepAttempt::lost(format!("the step's {how}\nbefore it answered"), true)
                }
            },
        }
    }
}
