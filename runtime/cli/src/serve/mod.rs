//! `weft serve`: the control plane as one process. It opens the instance's database,
//! builds the [`Control`](control::Control) over it (registry of loaded versions, in-process
//! launcher), uploads the locations weft.yaml lists by path, and serves the HTTP API and
//! the web UI until it is told to stop (Ctrl-C or SIGTERM), letting requests under way end.
//! `weft dev` adds the daemon and re-uploads the files it serves when they change.

pub(crate) mod control;
pub(crate) mod execute_run;
pub(crate) mod fetch;
pub(crate) mod k8s;
pub(crate) mod launcher;
pub(crate) mod registry;
pub(crate) mod step_process;
pub(crate) mod step_queue;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use weft_api::{ApiError, ErrorKind};
use weft_store::{Store, StoreError};
use weft_wasm::WasmHost;

use crate::instance::Instance;
use crate::{Failure, ServeOpts};

/// A storage failure as the API reports it: 503 when the database is unavailable.
pub(crate) fn store_error(e: StoreError) -> ApiError {
    let kind = match e.kind() {
        weft_store::ErrorKind::Unavailable => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    ApiError::new(kind, e.to_string())
}

/// What `weft serve`, `weft daemon` and `weft dev` share: the database, the loaded
/// versions and the in-process launcher.
pub(crate) struct Services {
    pub(crate) instance: Arc<Instance>,
    pub(crate) store: Arc<Store>,
    pub(crate) registry: Arc<registry::Registry>,
    pub(crate) launcher: Arc<launcher::Launcher>,
}

impl Services {
    /// Opens the instance's database and builds the registry and the launcher.
    pub(crate) async fn open(instance: Instance) -> Result<Services, Failure> {
        Self::open_with(instance, weft_wasm::Allocation::Pooled).await
    }

    /// The same, with instances of steps allocated as `allocation` says.
    pub(crate) async fn open_with(
        instance: Instance,
        allocation: weft_wasm::Allocation,
    ) -> Result<Services, Failure> {
        let bad = Failure::BadInput;
        let kind = crate::commands::executor_kind(&instance, None, None).map_err(bad)?;
        let io = instance.io_manager().map_err(bad)?;
        let store = Arc::new(instance.open_store().await?);
        let io = io.open(&store).map_err(bad)?;
        let host = WasmHost::with_allocation(instance.cache_dir(), allocation)
            .map_err(|e| Failure::Failed(Some(e.into())))?;
        host.set_external_jobs(crate::external_jobs::KubeJobs::new(
            &instance,
            tokio::runtime::Handle::current(),
        ));
        let uses_k8s = instance.config.run_launcher == crate::instance::RunLauncherConfig::K8s
            || instance.config.executor.as_deref() == Some("k8s-job");
        let pods = match uses_k8s {
            true => Some(k8s::K8sPods::connect(&instance).await?),
            false => None,
        };
        let instance = Arc::new(instance);
        let launcher = launcher::Launcher::new(
            store.clone(),
            io,
            instance.compute_logs().map_err(Failure::BadInput)?,
            kind,
            instance.unsaved_dir(),
            launch_mode(&instance, pods.clone())?,
            step_runner(&instance, &store, pods)?,
        );
        let components = instance.component_store().map_err(Failure::BadInput)?;
        let registry = Arc::new(registry::Registry::new(
            host,
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
    pub(crate) fn control(&self) -> control::Control {
        control::Control::new(
            self.store.clone(),
            self.registry.clone(),
            self.launcher.clone(),
            self.launcher.compute_logs(),
            self.instance.config.run_coordinator.is_some(),
        )
    }
}

/// The locations weft.yaml lists by path.
fn workspace(instance: &Instance) -> Vec<(String, PathBuf)> {
    instance
        .config
        .locations
        .iter()
        .filter_map(|(name, l)| l.path.clone().map(|p| (name.clone(), p)))
        .collect()
}

/// Binds the listener first, so that a taken port is bad input before anything is opened.
async fn bind(listen: &str) -> Result<(tokio::net::TcpListener, SocketAddr), Failure> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
        .map_err(Failure::BadInput)?;
    let address = listener.local_addr().context("reading the bound address")?;
    Ok((listener, address))
}

/// Serves `control` on `listener` until Ctrl-C or SIGTERM.
async fn http(
    listener: tokio::net::TcpListener,
    address: SocketAddr,
    control: Arc<control::Control>,
    opts: &ServeOpts,
) -> Result<(), Failure> {
    let options = weft_api::Options {
        token: opts.token.clone().filter(|t| !t.is_empty()),
        max_upload_bytes: opts.max_upload_mb << 20,
    };
    let app = weft_api::router(control, options);
    // Tests and scripts read the port from this line (`--listen 127.0.0.1:0`).
    println!("listening on http://{address}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("serving HTTP")?;
    Ok(())
}

fn check(opts: &ServeOpts) -> Result<(), Failure> {
    if opts.max_upload_mb == 0 {
        return Err(Failure::BadInput(anyhow::anyhow!(
            "--max-upload-mb must be at least 1"
        )));
    }
    Ok(())
}

pub async fn serve(instance: Instance, opts: ServeOpts) -> Result<(), Failure> {
    check(&opts)?;
    let files = workspace(&instance);
    let (listener, address) = bind(&opts.listen).await?;
    let services = Services::open(instance).await?;
    let control = services.control();
    control.load_workspace(&files).await;
    http(listener, address, Arc::new(control), &opts).await
}

/// `weft dev`: the server, the daemon and the in-process launcher in one process, on the
/// instance's database (SQLite under `$WEFT_HOME` by default), serving `files` as code
/// locations (named by their file stems) and uploading each again when it changes.
pub async fn dev(instance: Instance, files: Vec<PathBuf>, opts: ServeOpts) -> Result<(), Failure> {
    check(&opts)?;
    let mut named = workspace(&instance);
    for file in files {
        if !file.is_file() {
            return Err(Failure::BadInput(anyhow::anyhow!(
                "{} is not a file",
                file.display()
            )));
        }
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().replace('-', "_"))
            .unwrap_or_else(|| "location".into());
        named.push((name, file));
    }
    let (listener, address) = bind(&opts.listen).await?;
    let services = Services::open(instance).await?;
    let control = Arc::new(services.control());
    control.load_workspace(&named).await;
    let watcher = control.clone();
    tokio::spawn(async move { watcher.watch_workspace(named).await });
    let daemon = Arc::new(crate::daemon::Daemon::new(&services, control.clone()));
    let ticking = daemon.clone();
    tokio::spawn(async move { ticking.run_forever(std::time::Duration::from_secs(1)).await });
    let served = http(listener, address, control, &opts).await;
    daemon.release().await;
    served
}

/// Resolves on Ctrl-C or SIGTERM.
pub(crate) async fn shutdown() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    eprintln!("shutting down: waiting for requests under way");
}

/// How this instance's launcher executes runs (`run_launcher` in weft.yaml).
fn launch_mode(
    instance: &Instance,
    pods: Option<Arc<k8s::K8sPods>>,
) -> Result<launcher::LaunchMode, Failure> {
    use crate::instance::RunLauncherConfig;
    Ok(match instance.config.run_launcher {
        RunLauncherConfig::InProcess => launcher::LaunchMode::InProcess,
        RunLauncherConfig::K8s => match pods {
            Some(pods) => launcher::LaunchMode::Kubernetes(pods),
            None => {
                return Err(Failure::Failed(Some(anyhow::anyhow!(
                    "the k8s run launcher has no Kubernetes client"
                ))));
            }
        },
        RunLauncherConfig::Process => launcher::LaunchMode::Process {
            program: std::env::current_exe().map_err(|e| {
                Failure::Failed(Some(anyhow::anyhow!(
                    "cannot find this weft binary to start run processes with: {e}"
                )))
            })?,
            home: instance.home.clone(),
            logs: instance.logs_dir().join("runs"),
        },
    })
}

/// Where each step attempt of a launched run runs, if not on the run's own threads: in a
/// process of its own (`executor: multiprocess`), a Kubernetes Job (`k8s-job`), or on a
/// `weft worker` that takes it from the queue (`queue`).
fn step_runner(
    instance: &Instance,
    store: &Arc<Store>,
    pods: Option<Arc<k8s::K8sPods>>,
) -> Result<Option<Arc<dyn weft_engine::ports::StepRunner>>, Failure> {
    let executor = match instance.config.executor.as_deref() {
        Some(e @ ("multiprocess" | "k8s-job" | "queue")) => e,
        _ => return Ok(None),
    };
    if instance.outputs_stay_in_process() {
        return Err(Failure::BadInput(anyhow::anyhow!(
            "executor {executor} passes outputs between steps through the I/O manager: use \
             io_manager: filesystem (or database, or s3), not in-memory"
        )));
    }
    Ok(Some(match (executor, pods) {
        ("k8s-job", Some(pods)) => Arc::new(k8s::K8sStepRunner {
            pods,
            store: store.clone(),
        }),
        ("queue", _) => {
            let secs = instance.config.queue.worker_timeout_seconds;
            if !(secs > 0.0 && secs.is_finite()) {
                return Err(Failure::BadInput(anyhow::anyhow!(
                    "queue.worker_timeout_seconds must be a positive number, got {secs}"
                )));
            }
            Arc::new(step_queue::QueueStepRunner::new(
                store.clone(),
                std::time::Duration::from_secs_f64(secs),
            ))
        }
        _ => {
            let program = std::env::current_exe().map_err(|e| {
                Failure::Failed(Some(anyhow::anyhow!(
                    "cannot find this weft binary to start step processes with: {e}"
                )))
            })?;
            Arc::new(step_process::ProcessStepRunner {
                program,
                home: instance.home.clone(),
            })
        }
    }))
}
