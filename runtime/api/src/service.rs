//! The port the HTTP API talks through: [`ControlPlane`], what a Weft instance does for
//! `weft serve` (code locations and their versions, definitions, runs, events, compute
//! logs), and the plain data it hands back. The API never sees wasmtime or sqlx: the `weft`
//! binary implements this trait over the store, the wasm host and the engine.

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};
use weft_core::checks::CheckEvaluation;
use weft_core::defs::Definitions;
use weft_core::events::{Event, RunStatus};
use weft_core::grants::Grants;
use weft_core::instigator::{InstigatorKind, TickRecord};
use weft_core::metadata::Metadata;
use weft_core::run::{RunFilter, RunRecord};

use crate::error::ApiError;

/// How many of each kind of definition a version has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub jobs: usize,
    pub asset_jobs: usize,
    pub assets: usize,
    pub ops: usize,
    pub schedules: usize,
    pub sensors: usize,
}

impl Counts {
    /// The counts of `defs`.
    pub fn of(defs: &Definitions) -> Self {
        Counts {
            jobs: defs.jobs.len(),
            asset_jobs: defs.asset_jobs.len(),
            assets: defs.assets.len(),
            ops: defs.ops.len(),
            schedules: defs.schedules.len(),
            sensors: defs.sensors.len(),
        }
    }
}

/// One stored version of a code location.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub digest: String,
    pub created_ms: i64,
    pub wasm_size: i64,
    /// Whether new runs use it.
    pub current: bool,
    pub counts: Counts,
}

/// A code location with its current version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub name: String,
    /// The current version's digest: what new runs are pinned to.
    pub digest: String,
    pub updated_ms: i64,
    pub wasm_size: i64,
    pub counts: Counts,
    pub grants: Grants,
    pub definitions: Definitions,
}

/// What to run: a job of one location, or an asset selection (across locations).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchRequest {
    /// The location; optional for a job defined by exactly one location, and for a
    /// selection (every location's assets).
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub job: Option<String>,
    /// An asset selection (`group:numbers`, `a+`, `+b`, `a,b`).
    #[serde(default)]
    pub selection: Option<String>,
    /// Run config: `{"ops": {"step": {"config": ...}}}`.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// How a run was started anew.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reexecute {
    /// Only the steps that did not succeed (and those after them), reading the others'
    /// outputs from the parent run.
    #[serde(default)]
    pub from_failure: bool,
}

/// Whether a schedule or sensor is on, as stored (`None` fields: never evaluated).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstigatorStatus {
    pub location: String,
    pub name: String,
    pub status: weft_core::instigator::InstigatorStatus,
    /// Schedules: the newest tick handled (or when it was turned on); sensors: the last
    /// evaluation.
    pub last_tick_ms: Option<i64>,
    pub cursor: Option<String>,
}

/// One materialization of an asset: which run, which step, when, with what metadata.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Materialization {
    pub run_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_key: Option<String>,
    pub timestamp_ms: i64,
    pub metadata: Metadata,
}

/// One evaluation of an asset check: which check, run and step, when, and what it found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    pub check: String,
    pub run_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_key: Option<String>,
    pub timestamp_ms: i64,
    #[serde(flatten)]
    pub evaluation: CheckEvaluation,
}

