//! The seed document's Kubernetes samples (`tests/seeds/k8s`: Dagster code with only the
//! imports changed) as a Python code location on the test cluster: `dagster-k8s/config` on
//! a job, an op, an asset and an asset job shapes the run's and the steps' pods;
//! `k8s_job_op.configured(...)` and `execute_k8s_job` run their Jobs in order, their logs
//! the steps'. The executor samples (`tests/seeds/executors`): a job's `executor_def` runs
//! its steps in processes of the run's pod or in pods of their own.

use serde_json::{Value, json};
use weft_tests::k8s::Namespace;
use weft_tests::{Backend, output_of, repo_root, wasm_target_dir};

use super::{cluster, server};

weft_tests::on_both_databases!(
    the_seeds_kubernetes_samples_run_with_only_their_imports_changed,
    the_seeds_executor_samples_run_their_steps_where_they_ask,
);

/// The pods of run `run_id` (its own and its steps'), as `(pod, weft's arguments)`.
fn pods_of(ns: &Namespace, run_id: &str) -> Vec<(Value, Vec<String>)> {
    ns.pods()
        .into_iter()
        .map(|p| {
            let args = p.args();
            (p.0, args)
        })
        .filter(|(_, args)| args.get(1).map(String::as_str) == Some(run_id))
        .collect()
}

/// The resources of the pods of run `run_id` that run `step` (`""`: the run's own pod),
/// as `(requests, limits)`.
fn resources(ns: &Namespace, run_id: &str, step: &str) -> Vec<(Value, Value)> {
    pods_of(ns, run_id)
        .into_iter()
        .filter(|(_, args)| {
            step.is_empty() && args[0] == "execute-run"
                || args.get(2).map(String::as_str) == Some(step)
        })
        .map(|(pod, _)| {
            let r = &pod["spec"]["containers"][0]["resources"];
            (r["requests"].clone(), r["limits"].clone())
        })
        .collect()
}

fn the_seeds_kubernetes_samples_run_with_only_their_imports_changed(backend: Backend) {
    let Some((home, ns)) = cluster(backend, "k8s-job") else {
        return;
    };
    home.add_config("locations:\n  seed_k8s: { k8s_jobs: true }\n");
    let wasm = wasm_target_dir().join("seeds").join("k8s.wasm");
    home.build_shared(&repo_root().join("tests/seeds/k8s"), &wasm)
        .unwrap();
    let server = server(&home, &ns, &[]);
    server.upload("seed_k8s", &std::fs::read(&wasm).unwrap());
    // The seed's `2000m` and `4096Mi`, as the API server stores them (in canonical form).
    let seed = json!({ "cpu": "2", "memory": "4Gi" });

    // [Code 1] and [Code 2]: the job's tag sizes the run's pod and every step's; the op's
    // own tag its step's.
    let run_id = server.launch(json!({ "location": "seed_k8s", "job": "process_numbers" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(
        output_of(&server.events(&run_id), "sum_two_sums"),
        json!(55)
    );
    for step in ["", "generate_numbers", "sum_two_sums"] {
        let pods = resources(&ns, &run_id, step);
        assert!(!pods.is_empty(), "no pod of {step:?}");
        for (requests, limits) in pods {
            assert_eq!((&requests, &limits), (&seed, &seed), "{step:?}");
        }
    }

    // The asset job's tag (resources and a node selector) and the asset's `op_tags`.
    let run_id = server.launch(json!({ "location": "seed_k8s", "job": "process_numbers_asset" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let asset_pods = pods_of(&ns, &run_id);
    assert_eq!(
        asset_pods.len(),
        2,
        "the run's pod and the asset's: {asset_pods:?}"
    );
    for (spec, _) in asset_pods {
        assert_eq!(
            spec["spec"]["nodeSelector"]["node-group.dp.ssup2"],
            "worker"
        );
        assert_eq!(spec["spec"]["containers"][0]["resources"]["requests"], seed);
    }

    // [Code 4]: the configured k8s_job_op's Job, then the one its downstream op starts.
    let run_id = server.launch(json!({ "location": "seed_k8s", "job": "process_words_k8s_job" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    for (step, said) in [
        ("echo_hello_job_op", "HELLO"),
        ("echo_goodbye_job_k8s", "GOODBYE"),
    ] {
        let logs = server.get(&format!("/runs/{run_id}/logs/{step}"));
        assert!(
            logs["stdout"].as_str().unwrap().contains(said),
            "{step}: {logs}"
        );
    }

    // [Code 3]: an empty job, tagged with Dagster's retry tag, runs.
    let run_id = server.launch(json!({ "location": "seed_k8s", "job": "sample_job" }));
    assert_eq!(server.wait(&run_id)["status"], "SUCCESS");
}

fn the_seeds_executor_samples_run_their_steps_where_they_ask(backend: Backend) {
    // The instance's executor runs steps in the run's pod; the jobs ask for others.
    let Some((home, ns)) = cluster(backend, "in-process") else {
        return;
    };
    let wasm = wasm_target_dir().join("seeds").join("executors.wasm");
    home.build_shared(&repo_root().join("tests/seeds/executors"), &wasm)
        .unwrap();
    let server = server(&home, &ns, &[]);
    server.upload("seed_executors", &std::fs::read(&wasm).unwrap());

    // `executor_def=multiprocess_executor`: each step a process of its own in the run's pod.
    let run_id = server.launch(json!({ "location": "seed_executors", "job": "process_numbers" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(
        output_of(&server.events(&run_id), "sum_two_sums"),
        json!(55)
    );
    let pods = pods_of(&ns, &run_id);
    assert_eq!(pods.len(), 1, "only the run's pod: {pods:?}");
    let log = ns.pod_log(pods[0].0["metadata"]["name"].as_str().unwrap());
    assert!(
        log.contains("executes with the multiprocess executor"),
        "{log}"
    );

    // `executor_def=k8s_job_executor`: each asset step a pod of its own.
    let run_id =
        server.launch(json!({ "location": "seed_executors", "job": "process_numbers_asset_k8s" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{:?}", server.events(&run_id));
    let mut steps: Vec<String> = pods_of(&ns, &run_id)
        .into_iter()
        .filter(|(_, args)| args[0] == "step")
        .map(|(_, args)| args[2].clone())
        .collect();
    steps.sort();
    assert_eq!(
        steps,
        [
            "filtered_even_numbers",
            "filtered_odd_numbers",
            "generated_numbers",
            "summed_even_numbers",
            "summed_odd_numbers",
            "summed_two_sums"
        ]
    );
}
