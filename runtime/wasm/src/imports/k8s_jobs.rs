//! The host side of the `k8s-jobs` import: an op's step starts a Kubernetes Job
//! (Dagster's `execute_k8s_job`). The guest's request is checked against the location's
//! grant (`k8s_jobs`) and the call's kind (only a step may), then handed to the process's
//! [`ExternalJobs`] with what the Job inherits from the step; the Job's log lines go to the
//! step's captured stdout as they come, and a log line records how the Job ended.

use std::time::Duration;

use weft_core::defs::Tags;
use weft_core::events::LogLevel;
use weft_core::ports::{ExternalJob, ExternalJobError, ExternalJobStep, LogLine};

use crate::bindings::k8s_jobs;
use crate::sandbox::CallState;

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
    fn execute(&mut self, spec: k8s_jobs::JobSpec) -> Result<k8s_jobs::JobRun, k8s_jobs::JobError> {
        if !self.k8s_jobs_granted {
            return Err(refused(
                "this code location is not granted Kubernetes Jobs: add `k8s_jobs: true` under \
                 the location in weft.yaml",
            ));
        }
        let Some(scope) = self.step.as_mut() else {
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
        let index = scope.started;
        scope.started += 1;
        let step = ExternalJobStep {
            run_id: &scope.run_id,
            step_key: &scope.step_key,
            attempt: scope.attempt,
            tags: &scope.tags,
            step_tags: &scope.step_tags,
            env: &scope.env,
            index,
            deadline: scope.deadline,
        };
        let stdout = scope.stdout.clone();
        let line = move |text: &str| {
            stdout.push(text.as_bytes());
            stdout.push(b"\n");
        };
        let outcome = jobs.execute(&job, &step, &line);
        let (level, message) = match &outcome {
            Ok(name) => (
                LogLevel::Info,
                format!("Kubernetes Job {name} ({}) succeeded", job.image),
            ),
            Err(e) => (
                LogLevel::Error,
                format!("Kubernetes Job ({}) did not succeed: {e}", job.image),
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
        self.logs.push(LogLine {
            timestamp_ms: weft_core::now_ms(),
            level,
            message,
            fields,
        });
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
