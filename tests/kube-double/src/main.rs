//! `weft-kube-double`: runs the test double of the Kubernetes API server (not a Kubernetes)
//! by hand, prints its URL, optionally writes a kubeconfig, and serves until interrupted.
//!
//! ```text
//! weft-kube-double [--kubeconfig PATH] [--namespace NS] [--token TOKEN]
//!                  [--command NAME=PATH]... [--retry-backoff SECONDS]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use weft_kube_double::{KubeDouble, Options};

const USAGE: &str = "usage: weft-kube-double [--kubeconfig PATH] [--namespace NS] [--token TOKEN] [--command NAME=PATH]... [--retry-backoff SECONDS]";

fn parse() -> Result<(Options, Option<PathBuf>), String> {
    let mut options = Options::new();
    let mut kubeconfig = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--kubeconfig" => kubeconfig = Some(PathBuf::from(value()?)),
            "--namespace" => options = options.namespace(value()?),
            "--token" => options = options.token(value()?),
            "--command" => {
                let spec = value()?;
                let (name, path) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--command wants NAME=PATH, not {spec:?}"))?;
                options = options.command(name, path);
            }
            "--retry-backoff" => {
                let secs = value()?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("--retry-backoff wants seconds, not {secs:?}"))?;
                options = options.pod_retry_backoff(Duration::from_secs_f64(secs.max(0.0)));
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok((options, kubeconfig))
}

fn main() -> ExitCode {
    let (options, kubeconfig) = match parse() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let double = match KubeDouble::start(options) {
        Ok(double) => double,
        Err(e) => {
            eprintln!("weft-kube-double: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", double.url());
    if let Some(path) = kubeconfig {
        if let Err(e) = double.write_kubeconfig(&path) {
            eprintln!("weft-kube-double: {e}");
            return ExitCode::FAILURE;
        }
        println!("KUBECONFIG={}", path.display());
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("weft-kube-double: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    });
    drop(double);
    ExitCode::SUCCESS
}
