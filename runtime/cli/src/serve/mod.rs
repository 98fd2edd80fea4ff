//! `weft serve`: the control plane as one process. It opens the instance's database,
//! builds the [`Control`](control::Control) over it (registry of loaded versions, in-process
//! launcher), uploads the locations weft.yaml lists by path, and serves the HTTP API and
//! the web UI until it is told to stop (Ctrl-C or SIGTERM), letting requests under way end.

mod control;
mod launcher;
mod registry;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use weft_api::{ApiError, ErrorKind};
use weft_engine::io::FsComputeLogs;
use weft_store::StoreError;
use weft_wasm::WasmHost;

use crate::instance::Instance;
use crate::{Failure, ServeOpts};

/// A storage failure as the API reports it: 503 when the database is unavailable.
pub(crate) fn store_error(e: StoreError) -> ApiError {
    let kind = match e.kind() {
        weft_store::ErrorKind::Unavailable => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    ApiError::new(kind, e.to_string())
}

pub async fn serve(instance: Instance, opts: ServeOpts) -> Result<(), Failure> {
    let bad = Failure::BadInput;
    let kind = crate::commands::executor_kind(&instance, None, None).map_err(bad)?;
    let io = instance.io_manager().map_err(bad)?;
    if opts.max_upload_mb == 0 {
        return Err(bad(anyhow::anyhow!("--max-upload-mb must be at least 1")));
    }
    let workspace: Vec<(String, std::path::PathBuf)> = instance
        .config
        .locations
        .iter()
        .filter_map(|(name, l)| l.path.clone().map(|p| (name.clone(), p)))
        .collect();
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))
        .map_err(bad)?;
    let address: SocketAddr = listener.local_addr().context("reading the bound address")?;

    let store = Arc::new(instance.open_store().await?);
    let host = WasmHost::new(instance.cache_dir()).map_err(|e| Failure::Failed(Some(e.into())))?;
    let instance = Arc::new(instance);
    let launcher = launcher::Launcher::new(
        store.clone(),
        io,
        FsComputeLogs::new(instance.logs_dir()),
        kind,
        instance.unsaved_dir(),
    );
    let registry = registry::Registry::new(host, store.clone(), instance.clone());
    let control = control::Control::new(
        store,
        registry,
        launcher,
        FsComputeLogs::new(instance.logs_dir()),
    );
    control.load_workspace(&workspace).await;

    let options = weft_api::Options {
        token: opts.token.filter(|t| !t.is_empty()),
        max_upload_bytes: opts.max_upload_mb << 20,
    };
    let app = weft_api::router(Arc::new(control), options);
    // Tests and scripts read the port from this line (`--listen 127.0.0.1:0`).
    println!("listening on http://{address}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await
        .context("serving HTTP")?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    eprintln!("shutting down: waiting for requests under way");
}
