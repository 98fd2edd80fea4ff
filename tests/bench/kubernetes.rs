//! Weft on Kubernetes: launch → run succeeded for process_numbers through `weft serve` with
//! a Job per run (`run_launcher: k8s`) and a Job per step (`executor: k8s-job`): seven
//! pods, each a `weft` process that answers through the database. On the tests' cluster
//! (`tests/k8s/cluster.sh`: a real kube-apiserver, Job controller and scheduler, the
//! simulated kubelet running pods as local processes), in a namespace of its own as the
//! tests make it; with `--kube-double PATH`, also through a test double of the API server
//! that plays every part itself (the binary of the double Weft's tests used before the
//! cluster: `PATH --kubeconfig FILE --namespace NS --command /weft=WEFT`), side by side.
//! Beside them, the same launch with the run on the server's own thread and its steps in
//! processes of it (`executor: multiprocess`): what Kubernetes adds.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use weft_tests::k8s::Namespace;
use weft_tests::{Home, Server, weft_bin};

use crate::{median, ms};

/// Medians, in milliseconds; None where that cluster was not there.
pub struct KubernetesTimes {
    pub runs: usize,
    /// Launch → SUCCESS with a Job per run and per step, on the real control plane.
    pub real: Option<f64>,
    /// The same through the API-server double.
    pub double: Option<f64>,
    /// The same launch with no Kubernetes: the run on the server's thread, a process per step.
    pub local: f64,
}

impl KubernetesTimes {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "runs": self.runs,
            "launch_to_success_real_api_server_ms": self.real,
            "launch_to_success_api_double_ms": self.double,
            "launch_to_success_multiprocess_ms": self.local,
        })
    }
}

/// An instance whose runs and steps are Jobs in `namespace`, its pods running this build's
/// `weft` (as `command`, or as `/weft` through the double's map).
fn k8s_home(namespace: &str, command: Option<&Path>) -> Home {
    let home = Home::new();
    let command = command.map_or(String::new(), |c| {
        format!("  command: [\"{}\"]\n", c.display())
    });
    home.add_config(&format!(
        "run_launcher: {{ type: k8s }}\nexecutor: k8s-job\nmax_concurrent: 2\n\
         k8s:\n  image: registry.example/weft:bench\n{command}  namespace: {namespace}\n  \
         home: {}\n  service_account_name: weft-runs\n",
        home.dir.0.display()
    ));
    home
}

/// The median of `runs` launches of process_numbers until the API says SUCCESS, after one
/// warm-up run.
fn launches(server: &Server, wasm: &[u8], runs: usize) -> Result<f64, String> {
    server.upload("numbers", wasm);
    let launch = json!({ "location": "numbers", "job": "process_numbers" });
    let mut times = Vec::with_capacity(runs);
    for i in 0..=runs {
        let clock = Instant::now();
        let run = server.wait(&server.launch(launch.clone()));
        if run["status"] != "SUCCESS" {
            return Err(format!("process_numbers did not succeed: {run}"));
        }
        if i > 0 {
            times.push(ms(clock.elapsed()));
        }
    }
    Ok(median(times))
}

/// The double, serving until dropped.
struct Double(Child);

impl Drop for Double {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn through_double(binary: &Path, wasm: &[u8], runs: usize) -> Result<f64, String> {
    let home = k8s_home("weft", None);
    let kubeconfig: PathBuf = home.dir.join("double.kubeconfig");
    let child = Command::new(binary)
        .args(["--kubeconfig".as_ref(), kubeconfig.as_os_str()])
        .args(["--namespace", "weft", "--retry-backoff", "0"])
        .arg("--command")
        .arg(format!("/weft={}", weft_bin().display()))
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let _double = Double(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !kubeconfig.exists() {
        if Instant::now() > deadline {
            return Err(format!("{} wrote no kubeconfig", binary.display()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let server = Server::start_with_env(&home, &[], &[("KUBECONFIG", &kubeconfig)]);
    launches(&server, wasm, runs)
}

/// Times `runs` launches on each Kubernetes there is, and without one.
pub fn measure(wasm: &Path, runs: usize, double: Option<&Path>) -> Result<KubernetesTimes, String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
    let real = match std::env::var_os("WEFT_TEST_K8S_URL") {
        None => None,
        Some(_) => {
            let ns = Namespace::create("bench").ok_or("no cluster")?;
            let home = k8s_home(&ns.name, Some(&weft_bin()));
            let server = Server::start_with_env(&home, &[], &[("KUBECONFIG", &ns.weft_kubeconfig)]);
            Some(launches(&server, &bytes, runs)?)
        }
    };
    let double = double
        .map(|binary| through_double(binary, &bytes, runs))
        .transpose()?;
    let home = Home::new();
    home.add_config("executor: multiprocess\nmax_concurrent: 2\n");
    let local = launches(&Server::start(&home, &[]), &bytes, runs)?;
    Ok(KubernetesTimes {
        runs,
        real,
        double,
        local,
    })
}

/// Prints the table.
pub fn print(k: &KubernetesTimes) {
    println!(
        "\nKubernetes: launch → run succeeded for process_numbers through weft serve, a Job \
         per run and per step (7 pods; 2 steps at a time), medians of {}",
        k.runs
    );
    let cell = |x: Option<f64>, missing: &str| {
        x.map_or_else(|| missing.to_owned(), |x| format!("{:>9.0} ms", x))
    };
    println!(
        "  real control plane (kube-apiserver, Job controller, scheduler; simulated kubelet) {}",
        cell(k.real, "not running: source tests/k8s/cluster.sh")
    );
    println!(
        "  the API-server double (every part played by one process)                        {}",
        cell(k.double, "not measured: --kube-double PATH")
    );
    if let (Some(real), Some(double)) = (k.real, k.double) {
        println!(
            "  real ÷ double                                                                   {:>9.2}",
            real / double
        );
    }
    println!(
        "  no Kubernetes: the run on the server's thread, a process per step              {:>9.0} ms",
        k.local
    );
}
