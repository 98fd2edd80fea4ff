//! Launching a run, the same way for `weft run`, `weft materialize` and `weft serve`:
//! [`prepare`] plans a job or an asset selection over loaded code locations, checks the
//! run config and builds the run's record (nothing is written yet: bad input stops here);
//! [`execute`] runs a prepared run to its end on the calling thread, routing each asset
//! step to the location that owns it.

use std::collections::BTreeMap;

use weft_core::Cancel;
use weft_core::config::RunConfig;
use weft_core::defs::{AssetKey, Definitions, Tags};
use weft_core::events::RunStatus;
use weft_core::now_ms;
use weft_core::plan::{ExecutionPlan, PlanError, plan_assets, plan_job};
use weft_core::ports::{CodeLocation, ComputeLogStore, IoManager, StepRunner};
use weft_core::run::RunRecord;
use weft_core::selection::AssetSelection;
use weft_core::workspace::asset_graph;
use weft_engine::executor::{Executor, ExecutorKind, RunOutcome, RunSpec};
use weft_engine::router::AssetRouter;
use weft_engine::writer::EventSink;

/// What to run.
#[derive(Clone, Debug)]
pub enum Target {
    /// A job (or asset job) of the one location given.
    Job(String),
    /// An asset selection over every location given.
    Assets(String),
}

/// Why a run could not be prepared: always the input's fault.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The job is not defined (404 to the API).
    #[error(transparent)]
    UnknownJob(PlanError),
    /// Anything else wrong with what was asked (422).
    #[error("{0}")]
    Invalid(String),
}

/// A run ready to execute.
pub struct Prepared {
    pub plan: ExecutionPlan,
    pub config: RunConfig,
    /// The run as it will be recorded (`NOT_STARTED`).
    pub record: RunRecord,
    /// Which of the given locations owns each asset.
    pub owners: BTreeMap<AssetKey, usize>,
}

/// Plans `target` over `locations` with `config` (JSON text, if any) and `tags`, which
/// go over the job's own (as in Dagster, a job's tags are its runs'). A run across several
/// locations is named and pinned as `a+b` (names and digests).
pub fn prepare(
    locations: &[&dyn CodeLocation],
    target: &Target,
    config: Option<&str>,
    tags: Tags,
) -> Result<Prepared, PrepareError> {
    let invalid = |e: &dyn std::fmt::Display| PrepareError::Invalid(e.to_string());
    let named: Vec<(&str, &Definitions)> = locations
        .iter()
        .map(|l| (l.name(), l.definitions()))
        .collect();
    let graph = asset_graph(&named).map_err(|e| invalid(&e))?;
    let mut tags = tags;
    let (plan, selection) = match target {
        Target::Job(job) => {
            let [location] = locations else {
                return Err(PrepareError::Invalid(
                    "a job runs in one code location: give exactly one".into(),
                ));
            };
            let defs = location.definitions();
            let own = (defs.jobs.iter().find(|j| j.name == *job).map(|j| &j.tags)).or_else(|| {
                defs.asset_jobs
                    .iter()
                    .find(|j| j.name == *job)
                    .map(|j| &j.tags)
            });
            if let Some(own) = own {
                let mut all = own.clone();
                all.append(&mut tags);
                tags = all;
            }
            let plan = plan_job(location.definitions(), job).map_err(|e| match e {
                PlanError::UnknownJob { .. } => PrepareError::UnknownJob(e),
                other => invalid(&other),
            })?;
            (plan, None)
        }
        Target::Assets(text) => {
            let selection: AssetSelection = text.parse().map_err(|e| invalid(&e))?;
            let plan = plan_assets(&graph.definitions, &selection).map_err(|e| invalid(&e))?;
            (plan, Some(selection.to_string()))
        }
    };
    // No config is an empty one: the steps' schemas still apply (and give their defaults).
    let config = RunConfig::parse(config.unwrap_or("{}"), &plan).map_err(|e| invalid(&e))?;
    let joined = |part: fn(&dyn CodeLocation) -> &str| {
        locations
            .iter()
            .map(|l| part(*l))
            .collect::<Vec<_>>()
            .join("+")
    };
    let record = RunRecord {
        run_id: uuid::Uuid::now_v7().to_string(),
        job: plan.job.clone(),
        location: joined(|l| l.name()),
        digest: joined(|l| l.digest()),
        status: RunStatus::NotStarted,
        tags,
        config: config.0.clone(),
        asset_selection: selection,
        created_ms: now_ms(),
        started_ms: None,
        finished_ms: None,
        heartbeat_ms: None,
        progress_ms: None,
    };
    Ok(Prepared {
        plan,
        config,
        record,
        owners: graph.owners,
    })
}

/// Where a run's values, logs and events go, and how it runs.
pub struct RunServices<'a> {
    pub io: &'a dyn IoManager,
    pub compute_logs: &'a dyn ComputeLogStore,
    pub sink: &'a dyn EventSink,
    pub cancel: &'a Cancel,
    pub kind: ExecutorKind,
    /// Runs every step attempt instead of the loaded locations (the multiprocess
    /// executor's step processes); `None` runs them here.
    pub steps: Option<&'a dyn StepRunner>,
}

/// Runs `prepared` to its end on this thread (guest code runs here: call it off the async
/// runtime).
pub fn execute(
    prepared: &Prepared,
    locations: &[&dyn CodeLocation],
    services: &RunServices<'_>,
) -> RunOutcome {
    let router = AssetRouter::new(locations.to_vec(), prepared.owners.clone());
    let executor = Executor {
        runner: services.steps.unwrap_or(&router),
        hooks: &router,
        io: services.io,
        compute_logs: services.compute_logs,
        sink: services.sink,
        cancel: services.cancel,
    };
    let spec = RunSpec {
        run_id: &prepared.record.run_id,
        plan: &prepared.plan,
        config: &prepared.config,
        tags: &prepared.record.tags,
    };
    executor.execute(&spec, services.kind)
}
