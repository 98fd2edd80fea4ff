//! Weft on Kubernetes, end to end on SQLite and PostgreSQL, against the test double of the
//! Kubernetes API server (`tests/kube-double`), whose "kubelet" runs each pod's container
//! as a local process of this build's `weft`: the `k8s` run launcher (a Job per run) with
//! the `k8s-job` executor (a Job per step), pods shaped by weft.yaml's `k8s:` and a
//! `weft/k8s` tag, outputs and compute logs in an S3-compatible store (on PostgreSQL), a
//! killed step pod retried, a run that finishes after its server is
//! killed; the `queue` executor with three `weft worker`s, a killed worker's step
//! retried on another, and a new version run without restarting the workers; and the
//! `plugins/k8s-job` op starting an external Job from its step's pod, whose log is the
//! step's. A cancel deletes the Jobs under way (`cancel`).

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

mod cancel;
mod external;
mod seeds;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use weft_kube_double::{KubeDouble, Options};
use weft_tests::{
    Backend, Home, Server, output_of, rust_guest_bytes, weft_bin, with_custom_section,
};

weft_tests::on_both_databases!(
    runs_and_steps_run_in_jobs_shaped_by_the_instance_and_tags,
    a_killed_step_pod_is_retried_and_a_run_pod_outlives_its_server,
    the_queue_executor_spreads_steps_over_workers_and_survives_a_dead_one,
);

/// A double whose pods run this build's `weft` as `/weft`, and an instance whose runs and
/// steps are Jobs on it.
pub(super) fn cluster(backend: Backend, executor: &str) -> Option<(Home, KubeDouble, PathBuf)> {
    let home = Home::on(backend)?;
    let double = KubeDouble::start(
        Options::new()
            .command("/weft", weft_bin())
            .namespace("weft")
            .pod_retry_backoff(Duration::ZERO),
    )
    .unwrap();
    let kubeconfig = home.dir.join("kubeconfig");
    double.write_kubeconfig(&kubeconfig).unwrap();
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
           namespace: weft\n  \
           home: {}\n  \
           service_account_name: weft-runs\n  \
           env: {{ {pod_env} }}\n  \
           node_selector: {{ pool: batch }}\n  \
           resources: {{ requests: {{ cpu: 250m }} }}\n",
        home.dir.0.display()
    ));
    Some((home, double, kubeconfig))
}

pub(super) fn hostile() -> Vec<u8> {
    rust_guest_bytes("hostile")
}

/// The first container of pod `name`.
fn container(double: &KubeDouble, name: &str) -> serde_json::Value {
    let pod = double.pod("weft", name).unwrap();
    serde_json::to_value(pod).unwrap()["spec"]["containers"][0].clone()
}

pub(super) fn args_of(double: &KubeDouble, name: &str) -> Vec<String> {
    serde_json::from_value(container(double, name)["args"].clone()).unwrap()
}

