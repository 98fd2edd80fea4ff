//! The definitions a code location exports (Dagster's `Definitions`), as plain serde data.
//!
//! These mirror the `weft:plugin/types` records of `wit/types.wit` one to one; the wasm
//! crate converts between the generated bindings and these types, and the store keeps them
//! as JSON per code-location version.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::status::RunStatus;

/// Key/value tags (job, op, asset and run tags; output metadata), ordered by key.
pub type Tags = BTreeMap<String, String>;

/// An asset key: a non-empty path such as `warehouse/orders`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetKey(pub Vec<String>);

impl AssetKey {
    /// Parses `a/b/c` into `["a", "b", "c"]`.
    pub fn parse(text: &str) -> Self {
        AssetKey(text.split('/').map(str::to_owned).collect())
    }

    /// The key as one identifier, its parts joined by `__` (Dagster's
    /// `to_python_identifier`): `warehouse__orders`.
    pub fn identifier(&self) -> String {
        self.0.join("__")
    }
}

impl fmt::Display for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// A value passed between steps: bytes with a codec tag (`json` unless said otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    pub codec: String,
    #[serde(with = "bytes_as_text")]
    pub data: Vec<u8>,
}

impl Value {
    /// A `json` value from JSON text.
    pub fn json(text: impl Into<Vec<u8>>) -> Self {
        Value {
            codec: "json".into(),
            data: text.into(),
        }
    }

    /// How a person sees the value: JSON as text (cut at `max` bytes), anything else as
    /// its codec and size.
    pub fn preview(&self, max: usize) -> String {
        match std::str::from_utf8(&self.data) {
            Ok(text) if self.codec == "json" => {
                if text.len() <= max {
                    text.to_owned()
                } else {
                    let mut end = max;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    format!("{}…", &text[..end])
                }
            }
            _ => format!("<{} bytes of {}>", self.data.len(), self.codec),
        }
    }
}

/// Values travel as text when they are UTF-8 (JSON is), else as a list of bytes.
mod bytes_as_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(data) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.collect_seq(data),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Bytes(Vec<u8>),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(match Repr::deserialize(d)? {
            Repr::Text(t) => t.into_bytes(),
            Repr::Bytes(b) => b,
        })
    }
}

/// How the delay between attempts grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    #[default]
    Constant,
    Exponential,
}

/// An op's retry policy (Dagster's `RetryPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub delay_ms: u64,
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1 for the first retry).
    pub fn delay_before(&self, retry: u32) -> u64 {
        match self.backoff {
            Backoff::Constant => self.delay_ms,
            Backoff::Exponential => {
                let factor = 1u64 << retry.saturating_sub(1).min(20);
                self.delay_ms.saturating_mul(factor)
            }
        }
    }
}

/// A named input of an op.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

/// A named output of an op (Dagster's `Out`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Whether a step must produce it (Dagster's `is_required`); when an optional output
    /// is left out, the steps reading it are skipped.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub required: bool,
    /// A dynamic output (Dagster's `DynamicOut`): zero or more values, each under its own
    /// mapping key; the nodes reading it are mapped over it (one step per key).
    #[serde(default, skip_serializing_if = "is_false")]
    pub dynamic: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl OutputDef {
    /// The output `result`, required: what an op has unless it declares others.
    pub fn result(type_name: Option<String>) -> Self {
        OutputDef {
            name: "result".into(),
            description: None,
            type_name,
            required: true,
            dynamic: false,
        }
    }
}

/// An op (Dagster's `@op`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub inputs: Vec<IoDef>,
    pub outputs: Vec<OutputDef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
}

/// An output of a node that feeds an input.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OutputRef {
    pub node: String,
    pub output: String,
}

/// How one input of a node is fed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputBinding {
    pub input: String,
    pub sources: Vec<OutputRef>,
    #[serde(default)]
    pub fan_in: bool,
    /// Dagster's `.collect()`: the one source is dynamic (or mapped), and the input gets
    /// all its values as a list, in the order of their mapping keys.
    #[serde(default, skip_serializing_if = "is_false")]
    pub collect: bool,
}

