//! The server's run launcher. In process (the default), each launched run executes on a
//! thread of its own (guest code never runs on the async runtime), pinned to the loaded
//! versions it was prepared with, writing its events through the server's one batching
//! event writer. With `run_launcher: {type: process}`, each run executes in a `weft
//! execute-run RUN_ID` process of its own, which reads the run from the database and
//! writes its events there, so it goes on if this process stops; this process waits for
//! it, and fails the run if it exits before the run ended. With `run_launcher: {type: k8s}`,
//! the same command runs in a Kubernetes Job per run (`weft_k8s::K8sRunLauncher`), waited
//! for alike: both are the core's `RunLauncher` port.
//!
//! Cancelling goes through the database, so that any replica can cancel a run another one
//! executes: the API records `RUN_CANCELING`, and the watcher here, which looks at the
//! status of this server's runs in flight, raises the run's cancel flag; the executor then
//! starts no new step and ends the run `CANCELED`. The same watcher records a heartbeat for
//! the runs in flight here every two seconds, which the daemon's run monitoring reads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft_core::Cancel;
use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::now_ms;
use weft_core::ports::{CodeLocation, ComputeLogStore, IoManager, RunLauncher};
use weft_core::run::RunRecord;
use weft_engine::writer::{EventSink, EventWriter};
use weft_store::Store;

use crate::executors::Executors;
use crate::launch::{self, Prepared, RunServices};

/// How often the watcher looks for cancel requests.
const WATCH: Duration = Duration::from_millis(200);

/// How often the runs in flight here say they are alive (run monitoring reads it).
const HEARTBEAT_EVERY: u32 = 10;

/// Where a launcher executes runs.
#[derive(Clone)]
pub enum LaunchMode {
    /// On threads of this process.
    InProcess,
    /// Elsewhere: a process or a Kubernetes Job each, which writes the run's events to the
    /// database itself.
    Elsewhere(Arc<dyn RunLauncher>),
}

/// Runs launched by this server.
pub struct Launcher {
    store: Arc<Store>,
    writer: EventWriter,
    io: Box<dyn IoManager>,
    logs: Arc<dyn ComputeLogStore>,
    /// Where events the database refused are kept.
    unsaved_dir: PathBuf,
    runtime: tokio::runtime::Handle,
    mode: LaunchMode,
    /// How each run's steps are executed: the instance's executor, or its job's.
    executors: Executors,
    /// Cancel flags of the runs in flight here, by run id (with the process launcher, the
    /// runs whose process this one waits for; each watches for a cancel itself).
    in_flight: Mutex<HashMap<String, Cancel>>,
}

impl Launcher {
    /// A launcher on the current tokio runtime.
    pub fn new(
        store: Arc<Store>,
        io: Box<dyn IoManager>,
        logs: Arc<dyn ComputeLogStore>,
        unsaved_dir: PathBuf,
        mode: LaunchMode,
        executors: Executors,
    ) -> Arc<Self> {
        let launcher = Arc::new(Launcher {
            writer: EventWriter::spawn(store.clone()),
            store,
            io,
            logs,
            unsaved_dir,
            runtime: tokio::runtime::Handle::current(),
            mode,
            executors,
            in_flight: Mutex::new(HashMap::new()),
        });
        tokio::spawn(watch(Arc::downgrade(&launcher)));
        launcher
    }

