//! Kubernetes Jobs from an op (Dagster's `execute_k8s_job`): [`execute_k8s_job`] starts a
//! Job from any image, waits for it, and fails with a [`K8sJobError`] unless its container
//! exits 0. The Job's log lines are part of the step's stdout (its compute logs). The
//! location must be granted `k8s_jobs: true` in the instance's `weft.yaml`.
//!
//! ```ignore
//! use weft_sdk::prelude::*;
//! use weft_sdk::k8s::{K8sJob, execute_k8s_job};
//!
//! #[op]
//! fn transform(ctx: &OpContext) -> Result<String, Failure> {
//!     let job = K8sJob::new("registry.example/dbt:1.8")
//!         .command(["dbt", "run"])
//!         .env("TARGET", "prod")
//!         .timeout_seconds(600);
//!     Ok(execute_k8s_job(ctx, &job)?)
//! }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Failure, OpContext};

/// The Job to start. Deserializes from op config (`{"image": ..., "command": [...]}`), as
/// the `plugins/k8s-job` op takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct K8sJob {
    /// The container image.
    pub image: String,
    /// The entrypoint; empty keeps the image's.
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Added to what the step's pod inherits (the location's granted environment).
    pub env: BTreeMap<String, String>,
    /// Replaces the inherited resources when given.
    pub resources: Option<K8sResources>,
    /// A JSON object shaped as a `weft/k8s` tag (`container_config`, `pod_spec_config`,
    /// `pod_template_spec_metadata`, `job_spec_config`, `job_metadata`,
    /// `merge_behavior`), merged last.
    pub config: Option<serde_json::Value>,
    /// How long to wait for the Job; the step's deadline bounds it too.
    pub timeout_seconds: Option<u32>,
}

/// Resources as Kubernetes quantities: `requests` and `limits` (`cpu` = `500m`...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct K8sResources {
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

impl K8sJob {
    /// A Job running `image` with its own entrypoint.
    pub fn new(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
            ..Self::default()
        }
    }

    /// Sets the entrypoint.
    #[must_use]
    pub fn command<S: Into<String>>(mut self, command: impl IntoIterator<Item = S>) -> Self {
        self.command = command.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the arguments.
    #[must_use]
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Adds an environment variable.
    #[must_use]
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Sets the resources.
    #[must_use]
    pub fn resources(mut self, resources: K8sResources) -> Self {
        self.resources = Some(resources);
        self
    }

    /// Sets the `weft/k8s`-shaped config merged last.
    #[must_use]
    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = Some(config);
        self
    }

    /// Sets how long to wait.
    #[must_use]
    pub fn timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = Some(seconds);
        self
    }

    /// What is wrong with the Job before it is sent, if anything.
    fn check(&self) -> Result<(), K8sJobError> {
        let wrong = |message: &str| {
            Err(K8sJobError {
                name: None,
                exit_code: None,
                message: message.to_owned(),
            })
        };
        if self.image.trim().is_empty() {
            return wrong("the Job has no image");
        }
        if self.config.as_ref().is_some_and(|c| !c.is_object()) {
            return wrong("the Job's config must be a JSON object (shaped as a weft/k8s tag)");
        }
        Ok(())
    }
}

/// Why a Job did not succeed: it could not be started (no grant, no cluster, refused), it
/// failed, or it ran past its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K8sJobError {
    /// The Job's name, once it was created.
    pub name: Option<String>,
    /// Its container's exit code, when it exited non-zero.
    pub exit_code: Option<i32>,
    /// What happened (with the end of the Job's log when it failed).
    pub message: String,
}

impl fmt::Display for K8sJobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for K8sJobError {}

impl From<K8sJobError> for Failure {
    /// A retryable failure: a Job that failed may succeed on the step's next attempt.
    fn from(error: K8sJobError) -> Self {
        Failure::retryable(error.message)
    }
}

/// Starts `job` from the step of `ctx`, streams its log into the step's stdout and waits
/// for it. Returns the Job's name when its container exited 0.
pub fn execute_k8s_job(ctx: &OpContext, job: &K8sJob) -> Result<String, K8sJobError> {
    let _ = ctx; // Jobs belong to a step: the context proves there is one.
    job.check()?;
    host::execute(job)
}