fn runs_and_steps_run_in_jobs_shaped_by_the_instance_and_tags(backend: Backend) {
    let Some((home, double, kubeconfig)) = cluster(backend, "k8s-job") else {
        return;
    };
    let server = Server::start_with_env(&home, &[], &[("KUBECONFIG", &kubeconfig)]);
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
    let deadline = Instant::now() + Duration::from_secs(30);
    let pods = loop {
        let pods = double.pods();
        if pods.iter().all(|p| p.exit_code.is_some()) {
            break pods;
        }
        assert!(Instant::now() < deadline, "pods still running: {pods:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut commands: Vec<Vec<String>> = pods.iter().map(|p| args_of(&double, &p.name)).collect();
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
    assert!(pods.iter().all(|p| p.exit_code == Some(0)), "{pods:?}");

    // Every pod: the instance's image, account, node selector and requests, and the tag's
    // limit and toleration; labelled with the run.
    for pod in &pods {
        let full = serde_json::to_value(double.pod("weft", &pod.name).unwrap()).unwrap();
        let c = &full["spec"]["containers"][0];
        assert_eq!(c["image"], "registry.example/weft:test");
        assert_eq!(c["command"], json!(["/weft"]));
        assert_eq!(c["resources"]["requests"]["cpu"], "250m", "{c}");
        assert_eq!(c["resources"]["limits"]["memory"], "512Mi", "{c}");
        assert_eq!(full["spec"]["serviceAccountName"], "weft-runs");
        assert_eq!(full["spec"]["nodeSelector"]["pool"], "batch");
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
    for job in double.jobs() {
        assert_eq!(job.spec.and_then(|s| s.backoff_limit), Some(0));
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

    // A tag may not change what a pod runs (its image, here): the run fails at launch
    // and says what the policy allows.
    let jobs_before = double.jobs().len();
    let image = json!({ "container_config": { "image": "attacker.example/x:1" } });
    let tagged = |tag: String| {
        let run_id = server.launch(json!({
            "location": "numbers",
            "job": "process_numbers",
            "tags": { "weft/k8s": tag },
        }));
        server.failure(&run_id, "RUN_FAILURE")
    };
    let failure = tagged(image.to_string());
    assert!(
        failure.contains("a weft/k8s tag may not set container_config.image"),
        "{failure}"
    );
    assert_eq!(double.jobs().len(), jobs_before, "{:?}", double.jobs());

    // A tag Kubernetes cannot take fails the run and says why.
    let failure = tagged("{\"container\": {}}".to_owned());
    assert!(failure.contains("unknown field `container`"), "{failure}");
}

fn a_killed_step_pod_is_retried_and_a_run_pod_outlives_its_server(backend: Backend) {
    let Some((home, double, kubeconfig)) = cluster(backend, "k8s-job") else {
        return;
    };
    let server = Server::start_with_env(&home, &[], &[("KUBECONFIG", &kubeconfig)]);
    server.upload("hostile", &hostile());
    let run_id = server.launch(json!({
        "location": "hostile",
        "job": "retried_chain",
        "config": { "ops": { "sleepy_retried": { "config": { "ms": 3000 } } } },
    }));
    // The pod of the step's first attempt is killed (as a node lost or OOM would).
    let deadline = Instant::now() + Duration::from_secs(60);
    let victim = loop {
        let found = double.pods().into_iter().find(|p| {
            p.phase.as_deref() == Some("Running")
                && args_of(&double, &p.name).starts_with(&[
                    "step".into(),
                    run_id.clone(),
                    "sleepy_retried".into(),
                    "--attempt".into(),
                    "1".into(),
                ])
        });
        if let Some(pod) = found {
            break pod;
        }
        assert!(Instant::now() < deadline, "no pod for the step");
        std::thread::sleep(Duration::from_millis(20));
    };
    double.kill_pod_process("weft", &victim.name).unwrap();
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
    let deadline = Instant::now() + Duration::from_secs(60);
    let shown = loop {
        let shown = home.weft_json(&["runs", "show", &run_id], 0);
        if shown["run"]["status"] != "STARTED" {
            break shown;
        }
        assert!(Instant::now() < deadline, "the run never ended: {shown}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(shown["run"]["status"], "SUCCESS", "{shown}");
    assert_eq!(
        output_of(shown["events"].as_array().unwrap(), "wake"),
        json!(1500)
    );
}

/// A `weft worker --slots 1` on an instance, and what it printed so far.
struct Worker {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    fn start(home: &Home, name: &str) -> Worker {
        let mut child = Command::new(weft_bin())
            .args(["worker", "--slots", "1", "--name", name])
            .env("WEFT_HOME", &home.dir.0)
            .env_remove("WEFT_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Worker { child, lines }
    }

    fn printed(&self, text: &str) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains(text))
    }

    fn count(&self, text: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(text))
            .count()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn the_queue_executor_spreads_steps_over_workers_and_survives_a_dead_one(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    home.add_config("executor: queue\nmax_concurrent: 3\nqueue: { worker_timeout_seconds: 2 }\n");
    let server = Server::start(&home, &[]);
    server.upload("numbers", &rust_guest_bytes("numbers"));
    server.upload("hostile", &hostile());
    let mut workers: Vec<Worker> = ["w1", "w2", "w3"]
        .iter()
        .map(|n| Worker::start(&home, n))
        .collect();

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

    // Every step of both runs was run once, by some worker.
    for run in [&run_id, &second] {
        let done: usize = workers
            .iter()
            .map(|w| w.count(&format!("of run {run} (attempt 1) succeeded")))
            .sum();
        assert_eq!(done, 6, "run {run}");
    }

    // The worker that took a step is killed: the step is given up and retried elsewhere.
    let retried = server.launch(json!({
        "location": "hostile",
        "job": "retried_chain",
        "config": { "ops": { "sleepy_retried": { "config": { "ms": 3000 } } } },
    }));
    let took = format!("took step sleepy_retried of run {retried} (attempt 1)");
    let deadline = Instant::now() + Duration::from_secs(60);
    let holder = loop {
        if let Some(i) = workers.iter().position(|w| w.printed(&took)) {
            break i;
        }
        assert!(Instant::now() < deadline, "no worker took the step");
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(workers.remove(holder));
    let message = weft_tests::retried_once(&server, &retried, "sleepy_retried");
    let events = server.events(&retried);
    assert!(message.contains("stopped answering"), "{message}");
    assert_eq!(output_of(&events, "wake"), json!(3000));
    let again = format!("took step sleepy_retried of run {retried} (attempt 2)");
    assert!(
        workers.iter().any(|w| w.printed(&again)),
        "a live worker retried it"
    );
}

/// The run config of the `k8s_job` plugin's one op.
pub(super) fn external_job(config: serde_json::Value) -> serde_json::Value {
    json!({ "ops": { "k8s_job": { "config": config } } })
}
