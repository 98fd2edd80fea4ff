//! `weft run` and `weft materialize`: load the location, plan the job or the asset
//! selection, check config, record the run, execute it with the chosen executor, and
//! print each step and the result. Bad input is rejected before anything is written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, anyhow};
use std::io::IsTerminal;
use weft_core::config::RunConfig;
use weft_core::defs::Definitions;
use weft_core::events::RunStatus;
use weft_core::plan::{ExecutionPlan, plan_assets, plan_job};
use weft_core::run::RunRecord;
use weft_core::selection::AssetSelection;
use weft_core::workspace::asset_graph;
use weft_engine::executor::{Executor, ExecutorKind, RunSpec};
use weft_engine::io::{FsComputeLogs, FsIoManager, InMemoryIoManager};
use weft_engine::now_ms;
use weft_engine::ports::{IoManager, StepRunner};
use weft_engine::router::AssetRouter;
use weft_engine::writer::EventWriter;
use weft_store::Store;

use crate::instance::Instance;
use crate::progress::Progress;
use crate::{ExecutorArg, Failure, RunOpts};

/// What to run.
pub enum Target {
    Job(String),
    Assets(String),
}

pub async fn run(
    instance: &Instance,
    files: &[PathBuf],
    target: Target,
    opts: RunOpts,
) -> Result<(), Failure> {
    let clock = Instant::now();
    let bad = |e: anyhow::Error| Failure::BadInput(e);
    if files.len() > 1 && opts.location.is_some() {
        return Err(bad(anyhow!(
            "--location names one location: give one file with it"
        )));
    }
    // Guest code (definitions here, steps below) runs outside the async context.
    let loaded = super::off_runtime(|| {
        files
            .iter()
            .map(|file| {
                super::load_location(instance, file, opts.location.clone(), opts.grants.clone())
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    let named: Vec<(&str, &Definitions)> = loaded
        .iter()
        .map(|(l, _)| (l.name(), l.definitions()))
        .collect();
    let graph = asset_graph(&named).map_err(|e| bad(e.into()))?;
    let runners: Vec<&dyn StepRunner> = loaded.iter().map(|(l, _)| l as &dyn StepRunner).collect();
    let router = AssetRouter::new(runners, graph.owners.clone());
    let (plan, selection): (ExecutionPlan, Option<String>) = match &target {
        Target::Job(job) => {
            let [(location, _)] = loaded.as_slice() else {
                return Err(bad(anyhow!("a job runs in one location: give one file")));
            };
            (
                plan_job(location.definitions(), job).map_err(|e| bad(e.into()))?,
                None,
            )
        }
        Target::Assets(select) => {
            let sel: AssetSelection = select.parse().map_err(|e| bad(anyhow!("{e}")))?;
            (
                plan_assets(&graph.definitions, &sel).map_err(|e| bad(e.into()))?,
                Some(sel.to_string()),
            )
        }
    };
    // A run across several locations is pinned to each of their digests.
    let location_name = loaded
        .iter()
        .map(|(l, _)| l.name())
        .collect::<Vec<_>>()
        .join("+");
    let digest = loaded
        .iter()
        .map(|(l, _)| l.digest())
        .collect::<Vec<_>>()
        .join("+");
    let config = match &opts.config {
        Some(text) => RunConfig::parse(text, &plan).map_err(|e| bad(e.into()))?,
        None => RunConfig(serde_json::json!({})),
    };
    let kind = executor_kind(instance, opts.executor, opts.max_concurrent).map_err(bad)?;
    let io: Box<dyn IoManager> = match instance.config.io_manager.as_deref() {
        None | Some("filesystem") => Box::new(FsIoManager::new(instance.storage_dir())),
        Some("in-memory") => Box::new(InMemoryIoManager::default()),
        Some(other) => {
            return Err(bad(anyhow!(
                "unknown io_manager {other:?} in weft.yaml (filesystem, in-memory)"
            )));
        }
    };
    let tags: BTreeMap<String, String> = opts.tags.into_iter().collect();

    // Input is good: from here on, things are written.
    let store = Arc::new(
        Store::open_sqlite(&instance.db_path())
            .await
            .map_err(anyhow::Error::new)?,
    );
    for (location, bytes) in &loaded {
        let defs_json =
            serde_json::to_string(location.definitions()).context("encoding definitions")?;
        store
            .put_location_version(location.name(), location.digest(), &defs_json, bytes)
            .await
            .map_err(anyhow::Error::new)?;
    }
    let run_id = uuid::Uuid::now_v7().to_string();
    let record = RunRecord {
        run_id: run_id.clone(),
        job: plan.job.clone(),
        location: location_name.clone(),
        digest: digest.clone(),
        status: RunStatus::NotStarted,
        tags: tags.clone(),
        config: config.0.clone(),
        asset_selection: selection,
        created_ms: now_ms(),
        started_ms: None,
        finished_ms: None,
    };
    store
        .create_run(&record)
        .await
        .map_err(|e| anyhow!("{e}"))?;

    let writer = EventWriter::spawn(store.clone());
    let terminal = std::io::stdout().is_terminal();
    let progress = Progress::new(writer.clone(), !opts.json, terminal, plan.steps.len());
    if !opts.json {
        println!(
            "Run {run_id}: {} of {} ({} steps)",
            plan.job,
            location_name,
            plan.steps.len()
        );
    }
    let logs = FsComputeLogs::new(instance.logs_dir());
    let cancel = AtomicBool::new(false);
    let executor = Executor {
        runner: &router,
        io: io.as_ref(),
        compute_logs: &logs,
        sink: &progress,
        cancel: &cancel,
    };
    let spec = RunSpec {
        run_id: &run_id,
        plan: &plan,
        config: &config,
        tags: &tags,
    };
    let outcome = super::off_runtime(|| executor.execute(&spec, kind));
    if let Err(e) = writer.flush().await {
        let saved = save_unwritten(instance, &run_id, &e.unwritten);
        return Err(Failure::Failed(Some(anyhow!(
            "run {run_id} finished {} but its events could not be stored: {}; {saved}",
            outcome.status,
            e.error
        ))));
    }
    let elapsed_ms = clock.elapsed().as_secs_f64() * 1e3;
    let steps = progress.results();
    if opts.json {
        let out = serde_json::json!({
            "run_id": run_id,
            "job": plan.job,
            "location": location_name,
            "digest": digest,
            "status": outcome.status,
            "steps": steps,
            "elapsed_ms": elapsed_ms,
        });
        println!("{out}");
    } else {
        let failed = match outcome.failed.as_slice() {
            [] => String::new(),
            list => format!(
                ": {}",
                list.iter()
                    .map(|(k, m)| format!("{k}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        println!(
            "Run {run_id} {} in {elapsed_ms:.1} ms{failed}",
            outcome.status
        );
    }
    match outcome.status {
        RunStatus::Success => Ok(()),
        _ => Err(Failure::Failed(None)),
    }
}

fn executor_kind(
    instance: &Instance,
    arg: Option<ExecutorArg>,
    max: Option<usize>,
) -> anyhow::Result<ExecutorKind> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let max_concurrent = max.or(instance.config.max_concurrent).unwrap_or(cores);
    let parallel = match arg {
        Some(ExecutorArg::Parallel) => true,
        Some(ExecutorArg::InProcess) => false,
        None => match instance.config.executor.as_deref() {
            None | Some("in-process") => false,
            Some("parallel") => true,
            Some(other) => {
                anyhow::bail!("unknown executor {other:?} in weft.yaml (in-process, parallel)")
            }
        },
    };
    if max_concurrent == 0 {
        anyhow::bail!("--max-concurrent must be at least 1");
    }
    Ok(if parallel {
        ExecutorKind::Parallel { max_concurrent }
    } else {
        ExecutorKind::InProcess
    })
}

/// Keeps events the database would not take in a file beside it, and says where.
fn save_unwritten(instance: &Instance, run_id: &str, events: &[weft_core::Event]) -> String {
    let dir = instance.home.join("unsaved-events");
    let path = dir.join(format!("{run_id}.jsonl"));
    let text: String = events
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .map(|l| l + "\n")
        .collect();
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        Ok(()) => format!("{} events saved to {}", events.len(), path.display()),
        Err(e) => format!("and saving them to {} failed too: {e}", path.display()),
    }
}
