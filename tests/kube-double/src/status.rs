//! The Pod status the simulated kubelet reports, as a kubelet writes it: conditions
//! (`PodScheduled` kept from the scheduler, `PodReadyToStartContainers`, `Initialized`,
//! `ContainersReady`, `Ready`), host and pod IPs, and the first container's status (waiting
//! with a reason, running, terminated with its exit code; `restartCount` and `lastState`
//! after a restart), sent to `pods/{name}/status` as a strategic merge patch.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams};

fn now() -> Time {
    Time(Timestamp::now())
}

/// A random 64-hex-digit id, as container runtimes give containers.
fn container_id() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("weft://{a}{b}")
}

/// The status of one pod, as this kubelet last reported it.
pub(crate) struct Tracker {
    status: PodStatus,
}

impl Tracker {
    /// The status of a pod just taken by the node: its sandbox ready, its container being
    /// created.
    pub fn new(pod: &Pod, container: &Container) -> Tracker {
        let scheduled = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .filter(|c| c.type_ == "PodScheduled")
            .cloned()
            .collect::<Vec<_>>();
        let image = container.image.clone().unwrap_or_default();
        let mut status = PodStatus {
            phase: Some("Pending".into()),
            start_time: Some(now()),
            host_ip: Some("127.0.0.1".into()),
            host_ips: Some(vec![HostIP {
                ip: "127.0.0.1".into(),
            }]),
            pod_ip: Some("127.0.0.1".into()),
            pod_ips: Some(vec![PodIP {
                ip: "127.0.0.1".into(),
            }]),
            qos_class: pod.status.as_ref().and_then(|s| s.qos_class.clone()),
            conditions: Some(scheduled),
            container_statuses: Some(vec![ContainerStatus {
                name: container.name.clone(),
                image: image.clone(),
                image_id: image,
                ..ContainerStatus::default()
            }]),
            ..PodStatus::default()
        };
        for (type_, value, reason) in [
            ("PodReadyToStartContainers", true, None),
            ("Initialized", true, None),
            ("ContainersReady", false, Some("ContainersNotReady")),
            ("Ready", false, Some("ContainersNotReady")),
        ] {
            set_condition(&mut status, type_, value, reason);
        }
        let mut tracker = Tracker { status };
        tracker.waiting("ContainerCreating", None);
        tracker
    }

    fn container(&mut self) -> &mut ContainerStatus {
        let statuses = self.status.container_statuses.get_or_insert_with(Vec::new);
        if statuses.is_empty() {
            statuses.push(ContainerStatus::default());
        }
        &mut statuses[0]
    }

    pub fn waiting(&mut self, reason: &str, message: Option<String>) {
        let c = self.container();
        c.state = Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.into()),
                message,
            }),
            ..ContainerState::default()
        });
        c.ready = false;
        c.started = Some(false);
    }

    pub fn running(&mut self) {
        let c = self.container();
        c.container_id = Some(container_id());
        c.state = Some(ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(now()),
            }),
            ..ContainerState::default()
        });
        c.ready = true;
        c.started = Some(true);
        self.status.phase = Some("Running".into());
        set_condition(&mut self.status, "ContainersReady", true, None);
        set_condition(&mut self.status, "Ready", true, None);
    }

    fn terminated_state(
        &mut self,
        exit_code: i32,
        reason: &str,
        message: Option<String>,
    ) -> ContainerState {
        let c = self.container();
        let started_at = c
            .state
            .as_ref()
            .and_then(|s| s.running.as_ref())
            .and_then(|r| r.started_at.clone());
        ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code,
                reason: Some(reason.into()),
                message,
                started_at,
                finished_at: Some(now()),
                container_id: c.container_id.clone(),
                ..ContainerStateTerminated::default()
            }),
            ..ContainerState::default()
        }
    }

    /// The container ended and will be started again after a delay.
    pub fn restarting(&mut self, exit_code: i32, reason: &str) {
        let last = self.terminated_state(exit_code, reason, None);
        let c = self.container();
        c.last_state = Some(last);
        c.restart_count += 1;
        c.state = Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(
                    if exit_code == 0 {
                        "Completed"
                    } else {
                        "CrashLoopBackOff"
                    }
                    .into(),
                ),
                message: None,
            }),
            ..ContainerState::default()
        });
        c.ready = false;
        c.started = Some(false);
        set_condition(
            &mut self.status,
            "ContainersReady",
            false,
            Some("ContainersNotReady"),
        );
        set_condition(&mut self.status, "Ready", false, Some("ContainersNotReady"));
    }

    /// The container ended for good: the pod's phase follows from its exit code.
    pub fn terminated(&mut self, exit_code: i32, reason: &str, message: Option<String>) {
        let state = self.terminated_state(exit_code, reason, message);
        let c = self.container();
        c.state = Some(state);
        c.ready = false;
        c.started = Some(false);
        let (phase, why) = if exit_code == 0 {
            ("Succeeded", "PodCompleted")
        } else {
            ("Failed", "PodFailed")
        };
        self.status.phase = Some(phase.into());
        set_condition(&mut self.status, "PodReadyToStartContainers", false, None);
        set_condition(&mut self.status, "ContainersReady", false, Some(why));
        set_condition(&mut self.status, "Ready", false, Some(why));
    }

    /// Reports the status; false when the pod is gone.
    pub async fn report(&self, pods: &Api<Pod>, name: &str) -> bool {
        let patch = serde_json::json!({ "status": &self.status });
        match pods
            .patch_status(name, &PatchParams::default(), &Patch::Strategic(patch))
            .await
        {
            Ok(_) => true,
            Err(kube::Error::Api(status)) if status.code == 404 => false,
            Err(e) => {
                tracing::warn!("reporting the status of pod {name}: {e}");
                true
            }
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