/// One invocation of an op inside a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDef {
    pub name: String,
    pub op: String,
    pub inputs: Vec<InputBinding>,
    #[serde(default)]
    pub tags: Tags,
    /// The hooks (by name) that run after this node's step: its own and its job's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<String>,
}

/// When a hook runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookTrigger {
    /// After a step that succeeded (Dagster's `@success_hook`).
    Success,
    /// After a step that failed for good, not after an attempt to be retried
    /// (Dagster's `@failure_hook`).
    Failure,
}

/// A hook (Dagster's `@success_hook` / `@failure_hook`): guest code run after a step of a
/// node that names it. A hook that fails is reported and fails nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub on: HookTrigger,
}

/// An asset check (Dagster's `@asset_check`): guest code that evaluates an asset after
/// each materialization of it in a run. A blocking check that fails (severity `ERROR`)
/// fails its step, and the assets downstream of its asset are not materialized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetCheckDef {
    /// Unique among its asset's checks.
    pub name: String,
    /// The asset it checks.
    pub asset: AssetKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub blocking: bool,
    /// The input (parameter) that receives the asset's value; `None` when the check reads
    /// nothing of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

impl AssetCheckDef {
    /// Its step's key, as Dagster names it: the asset's identifier, `_`, the check's name
    /// (`orders_no_nulls` of `orders`: `orders_orders_no_nulls`).
    pub fn step_key(&self) -> String {
        format!("{}_{}", self.asset.identifier(), self.name)
    }
}

/// A job (Dagster's `@job`): a graph of op invocations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    pub nodes: Vec<NodeDef>,
}

/// An upstream asset of an asset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetDep {
    pub key: AssetKey,
    /// The parameter receiving its value; `None` for an ordering-only dependency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

/// An asset (Dagster's `@asset`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetDef {
    pub key: AssetKey,
    pub group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub deps: Vec<AssetDep>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// JSON Schema of its config, enforced as an op's is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<String>,
    /// For an asset of a multi-asset: which, and the output that materializes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi: Option<MultiAssetOut>,
    /// For an asset computed by a graph of ops (Dagster's `@graph_asset`): the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<AssetGraph>,
}

/// The graph of ops that computes an asset (Dagster's `@graph_asset`): its nodes are
/// steps of their own, keyed `<graph>.<op>`; the step of `output`'s node materializes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetGraph {
    pub nodes: Vec<NodeDef>,
    /// The node inputs that receive an upstream asset's value.
    #[serde(default)]
    pub inputs: Vec<AssetGraphInput>,
    /// The node output that is the asset's value.
    pub output: OutputRef,
}

/// A node input of an asset's graph fed by the asset's dependency `dep` (its input name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetGraphInput {
    pub dep: String,
    pub node: String,
    pub input: String,
}

impl AssetDef {
    /// The output of its step that materializes it: `result`, its output in its
    /// multi-asset, or its graph's output.
    pub fn output(&self) -> &str {
        match (&self.multi, &self.graph) {
            (Some(multi), _) => &multi.output,
            (None, Some(graph)) => &graph.output.output,
            (None, None) => "result",
        }
    }

    /// The key of its step: its own key, its multi-asset's name, or its graph's output
    /// node.
    pub fn step_key(&self) -> String {
        match (&self.multi, &self.graph) {
            (Some(multi), _) => multi.name.clone(),
            (None, Some(graph)) => graph.output.node.clone(),
            (None, None) => self.key.to_string(),
        }
    }
}

/// An asset's place in a multi-asset (Dagster's `@multi_asset`): one step, keyed by the
/// multi-asset's name, materializes several assets, one per output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultiAssetOut {
    /// The multi-asset's name: its step's key.
    pub name: String,
    /// The output that materializes this asset.
    pub output: String,
    /// Whether a run may materialize some of its assets only (Dagster's `can_subset`).
    #[serde(default)]
    pub can_subset: bool,
}

/// An asset job (Dagster's `define_asset_job`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetJobDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub selection: String,
    #[serde(default)]
    pub tags: Tags,
}

/// Whether a schedule or sensor is on when its location loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DefaultStatus {
    Running,
    #[default]
    Stopped,
}

