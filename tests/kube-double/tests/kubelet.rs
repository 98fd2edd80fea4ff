//! The simulated kubelet, as the cluster's API server shows it (`tests/k8s/cluster.sh`
//! started both; without it, outside CI, these tests skip): a pod's environment resolved
//! from a Secret, a ConfigMap, its own fields and `$(VAR)` references; its log through
//! `pods/{name}/log` with `tailLines` and `timestamps`; an exit code and
//! `FallbackToLogsOnError` failing a Job as its real controller decides; a pod kept Pending
//! while its Secret is missing and started once it exists; a restart under `OnFailure`
//! with the previous run's log; a command that is not there; and a deleted pod's process
//! stopped with SIGTERM.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret};
use kube::api::{DeleteParams, LogParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

/// An admin client and a fresh namespace, or None (skipped) when no cluster runs.
async fn namespace(label: &str) -> Option<(Client, String)> {
    let Ok(path) = std::env::var("WEFT_TEST_KUBECONFIG") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "WEFT_TEST_KUBECONFIG is not set, and CI is: `source tests/k8s/cluster.sh` first"
        );
        eprintln!("skipped: WEFT_TEST_KUBECONFIG is not set (source tests/k8s/cluster.sh)");
        return None;
    };
    let kubeconfig = kube::config::Kubeconfig::read_from(path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    let name = format!("kubelet-{label}-{}", std::process::id());
    let ns: Namespace = serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    // Pods run as the namespace's `default` account, made by its controller.
    let accounts: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), &name);
    wait(|| async { accounts.get_opt("default").await.unwrap() }).await;
    Some((client, name))
}

/// Creates Secret `name` holding `token` under the key `token`.
async fn secret(client: &Client, ns: &str, name: &str, token: &str) {
    let secret = json!({ "metadata": { "name": name }, "stringData": { "token": token } });
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(
            &PostParams::default(),
            &serde_json::from_value(secret).unwrap(),
        )
        .await
        .unwrap();
}

/// Polls `f` every 50 ms for up to a minute.
async fn wait<T, F: std::future::Future<Output = Option<T>>>(mut f: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = f().await {
            return found;
        }
        assert!(Instant::now() < deadline, "not after a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A pod running `sh -c script`, with more of its spec from `extra` (merged into the
/// container).
fn sh_pod(name: &str, script: &str, restart: &str, extra: Value) -> Pod {
    let mut container = json!({
        "name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script],
    });
    for (k, v) in extra.as_object().unwrap() {
        container[k] = v.clone();
    }
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": { "restartPolicy": restart, "containers": [container] },
    }))
    .unwrap()
}

/// Waits until pod `name` reaches phase `phase`; returns it.
async fn phase(pods: &Api<Pod>, name: &str, phase: &str) -> Value {
    wait(|| async {
        let pod = serde_json::to_value(pods.get(name).await.unwrap()).unwrap();
        (pod["status"]["phase"] == phase).then_some(pod)
    })
    .await
}

fn terminated(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]["state"]["terminated"]
}

#[tokio::test]
async fn a_pods_environment_log_and_exit_are_a_kubelets() {
    let Some((client, ns)) = namespace("env").await else {
        return;
    };
    secret(&client, &ns, "creds", "s3cret").await;
    let maps: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), &ns);
    let map = json!({ "metadata": { "name": "settings" }, "data": { "MODE": "fast" } });
    maps.create(
        &PostParams::default(),
        &serde_json::from_value(map).unwrap(),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let script = "echo \"token=$TOKEN mode=$CFG_MODE pod=$POD greeting=$GREETING\"; \
                  echo to-stderr >&2; echo last";
    let env = json!({
        "env": [
            { "name": "TOKEN", "valueFrom": { "secretKeyRef": { "name": "creds", "key": "token" } } },
            { "name": "POD", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } },
            { "name": "GREETING", "value": "hi $(POD)" },
        ],
        "envFrom": [{ "prefix": "CFG_", "configMapRef": { "name": "settings" } }],
    });
    pods.create(&PostParams::default(), &sh_pod("env", script, "Never", env))
        .await
        .unwrap();
    let pod = phase(&pods, "env", "Succeeded").await;
    assert_eq!(terminated(&pod)["exitCode"], 0, "{pod}");
    assert_eq!(terminated(&pod)["reason"], "Completed", "{pod}");
    assert_eq!(pod["spec"]["nodeName"], "weft-node");
    assert_eq!(pod["status"]["podIP"], "127.0.0.1");
    // The log, through the API server, in the order the process wrote it.
    let log = pods.logs("env", &LogParams::default()).await.unwrap();
    assert_eq!(
        log,
        "token=s3cret mode=fast pod=env greeting=hi env\nto-stderr\nlast\n"
    );
    let params = LogParams {
        tail_lines: Some(1),
        timestamps: true,
        ..LogParams::default()
    };
    let tail = pods.logs("env", &params).await.unwrap();
    let (time, line) = tail.split_once(' ').unwrap();
    assert_eq!(line, "last\n");
    assert!(
        time.parse::<k8s_openapi::jiff::Timestamp>().is_ok(),
        "{tail}"
    );

    // A Job whose pod exits 3: its controller fails it; the message is the log's end.
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    let job = json!({
        "metadata": { "name": "fails" },
        "spec": { "backoffLimit": 0, "template": { "spec": {
            "restartPolicy": "Never",
            "containers": [{
                "name": "main", "image": "busybox:1.36",
                "command": ["sh", "-c", "echo about to fail; exit 3"],
                "terminationMessagePolicy": "FallbackToLogsOnError",
            }],
        } } },
    });
    jobs.create(
        &PostParams::default(),
        &serde_json::from_value(job).unwrap(),
    )
    .await
    .unwrap();
    let failed = wait(|| async {
        let job = serde_json::to_value(jobs.get("fails").await.unwrap()).unwrap();
        let conditions = job["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        conditions
            .into_iter()
            .find(|c| c["type"] == "Failed" && c["status"] == "True")
    })
    .await;
    assert_eq!(failed["reason"], "BackoffLimitExceeded", "{failed}");
    let list = pods
        .list(&kube::api::ListParams::default().labels("job-name=fails"))
        .await
        .unwrap();
    let pod = serde_json::to_value(&list.items[0]).unwrap();
    assert_eq!(terminated(&pod)["exitCode"], 3, "{pod}");
    assert_eq!(terminated(&pod)["message"], "about to fail\n", "{pod}");
}

