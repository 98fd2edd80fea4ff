//! `weft serve` and `weft dev`: the control plane of `weft_server` served over HTTP by
//! `weft_api` until Ctrl-C or SIGTERM, letting requests under way end. `weft serve`
//! uploads the locations weft.yaml lists by path; `weft dev` adds the daemon and uploads
//! the files it serves again when they change.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use weft_server::control::Control;
use weft_server::daemon::Daemon;
use weft_server::{Instance, Services};

use crate::{Failure, ServeOpts};

/// The locations weft.yaml lists by path.
fn workspace(instance: &Instance) -> Vec<(String, PathBuf)> {
    instance
        .config
        .locations
        .iter()
        .filter_map(|(name, l)| l.path.clone().map(|p| (name.clone(), p)))
        .collect()
}

/// Binds the listener first, so that a taken port is bad input before anything is opened.
async fn bind(listen: &str) -> Result<(tokio::net::TcpListener, SocketAddr), Failure> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
        .map_err(Failure::BadInput)?;
    let address = listener.local_addr().context("reading the bound address")?;
    Ok((listener, address))
}

/// How the API is served on `address`: weft.yaml's `api_tokens` and `--token`
/// (`WEFT_TOKEN`), an admin's, as its tokens; [`weft_api::answers_to`] as its names.
fn api_options(instance: &Instance, opts: &ServeOpts, address: SocketAddr) -> weft_api::Options {
    let mut tokens: Vec<weft_api::ApiToken> = instance
        .config
        .api_tokens
        .iter()
        .map(|t| t.0.clone())
        .collect();
    if let Some(token) = opts.token.as_deref().filter(|t| !t.is_empty()) {
        tokens.push(weft_api::ApiToken::from_secret(
            weft_api::Role::Admin,
            token,
        ));
    }
    weft_api::Options {
        tokens,
        hosts: weft_api::answers_to(address, &instance.config.api_hosts),
        max_upload_bytes: opts.max_upload_mb << 20,
        max_live_streams: instance
            .config
            .api_live_streams
            .unwrap_or(weft_api::Options::default().max_live_streams),
    }
}

/// Serves `control` on `listener` until Ctrl-C or SIGTERM.
async fn http(
    listener: tokio::net::TcpListener,
    address: SocketAddr,
    control: Arc<Control>,
    options: weft_api::Options,
) -> Result<(), Failure> {
    // Tests and scripts read the port from this line (`--listen 127.0.0.1:0`).
    println!("listening on http://{address}");
    if options.tokens.is_empty() {
        eprintln!(
            "warning: the API has no token: whoever reaches http://{address} may read and \
             change everything (give --token, or api_tokens in weft.yaml)"
        );
    }
    weft_api::serve(listener, control, options, weft_server::shutdown())
        .await
        .context("serving HTTP")?;
    Ok(())
}

fn check(opts: &ServeOpts) -> Result<(), Failure> {
    if opts.max_upload_mb == 0 {
        return Err(Failure::BadInput(anyhow::anyhow!(
            "--max-upload-mb must be at least 1"
        )));
    }
    Ok(())
}

pub async fn serve(instance: Instance, opts: ServeOpts) -> Result<(), Failure> {
    check(&opts)?;
    let files = workspace(&instance);
    let (listener, address) = bind(&opts.listen).await?;
    let options = api_options(&instance, &opts, address);
    let services = Services::open(instance).await?;
    let control = services.control();
    control.load_workspace(&files).await;
    http(listener, address, Arc::new(control), options).await
}

/// `weft dev`: the server, the daemon and the in-process launcher in one process, on the
/// instance's database (SQLite under `$WEFT_HOME` by default), serving `files` as code
/// locations (named by their file stems, each granted `hosts` beside what weft.yaml grants
/// it) and uploading each again when it changes.
pub async fn dev(
    mut instance: Instance,
    files: Vec<PathBuf>,
    hosts: Vec<String>,
    opts: ServeOpts,
) -> Result<(), Failure> {
    check(&opts)?;
    let mut named = workspace(&instance);
    let flagged = weft_core::grants::Grants {
        hosts,
        ..Default::default()
    };
    for file in files {
        if !file.is_file() {
            return Err(Failure::BadInput(anyhow::anyhow!(
                "{} is not a file",
                file.display()
            )));
        }
        let name = super::location_name(&file);
        let granted = instance.config.locations.entry(name.clone()).or_default();
        granted.grants.merge(&flagged);
        named.push((name, file));
    }
    let (listener, address) = bind(&opts.listen).await?;
    let options = api_options(&instance, &opts, address);
    let services = Services::open(instance).await?;
    let control = Arc::new(services.control());
    control.load_workspace(&named).await;
    let watcher = control.clone();
    tokio::spawn(async move { watcher.watch_workspace(named).await });
    let daemon = Arc::new(Daemon::new(&services, control.clone()));
    let ticking = daemon.clone();
    tokio::spawn(async move { ticking.run_forever(std::time::Duration::from_secs(1)).await });
    let served = http(listener, address, control, options).await;
    daemon.release().await;
    served
}
