//! The pods bound to the simulated node: a watch on Pods with `spec.nodeName` of the node
//! (kube-runtime's watcher, as the kubelet's own pod source watches), starting a pod when
//! it first appears, stopping it gracefully when it is being deleted, and killing it when
//! it is gone.

use std::sync::Arc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};

use crate::Kubelet;
use crate::container::{self, PodProc, Stop};

/// The grace period of a pod being deleted.
fn deleting(pod: &Pod) -> Option<std::time::Duration> {
    pod.metadata.deletion_timestamp.as_ref()?;
    let seconds = pod.metadata.deletion_grace_period_seconds.unwrap_or(30);
    Some(std::time::Duration::from_secs(
        u64::try_from(seconds).unwrap_or(0),
    ))
}

fn terminal(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
}

/// A pod as the watch shows it now.
fn seen(kubelet: &Arc<Kubelet>, pod: Pod) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let mut pods = kubelet.pods.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = pods.get(&uid) {
        if let Some(grace) = deleting(&pod) {
            known.request_stop(Stop::Graceful(grace));
        }
        return;
    }
    // A pod that ended before this kubelet knew it is someone else's past.
    if terminal(&pod) {
        return;
    }
    let proc = Arc::new(PodProc::new(&pod));
    if let Some(grace) = deleting(&pod) {
        proc.request_stop(Stop::Graceful(grace));
    }
    pods.insert(uid, proc.clone());
    tokio::spawn(container::run(kubelet.clone(), proc, pod));
}

/// A pod removed from the API server.
fn gone(kubelet: &Kubelet, pod: &Pod) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let removed = kubelet
        .pods
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&uid);
    if let Some(proc) = removed {
        proc.request_stop(Stop::Kill);
    }
}

/// Follows the node's pods until the task is aborted.
pub(crate) async fn watch(kubelet: Arc<Kubelet>) {
    let pods: Api<Pod> = Api::all(kubelet.client.clone());
    let config =
        watcher::Config::default().fields(&format!("spec.nodeName={}", kubelet.options.node_name));
    let mut events = std::pin::pin!(watcher(pods, config).default_backoff());
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => {
                seen(&kubelet, pod);
            }
            Ok(watcher::Event::Delete(pod)) => gone(&kubelet, &pod),
            Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
            Err(e) => tracing::warn!("watching the node's pods: {e}"),
        }
    }
}
