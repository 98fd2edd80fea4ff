//! The "scheduler" and "kubelet" of the test double of the Kubernetes API server (not a
//! Kubernetes): each pod is bound to one fake node and its first container runs as a local
//! process (in its own process group, which stands in for the container; stdout and stderr
//! on one pipe, read into the pod's log line by line), with the pod status
//! the real kubelet reports: Pending (scheduled, `ContainerCreating` or
//! `CreateContainerConfigError`) → Running → Succeeded/Failed, `containerStatuses[0].state`
//! with the exit code (128+signal for a signal) and reason. Deleting a pod terminates its
//! process: SIGTERM to the group, then SIGKILL after the grace period, as the kubelet does.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

use crate::env::{self, NotReady};
use crate::logs::PodLog;
use crate::status::ApiError;
use crate::store::{Kind, Shared, new_uid, now};

/// How a pod's process is to be stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// SIGTERM, then SIGKILL after the grace period.
    Graceful(Duration),
    /// SIGKILL now.
    Kill,
}

/// The local process behind one pod.
pub(crate) struct PodProc {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub job: Option<String>,
    pub log: Arc<PodLog>,
    pid: Mutex<Option<u32>>,
    exit_code: Mutex<Option<i32>>,
    stop: watch::Sender<Option<Stop>>,
}

impl PodProc {
    pub fn pid(&self) -> Option<u32> {
        *self.pid.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn exit_code(&self) -> Option<i32> {
        *self.exit_code.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks the kubelet to stop the container; a SIGKILL overrides a graceful stop.
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

    /// Sends a signal to the process group of the container, if it is running.
    pub fn signal(&self, signal: Signal) -> Result<(), nix::Error> {
        match self.pid().and_then(|p| i32::try_from(p).ok()) {
            Some(pid) => killpg(Pid::from_raw(pid), signal),
            None => Err(nix::Error::ESRCH),
        }
    }
}

/// Sets a pod condition, moving `lastTransitionTime` only when its status changes.
fn set_condition(status: &mut PodStatus, type_: &str, value: bool, reason: Option<&str>) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let value = if value { "True" } else { "False" }.to_string();
    let reason = reason.map(str::to_string);
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != value {
                c.last_transition_time = Some(now());
            }
            c.status = value;
            c.reason = reason;
        }
        None => conditions.push(PodCondition {
            type_: type_.to_string(),
            status: value,
            reason,
            last_transition_time: Some(now()),
            ..PodCondition::default()
        }),
    }
}

fn hex_id() -> String {
    format!("{}{}", new_uid(), new_uid()).replace('-', "")
}

/// The container status of the pod's first container, created on first use.
fn container_status(pod: &mut Pod) -> Option<&mut ContainerStatus> {
    let container = pod.spec.as_ref()?.containers.first()?.clone();
    let status = pod.status.get_or_insert_with(PodStatus::default);
    let statuses = status.container_statuses.get_or_insert_with(Vec::new);
    if statuses.is_empty() {
        let image = container.image.clone().unwrap_or_default();
        statuses.push(ContainerStatus {
            name: container.name.clone(),
            image: image.clone(),
            image_id: format!("{image}@sha256:{}", &hex_id()[..64]),
            ..ContainerStatus::default()
        });
    }
    statuses.first_mut()
}

fn set_waiting(pod: &mut Pod, reason: &str, message: Option<String>) {
    if let Some(c) = container_status(pod) {
        c.state = Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.to_string()),
                message,
            }),
            ..ContainerState::default()
        });
        c.ready = false;
        c.started = Some(false);
    }
}

/// Records the end of the container and the pod's phase (restartPolicy Never).
fn set_terminated(pod: &mut Pod, exit_code: i32, reason: &str, message: Option<String>) {
    let (started_at, container_id) = container_status(pod)
        .map(|c| {
            let running = c.state.as_ref().and_then(|s| s.running.clone());
            (running.and_then(|r| r.started_at), c.container_id.clone())
        })
        .unwrap_or_default();
    if let Some(c) = container_status(pod) {
        c.state = Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code,
                reason: Some(reason.to_string()),
                message,
                started_at,
                finished_at: Some(now()),
                container_id,
                ..ContainerStateTerminated::default()
            }),
            ..ContainerState::default()
        });
        c.ready = false;
        c.started = Some(false);
    }
    let status = pod.status.get_or_insert_with(PodStatus::default);
    let (phase, why) = if exit_code == 0 {
        ("Succeeded", "PodCompleted")
    } else {
        ("Failed", "PodFailed")
    };
    status.phase = Some(phase.to_string());
    set_condition(status, "Ready", false, Some(why));
    set_condition(status, "ContainersReady", false, Some(why));
}

