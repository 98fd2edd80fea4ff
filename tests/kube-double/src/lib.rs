//! The simulated kubelet of Weft's tests: the one part of Kubernetes the tests do not run
//! for real (a kubelet needs a container runtime). Everything else is a real control plane
//! (`tests/k8s/cluster.sh`: etcd, kube-apiserver, kube-controller-manager, kube-scheduler);
//! this process is its one Node:
//!
//! - it registers a Node (Ready, with capacity, its labels, `InternalIP` 127.0.0.1 and the
//!   port of its log server) and renews the node's Lease in `kube-node-lease` every 10 s, as
//!   a kubelet does, so that the node lifecycle controller keeps it schedulable;
//! - it watches the Pods the scheduler binds to it (`spec.nodeName`) and runs each pod's
//!   first container as a local process in a process group of its own: `command` + `args`
//!   with `$(VAR)` expansion, `command[0]` mapped through `--command NAME=PATH` or looked
//!   up on PATH (the image is not pulled or used); the environment is only what the pod's
//!   spec gives (`env`, `valueFrom` Secrets, ConfigMaps and fields, `envFrom`), resolved
//!   from the API server with the node's own credentials (the Node authorizer lets it read
//!   what its pods reference), plus PATH and HOME, HOSTNAME and `KUBERNETES_SERVICE_*`;
//! - a pod with a service-account token volume (the ServiceAccount admission plugin adds
//!   one) gets a token from the TokenRequest API, bound to the pod, as the kubelet mounts
//!   it; since nothing is mounted here, the process finds it through `KUBECONFIG` (a
//!   kubeconfig with the API server's address, the token and the pod's namespace), so that
//!   code in a pod reaches the API server as its service account, under RBAC;
//! - it reports Pod status as a kubelet does: Pending (`ContainerCreating`,
//!   `CreateContainerConfigError` while a Secret or ConfigMap is missing, retried) →
//!   Running → Succeeded/Failed with the container's exit code (128+signal when killed),
//!   `terminationMessagePolicy: FallbackToLogsOnError`, and restarts for `restartPolicy`
//!   Always and OnFailure (a Deployment's pods) with `restartCount` and `lastState`;
//! - a pod being deleted gets SIGTERM (its process group), SIGKILL after the grace period,
//!   and is then removed (DELETE with a grace period of 0), as the kubelet finishes it;
//! - it serves container logs over HTTPS (a self-signed certificate, which kube-apiserver
//!   does not verify when it is given no kubelet CA) at `/containerLogs/{ns}/{pod}/{c}`,
//!   the path the API server's `pods/{name}/log` proxies to, with `follow`, `tailLines`,
//!   `timestamps`, `sinceSeconds`, `sinceTime`, `limitBytes` and `previous`.
//!
//! Not simulated: images, volumes (pods share the host's file system; the working directory
//! is `workingDir`, else a fresh directory per pod), resources and limits, probes, init and
//! sidecar containers (only the first container runs), exec/attach/port-forward, users and
//! security contexts (the process runs as the kubelet's user: Pod Security Admission, which
//! is real, decides what is admitted).

mod container;
mod env;
mod logs;
mod node;
mod pods;
mod status;
mod tls;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why the kubelet could not start or keep going.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the kubelet's kubeconfig: {0}")]
    Config(String),
    #[error("{doing}: {source}")]
    Api {
        doing: String,
        #[source]
        source: kube::Error,
    },
    #[error("{doing}: {source}")]
    Io {
        doing: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the log server's certificate: {0}")]
    Tls(String),
}

/// How to run the kubelet.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Node's name.
    pub node_name: String,
    /// The Node's labels, beside `kubernetes.io/hostname`, `kubernetes.io/os` and
    /// `kubernetes.io/arch`.
    pub labels: BTreeMap<String, String>,
    /// Local programs standing for containers' `command[0]` (`/weft` → this build's weft).
    pub commands: HashMap<String, PathBuf>,
    /// Where pods' working directories and kubeconfigs go.
    pub state_dir: PathBuf,
    /// The delay before a container of a `restartPolicy: Always`/`OnFailure` pod is
    /// started again (doubled per restart, at most 30 s).
    pub restart_backoff: Duration,
}

impl Options {
    /// Options for node `node_name`, keeping its state in `state_dir`.
    pub fn new(node_name: impl Into<String>, state_dir: impl Into<PathBuf>) -> Options {
        Options {
            node_name: node_name.into(),
            labels: BTreeMap::new(),
            commands: HashMap::new(),
            state_dir: state_dir.into(),
            restart_backoff: Duration::from_secs(1),
        }
    }
}

/// The running kubelet: its client, options and the pods it runs.
pub(crate) struct Kubelet {
    pub client: kube::Client,
    pub options: Options,
    /// The API server's URL, for the pods' kubeconfigs.
    pub api_url: String,
    /// Whether the kubelet's kubeconfig skips verifying the API server's certificate: the
    /// pods' kubeconfigs do as it does (else they trust the system's roots).
    pub insecure: bool,
    /// The pods it runs or ran, by uid (kept until the pod is gone, for its logs).
    pub pods: Mutex<HashMap<String, Arc<container::PodProc>>>,
}

impl Kubelet {
    /// The pod `namespace/name` it runs or ran most recently.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Arc<container::PodProc>> {
        let pods = self.pods.lock().unwrap_or_else(|e| e.into_inner());
        pods.values()
            .filter(|p| p.namespace == namespace && p.name == name)
            .max_by_key(|p| p.started)
            .cloned()
    }
}

/// Runs the kubelet with the credentials of `kubeconfig` (kube's default when None) until
/// `shutdown` resolves; calls `ready` once the node is registered and schedulable. At
/// shutdown the containers still running are killed.
pub async fn run(
    options: Options,
    kubeconfig: Option<&Path>,
    ready: impl FnOnce(),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(file, &Default::default())
                .await
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| Error::Config(e.to_string()))?,
    };
    let api_url = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_owned();
    let insecure = config.accept_invalid_certs;
    let client = kube::Client::try_from(config).map_err(|e| Error::Config(e.to_string()))?;
    std::fs::create_dir_all(&options.state_dir).map_err(|source| Error::Io {
        doing: format!("creating {}", options.state_dir.display()),
        source,
    })?;
    let kubelet = Arc::new(Kubelet {
        client,
        options,
        api_url,
        insecure,
        pods: Mutex::new(HashMap::new()),
    });
    let log_port = logs::serve(kubelet.clone()).await?;
    node::register(&kubelet, log_port).await?;
    let heartbeat = tokio::spawn(node::heartbeat(kubelet.clone()));
    let watch = tokio::spawn(pods::watch(kubelet.clone()));
    node::schedulable(&kubelet).await?;
    ready();
    shutdown.await;
    heartbeat.abort();
    watch.abort();
    let running: Vec<Arc<container::PodProc>> = kubelet
        .pods
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    for pod in running {
        pod.kill_now();
    }
    Ok(())
}
