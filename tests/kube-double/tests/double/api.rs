//! The HTTP API of the test double of the Kubernetes API server (not a Kubernetes), seen
//! through the real kube client: errors as `kube::Error::Api`, watches, kube-runtime's
//! watcher with a field selector, pagination, metadata-only requests, discovery, auth, and
//! `Client::try_default()` from inside a pod.

use std::time::Duration;

use crate::support::{Cluster, sh_job, within};
use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ListParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use weft_kube_double::Options;

fn api_error(e: kube::Error) -> (u16, String, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test]
async fn errors_come_back_as_api_errors_with_the_real_codes() {
    let cluster = Cluster::start().await;
    let jobs = cluster.jobs();
    let post = PostParams::default();
    let (code, reason, message) = api_error(jobs.get("nope").await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
    assert_eq!(message, "jobs.batch \"nope\" not found");
    assert!(jobs.get_opt("nope").await.unwrap().is_none());
    let (code, reason, _) = api_error(cluster.pods().get("nope").await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));

    jobs.create(&post, &sh_job("twice", "true", 0))
        .await
        .unwrap();
    let (code, reason, message) = api_error(
        jobs.create(&post, &sh_job("twice", "true", 0))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(message, "jobs.batch \"twice\" already exists");

    let mut empty = sh_job("empty", "true", 0);
    empty
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers
        .clear();
    let (code, reason, message) = api_error(jobs.create(&post, &empty).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(
        message.contains("spec.template.spec.containers: Required value"),
        "{message}"
    );

    let mut always = sh_job("always", "true", 0);
    always
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .restart_policy = Some("Always".into());
    let (code, _, message) = api_error(jobs.create(&post, &always).await.unwrap_err());
    assert_eq!(code, 422);
    assert!(
        message.contains("spec.template.spec.restartPolicy"),
        "{message}"
    );

    let (code, _, message) = api_error(
        jobs.create(&post, &sh_job("Bad_Name", "true", 0))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 422, "{message}");

    let bad_field = ListParams::default().fields("spec.nothing=x");
    let (code, _, message) = api_error(jobs.list(&bad_field).await.unwrap_err());
    assert_eq!(
        (code, message.as_str()),
        (400, "field label not supported: spec.nothing")
    );

    // A client with another token is refused.
    let text = cluster
        .double
        .kubeconfig()
        .replace(cluster.double.token(), "wrong");
    let kubeconfig: Kubeconfig = serde_yaml_ng::from_str(&text).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let wrong: Api<Job> = Api::namespaced(Client::try_from(config).unwrap(), "default");
    let (code, reason, _) = api_error(wrong.list(&ListParams::default()).await.unwrap_err());
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));
}

