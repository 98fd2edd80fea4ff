//! [`Services`]: what `weft serve`, `weft daemon`, `weft dev`, and the processes of runs,
//! steps and workers share — the database, the registry of loaded versions and the
//! launcher — wired from the instance's configuration: which launcher (`run_launcher`),
//! which executor and step runner (`executor`), which I/O manager and compute logs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use weft_core::ports::{ExternalJobs, LocationLoader, RunLauncher, StepRunner};
use weft_engine::executor::ExecutorKind;
use weft_k8s::{K8sPods, K8sRunLauncher, K8sStepRunner, KubeJobs};
use weft_store::Store;
use weft_wasm::Allocation;

use crate::config::RunLauncherConfig;
use crate::control::Control;
use crate::error::Error;
use crate::executors::{Executor, Executors};
use crate::instance::Instance;
use crate::launcher::{LaunchMode, Launcher, ProcessRunLauncher};
use crate::registry::Registry;
use crate::step_process::ProcessStepRunner;
use crate::step_queue::{QueueStepRunner, StoredAnswers};

/// The database, the loaded versions and the launcher of one process.
pub struct Services {
    pub instance: Arc<Instance>,
    pub store: Arc<Store>,
    pub registry: Arc<Registry>,
    pub launcher: Arc<Launcher>,
}

impl Services {
    /// Opens the instance's database and builds the registry and the launcher.
    pub async fn open(instance: Instance) -> Result<Services, Error> {
        Self::open_with(instance, Allocation::Pooled).await
    }

    /// The same, with instances of steps allocated as `allocation` says.
    pub async fn open_with(instance: Instance, allocation: Allocation) -> Result<Services, Error> {
        executor_kind(&instance, None, None)?;
        let io = instance.io_manager()?;
        let store = Arc::new(instance.open_store().await?);
        let io = io.open(&store)?;
        let host = instance.wasm_host(allocation)?;
        host.set_external_jobs(external_jobs(&instance));
        Self::assemble(instance, store, io, Arc::new(host)).await
    }

    /// The services over an open `store`, its I/O manager `io`, loading versions with
    /// `loader` (the wasm host; a stand-in in tests).
    pub async fn assemble(
        instance: Instance,
        store: Arc<Store>,
        io: Box<dyn weft_core::ports::IoManager>,
        loader: Arc<dyn LocationLoader>,
    ) -> Result<Services, Error> {
        let kind = executor_kind(&instance, None, None)?;
        let uses_k8s = instance.config.run_launcher == RunLauncherConfig::K8s
            || instance.config.executor.as_deref() == Some("k8s-job");
        // Also when only a job's `weft/executor: k8s-job` may need it (in a run's own pod, say),
        // if `k8s:` names an image: then a cluster out of reach fails those runs, not this.
        let pods = match uses_k8s {
            true => Some(connect_k8s(&instance).await?),
            false
                if instance
                    .config
                    .k8s
                    .as_ref()
                    .is_some_and(|k| !k.image.trim().is_empty()) =>
            {
                connect_k8s(&instance)
                    .await
                    .inspect_err(|e| tracing::debug!("no k8s-job executor for jobs: {e}"))
                    .ok()
            }
            false => None,
        };
        let instance = Arc::new(instance);
        let executors = executors(&instance, &store, kind, pods.clone())?;
        let launcher = Launcher::new(
            store.clone(),
            io,
            instance.compute_logs()?,
            instance.unsaved_dir(),
            launch_mode(&instance, pods)?,
            executors,
        );
        let components = instance.component_store()?;
        let registry = Arc::new(Registry::new(
            loader,
            store.clone(),
            instance.clone(),
            components,
        ));
        Ok(Services {
            instance,
            store,
            registry,
            launcher,
        })
    }

    /// The control plane over these services.
    pub fn control(&self) -> Control {
        Control::new(
            self.store.clone(),
            self.registry.clone(),
            self.launcher.clone(),
            self.launcher.compute_logs(),
            self.instance.config.run_coordinator.is_some(),
        )
    }
}

/// Where the ops of this instance's locations start Kubernetes Jobs (`k8s:` shapes their
/// pods; the cluster is reached on first use).
pub fn external_jobs(instance: &Instance) -> Arc<dyn ExternalJobs> {
    let config = instance.config.k8s.clone().unwrap_or_default();
    KubeJobs::new(config, tokio::runtime::Handle::current())
}

/// The executor of launched runs: `weft.yaml`'s (`parallel` also for the executors whose
/// steps run elsewhere), `parallel` or not as the command line says, with `max` steps at
/// once (default: weft.yaml's `max_concurrent`, else the number of cores).
pub fn executor_kind(
    instance: &Instance,
    parallel: Option<bool>,
    max: Option<usize>,
) -> Result<ExecutorKind, Error> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let max_concurrent = max.or(instance.config.max_concurrent).unwrap_or(cores);
    let parallel = match parallel {
        Some(parallel) => parallel,
        None => match instance.config.executor.as_deref() {
            None | Some("in-process") => false,
            // The server's launcher gives each step a process of its own.
            Some("parallel" | "multiprocess" | "k8s-job" | "queue") => true,
            Some(other) => {
                return Err(Error::bad_request(format!(
                    "unknown executor {other:?} in weft.yaml (in-process, parallel, \
                     multiprocess, k8s-job, queue)"
                )));
            }
        },
    };
    if max_concurrent == 0 {
        return Err(Error::bad_request("--max-concurrent must be at least 1"));
    }
    Ok(if parallel {
        ExecutorKind::Parallel { max_concurrent }
    } else {
        ExecutorKind::InProcess
    })
}

