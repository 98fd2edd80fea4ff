//! `weft-kubelet`: the simulated kubelet of the tests (the crate's doc says what it does and
//! does not do). `tests/k8s/cluster.sh` starts it beside the real control plane.
//!
//! ```text
//! weft-kubelet --kubeconfig PATH --node-name NAME --state-dir DIR [--ready-file PATH]
//!              [--label KEY=VALUE]... [--command NAME=PATH]... [--restart-backoff SECONDS]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use weft_kube_double::Options;

const USAGE: &str = "usage: weft-kubelet --kubeconfig PATH --node-name NAME --state-dir DIR [--ready-file PATH] [--label KEY=VALUE]... [--command NAME=PATH]... [--restart-backoff SECONDS]";

struct Args {
    options: Options,
    kubeconfig: Option<PathBuf>,
    ready_file: Option<PathBuf>,
}

fn pair(spec: &str, what: &str) -> Result<(String, String), String> {
    spec.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{what} wants NAME=VALUE, not {spec:?}"))
}

fn parse() -> Result<Args, String> {
    let mut options = Options::new("weft-node", std::env::temp_dir().join("weft-kubelet"));
    let (mut kubeconfig, mut ready_file) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--kubeconfig" => kubeconfig = Some(PathBuf::from(value()?)),
            "--node-name" => options.node_name = value()?,
            "--state-dir" => options.state_dir = PathBuf::from(value()?),
            "--ready-file" => ready_file = Some(PathBuf::from(value()?)),
            "--label" => {
                let (k, v) = pair(&value()?, "--label")?;
                options.labels.insert(k, v);
            }
            "--command" => {
                let (k, v) = pair(&value()?, "--command")?;
                options.commands.insert(k, PathBuf::from(v));
            }
            "--restart-backoff" => {
                let secs = value()?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("--restart-backoff wants seconds, not {secs:?}"))?;
                options.restart_backoff = Duration::from_secs_f64(secs.max(0.0));
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        options,
        kubeconfig,
        ready_file,
    })
}

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WEFT_KUBELET_LOG")
                // The test cluster's API server has a self-signed certificate, which the
                // kubeconfig says not to verify: kube warns of it on every connection.
                .unwrap_or_else(|_| "warn,kube_client::client::tls=error".into()),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("weft-kubelet: {e}");
            return ExitCode::FAILURE;
        }
    };
    let node = args.options.node_name.clone();
    let ready_file = args.ready_file.clone();
    let ready = move || {
        eprintln!("weft-kubelet: node {node} is registered and schedulable");
        if let Some(path) = ready_file
            && let Err(e) = std::fs::write(&path, b"ready\n")
        {
            eprintln!("weft-kubelet: writing {}: {e}", path.display());
        }
    };
    let ran = runtime.block_on(weft_kube_double::run(
        args.options,
        args.kubeconfig.as_deref(),
        ready,
        shutdown(),
    ));
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weft-kubelet: {e}");
            ExitCode::FAILURE
        }
    }
}
