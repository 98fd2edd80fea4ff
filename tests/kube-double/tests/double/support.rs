//! Helpers for the tests of the test double of the Kubernetes API server (not a Kubernetes):
//! a real kube client reaching a started double, Job manifests, and waiting with a deadline.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use serde_json::json;
use weft_kube_double::{KubeDouble, Options};

/// A started double with `sh` mapped to /bin/sh, no retry delay, and a kube client for it
/// built from the kubeconfig it writes (the way `Client::try_default()` loads one).
pub struct Cluster {
    pub double: KubeDouble,
    pub client: Client,
}

impl Cluster {
    pub async fn start() -> Cluster {
        Self::with(Options::new()).await
    }

    pub async fn with(options: Options) -> Cluster {
        let options = options
            .command("sh", "/bin/sh")
            .pod_retry_backoff(Duration::ZERO)
            .max_grace_period(Duration::from_secs(5));
        let double = KubeDouble::start(options).expect("start the double");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kubeconfig");
        double.write_kubeconfig(&path).expect("write kubeconfig");
        let kubeconfig = Kubeconfig::read_from(&path).expect("read kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("kube config from the kubeconfig");
        let client = Client::try_from(config).expect("kube client");
        Cluster { double, client }
    }

    pub fn jobs(&self) -> Api<Job> {
        Api::namespaced(self.client.clone(), "default")
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }
}

/// A Job running `sh -c SCRIPT` in one container named `main`.
pub fn sh_job(name: &str, script: &str, backoff_limit: i32) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": name },
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {
                "metadata": { "labels": { "app": "weft-test" } },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "main",
                        "image": "weft:test",
                        "command": ["sh", "-c", script],
                    }],
                },
            },
        },
    }))
    .expect("a valid Job")
}

/// Awaits `f` for at most `secs` seconds.
pub async fn within<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("timed out")
}

/// Polls `f` every 20 ms until it gives Some, for at most `secs` seconds.
pub async fn eventually<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    within(secs, async {
        loop {
            if let Some(v) = f() {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Whether a Job has a condition of this type with status True.
pub fn has_condition(job: &Job, type_: &str) -> Option<String> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
        .map(|c| c.reason.clone().unwrap_or_default())
}

/// The condition a Job is Failed.
pub fn is_job_failed() -> impl kube::runtime::wait::Condition<Job> {
    |job: Option<&Job>| job.is_some_and(|j| has_condition(j, "Failed").is_some())
}

/// The pid of a pod's running process.
pub fn pid_of(double: &KubeDouble, name: &str) -> Option<u32> {
    double.pods().into_iter().find(|p| p.name == name)?.pid
}

/// Whether a process exists.
pub fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split_whitespace().nth(2) == Some("Z"))
}

/// The condition an object no longer exists.
pub fn is_gone<K>() -> impl kube::runtime::wait::Condition<K> {
    |obj: Option<&K>| obj.is_none()
}
