//! Jobs, pods and their processes in the test double of the Kubernetes API server (not a
//! Kubernetes), driven by the real kube client: retries up to backoffLimit, completion,
//! logs, the environment a pod's process gets, deadlines, and what deleting and killing do.

use std::collections::BTreeMap;

use crate::support::{
    Cluster, alive, eventually, has_condition, is_job_failed, pid_of, sh_job, within,
};
use futures_util::AsyncReadExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;

fn pods_of(cluster: &Cluster, job: &str) -> Vec<weft_kube_double::PodInfo> {
    cluster
        .double
        .pods()
        .into_iter()
        .filter(|p| p.job.as_deref() == Some(job))
        .collect()
}

#[tokio::test]
async fn a_failing_job_retries_until_its_backoff_limit_and_fails() {
    let cluster = Cluster::start().await;
    let jobs = cluster.jobs();
    let pods = cluster.pods();
    let script = "echo hi; echo err >&2; sleep 0.3; echo bye; exit 3";
    let created = jobs
        .create(&PostParams::default(), &sh_job("fails", script, 1))
        .await
        .unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    let spec = created.spec.clone().unwrap();
    assert_eq!(spec.backoff_limit, Some(1));
    let selector = spec.selector.unwrap().match_labels.unwrap();
    assert_eq!(selector["batch.kubernetes.io/controller-uid"], uid);
    assert_eq!(
        created.metadata.labels.as_ref().unwrap()["job-name"],
        "fails"
    );

    // The first pod: labels and owner as the Job controller sets them.
    let first = eventually(5, || pods_of(&cluster, "fails").first().cloned()).await;
    let running = within(
        10,
        await_condition(pods.clone(), &first.name, |p: Option<&Pod>| {
            p.and_then(|p| p.status.as_ref()?.phase.clone())
                .is_some_and(|phase| phase != "Pending")
        }),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(first.name.starts_with("fails-") && first.name.len() == "fails-".len() + 5);
    let labels: &BTreeMap<String, String> = running.metadata.labels.as_ref().unwrap();
    assert_eq!(labels["job-name"], "fails");
    assert_eq!(labels["batch.kubernetes.io/job-name"], "fails");
    assert_eq!(labels["controller-uid"], uid);
    assert_eq!(labels["batch.kubernetes.io/controller-uid"], uid);
    assert_eq!(labels["app"], "weft-test");
    let owner = &running.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("Job", uid.as_str())
    );
    assert_eq!(owner.controller, Some(true));

    // Its log, followed until the container exits: stdout and stderr in one stream.
    let mut log = String::new();
    let stream = pods
        .log_stream(
            &first.name,
            &LogParams {
                follow: true,
                ..LogParams::default()
            },
        )
        .await
        .unwrap();
    within(10, async {
        let mut stream = Box::pin(stream);
        stream.read_to_string(&mut log).await.unwrap();
    })
    .await;
    assert_eq!(log, "hi\nerr\nbye\n");

    // backoffLimit 1: two pods, then Failed with BackoffLimitExceeded.
    let failed = within(20, await_condition(jobs.clone(), "fails", is_job_failed()))
        .await
        .unwrap()
        .unwrap();
    let status = failed.status.clone().unwrap();
    assert_eq!(
        has_condition(&failed, "Failed").as_deref(),
        Some("BackoffLimitExceeded")
    );
    assert_eq!(
        has_condition(&failed, "FailureTarget").as_deref(),
        Some("BackoffLimitExceeded")
    );
    assert_eq!(
        (status.failed, status.active, status.succeeded),
        (Some(2), Some(0), None)
    );
    assert!(status.start_time.is_some() && status.completion_time.is_none());
    let all = pods_of(&cluster, "fails");
    assert_eq!(all.len(), 2, "{all:?}");
    for pod in &all {
        assert_eq!(pod.exit_code, Some(3));
        let stored = pods.get(&pod.name).await.unwrap();
        let pod_status = stored.status.unwrap();
        assert_eq!(pod_status.phase.as_deref(), Some("Failed"));
        let state = pod_status.container_statuses.unwrap()[0]
            .state
            .clone()
            .unwrap();
        let terminated = state.terminated.unwrap();
        assert_eq!(
            (terminated.exit_code, terminated.reason.as_deref()),
            (3, Some("Error"))
        );
    }
    // Listing by label finds them, and the log of a finished pod is still served.
    let listed = pods
        .list(&ListParams::default().labels("job-name=fails,app=weft-test"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    let tail = pods
        .logs(
            &all[1].name,
            &LogParams {
                tail_lines: Some(1),
                ..LogParams::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tail, "bye\n");
}

#[tokio::test]
async fn a_successful_job_completes() {
    let cluster = Cluster::start().await;
    let jobs = cluster.jobs();
    jobs.create(&PostParams::default(), &sh_job("works", "echo done", 6))
        .await
        .unwrap();
    let done = within(
        10,
        await_condition(jobs.clone(), "works", conditions::is_job_completed()),
    )
    .await
    .unwrap()
    .unwrap();
    let status = done.status.clone().unwrap();
    assert_eq!(
        (status.succeeded, status.active, status.failed),
        (Some(1), Some(0), None)
    );
    assert!(status.completion_time.is_some());
    assert_eq!(
        has_condition(&done, "SuccessCriteriaMet").as_deref(),
        Some("CompletionsReached")
    );
    let pod = pods_of(&cluster, "works").remove(0);
    assert_eq!(pod.phase.as_deref(), Some("Succeeded"));
    assert_eq!(pod.exit_code, Some(0));
    assert_eq!(
        cluster.double.pod_log("default", &pod.name).as_deref(),
        Some("done\n")
    );
    let stored = cluster.double.pod("default", &pod.name).unwrap();
    let terminated = stored.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(terminated.reason.as_deref(), Some("Completed"));
}

#[tokio::test]
async fn env_from_secrets_and_config_maps_reaches_the_process_and_nothing_else() {
    let cluster = Cluster::start().await;
    let post = PostParams::default();
    let cms = kube::Api::<ConfigMap>::namespaced(cluster.client.clone(), "default");
    let secrets = kube::Api::<Secret>::namespaced(cluster.client.clone(), "default");
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "settings" },
        "data": { "GREETING": "hello", "COLOUR": "blue" },
    }))
    .unwrap();
    cms.create(&post, &cm).await.unwrap();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": { "name": "creds" },
        "stringData": { "TOKEN": "s3cret" },
    }))
    .unwrap();
    let stored = secrets.create(&post, &secret).await.unwrap();
    assert_eq!(stored.data.unwrap()["TOKEN"].0, b"s3cret");
    let mut job = sh_job("env", "env | sort", 0);
    let container = &mut job
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0];
    container.env = Some(serde_json::from_value(json!([
        { "name": "FROM_CM", "valueFrom": { "configMapKeyRef": { "name": "settings", "key": "GREETING" } } },
        { "name": "FROM_SECRET", "valueFrom": { "secretKeyRef": { "name": "creds", "key": "TOKEN" } } },
        { "name": "POD_NAME", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } },
        { "name": "POD_NS", "valueFrom": { "fieldRef": { "fieldPath": "metadata.namespace" } } },
        { "name": "PLAIN", "value": "say $(FROM_CM)" },
    ]))
    .unwrap());
    container.env_from = Some(
        serde_json::from_value(json!([
            { "configMapRef": { "name": "settings" }, "prefix": "CM_" },
            { "secretRef": { "name": "creds" } },
        ]))
        .unwrap(),
    );
    cluster.jobs().create(&post, &job).await.unwrap();
    within(
        10,
        await_condition(cluster.jobs(), "env", conditions::is_job_completed()),
    )
    .await
    .unwrap();
    let pod = pods_of(&cluster, "env").remove(0);
    let log = cluster.double.pod_log("default", &pod.name).unwrap();
    for line in [
        "FROM_CM=hello",
        "FROM_SECRET=s3cret",
        &format!("POD_NAME={}", pod.name),
        "POD_NS=default",
        "PLAIN=say hello",
        "CM_GREETING=hello",
        "CM_COLOUR=blue",
        "TOKEN=s3cret",
        &format!("HOSTNAME={}", pod.name),
    ] {
        assert!(log.lines().any(|l| l == line), "{line} not in:\n{log}");
    }
    assert!(log.lines().any(|l| l.starts_with("PATH=")), "{log}");
    assert!(log.lines().any(|l| l.starts_with("KUBECONFIG=")), "{log}");
    // Nothing of the test's own environment but PATH and HOME.
    assert!(std::env::var("CARGO_PKG_NAME").is_ok());
    assert!(!log.contains("CARGO_PKG_NAME"), "{log}");
}