fn update(shared: &Shared, ns: &str, name: &str, f: impl FnOnce(&mut Pod)) -> Option<Pod> {
    shared.write(|s| s.update::<Pod>(ns, name, f))
}

/// Stores a new pod and starts its scheduler and kubelet.
pub(crate) fn start_pod(shared: &Arc<Shared>, pod: Pod, job: Option<String>) -> Pod {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let proc = Arc::new(PodProc {
        namespace: ns,
        name,
        uid: uid.clone(),
        job,
        log: Arc::new(PodLog::new()),
        pid: Mutex::new(None),
        exit_code: Mutex::new(None),
        stop: watch::Sender::new(None),
    });
    let stored = shared.write(|s| {
        s.procs.insert(uid, proc.clone());
        s.insert(pod)
    });
    tokio::spawn(run(shared.clone(), proc));
    stored
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

/// The life of one pod on the fake node.
async fn run(shared: Arc<Shared>, proc: Arc<PodProc>) {
    let (ns, name) = (proc.namespace.clone(), proc.name.clone());
    let mut stop = proc.stop.subscribe();
    let node = shared.config.node_name.clone();
    // The scheduler binds the pod.
    tokio::task::yield_now().await;
    update(&shared, &ns, &name, |pod| {
        pod.spec.get_or_insert_with(Default::default).node_name = Some(node);
        let status = pod.status.get_or_insert_with(PodStatus::default);
        set_condition(status, "PodScheduled", true, None);
    });
    // The kubelet takes it: sandbox ready, container being created.
    tokio::task::yield_now().await;
    update(&shared, &ns, &name, |pod| {
        let status = pod.status.get_or_insert_with(PodStatus::default);
        status.start_time = Some(now());
        status.host_ip = Some("127.0.0.1".to_string());
        status.host_ips = Some(vec![HostIP {
            ip: "127.0.0.1".to_string(),
        }]);
        status.pod_ip = Some("127.0.0.1".to_string());
        status.pod_ips = Some(vec![PodIP {
            ip: "127.0.0.1".to_string(),
        }]);
        set_condition(status, "PodReadyToStartContainers", true, None);
        set_condition(status, "Initialized", true, None);
        set_condition(status, "Ready", false, Some("ContainersNotReady"));
        set_condition(status, "ContainersReady", false, Some("ContainersNotReady"));
        set_waiting(pod, "ContainerCreating", None);
    });
    // Resolve the environment; a missing ConfigMap or Secret keeps the pod Pending, retried.
    let launch = loop {
        if stop.borrow_and_update().is_some() {
            return finish(&shared, &proc, 137, "ContainerStatusUnknown", None);
        }
        let Some(pod) = shared.read(|s| s.get::<Pod>(&ns, &name).cloned()) else {
            return;
        };
        match env::prepare(&shared, &pod) {
            Ok(launch) => break launch,
            Err(NotReady::Start(message)) => {
                return finish(&shared, &proc, 128, "StartError", Some(message));
            }
            Err(NotReady::Config(message)) => {
                update(&shared, &ns, &name, |pod| {
                    set_waiting(pod, "CreateContainerConfigError", Some(message));
                });
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    };
    // stdout and stderr share one pipe, so the log keeps the order the process wrote in.
    let (output, input) = match std::io::pipe().and_then(|(r, w)| Ok((r, w.try_clone()?, w))) {
        Ok((reader, out, err)) => (reader, (out, err)),
        Err(e) => {
            let message = format!("failed to create the container's output pipe: {e}");
            return finish(&shared, &proc, 128, "StartError", Some(message));
        }
    };
    let mut command = tokio::process::Command::new(&launch.program);
    command
        .args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&launch.working_dir)
        .stdin(Stdio::null())
        .stdout(input.0)
        .stderr(input.1)
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
            return finish(&shared, &proc, 128, "StartError", Some(message));
        }
    };
    *proc.pid.lock().unwrap_or_else(|e| e.into_inner()) = child.id();
    let reader = match tokio::net::unix::pipe::Receiver::from_owned_fd(output.into()) {
        Ok(receiver) => Some(tokio::spawn(read_lines(receiver, proc.log.clone()))),
        Err(e) => {
            tracing::warn!("weft-kube-double: the output of pod {ns}/{name} is lost: {e}");
            None
        }
    };
    update(&shared, &ns, &name, |pod| {
        if let Some(c) = container_status(pod) {
            c.container_id = Some(format!("containerd://{}", &hex_id()[..64]));
            c.state = Some(ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(now()),
                }),
                ..ContainerState::default()
            });
            c.ready = true;
            c.started = Some(true);
        }
        let status = pod.status.get_or_insert_with(PodStatus::default);
        status.phase = Some("Running".to_string());
        set_condition(status, "Ready", true, None);
        set_condition(status, "ContainersReady", true, None);
    });
    // Wait for the process, or a stop request.
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
    let message = fallback_message(&shared, &proc, code);
    finish(&shared, &proc, code, reason, message);
}

