//! An op's external Kubernetes Job (`plugins/k8s-job`; Dagster's `execute_k8s_job`),
//! started from its step's pod: its log is the step's, its pod inherits where the step runs
//! and its location's granted environment (through a Secret) but nothing of Weft's own, a
//! failing or slow Job fails the step, and neither the step's tag nor the Job's config may
//! change its rights (`k8s.guest_overrides`).

use serde_json::json;
use weft_tests::{Backend, output_of, rust_guest_bytes};

use super::{cluster, external_job, server};

weft_tests::on_both_databases!(an_op_runs_an_external_job_whose_log_is_the_steps,);

fn an_op_runs_an_external_job_whose_log_is_the_steps(backend: Backend) {
    let Some((home, ns)) = cluster(backend, "k8s-job") else {
        return;
    };
    home.add_config(
        "locations:\n  \
           k8s_job: { k8s_jobs: true, env: [LOCATION_SECRET] }\n",
    );
    let secret = std::path::Path::new("granted-value");
    let server = server(&home, &ns, &[("LOCATION_SECRET", secret)]);
    let plugin = rust_guest_bytes("k8s_job");
    server.upload("k8s_job", &plugin);
    let tag = json!({ "container_config": { "resources": { "limits": { "memory": "512Mi" } } } });
    let script = "echo \"hello from the job: $GREETING $LOCATION_SECRET\"; echo second line";
    let run_id = server.launch(json!({
        "location": "k8s_job",
        "job": "run_k8s_job",
        "config": external_job(json!({
            "image": "busybox:1.36",
            "command": ["sh", "-c", script],
            "env": { "GREETING": "hi" },
            "timeout_seconds": 60,
        })),
        "tags": { "weft/k8s": tag.to_string() },
    }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let events = server.events(&run_id);
    let job_name = output_of(&events, "k8s_job");
    let job_name = job_name.as_str().unwrap();
    assert!(job_name.starts_with("weft-job-"), "{job_name}");

    // The Job's log is the step's stdout, as the step's pod saw it.
    let logs = server.get(&format!("/runs/{run_id}/logs/k8s_job"));
    let stdout = logs["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("hello from the job: hi granted-value\nsecond line\n"),
        "{logs}"
    );
    let said = events.iter().any(|e| {
        e["message"].as_str().is_some_and(|m| {
            m.contains(&format!(
                "Kubernetes Job {job_name} (busybox:1.36) succeeded"
            ))
        })
    });
    assert!(said, "no log line of the Job's end: {events:?}");

    // The Job was started from the step's pod, and its pod inherits where the step runs
    // (node selector, requests, the step's tag) but nothing that is Weft's own.
    let pods = ns.pods();
    let external = pods.iter().find(|p| p.job() == job_name).unwrap();
    let step_pod = pods
        .iter()
        .find(|p| p.args().first().map(String::as_str) == Some("step"))
        .unwrap();
    assert_eq!(step_pod.exit_code(), Some(0), "{pods:?}");
    // Its pod ran, as its step's, in the namespace's `restricted` Pod Security level.
    assert_eq!(external.exit_code(), Some(0), "{pods:?}");
    // The location's granted value reached the step's pod by reference to a Secret Weft
    // made: the Job's spec does not carry it.
    let step_spec = &step_pod.0;
    let granted = step_spec["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "LOCATION_SECRET")
        .unwrap()
        .clone();
    assert!(granted.get("value").is_none(), "{granted}");
    let from = granted["valueFrom"]["secretKeyRef"]["name"]
        .as_str()
        .unwrap();
    assert!(from.starts_with("weft-env-"), "{granted}");
    assert!(
        !step_spec.to_string().contains("granted-value"),
        "the value is in the pod's spec: {step_spec}"
    );
    let pod = &external.0;
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["image"], "busybox:1.36");
    assert_eq!(c["resources"]["requests"]["cpu"], "250m");
    assert_eq!(c["resources"]["limits"]["memory"], "512Mi");
    let env: Vec<String> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(env, ["LOCATION_SECRET", "GREETING"], "{c}");
    assert_eq!(
        c["env"][0]["valueFrom"]["secretKeyRef"]["name"].as_str(),
        Some(from),
        "{c}"
    );
    assert!(
        !pod.to_string().contains("granted-value"),
        "the value is in the Job's spec: {pod}"
    );
    assert_eq!(pod["spec"]["nodeSelector"]["pool"], "batch");
    // Not the instance's `weft-runs`: the namespace's default account, as the API server
    // fills it in.
    assert_eq!(pod["spec"]["serviceAccountName"], "default");
    assert_eq!(pod["metadata"]["labels"]["weft/external-job"], "true");
    // The Job is the step pod's: Kubernetes deletes it with that pod.
    let job = ns
        .jobs()
        .into_iter()
        .find(|j| j["metadata"]["name"] == job_name)
        .unwrap();
    let owner = &job["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Pod", "{job}");
    assert_eq!(owner["name"], step_pod.name(), "{job}");
    assert_eq!(owner["uid"], step_pod.0["metadata"]["uid"], "{job}");
    assert_eq!(pod["metadata"]["labels"]["weft/step-key"], "k8s_job");

    // Neither the step's tag nor the Job's config may change what the Job runs or with
    // which rights: refused before anything reaches the cluster, saying what and where.
    let jobs_before = ns.jobs().len();
    let rights = json!({ "pod_spec_config": { "service_account_name": "weft-runs" } });
    let refused = server.launch(json!({
        "location": "k8s_job",
        "job": "run_k8s_job",
        "config": external_job(json!({
            "image": "busybox:1.36",
            "command": ["true"],
            "config": rights,
        })),
    }));
    let failure = server.failure(&refused, "STEP_FAILURE");
    assert!(
        failure.contains("may not set pod_spec_config.service_account_name (k8s.guest_overrides"),
        "{failure}"
    );
    // Only the refused run's own run and step Jobs were created.
    assert_eq!(ns.jobs().len(), jobs_before + 2, "{:?}", ns.jobs());

    // A Job that exits non-zero fails the step with its exit code and the end of its log.
    let failing = server.launch(json!({
        "location": "k8s_job",
        "job": "run_k8s_job",
        "config": external_job(json!({
            "image": "busybox:1.36",
            "command": ["sh", "-c", "echo about to fail; exit 3"],
        })),
    }));
    let failure = server.failure(&failing, "STEP_FAILURE");
    assert!(failure.contains("exited with code 3"), "{failure}");
    assert!(failure.contains("about to fail"), "{failure}");

    // A Job still running when its time is up is deleted, and fails the step.
    let slow = server.launch(json!({
        "location": "k8s_job",
        "job": "run_k8s_job",
        "config": external_job(json!({
            "image": "busybox:1.36",
            "command": ["sh", "-c", "echo started; sleep 60"],
            "timeout_seconds": 1,
        })),
    }));
    let failure = server.failure(&slow, "STEP_FAILURE");
    assert!(
        failure.contains("still running after 1s, and was deleted"),
        "{failure}"
    );
    assert!(failure.contains("started"), "{failure}");
    let slow_job = failure
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':');
    assert!(!ns.has_job(slow_job), "{slow_job} is still there");

    // A location without the grant is refused before anything reaches the cluster.
    server.upload("ungranted", &plugin);
    let jobs_before = ns.jobs().len();
    let refused = server.launch(json!({
        "location": "ungranted",
        "job": "run_k8s_job",
        "config": external_job(json!({ "image": "busybox:1.36", "command": ["true"] })),
    }));
    let failure = server.failure(&refused, "STEP_FAILURE");
    assert!(failure.contains("not granted Kubernetes Jobs"), "{failure}");
    // Only the refused run's own run and step Jobs were created.
    assert_eq!(ns.jobs().len(), jobs_before + 2, "{:?}", ns.jobs());
}