#[tokio::test]
async fn a_missing_config_map_keeps_the_pod_pending_until_it_exists() {
    let cluster = Cluster::start().await;
    let mut job = sh_job("waits", "echo $GREETING", 0);
    let container = &mut job
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0];
    container.env = Some(serde_json::from_value(json!([
        { "name": "GREETING", "valueFrom": { "configMapKeyRef": { "name": "later", "key": "g" } } },
    ]))
    .unwrap());
    cluster
        .jobs()
        .create(&PostParams::default(), &job)
        .await
        .unwrap();
    let pod = eventually(5, || pods_of(&cluster, "waits").first().cloned()).await;
    let waiting = within(
        10,
        await_condition(cluster.pods(), &pod.name, |p: Option<&Pod>| {
            p.and_then(|p| {
                p.status.as_ref()?.container_statuses.as_ref()?[0]
                    .state
                    .clone()?
                    .waiting?
                    .reason
            })
            .is_some_and(|r| r == "CreateContainerConfigError")
        }),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(waiting.status.unwrap().phase.as_deref(), Some("Pending"));
    let message = cluster
        .pods()
        .logs(&pod.name, &LogParams::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("waiting to start: CreateContainerConfigError"),
        "{message}"
    );
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": "later" }, "data": { "g": "finally" },
    }))
    .unwrap();
    kube::Api::<ConfigMap>::namespaced(cluster.client.clone(), "default")
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    within(
        10,
        await_condition(cluster.jobs(), "waits", conditions::is_job_completed()),
    )
    .await
    .unwrap();
    assert_eq!(
        cluster.double.pod_log("default", &pod.name).as_deref(),
        Some("finally\n")
    );
}

