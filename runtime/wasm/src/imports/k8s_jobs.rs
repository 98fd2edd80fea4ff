//! The host side of the `k8s-jobs` import: an op's step starts a Kubernetes Job
//! (Dagster's `execute_k8s_job`). The guest's request is checked against the location's
//! grant (`k8s_jobs`) and the call's kind (only a step may), then handed to the process's
//! [`ExternalJobs`] with what the Job inherits from the step; the Job's log lines go to the
//! step's captured stdout as they come, and a log line records how the Job ended.
//!
//! The call waits off the guest's thread: at the step's deadline or its run's cancel the
//! guest's call is dropped, and the call's [`Cancel`] tells the Job's waiter to delete it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_core::Cancel;
use weft_core::defs::Tags;
use weft_core::events::LogLevel;
use weft_core::ports::{ExternalJob, ExternalJobError, ExternalJobStep, ExternalJobs};

use crate::bindings::k8s_jobs;
use crate::sandbox::{CallState, CapturedOutput};

/// The step a call serves, for the Jobs it starts: they inherit its run, tags and
/// environment, its deadline bounds them, and its cancel deletes them.
pub(crate) struct StepScope {
    pub(crate) run_id: String,
    pub(crate) step_key: String,
    pub(crate) attempt: u32,
    pub(crate) tags: Tags,
    pub(crate) step_tags: Tags,
    pub(crate) env: Arc<Vec<(String, String)>>,
    pub(crate) deadline: Instant,
    /// Raised when the call ends, however it ends: a Job still running is deleted.
    pub(crate) cancel: Cancel,
    /// Where Jobs run; `None` when this process has no way to start them.
    pub(crate) jobs: Option<Arc<dyn ExternalJobs>>,
    pub(crate) stdout: CapturedOutput,
}

/// The `k8s-jobs` part of a call: whether the location is granted Jobs, the step (only a
/// step may start one), and how many it started.
pub(crate) struct K8sJobsState {
    granted: bool,
    step: Option<StepScope>,
    started: u32,
    /// Raised by each Job's waiter when it is done (its Job ended, or was deleted).
    waiters: Vec<Cancel>,
}

impl K8sJobsState {
    pub(crate) fn new(granted: bool, step: Option<StepScope>) -> Self {
        K8sJobsState {
            granted,
            step,
            started: 0,
            waiters: Vec::new(),
        }
    }

    /// Waits, up to `timeout` in all, for the waiters of the Jobs this call started (the
    /// call's cancel has told those still running to delete their Job): a process that
    /// exits next must not leave a Job behind.
    pub(crate) fn settle(&self, timeout: Duration) {
        let until = Instant::now() + timeout;
        for done in &self.waiters {
            done.wait_timeout(until.saturating_duration_since(Instant::now()));
        }
    }
}

fn refused(message: &str) -> k8s_jobs::JobError {
    k8s_jobs::JobError {
        name: None,
        exit_code: None,
        message: message.to_owned(),
    }
}

fn external_job(spec: k8s_jobs::JobSpec) -> ExternalJob {
    ExternalJob {
        image: spec.image,
        command: spec.command,
        args: spec.args,
        env: spec.env,
        resources: spec.resources.map(|r| {
            (
                r.requests.into_iter().collect(),
                r.limits.into_iter().collect(),
            )
        }),
        config: spec.config,
        timeout: spec
            .timeout_seconds
            .map(|secs| Duration::from_secs(secs.into())),
    }
}

impl k8s_jobs::Host for CallState {
    async fn execute(
        &mut self,
        spec: k8s_jobs::JobSpec,
    ) -> Result<k8s_jobs::JobRun, k8s_jobs::JobError> {
        let state = &mut self.k8s_jobs;
        if !state.granted {
            return Err(refused(
                "this code location is not granted Kubernetes Jobs: add `k8s_jobs: true` under \
                 the location in weft.yaml",
            ));
        }
        let Some(scope) = state.step.as_ref() else {
            return Err(refused(
                "Kubernetes Jobs can be started only from an op's or asset's step, not while \
                 definitions, sensors or schedules are evaluated",
            ));
        };
        let Some(jobs) = scope.jobs.clone() else {
            return Err(refused("this Weft process cannot start Kubernetes Jobs"));
        };
        if spec.image.trim().is_empty() {
            return Err(refused("the Job has no image"));
        }
        let job = external_job(spec);
        let index = state.started;
        state.started += 1;
        let (run_id, step_key, attempt) =
            (scope.run_id.clone(), scope.step_key.clone(), scope.attempt);
        let (tags, step_tags, env) = (
            scope.tags.clone(),
            scope.step_tags.clone(),
            scope.env.clone(),
        );
        let (deadline, cancel, stdout) =
            (scope.deadline, scope.cancel.clone(), scope.stdout.clone());
        let image = job.image.clone();
        let done = Cancel::new();
        state.waiters.push(done.clone());
        // Kubernetes is waited for on a thread of its own, so the guest's call can be
        // dropped at its deadline; the cancel then deletes the Job.
        let waited = tokio::task::spawn_blocking(move || {
            let step = ExternalJobStep {
                run_id: &run_id,
                step_key: &step_key,
                attempt,
                tags: &tags,
                step_tags: &step_tags,
                env: &env,
                index,
                deadline,
            };
            let line = move |text: &str| {
                stdout.push(text.as_bytes());
                stdout.push(b"\n");
            };
            let outcome = jobs.execute(&job, &step, &line, &cancel);
            done.cancel();
            outcome
        })
        .await;
        let outcome = waited.unwrap_or_else(|e| {
            Err(ExternalJobError {
                name: None,
                exit_code: None,
                message: format!("waiting for the Job failed: {e}"),
            })
        });
        let (level, message) = match &outcome {
            Ok(name) => (
                LogLevel::Info,
                format!("Kubernetes Job {name} ({image}) succeeded"),
            ),
            Err(e) => (
                LogLevel::Error,
                format!("Kubernetes Job ({image}) did not succeed: {e}"),
            ),
        };
        let mut fields = Tags::new();
        if let Some(name) = outcome
            .as_ref()
            .ok()
            .or(outcome.as_ref().err().and_then(|e| e.name.as_ref()))
        {
            fields.insert("k8s_job".into(), name.clone());
        }
        self.log.host_line(level, message, fields);
        outcome.map(|name| k8s_jobs::JobRun { name }).map_err(
            |ExternalJobError {
                 name,
                 exit_code,
                 message,
             }| k8s_jobs::JobError {
                name,
                exit_code,
                message,
            },
        )
    }
}