/// What a Weft instance does for the API. Every method may be called from many tasks at
/// once; long work (compiling a component, running guest code) happens off the caller's
/// task.
pub trait ControlPlane: Send + Sync + 'static {
    /// Every live code location, by name.
    fn locations(&self) -> impl Future<Output = Result<Vec<Location>, ApiError>> + Send;

    /// One location.
    fn location(&self, name: &str) -> impl Future<Output = Result<Location, ApiError>> + Send;

    /// Validates `bytes` as a new version of `name` (a component of the world, whose
    /// definitions load and are valid), precompiles it, stores it and makes it current.
    /// A bad upload changes nothing.
    fn upload(
        &self,
        name: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Result<Version, ApiError>> + Send;

    /// The stored versions of `name`, newest first.
    fn versions(&self, name: &str) -> impl Future<Output = Result<Vec<Version>, ApiError>> + Send;

    /// Makes the stored version `digest` current again.
    fn rollback(
        &self,
        name: &str,
        digest: &str,
    ) -> impl Future<Output = Result<Location, ApiError>> + Send;

    /// Removes a location (its versions stay for the runs that use them).
    fn remove(&self, name: &str) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Sets a location's grants; they apply to runs launched from then on.
    fn set_grants(
        &self,
        name: &str,
        grants: Grants,
    ) -> impl Future<Output = Result<Grants, ApiError>> + Send;

    /// The current version of every live location: `(name, digest, definitions)`.
    fn current_definitions(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, String, Definitions)>, ApiError>> + Send;

    /// The latest materialization of every asset: `(asset key, run id, timestamp_ms)`.
    fn latest_materializations(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, String, i64)>, ApiError>> + Send;

    /// Up to `limit` materializations of the asset `key` (`a/b`), newest first.
    fn materializations(
        &self,
        key: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Materialization>, ApiError>> + Send;

    /// Up to `limit` evaluations of the checks of the asset `key` (`a/b`), newest first.
    fn check_results(
        &self,
        key: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CheckResult>, ApiError>> + Send;

    /// Plans, records and starts a run; returns its id once it is recorded.
    fn launch(
        &self,
        request: LaunchRequest,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;

    /// Runs matching `filter`, newest first.
    fn runs(
        &self,
        filter: RunFilter,
    ) -> impl Future<Output = Result<Vec<RunRecord>, ApiError>> + Send;

    /// One run.
    fn run(&self, run_id: &str) -> impl Future<Output = Result<RunRecord, ApiError>> + Send;

    /// Asks a run to stop; returns its status after the request.
    fn cancel(&self, run_id: &str) -> impl Future<Output = Result<RunStatus, ApiError>> + Send;

    /// Starts a new run of the same job, config and tags, pinned to the same versions.
    fn reexecute(
        &self,
        run_id: &str,
        how: Reexecute,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;

    /// The events of a run that say how its steps went (starts, retries, ends, skips), in
    /// order: not its logs.
    fn step_events(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Vec<Event>, ApiError>> + Send;

    /// How far each of `run_ids` (that exists) has come: its status and the id of its last
    /// event, read together (what live streams poll).
    fn progress(
        &self,
        run_ids: &[String],
    ) -> impl Future<Output = Result<Vec<(String, RunStatus, i64)>, ApiError>> + Send;

    /// Up to `limit` events of a run after storage id `after`, with their ids.
    fn events(
        &self,
        run_id: &str,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(i64, Event)>, ApiError>> + Send;

    /// The stored state of every schedule and sensor (those never turned on or off have
    /// their definition's default and no entry).
    fn instigator_states(
        &self,
    ) -> impl Future<Output = Result<Vec<InstigatorStatus>, ApiError>> + Send;

    /// Turns a schedule or sensor of a location's current version on or off.
    fn set_instigator(
        &self,
        kind: InstigatorKind,
        location: &str,
        name: &str,
        running: bool,
    ) -> impl Future<Output = Result<InstigatorStatus, ApiError>> + Send;

    /// The newest `limit` ticks of a schedule or sensor evaluated before `before_ms` (any,
    /// when `None`), newest first.
    fn ticks(
        &self,
        location: &str,
        name: &str,
        before_ms: Option<i64>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<TickRecord>, ApiError>> + Send;

    /// The bytes of component `digest` (404 when none is stored).
    fn component(&self, digest: &str) -> impl Future<Output = Result<Vec<u8>, ApiError>> + Send;

    /// The precompiled form of component `digest` for the engine whose compatibility key
    /// is `engine` (404 when this server has none for that engine).
    fn precompiled(
        &self,
        digest: &str,
        engine: &str,
    ) -> impl Future<Output = Result<Vec<u8>, ApiError>> + Send;

    /// A step's compute logs: `(stdout, stderr)`.
    fn compute_logs(
        &self,
        run_id: &str,
        step_key: &str,
    ) -> impl Future<Output = Result<(Vec<u8>, Vec<u8>), ApiError>> + Send;
}