async fn running_pod(cluster: &Cluster, job: &str) -> (String, u32) {
    let pod = eventually(5, || pods_of(cluster, job).first().cloned()).await;
    let pid = eventually(10, || pid_of(&cluster.double, &pod.name)).await;
    assert!(alive(pid));
    (pod.name, pid)
}

#[tokio::test]
async fn deleting_a_running_job_in_the_background_kills_its_pod() {
    let cluster = Cluster::start().await;
    cluster
        .jobs()
        .create(&PostParams::default(), &sh_job("sleeper", "sleep 1000", 0))
        .await
        .unwrap();
    let (pod, pid) = running_pod(&cluster, "sleeper").await;
    let answer = cluster
        .jobs()
        .delete("sleeper", &DeleteParams::background())
        .await
        .unwrap();
    let status = answer.right().expect("a Status: the Job is gone at once");
    assert_eq!(status.details.unwrap().name, "sleeper");
    within(
        10,
        await_condition(cluster.pods(), &pod, crate::support::is_gone()),
    )
    .await
    .unwrap();
    eventually(10, || (!alive(pid)).then_some(())).await;
    let info = cluster
        .double
        .pods()
        .into_iter()
        .find(|p| p.name == pod)
        .unwrap();
    assert_eq!(info.exit_code, Some(128 + 15), "SIGTERM first");
    assert!(cluster.jobs().get_opt("sleeper").await.unwrap().is_none());
}

#[tokio::test]
async fn deleting_a_job_without_a_policy_orphans_its_pods_as_batch_v1_does() {
    let cluster = Cluster::start().await;
    cluster
        .jobs()
        .create(&PostParams::default(), &sh_job("orphan", "sleep 1000", 0))
        .await
        .unwrap();
    let (pod, pid) = running_pod(&cluster, "orphan").await;
    let answer = cluster
        .jobs()
        .delete("orphan", &DeleteParams::default())
        .await
        .unwrap();
    let marked = answer.left().expect("the Job, marked for deletion");
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(marked.metadata.finalizers, Some(vec!["orphan".to_string()]));
    within(
        10,
        await_condition(cluster.jobs(), "orphan", crate::support::is_gone()),
    )
    .await
    .unwrap();
    let kept = cluster.pods().get(&pod).await.unwrap();
    assert_eq!(kept.metadata.owner_references, None);
    assert!(alive(pid));
    // Deleting the pod itself answers with the pod and terminates the process.
    let answer = cluster
        .pods()
        .delete(&pod, &DeleteParams::default())
        .await
        .unwrap();
    assert!(answer.left().unwrap().metadata.deletion_timestamp.is_some());
    within(
        10,
        await_condition(cluster.pods(), &pod, crate::support::is_gone()),
    )
    .await
    .unwrap();
    assert!(!alive(pid));
}

