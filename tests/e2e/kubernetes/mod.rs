//! Weft on Kubernetes, end to end on SQLite and PostgreSQL, against a real control plane
//! (`tests/k8s/cluster.sh`: kube-apiserver, kube-controller-manager, kube-scheduler, etcd)
//! whose one node's kubelet is simulated (`tests/kube-double`: each pod's container a local
//! process): the `k8s` run launcher (a Job per run) with the `k8s-job` executor (a Job per
//! step), in a namespace that enforces Pod Security Admission's `restricted` level, as the
//! user `weft` and the service account `weft-runs` with only the Helm chart's Role; pods
//! shaped by weft.yaml's `k8s:` and a `weft/k8s` tag (and what a tag may not ask for),
//! outputs and compute logs in an S3-compatible store (on PostgreSQL), a killed step pod
//! retried, a run that finishes after its server is killed; the `queue` executor with three
//! `weft worker`s as a Deployment's pods, a killed worker's step retried on another, and a
//! new version run without restarting the workers; and the `plugins/k8s-job` op starting
//! an external Job from its step's pod, whose log is the step's (`external`). A cancel
//! deletes the Jobs under way (`cancel`).

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

mod cancel;
mod external;
mod seeds;

use std::time::{Duration, Instant};

use serde_json::json;
use weft_tests::k8s::{Namespace, Pod};
use weft_tests::{
    Backend, Home, Server, output_of, rust_guest_bytes, types_of, weft_bin, with_custom_section,
};

weft_tests::on_both_databases!(
    runs_and_steps_run_in_jobs_shaped_by_the_instance_and_tags,
    a_killed_step_pod_is_retried_and_a_run_pod_outlives_its_server,
    the_queue_executor_spreads_steps_over_workers_and_survives_a_dead_one,
);

/// A namespace on the cluster and an instance whose runs and steps are Jobs in it, their
/// pods running this build's `weft`.
pub(super) fn cluster(backend: Backend, executor: &str) -> Option<(Home, Namespace)> {
    let home = Home::on(backend)?;
    let ns = Namespace::create("e2e")?;
    // On PostgreSQL, as on a real cluster, outputs go to an S3-compatible object store that
    // every pod reaches (its credentials given to the pods by value here, by a Secret on a
    // cluster); on SQLite to the shared filesystem.
    let mut pod_env = "WEFT_LOG: info".to_owned();
    if backend == Backend::Postgres {
        let (endpoint, bucket) = weft_tests::s3_bucket("k8s")?;
        let s3 =
            format!("{{ s3: {{ bucket: {bucket}, endpoint: \"{endpoint}\", allow_http: true }} }}");
        home.add_config(&format!("io_manager: {s3}\ncompute_logs: {s3}\n"));
        for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            pod_env.push_str(&format!(", {var}: {}", std::env::var(var).unwrap()));
        }
    }
    home.add_config(&format!(
        "run_launcher: {{ type: k8s }}\n\
         executor: {executor}\n\
         max_concurrent: 2\n\
         k8s:\n  \
           image: registry.example/weft:test\n  \
           command: [\"{}\"]\n  \
           namespace: {}\n  \
           home: {}\n  \
           service_account_name: weft-runs\n  \
           env: {{ {pod_env} }}\n  \
           node_selector: {{ pool: batch }}\n  \
           resources: {{ requests: {{ cpu: 250m }} }}\n",
        weft_bin().display(),
        ns.name,
        home.dir.0.display()
    ));
    Some((home, ns))
}

/// The server of `home`, as the user `weft` of the cluster.
pub(super) fn server(home: &Home, ns: &Namespace, env: &[(&str, &std::path::Path)]) -> Server {
    let mut env = env.to_vec();
    env.push(("KUBECONFIG", &ns.weft_kubeconfig));
    Server::start_with_env(home, &[], &env)
}

pub(super) fn hostile() -> Vec<u8> {
    rust_guest_bytes("hostile")
}

/// Waits until a pod that `matches` runs.
pub(super) fn running_pod(ns: &Namespace, matches: impl Fn(&Pod) -> bool) -> Pod {
    ns.wait_for("a running pod", || {
        ns.pods()
            .into_iter()
            .find(|p| p.phase() == "Running" && matches(p))
    })
}

