//! # weft-server
//!
//! Weft's control plane as a library: what `weft serve`, `weft daemon`, `weft dev`,
//! `weft execute-run`, `weft step` and `weft worker` do, over the core's ports. It holds
//! the instance's configuration ([`config`], [`Instance`]), the registry of loaded
//! code-location versions ([`registry`]), launching a run ([`launch`]: plan + execute),
//! the launcher ([`launcher`]: in process, a process per run, a Kubernetes Job per run),
//! the step runners that run a step elsewhere and the workers that take them
//! ([`step_process`], [`step_queue`], [`worker`]), the control plane the HTTP API serves
//! ([`control::Control`], exposed to `weft-api` in one place, `api.rs`), and the daemon
//! ([`daemon`]: schedules, sensors, run-status sensors, the run coordinator, run retries
//! and run monitoring).
//!
//! Errors are this crate's own [`Error`]; the HTTP status of each kind is decided in
//! `api.rs`, the exit code by the `weft` binary.

mod api;
pub mod config;
pub mod control;
pub mod daemon;
mod error;
pub mod execute_run;
pub mod executors;
mod fetch;
mod instance;
pub mod launch;
pub mod launcher;
pub mod registry;
pub mod services;
pub mod step_process;
pub mod step_queue;
#[cfg(test)]
mod tests;
mod unsaved;
pub mod worker;

pub use error::{Error, ErrorKind};
pub use instance::{ChosenIoManager, Instance};
pub use services::Services;
pub use unsaved::{Replayed, replay_unsaved, save_unwritten};

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown() {
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

/// Runs guest code on a thread of its own, outside the async runtime: wasmtime-wasi's
/// blocking WASI calls (filesystem, clocks) must not run inside an async context.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    // The thread knows the runtime (to hand to what blocks on it), but is not one of its
    // workers.
    let runtime = tokio::runtime::Handle::try_current().ok();
    let f = move || {
        let _context = runtime.as_ref().map(tokio::runtime::Handle::enter);
        f()
    };
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}
