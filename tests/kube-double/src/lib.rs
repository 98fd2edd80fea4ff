//! A test double of the Kubernetes API server, for testing Weft's Kubernetes run launcher and
//! step executor without a cluster. It is not a Kubernetes: it speaks the real HTTP API that
//! kube-rs uses (plain HTTP on 127.0.0.1, JSON serialized with k8s-openapi types, `Status`
//! errors, list/watch with resourceVersions) for `batch/v1` Jobs and core/v1 Pods, pod logs,
//! ConfigMaps and Secrets, and stands in for the Job controller, the scheduler and one
//! kubelet by running each pod's container as a local process.
//!
//! ```no_run
//! # fn main() -> Result<(), weft_kube_double::Error> {
//! use weft_kube_double::{KubeDouble, Options};
//! let double = KubeDouble::start(Options::new().command("sh", "/bin/sh"))?;
//! double.write_kubeconfig("/tmp/kubeconfig")?;
//! // Run the code under test with KUBECONFIG=/tmp/kubeconfig: kube::Client::try_default()
//! // reaches the double, namespace "default".
//! # Ok(()) }
//! ```
//!
//! What is faithful and what is not:
//! - Jobs: the real server's defaults (`spec.selector` on `batch.kubernetes.io/controller-uid`,
//!   the `controller-uid`/`job-name` labels on the template and, when it has none, the Job;
//!   `backoffLimit` 6) and validation (422 for no containers, no image, a restartPolicy other
//!   than Never/OnFailure, a bad name). One pod at a time: `parallelism`/`completions` other
//!   than 1, Indexed completion, `suspend`, `podFailurePolicy`, `successPolicy`, restartPolicy
//!   `OnFailure`, several containers and init containers are refused with 422 naming the
//!   double. A failed pod is replaced while `failed <= backoffLimit`, after the controller's
//!   delay (`Options::pod_retry_backoff` × 2^(failures-1), 10 s as in Kubernetes by default);
//!   a pod that is deleted counts as failed once it has terminated. Conditions
//!   `SuccessCriteriaMet` then `Complete`, or `FailureTarget` then `Failed` with reason
//!   `BackoffLimitExceeded` or `DeadlineExceeded`, as Kubernetes 1.31+ writes them.
//! - Deleting a Job: Orphan is batch/v1's default (pods keep running, with the real server's
//!   warning header); Background removes the Job at once (a `Status` answer) and then deletes
//!   its pods; Foreground marks the Job, deletes its pods, then removes it.
//! - Pods: a pod is deleted gracefully: `deletionTimestamp`, SIGTERM to the process group,
//!   SIGKILL after the grace period (`gracePeriodSeconds`, else
//!   `terminationGracePeriodSeconds`, capped by `Options::max_grace_period`), then removed.
//!   A killed process ends with exit code 128+signal and reason `Error`. Pods cannot be
//!   created directly (only through Jobs): POST answers 405.
//! - A container runs `command` + `args` (with `$(VAR)` expansion); `command[0]` goes through
//!   the map of `Options::command`, else is looked up on the host's PATH. A container without
//!   `command` fails with reason `StartError` (the image's entrypoint is unknown here). The
//!   image is not pulled or used; volumes are not mounted (pods share the host's file
//!   system); resources, nodeSelector, tolerations, serviceAccountName, probes are stored but
//!   not enforced. The working directory is `workingDir`, else a fresh directory per pod.
//! - The process sees only PATH and HOME of the test's environment, plus what its spec gives
//!   (`env` with `value`, `configMapKeyRef`, `secretKeyRef`, `fieldRef`; `envFrom` with
//!   prefixes), HOSTNAME, `KUBERNETES_SERVICE_HOST`/`PORT`, and `KUBECONFIG` pointing at a
//!   kubeconfig for the pod's namespace: the double's stand-in for the service account token
//!   (so code in a pod using `Client::try_default()` reaches the double). A missing ConfigMap
//!   or Secret keeps the pod Pending with `CreateContainerConfigError`, retried every second.
//! - Logs: stdout and stderr share one pipe, so the log has exactly the order the process
//!   wrote in (a kubelet reads two streams, so there the order between them is only rough).
//!   As on a real server, logs of a container that has not started yet answer 400
//!   (`... is waiting to start: ContainerCreating`): wait for Running before following.
//! - Every namespace exists; there is no admission beyond the above, no RBAC (one bearer
//!   token, checked), no patch/update (405), no pod exec/attach/eviction, no Events API (404),
//!   no `batch.kubernetes.io/job-tracking` finalizer on pods. Lists always serve the
//!   newest state (resourceVersion/resourceVersionMatch are accepted, not honoured), and a
//!   `continue` token does not pin a snapshot. The kept watch history is the last 50 000
//!   changes per type (older: 410 Expired). Bookmarks are sent every
//!   `Options::bookmark_interval`.

