//! The life of one pod on the simulated node: its first container run as a local process
//! (a process group of its own stands for the container; stdout and stderr on one pipe,
//! read into the container's log line by line), restarted as its `restartPolicy` says,
//! stopped as a kubelet stops it (SIGTERM to the group, SIGKILL after the grace period),
//! its status reported at each change, and the pod removed once a deletion has stopped it.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, Preconditions};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

use crate::Kubelet;
use crate::env::{self, Launch, NotReady};
use crate::logs::PodLog;
use crate::status::Tracker;

/// How a pod's container is to be stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The pod is being deleted: SIGTERM, then SIGKILL after the grace period.
    Graceful(Duration),
    /// The pod is gone (or the kubelet stops): SIGKILL now.
    Kill,
}

/// One pod on the node.
pub(crate) struct PodProc {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// Its first container's name.
    pub container: String,
    pub started: Instant,
    log: Mutex<Arc<PodLog>>,
    previous: Mutex<Option<Arc<PodLog>>>,
    pid: Mutex<Option<u32>>,
    stop: watch::Sender<Option<Stop>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PodProc {
    pub fn new(pod: &Pod) -> PodProc {
        let container = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone())
            .unwrap_or_default();
        PodProc {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            container,
            started: Instant::now(),
            log: Mutex::new(Arc::new(PodLog::new())),
            previous: Mutex::new(None),
            pid: Mutex::new(None),
            stop: watch::Sender::new(None),
        }
    }

    /// The log of the container's current (or last) run.
    pub fn log(&self) -> Arc<PodLog> {
        lock(&self.log).clone()
    }

    /// The log of the container's run before its last restart.
    pub fn previous_log(&self) -> Option<Arc<PodLog>> {
        lock(&self.previous).clone()
    }

    /// Asks for the container to stop; a kill overrides a graceful stop.
    pub fn request_stop(&self, stop: Stop) {
        self.stop.send_if_modified(|current| {
            if *current == Some(Stop::Kill) || *current == Some(stop) {
                false
            } else {
                *current = Some(stop);
                true
            }
        });
    }

    /// Kills the container's processes at once (the kubelet is stopping).
    pub fn kill_now(&self) {
        self.request_stop(Stop::Kill);
        let _ = self.signal(Signal::SIGKILL);
    }

    fn signal(&self, signal: Signal) -> Result<(), nix::Error> {
        match lock(&self.pid).and_then(|p| i32::try_from(p).ok()) {
            Some(pid) => killpg(Pid::from_raw(pid), signal),
            None => Err(nix::Error::ESRCH),
        }
    }
}