#[tokio::test]
async fn a_watch_sees_added_then_modified_and_resumes_from_a_resource_version() {
    let cluster = Cluster::with(Options::new().bookmark_interval(Duration::from_millis(200))).await;
    let jobs = cluster.jobs();
    let params = WatchParams::default().fields("metadata.name=watched");
    let mut events = jobs.watch(&params, "0").await.unwrap().boxed();
    jobs.create(&PostParams::default(), &sh_job("other", "true", 0))
        .await
        .unwrap();
    jobs.create(&PostParams::default(), &sh_job("watched", "true", 0))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut added_rv = String::new();
    within(10, async {
        while let Some(event) = events.try_next().await.unwrap() {
            match event {
                WatchEvent::Added(job) => {
                    added_rv = job.resource_version().unwrap();
                    seen.push(format!("ADDED {}", job.name_any()));
                }
                WatchEvent::Modified(job) => {
                    seen.push(format!("MODIFIED {}", job.name_any()));
                    if crate::support::has_condition(&job, "Complete").is_some() {
                        break;
                    }
                }
                WatchEvent::Bookmark(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(seen[0], "ADDED watched", "{seen:?}");
    assert!(
        seen.len() > 2 && seen[1..].iter().all(|e| e == "MODIFIED watched"),
        "{seen:?}"
    );
    // Resuming after the ADDED event replays the changes since, as MODIFIED.
    let mut resumed = jobs.watch(&params, &added_rv).await.unwrap().boxed();
    let first = within(5, resumed.try_next()).await.unwrap().unwrap();
    match first {
        WatchEvent::Modified(job) => {
            let rv: u64 = job.resource_version().unwrap().parse().unwrap();
            assert!(rv > added_rv.parse().unwrap());
        }
        other => panic!("expected MODIFIED, got {other:?}"),
    }
    // Bookmarks come when allowed, and the stream ends at timeoutSeconds.
    let mut quiet = jobs
        .watch(&params.clone().timeout(1), &added_rv)
        .await
        .unwrap()
        .boxed();
    let ended = within(5, async {
        let mut bookmarks = 0;
        while let Some(event) = quiet.try_next().await.unwrap() {
            if matches!(event, WatchEvent::Bookmark(_)) {
                bookmarks += 1;
            }
        }
        bookmarks
    })
    .await;
    assert!(
        ended >= 1,
        "no bookmark in a 1 s watch with 200 ms bookmarks"
    );
    let watches = cluster.double.requests();
    assert!(watches.iter().any(|r| r.query.contains("watch=true")
        && r.query.contains("fieldSelector=metadata.name%3Dwatched")));
}

#[tokio::test]
async fn kube_runtime_watcher_with_a_field_selector_sees_only_that_job() {
    let cluster = Cluster::start().await;
    let jobs = cluster.jobs();
    let config = watcher::Config::default().fields("metadata.name=a");
    let mut applied = watcher(jobs.clone(), config).applied_objects().boxed();
    jobs.create(&PostParams::default(), &sh_job("b", "true", 0))
        .await
        .unwrap();
    jobs.create(&PostParams::default(), &sh_job("a", "true", 0))
        .await
        .unwrap();
    let mut names = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(job) = applied.try_next().await.unwrap() {
            names.push(job.name_any());
        }
    })
    .await;
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n == "a"), "{names:?}");
    // await_condition uses the same watcher on metadata.name.
    within(
        10,
        await_condition(jobs.clone(), "b", conditions::is_job_completed()),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn lists_page_with_limit_and_continue_and_metadata_requests_work() {
    let cluster = Cluster::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "default");
    for name in ["c1", "c2", "c3"] {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": { "name": name, "labels": { "set": "x" } }, "data": { "k": name },
        }))
        .unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    let first = cms.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(
        first.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    let token = first.metadata.continue_.clone().unwrap();
    assert_eq!(first.metadata.remaining_item_count, Some(1));
    let rest = cms
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
        ["c3"]
    );
    assert!(rest.metadata.continue_.is_none());
    let meta = cms.get_metadata("c2").await.unwrap();
    assert_eq!(meta.metadata.labels.unwrap()["set"], "x");
    let metas = cms
        .list_metadata(&ListParams::default().labels("set in (x)"))
        .await
        .unwrap();
    assert_eq!(metas.items.len(), 3);
    let deleted = cms.delete("c1", &Default::default()).await.unwrap();
    assert_eq!(
        deleted.right().unwrap().status,
        Some(kube::core::response::StatusSummary::Success)
    );
    // Discovery and /version answer as kube expects.
    let version = cluster.client.apiserver_version().await.unwrap();
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "33")
    );
    let discovery = kube::discovery::Discovery::new(cluster.client.clone())
        .run()
        .await
        .unwrap();
    assert!(discovery.has_group("batch"));
}

/// Run inside a pod by the test below: the pod's own environment reaches the double.
#[tokio::test]
#[ignore = "runs inside a pod of the double"]
async fn inside_a_pod_list_jobs_with_client_try_default() {
    let client = Client::try_default().await.unwrap();
    let jobs: Api<Job> = Api::default_namespaced(client);
    let names: Vec<String> = jobs
        .list(&ListParams::default())
        .await
        .unwrap()
        .iter()
        .map(|j| j.name_any())
        .collect();
    println!("jobs seen from the pod: {}", names.join(","));
}

#[tokio::test]
async fn code_in_a_pod_reaches_the_double_with_client_try_default() {
    let exe = std::env::current_exe().unwrap();
    let cluster = Cluster::with(Options::new().command("self", exe)).await;
    let mut job = sh_job("probe", "", 0);
    job.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .containers[0]
        .command = Some(
        [
            "self",
            "api::inside_a_pod_list_jobs_with_client_try_default",
            "--exact",
            "--ignored",
            "--nocapture",
        ]
        .map(String::from)
        .to_vec(),
    );
    cluster
        .jobs()
        .create(&PostParams::default(), &job)
        .await
        .unwrap();
    within(
        30,
        await_condition(cluster.jobs(), "probe", |j: Option<&Job>| {
            j.is_some_and(|j| {
                crate::support::has_condition(j, "Complete").is_some()
                    || crate::support::has_condition(j, "Failed").is_some()
            })
        }),
    )
    .await
    .unwrap();
    let pod = cluster.double.pods().remove(0);
    let log = cluster.double.pod_log("default", &pod.name).unwrap();
    assert!(log.contains("jobs seen from the pod: probe"), "{log}");
    assert_eq!(pod.exit_code, Some(0), "{log}");
}

/// The Weft e2e tests' way: a plain test, a process pointed at the double with KUBECONFIG.
#[test]
fn a_plain_test_points_a_process_at_the_double_with_kubeconfig() {
    let double = weft_kube_double::KubeDouble::start(Options::new()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    double.write_kubeconfig(&path).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "api::inside_a_pod_list_jobs_with_client_try_default",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("KUBECONFIG", &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("jobs seen from the pod: \n"), "{stdout}");
    let requests = double.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.path == "/apis/batch/v1/namespaces/default/jobs"),
        "{requests:?}"
    );
}