fn runs_and_steps_run_in_jobs_shaped_by_the_instance_and_tags(backend: Backend) {
    let Some((home, ns)) = cluster(backend, "k8s-job") else {
        return;
    };
    let server = server(&home, &ns, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));
    let tag = json!({
        "container_config": { "resources": { "limits": { "memory": "512Mi" } } },
        "pod_spec_config": { "tolerations": [{ "key": "batch", "operator": "Exists" }] },
    });
    let run_id = server.launch(json!({
        "location": "numbers",
        "job": "process_numbers",
        "tags": { "weft/k8s": tag.to_string() },
    }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let events = server.events(&run_id);
    assert_eq!(output_of(&events, "sum_two_sums"), json!(55));
    // Outputs crossed pods through the object store on PostgreSQL, the filesystem on SQLite.
    let on_disk = home.dir.join("storage").join(&run_id).exists();
    assert_eq!(on_disk, backend == Backend::Sqlite);

    // One pod for the run, one per step, each running `weft` with the run's arguments.
    // (The run's pod exits just after it recorded the run's end.)
    let pods = ns.wait_for("every pod ended", || {
        let pods = ns.pods();
        pods.iter().all(|p| p.exit_code().is_some()).then_some(pods)
    });
    let mut commands: Vec<Vec<String>> = pods.iter().map(Pod::args).collect();
    commands.sort();
    let mut expected: Vec<Vec<String>> = [
        "filter_even_numbers",
        "filter_odd_numbers",
        "generate_numbers",
        "sum_even_numbers",
        "sum_odd_numbers",
        "sum_two_sums",
    ]
    .iter()
    .map(|step| {
        ["step", &run_id, step, "--attempt", "1", "--answer", "db"]
            .map(str::to_owned)
            .to_vec()
    })
    .collect();
    expected.push(vec!["execute-run".into(), run_id.clone()]);
    expected.sort();
    assert_eq!(commands, expected);
    assert!(pods.iter().all(|p| p.exit_code() == Some(0)), "{pods:?}");

    // Every pod: the instance's image, account, node selector and requests, and the tag's
    // limit and toleration; labelled with the run; never root, no privilege escalation,
    // no capabilities, the runtime's seccomp profile (the namespace enforces `restricted`:
    // the API server admitted them).
    for pod in &pods {
        let (full, c) = (&pod.0, pod.container());
        assert_eq!(c["image"], "registry.example/weft:test");
        assert_eq!(c["command"], json!([weft_bin()]));
        assert_eq!(c["resources"]["requests"]["cpu"], "250m", "{c}");
        assert_eq!(c["resources"]["limits"]["memory"], "512Mi", "{c}");
        assert_eq!(
            c["securityContext"]["allowPrivilegeEscalation"], false,
            "{c}"
        );
        assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
        let security = &full["spec"]["securityContext"];
        assert_eq!(security["runAsNonRoot"], true, "{security}");
        assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
        assert_eq!(full["spec"]["serviceAccountName"], "weft-runs");
        assert_eq!(full["spec"]["nodeSelector"]["pool"], "batch");
        assert_eq!(full["spec"]["nodeName"], "weft-node");
        let tolerations = full["spec"]["tolerations"].as_array().unwrap();
        assert!(
            tolerations.iter().any(|t| t["key"] == "batch"),
            "{tolerations:?}"
        );
        assert_eq!(full["metadata"]["labels"]["weft/run-id"], run_id.as_str());
        assert_eq!(
            full["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "weft"
        );
    }
    // Retries are Weft's: no Job retries its pod.
    for job in ns.jobs() {
        assert_eq!(job["spec"]["backoffLimit"], 0, "{job}");
    }

    // A step pod's stderr (a panic's message) is in its compute logs, which the server
    // reads from the object store on PostgreSQL.
    server.upload("hostile", &hostile());
    let panicked = server.launch(json!({ "location": "hostile", "job": "panics" }));
    assert_eq!(server.wait(&panicked)["status"], "FAILURE");
    let logs = server.get(&format!("/runs/{panicked}/logs/panic_op"));
    assert!(logs["stderr"].as_str().unwrap().contains("boom"), "{logs}");
    let logs_on_disk = home.dir.join("logs").join(&panicked).exists();
    assert_eq!(logs_on_disk, backend == Backend::Sqlite);

    // A tag may not change what a pod runs (its image) or give it rights (privileges, the
    // host's file system): the run fails at launch, says what the policy allows, and
    // nothing reaches the cluster.
    let jobs_before = ns.jobs().len();
    let tagged = |tag: serde_json::Value| {
        let run_id = server.launch(json!({
            "location": "numbers",
            "job": "process_numbers",
            "tags": { "weft/k8s": tag.to_string() },
        }));
        server.failure(&run_id, "RUN_FAILURE")
    };
    for (tag, field) in [
        (
            json!({ "container_config": { "image": "attacker.example/x:1" } }),
            "container_config.image",
        ),
        (
            json!({ "container_config": { "security_context": { "privileged": true } } }),
            "container_config.security_context",
        ),
        (
            json!({ "pod_spec_config": { "volumes": [
                { "name": "host", "host_path": { "path": "/" } }
            ] } }),
            "pod_spec_config.volumes",
        ),
    ] {
        let failure = tagged(tag);
        assert!(
            failure.contains(&format!("a weft/k8s tag may not set {field}")),
            "{failure}"
        );
    }
    assert_eq!(ns.jobs().len(), jobs_before, "{:?}", ns.jobs());
    // Had one reached the cluster, the namespace's Pod Security level would have refused it.
    let (status, answer) = ns.post(
        "api/v1",
        "pods",
        json!({
            "metadata": { "name": "host-path" },
            "spec": {
                "securityContext": {
                    "runAsNonRoot": true,
                    "seccompProfile": { "type": "RuntimeDefault" },
                },
                "containers": [{
                    "name": "c", "image": "busybox:1.36", "command": ["true"],
                    "securityContext": {
                        "allowPrivilegeEscalation": false,
                        "capabilities": { "drop": ["ALL"] },
                    },
                }],
                "volumes": [{ "name": "host", "hostPath": { "path": "/" } }],
            },
        }),
    );
    assert_eq!(status, 403, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            "violates PodSecurity \"restricted:latest\": restricted volume types \
             (volume \"host\" uses restricted volume type \"hostPath\")"
        ),
        "{answer}"
    );

    // A tag Kubernetes cannot take fails the run and says why.
    let failure = tagged(json!({ "container": {} }));
    assert!(failure.contains("unknown field `container`"), "{failure}");
}

fn a_killed_step_pod_is_retried_and_a_run_pod_outlives_its_server(backend: Backend) {
    let Some((home, ns)) = cluster(backend, "k8s-job") else {
        return;
    };
    let server = server(&home, &ns, &[]);
    server.upload("hostile", &hostile());
    let run_id = server.launch(json!({
        "location": "hostile",
        "job": "retried_chain",
        "config": { "ops": { "sleepy_retried": { "config": { "ms": 3000 } } } },
    }));
    // The process of the step's first attempt is killed (as the OOM killer would).
    let first: Vec<String> = ["step", &run_id, "sleepy_retried", "--attempt", "1"]
        .map(str::to_owned)
        .to_vec();
    let victim = running_pod(&ns, |p| p.args().starts_with(&first));
    // (As the OOM killer would: the simulated kubelet sees its container exit with 137.)
    let killed = weft_tests::kill_processes_matching(&victim.args().join(" "));
    assert_eq!(killed, 1, "{victim:?}");
    let message = weft_tests::retried_once(&server, &run_id, "sleepy_retried");
    assert!(message.contains("the Job failed"), "{message}");
    assert!(message.contains("exited with code 137"), "{message}");

    // The server is killed mid-run; the run's pod goes on and ends it.
    let run_id = server.launch(json!({
        "location": "hostile",
        "job": "slow_chain",
        "config": { "ops": { "sleepy": { "config": { "ms": 1500 } } } },
    }));
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.get(&format!("/runs/{run_id}"))["status"] != "STARTED" {
        assert!(Instant::now() < deadline, "the run's pod never started it");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
    let shown = ns.wait_for("the run's end", || {
        let shown = home.weft_json(&["runs", "show", &run_id], 0);
        (shown["run"]["status"] != "STARTED").then_some(shown)
    });
    assert_eq!(shown["run"]["status"], "SUCCESS", "{shown}");
    assert_eq!(
        output_of(shown["events"].as_array().unwrap(), "wake"),
        json!(1500)
    );
}

/// A Deployment of `replicas` `weft worker --slots 1` pods of instance `home`, each named
/// by its pod.
fn workers(ns: &Namespace, home: &Home, replicas: u32) {
    let labels = json!({ "app": "weft-worker" });
    let (status, answer) = ns.post(
        "apis/apps/v1",
        "deployments",
        json!({
            "metadata": { "name": "weft-worker" },
            "spec": {
                "replicas": replicas,
                "selector": { "matchLabels": labels },
                "template": {
                    "metadata": { "labels": labels },
                    "spec": {
                        "securityContext": {
                            "runAsNonRoot": true, "runAsUser": 65532,
                            "seccompProfile": { "type": "RuntimeDefault" },
                        },
                        "containers": [{
                            "name": "worker",
                            "image": "registry.example/weft:test",
                            "command": [weft_bin()],
                            "args": ["worker", "--slots", "1", "--name", "$(POD_NAME)"],
                            "env": [
                                { "name": "WEFT_HOME", "value": home.dir.0 },
                                { "name": "POD_NAME", "valueFrom": {
                                    "fieldRef": { "fieldPath": "metadata.name" } } },
                            ],
                            "securityContext": {
                                "allowPrivilegeEscalation": false,
                                "capabilities": { "drop": ["ALL"] },
                            },
                        }],
                    },
                },
            },
        }),
    );
    assert_eq!(status, 201, "{answer}");
}

/// The logs of the namespace's running pods, by pod.
fn worker_logs(ns: &Namespace) -> Vec<(String, String)> {
    ns.pods()
        .into_iter()
        .filter(|p| p.phase() == "Running")
        .map(|p| (p.name().to_owned(), ns.pod_log(p.name())))
        .collect()
}

/// Launches `retried_chain` with a step sleeping `ms`; its run and the pod of the worker
/// that took the step.
fn sleep_on_a_worker(server: &Server, ns: &Namespace, ms: u32) -> (String, String) {
    let run_id = server.launch(json!({
        "location": "hostile",
        "job": "retried_chain",
        "config": { "ops": { "sleepy_retried": { "config": { "ms": ms } } } },
    }));
    let took = format!("took step sleepy_retried of run {run_id} (attempt 1)");
    let holder = ns.wait_for("a worker taking the step", || {
        worker_logs(ns)
            .into_iter()
            .find(|(_, log)| log.contains(&took))
            .map(|(name, _)| name)
    });
    (run_id, holder)
}

fn the_queue_executor_spreads_steps_over_workers_and_survives_a_dead_one(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let Some(ns) = Namespace::create("queue") else {
        return;
    };
    home.add_config("executor: queue\nmax_concurrent: 3\nqueue: { worker_timeout_seconds: 2 }\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));
    server.upload("hostile", &hostile());
    workers(&ns, &home, 3);
    ns.wait_for("three running workers", || {
        let logs = worker_logs(&ns);
        (logs.len() == 3).then_some(())
    });

    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(
        output_of(&server.events(&run_id), "sum_two_sums"),
        json!(55)
    );

    // A new version is uploaded while the workers run: the next run is pinned to it, and
    // the workers load it by digest without restarting.
    let digest = server.upload(
        "numbers",
        &with_custom_section(&rust_guest_bytes("numbers"), "v2"),
    );
    let second = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    let run = server.wait(&second);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(run["digest"], digest.as_str(), "{run}");

    // Every step of both runs was run once, by some worker (as their logs, read through
    // the API server, say).
    let logs = worker_logs(&ns);
    for run in [&run_id, &second] {
        let done = format!("of run {run} (attempt 1) succeeded");
        let count: usize = logs.iter().map(|(_, log)| log.matches(&done).count()).sum();
        assert_eq!(count, 6, "run {run}: {logs:?}");
    }

    // The worker that took a step is killed (its pod deleted at once): the step is given
    // up and retried elsewhere, and the Deployment replaces the pod.
    let (retried, holder) = sleep_on_a_worker(&server, &ns, 3000);
    ns.delete_pod(&holder, 0);
    let message = weft_tests::retried_once(&server, &retried, "sleepy_retried");
    let events = server.events(&retried);
    assert!(message.contains("stopped answering"), "{message}");
    assert_eq!(output_of(&events, "wake"), json!(3000));
    let again = format!("took step sleepy_retried of run {retried} (attempt 2)");
    let logs = worker_logs(&ns);
    assert!(
        logs.iter()
            .any(|(name, log)| *name != holder && log.contains(&again)),
        "a live worker retried it: {logs:?}"
    );
    ns.wait_for("the Deployment's replacement", || {
        let pods = ns.pods();
        let live = pods
            .iter()
            .filter(|p| p.phase() == "Running" && p.name() != holder);
        (live.count() == 3).then_some(())
    });

    // A worker's pod deleted gracefully (a rolling update, a drained node: SIGTERM, then its
    // grace period) stops taking steps but finishes the one it has: no retry.
    let (drained, holder) = sleep_on_a_worker(&server, &ns, 1500);
    ns.delete_pod(&holder, 30);
    assert_eq!(server.wait(&drained)["status"], "SUCCESS");
    let events = server.events(&drained);
    assert_eq!(
        types_of(&events, Some("sleepy_retried")),
        ["STEP_START", "STEP_OUTPUT", "STEP_SUCCESS"]
    );
}

/// The run config of the `k8s_job` plugin's one op.
pub(super) fn external_job(config: serde_json::Value) -> serde_json::Value {
    json!({ "ops": { "k8s_job": { "config": config } } })
}
