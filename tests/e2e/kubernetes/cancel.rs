//! A cancel on Kubernetes stops the work where it runs: the step's Job is deleted (its pod
//! with it), and so is an external Job its op started; the run ends `CANCELED` at once.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_tests::k8s::Namespace;
use weft_tests::{Backend, Server, rust_guest_bytes, types_of};

use super::{cluster, external_job, hostile, running_pod, server};

weft_tests::on_both_databases!(cancel_deletes_the_step_job_and_the_jobs_its_op_started,);

/// Cancels run `run_id` and waits for its end: how it ended, and how long that took.
fn cancel(server: &Server, run_id: &str) -> (Value, Duration) {
    let asked = Instant::now();
    let (status, answer) = server.call("POST", &format!("/runs/{run_id}/cancel"), None);
    assert_eq!(status, 202, "{answer}");
    let run = server.wait(run_id);
    (run, asked.elapsed())
}

/// Waits until Job `name` is gone from the cluster.
fn deleted(ns: &Namespace, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while ns.has_job(name) {
        if Instant::now() > deadline {
            let pods: Vec<String> = ns
                .pods()
                .iter()
                .map(|p| {
                    format!(
                        "{} {} {:?}: {}",
                        p.name(),
                        p.phase(),
                        p.args(),
                        ns.pod_log(p.name())
                    )
                })
                .collect();
            panic!("Job {name} is still there after a minute; the pods: {pods:#?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn cancel_deletes_the_step_job_and_the_jobs_its_op_started(backend: Backend) {
    let Some((home, ns)) = cluster(backend, "k8s-job") else {
        return;
    };
    home.add_config("locations:\n  k8s_job: { k8s_jobs: true }\n");
    let server = server(&home, &ns, &[]);

    // A step Job whose op sleeps a minute.
    server.upload("hostile", &hostile());
    let run_id = server.launch(json!({
        "location": "hostile", "job": "slow_chain",
        "config": { "ops": { "sleepy": { "config": { "ms": 60_000 } } } }
    }));
    let step_job = running_pod(&ns, |pod| {
        pod.args()
            .starts_with(&["step".into(), run_id.clone(), "sleepy".into()])
    })
    .job()
    .to_owned();
    std::thread::sleep(Duration::from_millis(300));
    let (run, took) = cancel(&server, &run_id);
    assert_eq!(run["status"], "CANCELED", "{run}");
    assert!(took < Duration::from_secs(2), "canceled in {took:?}");
    let events = server.events(&run_id);
    assert_eq!(
        types_of(&events, Some("sleepy")),
        ["STEP_START", "STEP_FAILURE"]
    );
    assert_eq!(types_of(&events, Some("wake")), ["STEP_SKIPPED"]);
    deleted(&ns, &step_job);

    // An op's external Job that would run a minute.
    server.upload("k8s_job", &rust_guest_bytes("k8s_job"));
    let run_id = server.launch(json!({
        "location": "k8s_job",
        "job": "run_k8s_job",
        "config": external_job(json!({
            "image": "busybox:1.36",
            "command": ["sh", "-c", "echo started; sleep 60"],
            "timeout_seconds": 120,
        })),
    }));
    let external = running_pod(&ns, |pod| pod.job().starts_with("weft-job-"))
        .job()
        .to_owned();
    let (run, took) = cancel(&server, &run_id);
    assert_eq!(run["status"], "CANCELED", "{run}");
    assert!(took < Duration::from_secs(2), "canceled in {took:?}");
    deleted(&ns, &external);
}