    /// Starts executing `prepared` (already recorded) on its own thread.
    pub fn start(self: &Arc<Self>, prepared: Prepared, locations: Vec<Arc<dyn CodeLocation>>) {
        let run_id = prepared.record.run_id.clone();
        let cancel = Cancel::new();
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.insert(run_id.clone(), cancel.clone());
        }
        let this = self.clone();
        let spawned = match self.mode.clone() {
            LaunchMode::InProcess => std::thread::Builder::new()
                .name(format!("run-{run_id}"))
                .spawn(move || this.execute(&prepared, &locations, &cancel)),
            LaunchMode::Elsewhere(launcher) => {
                // The process or pod prepares the run again from the database.
                let record = prepared.record.clone();
                drop((prepared, locations));
                std::thread::Builder::new()
                    .name(format!("run-elsewhere-{run_id}"))
                    .spawn(move || {
                        this.execute_elsewhere(&record.run_id, || launcher.execute(&record));
                    })
            }
        };
        if let Err(e) = spawned {
            self.forget(&run_id);
            self.writer.emit_now(vec![Event {
                run_id,
                step_key: None,
                timestamp_ms: now_ms(),
                kind: EventKind::RunFailure {
                    message: format!("the server could not start a thread for the run: {e}"),
                },
            }]);
        }
    }

    fn execute(&self, prepared: &Prepared, locations: &[Arc<dyn CodeLocation>], cancel: &Cancel) {
        let run_id = &prepared.record.run_id;
        let refs: Vec<&dyn CodeLocation> = locations.iter().map(AsRef::as_ref).collect();
        let executor = match self.executors.for_run(&prepared.record.tags) {
            Ok(executor) => executor,
            Err(message) => {
                self.fail(run_id, message);
                self.forget(run_id);
                return;
            }
        };
        tracing::info!("run {run_id} executes with the {} executor", executor.name);
        let services = RunServices {
            io: self.io.as_ref(),
            compute_logs: self.logs.as_ref(),
            sink: &self.writer,
            cancel,
            kind: executor.kind,
            steps: executor.steps.as_deref(),
        };
        let outcome = launch::execute(prepared, &refs, &services);
        // The run counts as here until its events are stored: a process waiting for its
        // runs (`weft daemon --once`) must not exit before that.
        let flushed = self.runtime.block_on(self.writer.flush_run(run_id));
        self.forget(run_id);
        match flushed {
            Ok(()) => tracing::info!("run {run_id} ended {}", outcome.status),
            Err(e) => {
                let saved = crate::save_unwritten(&self.unsaved_dir, run_id, &e.unwritten);
                tracing::error!(
                    "run {run_id} ended {} but its events could not be stored: {}; {saved}",
                    outcome.status,
                    e.error
                );
            }
        }
    }

    /// Runs `run_id` elsewhere with `execute` once what this process recorded is stored
    /// (the run's process or pod reads it), and fails the run if `execute` could not run it
    /// or it ended before the run did. `execute` says how it ended.
    fn execute_elsewhere(&self, run_id: &str, execute: impl FnOnce() -> Result<String, String>) {
        let fail = |message: String| self.fail(run_id, message);
        let outcome = self
            .runtime
            .block_on(self.writer.flush_run(run_id))
            .map_err(|e| {
                let saved = crate::save_unwritten(&self.unsaved_dir, run_id, &e.unwritten);
                format!(
                    "storing the run's events before it starts: {}; {saved}",
                    e.error
                )
            })
            .and_then(|()| execute());
        match outcome {
            Err(message) => fail(message),
            Ok(how) => {
                let ended = self
                    .runtime
                    .block_on(self.store.run(run_id))
                    .ok()
                    .flatten()
                    .is_some_and(|r| r.status.is_finished());
                if !ended {
                    fail(format!("the run's {how}, before the run ended"));
                }
            }
        }
        self.forget(run_id);
    }

    /// Records that run `run_id` failed, saying `message`, and waits until it is stored
    /// (or saved under the home).
    fn fail(&self, run_id: &str, message: String) {
        tracing::error!("run {run_id}: {message}");
        self.writer.emit(vec![Event {
            run_id: run_id.to_owned(),
            step_key: None,
            timestamp_ms: now_ms(),
            kind: EventKind::RunFailure { message },
        }]);
        if let Err(e) = self.runtime.block_on(self.writer.flush_run(run_id)) {
            let saved = crate::save_unwritten(&self.unsaved_dir, run_id, &e.unwritten);
            tracing::error!("run {run_id}: its failure could not be stored: {e}; {saved}");
        }
    }

    fn forget(&self, run_id: &str) {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.remove(run_id);
        }
    }

    /// Raises the cancel flag of run `run_id` if it runs here.
    pub fn cancel_here(&self, run_id: &str) -> bool {
        let flag = self
            .in_flight
            .lock()
            .ok()
            .and_then(|m| m.get(run_id).cloned());
        match flag {
            Some(flag) => {
                flag.cancel();
                true
            }
            None => false,
        }
    }

    /// Waits until every run launched here has ended (and its events are stored).
    pub async fn wait_for_runs(&self) {
        while self.has_runs() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Where the runs launched here keep their compute logs.
    pub fn compute_logs(&self) -> Arc<dyn ComputeLogStore> {
        self.logs.clone()
    }

    /// Whether any run launched here is still executing.
    pub fn has_runs(&self) -> bool {
        self.in_flight.lock().is_ok_and(|m| !m.is_empty())
    }

    /// Whether run `run_id` executes on this server.
    pub fn runs_here(&self, run_id: &str) -> bool {
        self.in_flight.lock().is_ok_and(|m| m.contains_key(run_id))
    }

    /// Writes `events` through the server's event writer and waits until they are stored;
    /// those the database would not take are saved under the home for the next start.
    pub async fn record(&self, events: Vec<Event>) -> Result<(), String> {
        let mut runs: Vec<String> = events.iter().map(|e| e.run_id.clone()).collect();
        runs.sort();
        runs.dedup();
        self.writer.emit_now(events);
        let mut result = Ok(());
        for run_id in runs {
            if let Err(e) = self.writer.flush_run(&run_id).await {
                let saved = crate::save_unwritten(&self.unsaved_dir, &run_id, &e.unwritten);
                result = Err(format!("{e}; {saved}"));
            }
        }
        result
    }
}