/// `terminationMessagePolicy: FallbackToLogsOnError`: the end of the log on failure.
fn fallback_message(shared: &Shared, proc: &PodProc, code: i32) -> Option<String> {
    if code == 0 {
        return None;
    }
    let policy = shared.read(|s| {
        s.get::<Pod>(&proc.namespace, &proc.name)
            .and_then(|p| p.spec.as_ref())
            .and_then(|s| s.containers.first())
            .and_then(|c| c.termination_message_policy.clone())
    });
    if policy.as_deref() != Some("FallbackToLogsOnError") {
        return None;
    }
    let tail = proc.log.tail(Some(80));
    let start = tail.len().saturating_sub(2048);
    Some(String::from_utf8_lossy(&tail[start..]).into_owned())
}

/// The container has ended (or never started): record it, and remove a pod being deleted.
fn finish(shared: &Shared, proc: &PodProc, code: i32, reason: &str, message: Option<String>) {
    *proc.exit_code.lock().unwrap_or_else(|e| e.into_inner()) = Some(code);
    *proc.pid.lock().unwrap_or_else(|e| e.into_inner()) = None;
    proc.log.close();
    let (ns, name) = (&proc.namespace, &proc.name);
    let finished = update(shared, ns, name, |pod| {
        set_terminated(pod, code, reason, message);
    });
    if finished.is_some_and(|p| p.metadata.deletion_timestamp.is_some()) {
        shared.write(|s| s.remove::<Pod>(ns, name));
    }
}

/// What a delete did: removed the object at once, or started its deletion.
pub(crate) enum Deleted<K> {
    Gone(K),
    Pending(K),
}

/// Deletes a pod as the real server and kubelet do: a pod that is not running goes at once;
/// a running one gets `deletionTimestamp` and its process is terminated within the grace
/// period (`gracePeriodSeconds`, else the pod's `terminationGracePeriodSeconds`, 30 by
/// default), after which the kubelet removes it. A grace period of 0 removes it at once and
/// kills the process.
pub(crate) fn delete_pod(
    shared: &Shared,
    ns: &str,
    name: &str,
    grace: Option<i64>,
) -> Result<Deleted<Pod>, ApiError> {
    shared.write(|s| {
        let pod = s
            .get::<Pod>(ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(Pod::resource(), name))?;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let proc = s.procs.get(&uid).cloned();
        let phase = pod.status.as_ref().and_then(|st| st.phase.clone());
        let terminal = matches!(phase.as_deref(), Some("Succeeded" | "Failed"));
        let grace = grace
            .or_else(|| {
                pod.spec
                    .as_ref()
                    .and_then(|sp| sp.termination_grace_period_seconds)
            })
            .unwrap_or(30)
            .max(0);
        let running = proc.as_ref().is_some_and(|p| p.pid().is_some());
        if grace == 0 || terminal || !running {
            if let Some(p) = proc {
                p.request_stop(Stop::Kill);
            }
            let removed = s.remove::<Pod>(ns, name).unwrap_or(pod);
            return Ok(Deleted::Gone(removed));
        }
        if pod.metadata.deletion_timestamp.is_some() {
            return Ok(Deleted::Pending(pod));
        }
        let updated = s
            .update::<Pod>(ns, name, |p| {
                p.metadata.deletion_timestamp = Some(crate::store::in_secs(grace));
                p.metadata.deletion_grace_period_seconds = Some(grace);
            })
            .unwrap_or(pod);
        let wait = Duration::from_secs(u64::try_from(grace).unwrap_or(30));
        let wait = shared
            .config
            .max_grace_period
            .map_or(wait, |max| wait.min(max));
        if let Some(p) = proc {
            p.request_stop(Stop::Graceful(wait));
        }
        Ok(Deleted::Pending(updated))
    })
}