mod admission;
mod api;
mod discovery;
mod env;
mod job;
mod kubeconfig;
mod kubelet;
mod logs;
mod select;
mod status;
mod store;
mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use nix::sys::signal::Signal;
use tokio::sync::oneshot;

use crate::store::Shared;

pub use k8s_openapi;

/// Errors of the double's own API (the HTTP API answers `Status` objects instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("starting the test double of the Kubernetes API server: {0}")]
    Start(#[source] std::io::Error),
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no pod {namespace}/{name} has a running process")]
    NotRunning { namespace: String, name: String },
    #[error("{0} is not a signal")]
    InvalidSignal(i32),
    #[error("signalling pod {namespace}/{name}: {source}")]
    Signal {
        namespace: String,
        name: String,
        #[source]
        source: nix::Error,
    },
}

/// How to start the double.
#[derive(Debug, Clone)]
pub struct Options {
    commands: HashMap<String, PathBuf>,
    token: String,
    namespace: String,
    node_name: String,
    pod_retry_backoff: Duration,
    bookmark_interval: Duration,
    max_grace_period: Option<Duration>,
    pod_kubeconfig: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            commands: HashMap::new(),
            token: "weft-kube-double-token".to_string(),
            namespace: "default".to_string(),
            node_name: "kube-double-node".to_string(),
            pod_retry_backoff: Duration::from_secs(10),
            bookmark_interval: Duration::from_secs(60),
            max_grace_period: None,
            pod_kubeconfig: true,
        }
    }
}

impl Options {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs a container whose `command[0]` is `name` as the local program at `path`
    /// (e.g. `weft` → the `weft` binary of this build).
    pub fn command(mut self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.commands.insert(name.into(), path.into());
        self
    }

    /// The bearer token clients must send (written into kubeconfigs).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// The namespace of the context `write_kubeconfig` writes ("default").
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The name of the one node pods are bound to (`spec.nodeName`).
    pub fn node_name(mut self, name: impl Into<String>) -> Self {
        self.node_name = name.into();
        self
    }

    /// The Job controller's base delay before replacing a failed pod (10 s in Kubernetes;
    /// doubled per failure, at most 6 min). Tests usually want `Duration::ZERO`.
    pub fn pod_retry_backoff(mut self, delay: Duration) -> Self {
        self.pod_retry_backoff = delay;
        self
    }

    /// How often watches that allow bookmarks get one (the real server: about a minute).
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval;
        self
    }

    /// The longest a deleted pod's process gets between SIGTERM and SIGKILL, whatever its
    /// grace period says.
    pub fn max_grace_period(mut self, max: Duration) -> Self {
        self.max_grace_period = Some(max);
        self
    }

    /// Whether pods get `KUBECONFIG` pointing at the double (true).
    pub fn pod_kubeconfig(mut self, enabled: bool) -> Self {
        self.pod_kubeconfig = enabled;
        self
    }
}

/// What the double runs with: the options, and where it listens.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub commands: HashMap<String, PathBuf>,
    pub token: String,
    pub node_name: String,
    pub pod_retry_backoff: Duration,
    pub bookmark_interval: Duration,
    pub max_grace_period: Option<Duration>,
    pub pod_kubeconfig: bool,
    pub url: String,
    pub port: u16,
    /// Pod working directories and pod kubeconfigs.
    pub state_dir: PathBuf,
}

/// One HTTP request the double received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The raw query string (percent-encoded), empty when there is none.
    pub query: String,
}

/// A pod's local process, for tests.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// The Job that created the pod.
    pub job: Option<String>,
    /// `status.phase` of the stored pod; None once the pod is deleted.
    pub phase: Option<String>,
    /// The process id (and process group id) while the container runs.
    pub pid: Option<u32>,
    /// The container's exit code once it has ended.
    pub exit_code: Option<i32>,
}

/// A running test double of the Kubernetes API server. Stops on drop, killing the processes
/// of pods that still run.
pub struct KubeDouble {
    shared: Arc<Shared>,
    namespace: String,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _state_dir: tempfile::TempDir,
}