#[tokio::test]
async fn a_missing_secret_keeps_a_pod_waiting_and_a_bad_command_fails_it() {
    let Some((client, ns)) = namespace("wait").await else {
        return;
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let env = json!({ "env": [
        { "name": "TOKEN", "valueFrom": { "secretKeyRef": { "name": "later", "key": "token" } } },
    ] });
    pods.create(
        &PostParams::default(),
        &sh_pod("waits", "echo $TOKEN", "Never", env),
    )
    .await
    .unwrap();
    let waiting = wait(|| async {
        let pod = serde_json::to_value(pods.get("waits").await.unwrap()).unwrap();
        let waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"].clone();
        (waiting["reason"] == "CreateContainerConfigError").then_some(waiting)
    })
    .await;
    assert!(
        waiting["message"].as_str().unwrap().contains("later"),
        "{waiting}"
    );
    secret(&client, &ns, "later", "now").await;
    phase(&pods, "waits", "Succeeded").await;
    assert_eq!(
        pods.logs("waits", &LogParams::default()).await.unwrap(),
        "now\n"
    );

    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": "nothing" },
        "spec": { "restartPolicy": "Never", "containers": [{
            "name": "main", "image": "busybox:1.36", "command": ["/no/such/program"],
        }] },
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let pod = phase(&pods, "nothing", "Failed").await;
    assert_eq!(terminated(&pod)["reason"], "StartError", "{pod}");
    assert_eq!(terminated(&pod)["exitCode"], 128, "{pod}");
    let message = terminated(&pod)["message"].as_str().unwrap();
    assert!(message.contains("/no/such/program"), "{message}");
}

#[tokio::test]
async fn a_pod_restarts_on_failure_and_a_deleted_one_gets_sigterm() {
    let Some((client, ns)) = namespace("life").await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kubelet-test-{ns}"));
    std::fs::create_dir_all(&dir).unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    // Fails the first time (no marker yet), succeeds the second.
    let script = "if [ -f ran ]; then echo second; exit 0; fi; touch ran; echo first; exit 1";
    let extra = json!({ "workingDir": dir.join("restart") });
    std::fs::create_dir_all(dir.join("restart")).unwrap();
    pods.create(
        &PostParams::default(),
        &sh_pod("restarts", script, "OnFailure", extra),
    )
    .await
    .unwrap();
    let pod = phase(&pods, "restarts", "Succeeded").await;
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(status["restartCount"], 1, "{pod}");
    assert_eq!(status["lastState"]["terminated"]["exitCode"], 1, "{pod}");
    assert_eq!(
        pods.logs("restarts", &LogParams::default()).await.unwrap(),
        "second\n"
    );
    let previous = LogParams {
        previous: true,
        ..LogParams::default()
    };
    assert_eq!(pods.logs("restarts", &previous).await.unwrap(), "first\n");

    // A deleted pod's process gets SIGTERM and its grace period, then the pod is gone.
    let script = "trap 'echo TERM > got; exit 0' TERM; echo up; while true; do sleep 0.1; done";
    let extra = json!({ "workingDir": dir.join("term") });
    std::fs::create_dir_all(dir.join("term")).unwrap();
    pods.create(
        &PostParams::default(),
        &sh_pod("sleeper", script, "Never", extra),
    )
    .await
    .unwrap();
    phase(&pods, "sleeper", "Running").await;
    let params = DeleteParams {
        grace_period_seconds: Some(10),
        ..DeleteParams::default()
    };
    pods.delete("sleeper", &params).await.unwrap();
    wait(|| async {
        pods.get_opt("sleeper")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(dir.join("term/got")).unwrap(),
        "TERM\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = Api::<Namespace>::all(client)
        .delete(&ns, &DeleteParams::default())
        .await;
}
