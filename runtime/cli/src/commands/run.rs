//! `weft run` and `weft materialize`: load the location, plan the job or the asset
//! selection, check config, record the run, execute it with the chosen executor, and
//! print each step and the result. Bad input is rejected before anything is written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use weft_core::Cancel;

use anyhow::{Context, anyhow};
use std::io::IsTerminal;
use weft_core::events::RunStatus;
use weft_core::ports::CodeLocation;
use weft_engine::writer::EventWriter;
use weft_server::Instance;
use weft_server::launch::{self, RunServices, Target, prepare};
use weft_server::services::executor_kind;

use crate::progress::Progress;
use crate::{ExecutorArg, Failure, RunOpts};

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
    let locations: Vec<&dyn CodeLocation> =
        loaded.iter().map(|(l, _)| l as &dyn CodeLocation).collect();
    let tags: BTreeMap<String, String> = opts.tags.into_iter().collect();
    let prepared =
        prepare(&locations, &target, opts.config.as_deref(), tags).map_err(|e| bad(e.into()))?;
    let parallel = opts.executor.map(|e| matches!(e, ExecutorArg::Parallel));
    let kind = executor_kind(instance, parallel, opts.max_concurrent)?;
    let io = instance.io_manager()?;

    // Input is good: from here on, things are written.
    let store = Arc::new(instance.open_store().await?);
    let io = io.open(&store)?;
    for (location, bytes) in &loaded {
        let defs_json =
            serde_json::to_string(location.definitions()).context("encoding definitions")?;
        store
            .put_location_version(location.name(), location.digest(), &defs_json, bytes)
            .await
            .map_err(anyhow::Error::new)?;
    }
    let record = &prepared.record;
    let run_id = record.run_id.clone();
    store.create_run(record).await.map_err(|e| anyhow!("{e}"))?;

    let writer = EventWriter::spawn(store.clone());
    let terminal = std::io::stdout().is_terminal();
    let progress = Progress::new(
        writer.clone(),
        !opts.json,
        terminal,
        prepared.plan.steps.len(),
    );
    if !opts.json {
        println!(
            "Run {run_id}: {} of {} ({} steps)",
            record.job,
            record.location,
            prepared.plan.steps.len()
        );
    }
    let logs = instance.compute_logs()?;
    let cancel = Cancel::new();
    let services = RunServices {
        io: io.as_ref(),
        compute_logs: logs.as_ref(),
        sink: &progress,
        cancel: &cancel,
        kind,
        steps: None,
    };
    let outcome = super::off_runtime(|| launch::execute(&prepared, &locations, &services));
    if let Err(e) = writer.flush_run(&run_id).await {
        let saved = super::save_unwritten(&instance.unsaved_dir(), &run_id, &e.unwritten);
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
            "job": record.job,
            "location": record.location,
            "digest": record.digest,
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