impl KubeDouble {
    /// Starts the double on a random port of 127.0.0.1, on a runtime thread of its own (so
    /// it serves synchronous tests and async ones alike).
    pub fn start(options: Options) -> Result<Self, Error> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(Error::Start)?;
        listener.set_nonblocking(true).map_err(Error::Start)?;
        let port = listener.local_addr().map_err(Error::Start)?.port();
        let state_dir = tempfile::Builder::new()
            .prefix("weft-kube-double-")
            .tempdir()
            .map_err(Error::Start)?;
        let config = Config {
            commands: options.commands,
            token: options.token,
            node_name: options.node_name,
            pod_retry_backoff: options.pod_retry_backoff,
            bookmark_interval: options.bookmark_interval.max(Duration::from_millis(10)),
            max_grace_period: options.max_grace_period,
            pod_kubeconfig: options.pod_kubeconfig,
            url: format!("http://127.0.0.1:{port}"),
            port,
            state_dir: state_dir.path().to_path_buf(),
        };
        let shared = Shared::new(config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("weft-kube-double")
            .enable_all()
            .build()
            .map_err(Error::Start)?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = api::router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("weft-kube-double".to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("weft-kube-double: {e}");
                            return;
                        }
                    };
                    tokio::select! {
                        served = axum::serve(listener, app) => {
                            if let Err(e) = served {
                                tracing::error!("weft-kube-double: {e}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(Error::Start)?;
        Ok(KubeDouble {
            shared,
            namespace: options.namespace,
            shutdown: Some(shutdown),
            thread: Some(thread),
            _state_dir: state_dir,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.shared.config.url
    }

    /// The bearer token the double accepts.
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// The namespace of the kubeconfig's context.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The text of a kubeconfig reaching the double (context namespace: `namespace()`).
    pub fn kubeconfig(&self) -> String {
        kubeconfig::render(self.url(), self.token(), &self.namespace)
    }

    /// Writes `kubeconfig()` to `path`; point `KUBECONFIG` at it.
    pub fn write_kubeconfig(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        kubeconfig::write(path, self.url(), self.token(), &self.namespace).map_err(|source| {
            Error::Write {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Every pod ever created, oldest first, with its process.
    pub fn pods(&self) -> Vec<PodInfo> {
        let mut pods: Vec<(Option<String>, PodInfo)> = self.shared.read(|s| {
            s.procs
                .values()
                .map(|p| {
                    let stored = s
                        .get::<Pod>(&p.namespace, &p.name)
                        .filter(|pod| pod.metadata.uid.as_deref() == Some(p.uid.as_str()));
                    let created = stored
                        .and_then(|pod| pod.metadata.creation_timestamp.clone())
                        .map(|t| t.0.to_string());
                    let info = PodInfo {
                        namespace: p.namespace.clone(),
                        name: p.name.clone(),
                        uid: p.uid.clone(),
                        job: p.job.clone(),
                        phase: stored.and_then(|pod| pod.status.as_ref()?.phase.clone()),
                        pid: p.pid(),
                        exit_code: p.exit_code(),
                    };
                    (created, info)
                })
                .collect()
        });
        pods.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        pods.into_iter().map(|(_, info)| info).collect()
    }

    /// The stored pod, as the API serves it.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Pod> {
        self.shared.read(|s| s.get::<Pod>(namespace, name).cloned())
    }

    /// The stored Job, as the API serves it.
    pub fn job(&self, namespace: &str, name: &str) -> Option<Job> {
        self.shared.read(|s| s.get::<Job>(namespace, name).cloned())
    }

    /// Every stored Job.
    pub fn jobs(&self) -> Vec<Job> {
        self.shared
            .read(|s| s.jobs.objects.values().cloned().collect())
    }

    /// The log of a pod's container so far (stdout and stderr interleaved).
    pub fn pod_log(&self, namespace: &str, name: &str) -> Option<String> {
        let log = self.shared.read(|s| {
            s.procs
                .values()
                .filter(|p| p.namespace == namespace && p.name == name)
                .map(|p| p.log.clone())
                .next()
        })?;
        Some(String::from_utf8_lossy(&log.tail(None)).into_owned())
    }

    /// Kills a pod's process group with SIGKILL, as an OOM kill or a lost node would end it:
    /// the kubelet reports exit code 137 and the Job controller reacts.
    pub fn kill_pod_process(&self, namespace: &str, name: &str) -> Result<(), Error> {
        self.signal_pod_process(namespace, name, Signal::SIGKILL as i32)
    }

    /// Sends `signal` (a number, e.g. 15 for SIGTERM) to a pod's process group.
    pub fn signal_pod_process(
        &self,
        namespace: &str,
        name: &str,
        signal: i32,
    ) -> Result<(), Error> {
        let signal = Signal::try_from(signal).map_err(|_| Error::InvalidSignal(signal))?;
        let proc = self
            .shared
            .read(|s| {
                s.procs
                    .values()
                    .find(|p| p.namespace == namespace && p.name == name && p.pid().is_some())
                    .cloned()
            })
            .ok_or_else(|| Error::NotRunning {
                namespace: namespace.to_string(),
                name: name.to_string(),
            })?;
        proc.signal(signal).map_err(|source| Error::Signal {
            namespace: namespace.to_string(),
            name: name.to_string(),
            source,
        })
    }

    /// Every HTTP request received so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests()
    }
}

impl Drop for KubeDouble {
    fn drop(&mut self) {
        let procs: Vec<_> = self.shared.read(|s| s.procs.values().cloned().collect());
        for proc in procs {
            let _ = proc.signal(Signal::SIGKILL);
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