#[cfg(target_arch = "wasm32")]
mod host {
    use super::{K8sJob, K8sJobError};
    use crate::bindings::weft::plugin::k8s_jobs as wit;

    pub(super) fn execute(job: &K8sJob) -> Result<String, K8sJobError> {
        let spec = wit::JobSpec {
            image: job.image.clone(),
            command: job.command.clone(),
            args: job.args.clone(),
            env: job.env.clone().into_iter().collect(),
            resources: job.resources.as_ref().map(|r| wit::Resources {
                requests: r.requests.clone().into_iter().collect(),
                limits: r.limits.clone().into_iter().collect(),
            }),
            config: job.config.as_ref().map(ToString::to_string),
            timeout_seconds: job.timeout_seconds,
        };
        wit::execute(&spec)
            .map(|run| run.name)
            .map_err(|e| K8sJobError {
                name: e.name,
                exit_code: e.exit_code,
                message: e.message,
            })
    }
}

/// An op named `$name` that runs the Kubernetes Job `$job` (a [`K8sJob`]) and returns
/// the Job's name: Dagster's `k8s_job_op.configured(config, name, description=...)`. Use
/// it in any job of a location granted `k8s_jobs: true`; a downstream op may take its
/// output as an ordering input.
///
/// ```ignore
/// weft_sdk::k8s_job_op!(echo_hello, K8sJob {
///     image: "busybox".into(),
///     command: vec!["/bin/sh".into(), "-c".into()],
///     args: vec!["echo HELLO".into()],
///     ..Default::default()
/// }, description = "Echoes hello in a Kubernetes Job");
/// ```
#[macro_export]
macro_rules! k8s_job_op {
    ($name:ident, $job:expr $(,)?) => {
        $crate::k8s_job_op!(
            $name,
            $job,
            description = "Runs a Kubernetes Job and returns its name"
        );
    };
    ($name:ident, $job:expr, description = $description:tt $(,)?) => {
        #[$crate::op(description = $description)]
        fn $name(
            ctx: &$crate::OpContext,
        ) -> ::core::result::Result<::std::string::String, $crate::Failure> {
            ::core::result::Result::Ok($crate::k8s::execute_k8s_job(ctx, &$job)?)
        }
    };
}

#[cfg(not(target_arch = "wasm32"))]
mod host {
    use super::{K8sJob, K8sJobError};

    pub(super) fn execute(_: &K8sJob) -> Result<String, K8sJobError> {
        Err(K8sJobError {
            name: None,
            exit_code: None,
            message: "Kubernetes Jobs run only inside the Weft host".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reads_from_op_config() {
        let job: K8sJob = serde_json::from_str(
            r#"{"image": "busybox", "command": ["sh", "-c"], "args": ["echo hi"],
                "env": {"A": "1"}, "resources": {"limits": {"memory": "1Gi"}},
                "timeout_seconds": 30}"#,
        )
        .expect("config");
        let built = K8sJob::new("busybox")
            .command(["sh", "-c"])
            .args(["echo hi"])
            .env("A", "1")
            .resources(K8sResources {
                limits: BTreeMap::from([("memory".into(), "1Gi".into())]),
                ..K8sResources::default()
            })
            .timeout_seconds(30);
        assert_eq!(job, built);
        let typo = serde_json::from_str::<K8sJob>(r#"{"image": "x", "comand": []}"#);
        assert!(typo.is_err_and(|e| e.to_string().contains("unknown field `comand`")));
    }

    #[test]
    fn a_bad_job_is_refused_before_it_is_sent() {
        let ctx = OpContext::for_test();
        let err = execute_k8s_job(&ctx, &K8sJob::default()).expect_err("no image");
        assert_eq!(err.message, "the Job has no image");
        let job = K8sJob::new("busybox").config(serde_json::json!(["not", "an", "object"]));
        let err = execute_k8s_job(&ctx, &job).expect_err("config");
        assert!(err.message.contains("JSON object"), "{err}");
        let err = execute_k8s_job(&ctx, &K8sJob::new("busybox")).expect_err("not in a host");
        assert!(err.message.contains("only inside the Weft host"), "{err}");
        let failure = Failure::from(err);
        assert!(failure.is_retryable());
    }
}
