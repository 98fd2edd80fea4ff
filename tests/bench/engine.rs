//! The engine driven in-process: one code location and one SQLite database reused by every
//! timed run (what `weft run` wires up after loading: host, store with durable events, event
//! writer, executor), and the medians of `process_numbers` and `wide_job` per executor.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_core::Cancel;

use serde_json::{Value as Json, json};
use weft_core::config::RunConfig;
use weft_core::events::RunStatus;
use weft_core::plan::{ExecutionPlan, Step, plan_job};
use weft_core::ports::{CodeLocation, StepRequest, StepRunner};
use weft_core::ports::{IoManager, RunStorage};
use weft_core::run::RunRecord;
use weft_engine::executor::{Executor, ExecutorKind, RunSpec};
use weft_engine::io::FsComputeLogs;
use weft_engine::writer::EventWriter;
use weft_tests::TempDir;
use weft_wasm::{Sandbox, WasmHost, WasmLocation};

use crate::{median, ms};

/// Steps of the two jobs, as Dagster's bench.py counts them.
const WIDE_STEPS: f64 = 102.0;
const PROCESS_STEPS: f64 = 6.0;

/// One code location and one database, reused by every timed run (as a long-lived
/// `weft serve` would): what is timed is a run, not start-up.
pub struct Engine {
    rt: tokio::runtime::Runtime,
    pub location: WasmLocation,
    store: Arc<weft_store::Store>,
    pub home: TempDir,
}

impl Engine {
    /// Loads `wasm` as the location `numbers` into a fresh host and database.
    pub fn new(wasm: &Path) -> Result<Self, String> {
        let home = TempDir::new("bench-engine");
        let host = WasmHost::new(home.join("cache")).map_err(|e| e.to_string())?;
        let bytes = std::fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
        let location = host
            .load("numbers", &bytes, Sandbox::default())
            .map_err(|e| e.to_string())?;
        Self::with_location(location, home)
    }

    /// An engine around an already loaded `location`, its database in `home`.
    pub fn with_location(location: WasmLocation, home: TempDir) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let store = rt
            .block_on(weft_store::Store::open_sqlite(&home.join("weft.db")))
            .map_err(|e| e.to_string())?;
        Ok(Engine {
            rt,
            location,
            store: Arc::new(store),
            home,
        })
    }

    pub fn plan(&self, job: &str) -> Result<ExecutionPlan, String> {
        plan_job(self.location.definitions(), job).map_err(|e| e.to_string())
    }

    /// The time of one warm step (instantiate from the pre-instance + one op call) of
    /// `request`, in ms; an error if the step failed.
    pub fn time_step(&self, request: &StepRequest) -> Result<f64, String> {
        self.time_step_guest(request).map(|(wall, _)| wall)
    }

    /// [`Engine::time_step`] and, of it, the time the guest's own code ran (host calls
    /// excluded, as the step's cost counts it), in ms.
    pub fn time_step_guest(&self, request: &StepRequest) -> Result<(f64, f64), String> {
        let clock = Instant::now();
        let attempt = self.location.run_step(request, &Cancel::new());
        let elapsed = ms(clock.elapsed());
        attempt
            .result
            .map_err(|e| format!("{} failed: {e}", request.step_key))?;
        let guest = attempt.cost.map_or(0.0, |c| c.guest_ms);
        Ok((elapsed, guest))
    }

    /// One whole run as `weft run` does it after loading: record the run, execute every
    /// step, wait until every event is committed. Returns its wall time.
    fn run(
        &self,
        plan: &ExecutionPlan,
        kind: ExecutorKind,
        io: &dyn IoManager,
    ) -> Result<Duration, String> {
        let clock = Instant::now();
        let run_id = uuid::Uuid::now_v7().to_string();
        let config = RunConfig(json!({}));
        let tags = BTreeMap::new();
        let record = RunRecord {
            run_id: run_id.clone(),
            job: plan.job.clone(),
            location: "numbers".into(),
            digest: self.location.digest().to_owned(),
            status: RunStatus::NotStarted,
            tags: tags.clone(),
            config: config.0.clone(),
            asset_selection: None,
            created_ms: weft_core::now_ms(),
            started_ms: None,
            finished_ms: None,
            heartbeat_ms: None,
            progress_ms: None,
        };
        self.rt
            .block_on(RunStorage::create_run(self.store.as_ref(), &record))
            .map_err(|e| e.to_string())?;
        let writer = {
            let _guard = self.rt.enter();
            EventWriter::spawn(self.store.clone())
        };
        let logs = FsComputeLogs::new(self.home.join("logs"));
        let cancel = Cancel::new();
        let executor = Executor {
            runner: &self.location,
            hooks: &self.location,
            io,
            compute_logs: &logs,
            sink: &writer,
            cancel: &cancel,
        };
        let spec = RunSpec {
            run_id: &run_id,
            plan,
            config: &config,
            tags: &tags,
        };
        let outcome = executor.execute(&spec, kind);
        self.rt
            .block_on(writer.flush())
            .map_err(|e| e.to_string())?;
        let elapsed = clock.elapsed();
        if outcome.status != RunStatus::Success {
            return Err(format!(
                "{} did not succeed: {:?}",
                plan.job, outcome.failed
            ));
        }
        Ok(elapsed)
    }

    /// Median wall time of `runs` runs of `plan`, in ms, after one warm-up run.
    pub fn time(
        &self,
        plan: &ExecutionPlan,
        kind: ExecutorKind,
        io: &dyn IoManager,
        runs: usize,
    ) -> Result<f64, String> {
        self.run(plan, kind, io)?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            times.push(ms(self.run(plan, kind, io)?));
        }
        Ok(median(times))
    }
}

/// The figures of one executor: both jobs and the per-step overhead, in ms.
#[derive(Clone, Copy)]
pub struct JobTimes {
    pub process_numbers: f64,
    pub wide_job: f64,
}

impl JobTimes {
    pub fn per_step(self) -> f64 {
        (self.wide_job - self.process_numbers) / (WIDE_STEPS - PROCESS_STEPS)
    }

    pub fn to_json(self) -> Json {
        json!({"process_numbers_ms": self.process_numbers, "wide_job_ms": self.wide_job, "per_step_ms": self.per_step()})
    }
}

pub fn engine_times(
    engine: &Engine,
    kind: ExecutorKind,
    io: &dyn IoManager,
    runs: usize,
) -> Result<JobTimes, String> {
    let process = engine.plan("process_numbers")?;
    let wide = engine.plan("wide_job")?;
    Ok(JobTimes {
        process_numbers: engine.time(&process, kind, io, runs)?,
        wide_job: engine.time(&wide, kind, io, runs)?,
    })
}

/// A request for `step` of `plan` on its own (no inputs), with its op's `config`.
pub fn step_request(plan: &ExecutionPlan, step: &Step, config: Option<String>) -> StepRequest {
    StepRequest {
        run_id: "bench".into(),
        job: plan.job.clone(),
        step_key: step.key.clone(),
        target: step.target.clone(),
        attempt: 1,
        tags: step.tags.clone(),
        step_tags: step.tags.clone(),
        config,
        inputs: Vec::new(),
        mapping_key: None,
    }
}