/// Runs pod `pod` to its end.
pub(crate) async fn run(kubelet: Arc<Kubelet>, proc: Arc<PodProc>, pod: Pod) {
    let pods: Api<Pod> = Api::namespaced(kubelet.client.clone(), &proc.namespace);
    let spec = pod.spec.clone().unwrap_or_default();
    // The API server refuses a pod without containers.
    let Some(container) = spec.containers.first().cloned() else {
        return;
    };
    let policy = spec
        .restart_policy
        .clone()
        .unwrap_or_else(|| "Always".into());
    let mut stop = proc.stop.subscribe();
    let mut status = Tracker::new(&pod, &container);
    status.report(&pods, &proc.name).await;
    // The environment; a missing ConfigMap or Secret keeps the pod Pending, retried (soon
    // at first: the Node authorizer may not yet know the pod is bound to this node).
    let mut tries = 0u32;
    let launch = loop {
        if stop.borrow_and_update().is_some() {
            status.terminated(137, "ContainerStatusUnknown", None);
            return end(&proc, &pods, &status).await;
        }
        match env::prepare(&kubelet, &pod, &container).await {
            Ok(launch) => break launch,
            Err(NotReady::Start(message)) => {
                status.terminated(128, "StartError", Some(message));
                return end(&proc, &pods, &status).await;
            }
            Err(NotReady::Config(message)) => {
                tries += 1;
                status.waiting("CreateContainerConfigError", Some(message));
                status.report(&pods, &proc.name).await;
                let delay = Duration::from_millis(if tries < 10 { 20 } else { 500 });
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    };
    let mut restarts = 0u32;
    loop {
        let (code, reason, message) = run_once(&proc, &launch, &mut status, &pods, &mut stop).await;
        let restart = stop.borrow().is_none()
            && match policy.as_str() {
                "Always" => true,
                "OnFailure" => code != 0,
                _ => false,
            };
        if !restart {
            let message = message.or_else(|| fallback_message(&container, &proc, code));
            status.terminated(code, reason, message);
            break;
        }
        restarts += 1;
        status.restarting(code, reason);
        status.report(&pods, &proc.name).await;
        let delay = kubelet
            .options
            .restart_backoff
            .saturating_mul(1 << restarts.min(5).saturating_sub(1))
            .min(Duration::from_secs(30));
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stop.changed() => {
                status.terminated(code, reason, None);
                break;
            }
        }
        let fresh = Arc::new(PodLog::new());
        let old = std::mem::replace(&mut *lock(&proc.log), fresh);
        *lock(&proc.previous) = Some(old);
    }
    end(&proc, &pods, &status).await;
}

/// Reports the pod's last status; removes it when it was stopped by a deletion.
async fn end(proc: &PodProc, pods: &Api<Pod>, status: &Tracker) {
    proc.log().close();
    if !status.report(pods, &proc.name).await {
        return;
    }
    if matches!(*proc.stop.borrow(), Some(Stop::Graceful(_))) {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(proc.uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        if let Err(e) = pods.delete(&proc.name, &params).await
            && !matches!(&e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
        {
            tracing::warn!("removing pod {}/{}: {e}", proc.namespace, proc.name);
        }
    }
}

async fn read_lines(stream: impl AsyncRead + Unpin, log: Arc<PodLog>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => log.push(line),
        }
    }
}

/// One run of the container: started, reported running, waited for (or stopped). Its exit
/// code (128+signal when killed) and reason.
async fn run_once(
    proc: &PodProc,
    launch: &Launch,
    status: &mut Tracker,
    pods: &Api<Pod>,
    stop: &mut watch::Receiver<Option<Stop>>,
) -> (i32, &'static str, Option<String>) {
    let log = proc.log();
    // stdout and stderr share one pipe, so the log keeps the order the process wrote in.
    let pipe = std::io::pipe().and_then(|(r, w)| Ok((r, w.try_clone()?, w)));
    let (output, out, err) = match pipe {
        Ok(ends) => ends,
        Err(e) => {
            let message = format!("failed to create the container's output pipe: {e}");
            return (128, "StartError", Some(message));
        }
    };
    let mut command = tokio::process::Command::new(&launch.program);
    command
        .args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&launch.working_dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .kill_on_drop(true);
    let spawned = command.spawn();
    // The parent's ends of the pipe go with the command, so the log ends with the process.
    drop(command);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let message = format!(
                "failed to start container process: exec: {:?}: {e}",
                launch.program.display().to_string()
            );
            return (128, "StartError", Some(message));
        }
    };
    *lock(&proc.pid) = child.id();
    let reader = match tokio::net::unix::pipe::Receiver::from_owned_fd(output.into()) {
        Ok(receiver) => Some(tokio::spawn(read_lines(receiver, log.clone()))),
        Err(e) => {
            tracing::warn!(
                "the output of pod {}/{} is lost: {e}",
                proc.namespace,
                proc.name
            );
            None
        }
    };
    status.running();
    status.report(pods, &proc.name).await;
    let exit = loop {
        let requested = *stop.borrow_and_update();
        match requested {
            Some(Stop::Kill) => {
                let _ = proc.signal(Signal::SIGKILL);
                break child.wait().await;
            }
            Some(Stop::Graceful(grace)) => {
                let _ = proc.signal(Signal::SIGTERM);
                tokio::select! {
                    exit = child.wait() => break exit,
                    () = tokio::time::sleep(grace) => {
                        let _ = proc.signal(Signal::SIGKILL);
                        break child.wait().await;
                    }
                    _ = stop.changed() => continue,
                }
            }
            None => tokio::select! {
                exit = child.wait() => break exit,
                _ = stop.changed() => continue,
            },
        }
    };
    // The container is gone with its main process: so is everything else in it.
    let _ = proc.signal(Signal::SIGKILL);
    *lock(&proc.pid) = None;
    if let Some(reader) = reader {
        let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    }
    let code = match &exit {
        Ok(status) => status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
        Err(_) => 128,
    };
    let reason = if code == 0 { "Completed" } else { "Error" };
    (code, reason, None)
}

/// `terminationMessagePolicy: FallbackToLogsOnError`: the end of the log on failure.
fn fallback_message(
    container: &k8s_openapi::api::core::v1::Container,
    proc: &PodProc,
    code: i32,
) -> Option<String> {
    if code == 0 || container.termination_message_policy.as_deref() != Some("FallbackToLogsOnError")
    {
        return None;
    }
    let tail = proc.log().tail(Some(80));
    let start = tail.len().saturating_sub(2048);
    Some(String::from_utf8_lossy(&tail[start..]).into_owned())
}
