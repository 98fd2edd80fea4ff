//! The simulated kubelet's Node: registered as a kubelet registers its own (Ready, with
//! capacity, labels, `InternalIP` 127.0.0.1 and the log server's port as the kubelet
//! endpoint), kept alive by renewing its Lease in `kube-node-lease` every 10 s (what the
//! node lifecycle controller watches), and schedulable once that controller has lifted the
//! `not-ready` taint the API server puts on a new Node.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{
    DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus,
    NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use crate::{Error, Kubelet};

const LEASE_NAMESPACE: &str = "kube-node-lease";
const LEASE_SECONDS: i32 = 40;
const RENEW_EVERY: Duration = Duration::from_secs(10);

fn api(doing: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
    let doing = doing.into();
    move |source| Error::Api { doing, source }
}

fn status(port: u16) -> NodeStatus {
    let now = Time(Timestamp::now());
    let quantities = |cpu: &str, memory: &str, pods: &str| {
        BTreeMap::from([
            ("cpu".to_owned(), Quantity(cpu.to_owned())),
            ("memory".to_owned(), Quantity(memory.to_owned())),
            ("pods".to_owned(), Quantity(pods.to_owned())),
            ("ephemeral-storage".to_owned(), Quantity("100Gi".to_owned())),
        ])
    };
    let condition = |type_: &str, status: &str, reason: &str| NodeCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: Some(reason.to_owned()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(now.clone()),
        message: None,
    };
    NodeStatus {
        capacity: Some(quantities("64", "256Gi", "250")),
        allocatable: Some(quantities("64", "256Gi", "250")),
        conditions: Some(vec![
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID"),
            condition("Ready", "True", "KubeletReady"),
        ]),
        // Only an InternalIP: the API server would try a Hostname address first.
        addresses: Some(vec![NodeAddress {
            type_: "InternalIP".to_owned(),
            address: "127.0.0.1".to_owned(),
        }]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(port),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: std::env::consts::ARCH.replace("x86_64", "amd64"),
            operating_system: "linux".to_owned(),
            os_image: "weft simulated kubelet".to_owned(),
            kernel_version: String::new(),
            kubelet_version: "v1.34.2".to_owned(),
            kube_proxy_version: String::new(),
            container_runtime_version: "weft-kube-double://local-processes".to_owned(),
            machine_id: String::new(),
            system_uuid: String::new(),
            boot_id: String::new(),
            ..NodeSystemInfo::default()
        }),
        ..NodeStatus::default()
    }
}

/// Registers the Node (or takes over one of its name) and its Lease.
pub(crate) async fn register(kubelet: &Kubelet, log_port: u16) -> Result<(), Error> {
    let name = kubelet.options.node_name.clone();
    let mut labels = kubelet.options.labels.clone();
    labels.insert("kubernetes.io/hostname".into(), name.clone());
    labels.insert("kubernetes.io/os".into(), "linux".into());
    labels.insert(
        "kubernetes.io/arch".into(),
        std::env::consts::ARCH.replace("x86_64", "amd64"),
    );
    let node = Node {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(status(log_port)),
    };
    let nodes: Api<Node> = Api::all(kubelet.client.clone());
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let patch = json!({ "metadata": { "labels": labels } });
            nodes
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .map_err(api(format!("updating node {name}")))?;
        }
        Err(e) => return Err(api(format!("registering node {name}"))(e)),
    }
    let patch = json!({ "status": node.status });
    nodes
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(api(format!("reporting the status of node {name}")))?;
    renew(kubelet).await
}

/// Creates or renews the node's Lease.
async fn renew(kubelet: &Kubelet) -> Result<(), Error> {
    let name = kubelet.options.node_name.clone();
    let leases: Api<Lease> = Api::namespaced(kubelet.client.clone(), LEASE_NAMESPACE);
    let spec = LeaseSpec {
        holder_identity: Some(name.clone()),
        lease_duration_seconds: Some(LEASE_SECONDS),
        renew_time: Some(MicroTime(Timestamp::now())),
        ..LeaseSpec::default()
    };
    let lease = Lease {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(LEASE_NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        spec: Some(spec.clone()),
    };
    match leases.create(&PostParams::default(), &lease).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let patch = json!({ "spec": spec });
            leases
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
                .map(|_| ())
                .map_err(api(format!("renewing the lease of node {name}")))
        }
        Err(e) => Err(api(format!("creating the lease of node {name}"))(e)),
    }
}

/// Renews the Lease for as long as the kubelet runs.
pub(crate) async fn heartbeat(kubelet: Arc<Kubelet>) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        if let Err(e) = renew(&kubelet).await {
            tracing::warn!("{e}");
        }
    }
}

/// Waits until the node has no `node.kubernetes.io/*` taint that keeps pods off it (the
/// node lifecycle controller lifts `not-ready` once it has seen the node Ready).
pub(crate) async fn schedulable(kubelet: &Kubelet) -> Result<(), Error> {
    let name = kubelet.options.node_name.clone();
    let nodes: Api<Node> = Api::all(kubelet.client.clone());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let node = nodes
            .get(&name)
            .await
            .map_err(api(format!("reading node {name}")))?;
        let blocked = node
            .spec
            .iter()
            .flat_map(|s| s.taints.iter().flatten())
            .any(|t| t.key.starts_with("node.kubernetes.io/") && t.effect != "PreferNoSchedule");
        if !blocked {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::Config(format!(
                "node {name} is still tainted after 2 minutes: is kube-controller-manager running?"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