/// Raises the cancel flag of each run in flight here whose status became `CANCELING`
/// (asked through any replica), until the launcher is dropped.
async fn watch(launcher: std::sync::Weak<Launcher>) {
    let mut beat = 0u32;
    loop {
        tokio::time::sleep(WATCH).await;
        let Some(launcher) = launcher.upgrade() else {
            return;
        };
        let ids: Vec<String> = match launcher.in_flight.lock() {
            Ok(m) => m.keys().cloned().collect(),
            Err(_) => return,
        };
        beat = (beat + 1) % HEARTBEAT_EVERY;
        // Events saved while the database was out of reach go in once it is back (before
        // run monitoring, minutes away, would take their runs for lost).
        if beat == 0 && launcher.unsaved_dir.exists() {
            crate::replay_unsaved(&launcher.unsaved_dir, &launcher.store)
                .await
                .report();
        }
        if beat == 0
            && !ids.is_empty()
            && let Err(e) = launcher.store.heartbeat(&ids, now_ms()).await
        {
            tracing::warn!("recording the heartbeat of {} runs: {e}", ids.len());
        }
        for id in ids {
            match launcher.store.run(&id).await {
                Ok(Some(run)) if run.status == RunStatus::Canceling => {
                    launcher.cancel_here(&id);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("watching run {id} for a cancel request: {e}"),
            }
        }
    }
}

/// The process run launcher: each run in a `program execute-run RUN_ID` process of its
/// own, in instance `home`; its output goes to `logs/<run id>.log` under `logs`.
pub struct ProcessRunLauncher {
    pub program: PathBuf,
    pub home: PathBuf,
    pub logs: PathBuf,
}

impl RunLauncher for ProcessRunLauncher {
    fn execute(&self, run: &RunRecord) -> Result<String, String> {
        run_process(&run.run_id, &self.program, &self.home, &self.logs)
    }
}

/// Runs `program execute-run RUN_ID` in instance `home` to its end, its output in
/// `logs/<run id>.log`. Returns how it ended.
fn run_process(run_id: &str, program: &Path, home: &Path, logs: &Path) -> Result<String, String> {
    let path = logs.join(format!("{run_id}.log"));
    let log = std::fs::create_dir_all(logs)
        .and_then(|()| std::fs::File::create(&path))
        .map_err(|e| {
            format!(
                "creating the log of the run's process in {}: {e}",
                logs.display()
            )
        })?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let exit = std::process::Command::new(program)
        .arg("execute-run")
        .arg(run_id)
        .env("WEFT_HOME", home)
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start `{} execute-run`: {e}", program.display()))?
        .wait()
        .map_err(|e| format!("waiting for the run's process: {e}"))?;
    Ok(format!(
        "process (`weft execute-run`) ended ({exit}); its output is in {}",
        path.display()
    ))
}