#[tokio::test]
async fn a_killed_pod_process_fails_the_pod_and_the_job_starts_another() {
    let cluster = Cluster::start().await;
    cluster
        .jobs()
        .create(&PostParams::default(), &sh_job("oom", "sleep 1000", 1))
        .await
        .unwrap();
    let (first, _) = running_pod(&cluster, "oom").await;
    cluster.double.kill_pod_process("default", &first).unwrap();
    let failed = within(
        10,
        await_condition(cluster.pods(), &first, |p: Option<&Pod>| {
            p.and_then(|p| p.status.as_ref()?.phase.clone())
                .is_some_and(|ph| ph == "Failed")
        }),
    )
    .await
    .unwrap()
    .unwrap();
    let terminated = failed.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (137, Some("Error"))
    );
    let second = eventually(10, || {
        pods_of(&cluster, "oom")
            .into_iter()
            .find(|p| p.name != first && p.pid.is_some())
    })
    .await;
    cluster
        .double
        .kill_pod_process("default", &second.name)
        .unwrap();
    let job = within(10, await_condition(cluster.jobs(), "oom", is_job_failed()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status.unwrap().failed, Some(2));
}

#[tokio::test]
async fn a_job_past_its_active_deadline_fails_and_its_pod_is_terminated() {
    let cluster = Cluster::start().await;
    let mut job: Job = sh_job("late", "sleep 1000", 6);
    job.spec.as_mut().unwrap().active_deadline_seconds = Some(1);
    cluster
        .jobs()
        .create(&PostParams::default(), &job)
        .await
        .unwrap();
    let (pod, pid) = running_pod(&cluster, "late").await;
    let failed = within(15, await_condition(cluster.jobs(), "late", is_job_failed()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        has_condition(&failed, "Failed").as_deref(),
        Some("DeadlineExceeded")
    );
    assert_eq!(failed.status.unwrap().failed, Some(1));
    assert!(!alive(pid));
    assert!(cluster.pods().get_opt(&pod).await.unwrap().is_none());
}

#[tokio::test]
async fn a_container_without_a_command_fails_with_a_start_error() {
    let cluster = Cluster::start().await;
    let mut job = sh_job("nocmd", "", 0);
    job.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .command = None;
    cluster
        .jobs()
        .create(&PostParams::default(), &job)
        .await
        .unwrap();
    within(
        10,
        await_condition(cluster.jobs(), "nocmd", is_job_failed()),
    )
    .await
    .unwrap();
    let pod = pods_of(&cluster, "nocmd").remove(0);
    let terminated = cluster
        .double
        .pod("default", &pod.name)
        .unwrap()
        .status
        .unwrap()
        .container_statuses
        .unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(
        (terminated.exit_code, terminated.reason.as_deref()),
        (128, Some("StartError"))
    );
    assert!(terminated.message.unwrap().contains("no command"));
}

#[tokio::test]
async fn deleting_a_job_in_the_foreground_removes_its_pods_then_the_job() {
    let cluster = Cluster::start().await;
    cluster
        .jobs()
        .create(&PostParams::default(), &sh_job("fg", "sleep 1000", 0))
        .await
        .unwrap();
    let (pod, pid) = running_pod(&cluster, "fg").await;
    let answer = cluster
        .jobs()
        .delete("fg", &DeleteParams::foreground())
        .await
        .unwrap();
    let marked = answer.left().expect("the Job, marked for deletion");
    assert_eq!(
        marked.metadata.finalizers,
        Some(vec!["foregroundDeletion".to_string()])
    );
    within(
        10,
        await_condition(cluster.jobs(), "fg", crate::support::is_gone()),
    )
    .await
    .unwrap();
    assert!(cluster.pods().get_opt(&pod).await.unwrap().is_none());
    assert!(!alive(pid));
}
