//! The external-Jobs port: a Kubernetes Job an op's step asks for (`k8s-jobs.execute`;
//! Dagster's `execute_k8s_job`). The wasm host calls it while the guest waits; the k8s
//! crate implements it.

use crate::cancel::Cancel;
use crate::defs::Tags;

/// A Kubernetes Job an op's step asked to run (`k8s-jobs.execute`; Dagster's
/// `execute_k8s_job`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExternalJob {
    pub image: String,
    /// The entrypoint; empty keeps the image's.
    pub command: Vec<String>,
    pub args: Vec<String>,
    /// Added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// `(requests, limits)`, replacing the inherited resources when given.
    pub resources: Option<(Tags, Tags)>,
    /// JSON text shaped as a `weft/k8s` tag, merged last.
    pub config: Option<String>,
    /// How long to wait, at most; the step's deadline bounds it too.
    pub timeout: Option<std::time::Duration>,
}

/// The step an external Job is started from: what its pod inherits and how it is named.
#[derive(Clone, Copy, Debug)]
pub struct ExternalJobStep<'a> {
    pub run_id: &'a str,
    pub step_key: &'a str,
    pub attempt: u32,
    /// The step's tags with the run's over them, and its own (their `weft/k8s` tags shape
    /// the Job's pod as they shape a step pod).
    pub tags: &'a Tags,
    pub step_tags: &'a Tags,
    /// The environment the step's location is granted.
    pub env: &'a [(String, String)],
    /// 0 for the first Job this attempt starts, 1 for the second...
    pub index: u32,
    /// When the step's deadline passes.
    pub deadline: std::time::Instant,
}

/// Why an external Job did not succeed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExternalJobError {
    /// The Job's name, once it was created.
    pub name: Option<String>,
    /// Its container's exit code, when it exited non-zero.
    pub exit_code: Option<i32>,
    pub message: String,
}

/// Where external Jobs run (implemented over the Kubernetes client by `weft-k8s`).
/// Blocking: called from a thread of its own while the guest waits.
pub trait ExternalJobs: Send + Sync {
    /// Starts `job` for `step`, hands each line of its pod's log to `line` as it is
    /// written, and waits for the Job to end. Returns the Job's name when its container
    /// exited 0. When `cancel` is raised first (the step was canceled or timed out), the
    /// Job is deleted and the call returns an error saying so.
    fn execute(
        &self,
        job: &ExternalJob,
        step: &ExternalJobStep<'_>,
        line: &(dyn Fn(&str) + Send + Sync),
        cancel: &Cancel,
    ) -> Result<String, ExternalJobError>;
}