/// Connects to the instance's cluster (`k8s:` must be in weft.yaml, with an image).
async fn connect_k8s(instance: &Instance) -> Result<Arc<K8sPods>, Error> {
    let config = instance.config.k8s.clone().ok_or_else(|| {
        Error::bad_request(
            "the k8s run launcher and the k8s-job executor need `k8s:` in weft.yaml, with at \
             least the image that carries weft (k8s: {image: registry/weft:TAG})",
        )
    })?;
    if config.image.trim().is_empty() {
        return Err(Error::bad_request(
            "the k8s run launcher and the k8s-job executor need `k8s.image` in weft.yaml: the \
             image that carries weft (k8s: {image: registry/weft:TAG})",
        ));
    }
    let env: BTreeMap<String, Vec<(String, String)>> = instance
        .config
        .locations
        .keys()
        .map(|name| (name.clone(), instance.location_env(name)))
        .collect();
    K8sPods::connect(config, env)
        .await
        .map_err(|e| Error::bad_request(e.to_string()))
}

/// This binary, to start run and step processes with.
fn this_program(what: &str) -> Result<std::path::PathBuf, Error> {
    std::env::current_exe().map_err(|e| {
        Error::internal(format!(
            "cannot find this weft binary to start {what} processes with: {e}"
        ))
    })
}

/// How this instance's launcher executes runs (`run_launcher` in weft.yaml).
fn launch_mode(instance: &Instance, pods: Option<Arc<K8sPods>>) -> Result<LaunchMode, Error> {
    let elsewhere: Arc<dyn RunLauncher> = match instance.config.run_launcher {
        RunLauncherConfig::InProcess => return Ok(LaunchMode::InProcess),
        RunLauncherConfig::K8s => match pods {
            Some(pods) => Arc::new(K8sRunLauncher(pods)),
            None => {
                return Err(Error::internal(
                    "the k8s run launcher has no Kubernetes client",
                ));
            }
        },
        RunLauncherConfig::Process => Arc::new(ProcessRunLauncher {
            program: this_program("run")?,
            home: instance.home.clone(),
            logs: instance.logs_dir().join("runs"),
        }),
    };
    Ok(LaunchMode::Elsewhere(elsewhere))
}

/// The instance's executor (weft.yaml's), and those a job may ask for by its
/// `weft/executor` tag as this instance can give them: in-process always; multiprocess
/// when outputs cross processes; k8s-job when it talks to a cluster.
fn executors(
    instance: &Instance,
    store: &Arc<Store>,
    kind: ExecutorKind,
    pods: Option<Arc<K8sPods>>,
) -> Result<Executors, Error> {
    let default = Executor {
        name: instance
            .config
            .executor
            .clone()
            .unwrap_or_else(|| "in-process".into()),
        kind,
        steps: step_runner(instance, store, pods.clone())?,
    };
    let parallel = executor_kind(instance, Some(true), None)?;
    let crossing = match instance.outputs_stay_in_process() {
        true => Err("its outputs stay in one process's memory (io_manager: in-memory)".to_owned()),
        false => Ok(()),
    };
    let answers = Arc::new(StoredAnswers::new(store.clone()));
    let multiprocess = crossing.clone().and_then(|()| {
        let program = this_program("step").map_err(|e| e.to_string())?;
        let runner: Arc<dyn StepRunner> = Arc::new(ProcessStepRunner {
            program,
            home: instance.home.clone(),
        });
        Ok(Executor {
            name: "multiprocess".into(),
            kind: parallel,
            steps: Some(runner),
        })
    });
    let k8s = crossing.and_then(|()| match pods {
        Some(pods) => Ok(Executor {
            name: "k8s-job".into(),
            kind: parallel,
            steps: Some(Arc::new(K8sStepRunner { pods, answers })),
        }),
        None => Err(
            "it does not start pods (no run_launcher: k8s or executor: k8s-job in \
                     weft.yaml)"
                .to_owned(),
        ),
    });
    let mut all = Executors::only(default);
    all.named.insert(
        "in-process",
        Ok(Executor {
            name: "in-process".into(),
            kind: ExecutorKind::InProcess,
            steps: None,
        }),
    );
    all.named.insert("multiprocess", multiprocess);
    all.named.insert("k8s-job", k8s);
    Ok(all)
}

/// Where each step attempt of a launched run runs, if not on the run's own threads: in a
/// process of its own (`executor: multiprocess`), a Kubernetes Job (`k8s-job`), or on a
/// `weft worker` that takes it from the queue (`queue`).
fn step_runner(
    instance: &Instance,
    store: &Arc<Store>,
    pods: Option<Arc<K8sPods>>,
) -> Result<Option<Arc<dyn StepRunner>>, Error> {
    let executor = match instance.config.executor.as_deref() {
        Some(e @ ("multiprocess" | "k8s-job" | "queue")) => e,
        _ => return Ok(None),
    };
    if instance.outputs_stay_in_process() {
        return Err(Error::bad_request(format!(
            "executor {executor} passes outputs between steps through the I/O manager: use \
             io_manager: filesystem (or database, or s3), not in-memory"
        )));
    }
    let answers = Arc::new(StoredAnswers::new(store.clone()));
    Ok(Some(match (executor, pods) {
        ("k8s-job", Some(pods)) => Arc::new(K8sStepRunner { pods, answers }),
        ("queue", _) => {
            let secs = instance.config.queue.worker_timeout_seconds;
            if !(secs > 0.0 && secs.is_finite()) {
                return Err(Error::bad_request(format!(
                    "queue.worker_timeout_seconds must be a positive number, got {secs}"
                )));
            }
            Arc::new(QueueStepRunner::new(
                store.clone(),
                answers,
                Duration::from_secs_f64(secs),
            ))
        }
        _ => Arc::new(ProcessStepRunner {
            program: this_program("step")?,
            home: instance.home.clone(),
        }),
    }))
}
