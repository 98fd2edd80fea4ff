//! # weft-k8s
//!
//! Weft on Kubernetes, the only crate that knows kube: the Jobs of run and step pods as
//! data ([`spec`]: instance defaults, `weft/k8s` tags) and [`Kube`], the client that
//! creates a Job, waits for it to end, reads its pod's logs and deletes it; and on these
//! two, the core's ports as Kubernetes implements them: the `k8s` run launcher
//! ([`K8sRunLauncher`]), the `k8s-job` executor's step runner ([`K8sStepRunner`]) and the
//! Jobs ops start ([`KubeJobs`]). The pods of runs and steps run the same `weft
//! execute-run` and `weft step` commands as the process launcher and the multiprocess
//! executor.

mod client;
mod external;
mod launcher;
pub mod spec;

pub use client::{Finished, Kube};
pub use external::KubeJobs;
pub use launcher::{K8sPods, K8sRunLauncher, K8sStepRunner};
pub use spec::{ExternalWorkload, K8sTag, PodConfig, Workload};

/// What went wrong with Kubernetes.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    /// No cluster to talk to: neither a kubeconfig nor an in-cluster service account.
    #[error(
        "cannot reach Kubernetes: {0} (set KUBECONFIG, or run in a pod with a service account)"
    )]
    Config(String),
    /// The API server refused or failed a request.
    #[error("{doing}: {message}")]
    Api { doing: String, message: String },
    /// A `weft/k8s` tag that cannot be applied.
    #[error("the weft/k8s tag: {0}")]
    Tag(String),
    /// A tag or Job config that sets what `k8s.guest_overrides` does not allow.
    #[error("{0}")]
    Refused(String),
}
