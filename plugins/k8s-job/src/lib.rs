//! The `k8s_job` plugin (Dagster's `k8s_job_op`): a code location with one op, `k8s_job`,
//! that runs the Kubernetes Job its config describes, and one job, `run_k8s_job`, made of
//! that op. Nothing is compiled in: the image, command, environment and resources are data,
//! the run config of each run:
//!
//! ```yaml
//! ops:
//!   k8s_job:
//!     config:
//!       image: registry.example/dbt:1.8
//!       command: [dbt, run]
//!       env: { TARGET: prod }
//!       resources: { limits: { memory: 2Gi } }
//!       timeout_seconds: 1800
//! ```
//!
//! The step succeeds with the Job's name when its container exits 0 and fails (retryably)
//! otherwise; the Job's log is the step's stdout. The location must be granted
//! `k8s_jobs: true` in the instance's `weft.yaml`.

use weft_sdk::k8s::{K8sJob, execute_k8s_job};
use weft_sdk::prelude::*;

#[op(
    description = "Run one Kubernetes Job described by the config (image, command, args, env, resources, config, timeout_seconds) and wait for it",
    // The JSON Schema of `weft_sdk::k8s::K8sJob`.
    config_schema = r#"{"type":"object","required":["image"],"additionalProperties":false,"properties":{"image":{"type":"string","description":"The container image"},"command":{"type":"array","items":{"type":"string"},"description":"The entrypoint; empty keeps the image's"},"args":{"type":"array","items":{"type":"string"}},"env":{"type":"object","additionalProperties":{"type":"string"}},"resources":{"type":"object","properties":{"requests":{"type":"object","additionalProperties":{"type":"string"}},"limits":{"type":"object","additionalProperties":{"type":"string"}}}},"config":{"type":"object","description":"Shaped as a weft/k8s tag, merged last"},"timeout_seconds":{"type":"integer","minimum":1}}}"#
)]
fn k8s_job(ctx: &OpContext) -> Result<String, Failure> {
    let job: K8sJob = ctx.config()?;
    ctx.log()
        .info(format!("starting a Job of image {}", job.image));
    Ok(execute_k8s_job(ctx, &job)?)
}

#[job(description = "One Kubernetes Job, described by the run config (ops.k8s_job.config)")]
fn run_k8s_job() {
    k8s_job();
}

weft_sdk::definitions! { jobs: [run_k8s_job] }