/// A schedule (Dagster's `ScheduleDefinition`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleDef {
    pub name: String,
    pub job: String,
    pub cron: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub default_status: DefaultStatus,
    #[serde(default)]
    pub evaluates: bool,
}

/// A sensor (Dagster's `@sensor`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorDef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    pub minimum_interval_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub default_status: DefaultStatus,
    /// What it watches.
    #[serde(default, skip_serializing_if = "SensorKind::is_standard")]
    pub kind: SensorKind,
}

/// What a sensor watches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum SensorKind {
    /// Whatever its function looks at, keeping its place with a cursor.
    #[default]
    Standard,
    /// Runs that ended (Dagster's `@run_status_sensor`): its function is called once for
    /// each run of a monitored job that reached `status`.
    RunStatus(RunStatusFilter),
}

impl SensorKind {
    /// Whether this is a plain sensor.
    pub fn is_standard(&self) -> bool {
        matches!(self, Self::Standard)
    }
}

/// Which ended runs a run-status sensor sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStatusFilter {
    /// The status it reacts to: `SUCCESS`, `FAILURE` or `CANCELED`.
    pub status: RunStatus,
    /// The jobs it watches; every job when empty.
    #[serde(default)]
    pub monitored_jobs: Vec<String>,
    /// Whether it watches runs of every code location, not only its own.
    #[serde(default)]
    pub all_locations: bool,
}

impl RunStatusFilter {
    /// Whether a run of `job` in `location`, of a sensor defined in `own_location`, is one
    /// this filter watches (its status aside).
    pub fn watches(&self, own_location: &str, location: &str, job: &str) -> bool {
        (self.all_locations || location == own_location)
            && (self.monitored_jobs.is_empty() || self.monitored_jobs.iter().any(|j| j == job))
    }
}

/// Everything a code location defines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Definitions {
    #[serde(default)]
    pub ops: Vec<OpDef>,
    #[serde(default)]
    pub jobs: Vec<JobDef>,
    #[serde(default)]
    pub assets: Vec<AssetDef>,
    #[serde(default)]
    pub asset_jobs: Vec<AssetJobDef>,
    #[serde(default)]
    pub schedules: Vec<ScheduleDef>,
    #[serde(default)]
    pub sensors: Vec<SensorDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_checks: Vec<AssetCheckDef>,
}

impl Definitions {
    /// The op named `name`.
    pub fn op(&self, name: &str) -> Option<&OpDef> {
        self.ops.iter().find(|o| o.name == name)
    }

    /// The hook named `name`.
    pub fn hook(&self, name: &str) -> Option<&HookDef> {
        self.hooks.iter().find(|h| h.name == name)
    }

    /// The checks of the asset `key`.
    pub fn checks_of<'a>(&'a self, key: &'a AssetKey) -> impl Iterator<Item = &'a AssetCheckDef> {
        self.asset_checks.iter().filter(move |c| &c.asset == key)
    }

    /// The job named `name`.
    pub fn job(&self, name: &str) -> Option<&JobDef> {
        self.jobs.iter().find(|j| j.name == name)
    }

    /// The asset job named `name`.
    pub fn asset_job(&self, name: &str) -> Option<&AssetJobDef> {
        self.asset_jobs.iter().find(|j| j.name == name)
    }

    /// The asset with key `key`.
    pub fn asset(&self, key: &AssetKey) -> Option<&AssetDef> {
        self.assets.iter().find(|a| &a.key == key)
    }

    /// Names of every job and asset job, for "did you mean" messages.
    pub fn job_names(&self) -> Vec<&str> {
        self.jobs
            .iter()
            .map(|j| j.name.as_str())
            .chain(self.asset_jobs.iter().map(|j| j.name.as_str()))
            .collect()
    }
}

/// What a step computes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepTarget {
    Op(String),
    Asset(AssetKey),
    /// A multi-asset's compute function, and the assets of it the run materializes.
    MultiAsset {
        name: String,
        selected: Vec<AssetKey>,
    },
    /// An asset check: the asset's key, the check's name, and whether a failure (at
    /// severity `ERROR`) fails its step and stops what is downstream of the asset.
    Check {
        asset: AssetKey,
        name: String,
        #[serde(default)]
        blocking: bool,
    },
}
