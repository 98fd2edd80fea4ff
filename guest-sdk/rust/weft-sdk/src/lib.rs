//! # weft-sdk
//!
//! Write Weft code locations in Rust, in the shape Dagster users know: ops, jobs, assets,
//! asset jobs, schedules and sensors. The crate generates the WebAssembly bindings of the
//! `weft:plugin` world and exports them for you: a code location is a `cdylib` built for
//! `wasm32-wasip2`, and never names wit-bindgen.
//!
//! ```ignore
//! use weft_sdk::prelude::*;
//!
//! #[op(description = "Generate a list of numbers from 1 to 10")]
//! fn generate_numbers() -> Vec<i64> { (1..=10).collect() }
//!
//! #[op]
//! fn total(numbers: Vec<i64>) -> i64 { numbers.iter().sum() }
//!
//! #[job(tags(domain = "numbers"))]
//! fn process_numbers() {
//!     let numbers = generate_numbers(); // an op invocation, not a call
//!     total(numbers);
//! }
//!
//! weft_sdk::definitions! { jobs: [process_numbers] }
//! ```
//!
//! - `#[op]` keeps the function as it is (call it in unit tests, as Dagster's direct
//!   invocation) and describes it: inputs are its parameters (decoded from JSON), its one
//!   output `result` is what it returns (`T`, or `Result<T, E: Display>`: an `Err` is a
//!   retryable failure, unless it is a [`Failure::fatal`]). An optional first parameter
//!   `ctx: &OpContext` gives the run id, step key, attempt, tags, config and log.
//!   Options: `name`, `description`, `tags(k = "v")`, `retry_policy(max_retries = 3,
//!   delay_ms = 10, backoff = "exponential")`, `config_schema = "<JSON Schema>"`.
//! - `#[job]` **turns the body into a graph**: in a job body, a call of a bare lowercase
//!   name `f(a, b)` is an invocation of the op `f` that returns an [`Output`] handle;
//!   `f.alias("name")(a)` names the node; an op invoked again without an alias gets the
//!   node name `f_2`, `f_3`, ... Wiring is type-checked ([`IntoInput`]): an `Output<T>`
//!   feeds a `T` input, a `Vec<Output<T>>` fans in to a `Vec<T>` input. Ops inside
//!   macros (`vec![...]`) or closures bound to a name are not rewritten.
//! - Graph-backed assets: `#[graph_asset] fn boosted(scored: Output<f64>) -> Output<f64>
//!   { add_half(double_score(scored)) }` (listed under `graph_assets:`), a step per op,
//!   keyed `boosted.double_score`, ...; the last one materializes the asset.
//! - Dynamic fan-out: an op returning `Vec<`[`DynamicOutput`]`<T>>` produces a value per
//!   mapping key; in a job body `f().map(g)` invokes `g` once per key (steps `g[key]`;
//!   `ctx.mapping_key()` says which), `.map(|x| h(x, other))` too, and `.collect()` feeds
//!   every key's value to a `Vec<T>` input.
//! - Hooks: `#[success_hook] fn h(ctx: &HookContext)` (or `#[failure_hook]`, returning
//!   `()` or `Result<(), E>`) runs after a step that succeeded (failed for good);
//!   `#[job(hooks = [h])]` gives it to every node of the job, `f.with_hooks([h])(a)` to
//!   one invocation (a graph's too). A node lists its hooks by name, each once, sorted.
//! - `#[asset]` is an op whose parameters name its upstream assets. Options: `group`
//!   (default `default`), `description`, `kinds = ["rust"]`, `key_prefix = ["a"]`,
//!   `deps = ["a/b"]` (ordering only), `tags(..)`, `retry_policy(..)`, `name`.
//! - Multi-assets: `#[multi_asset(outs(low: f64, high: f64), can_subset = true)] fn
//!   split(ctx: &OpContext, scored: f64) -> split::Outs` (Dagster's `@multi_asset`): one
//!   step, one asset per output (keyed by its name); with `can_subset`, each output is an
//!   `Option` and `ctx.is_selected("low")` says which the run materializes. Listed in
//!   `definitions!` as `multi_assets`. An asset or an output that stores no value returns
//!   [`MaterializeResult`] (JSON `null`, with the materialization's metadata).
//! - Asset checks: `#[asset_check(asset = "orders", blocking = true)] fn c(orders: T) ->
//!   AssetCheckResult` (Dagster's `@asset_check`), listed in `definitions!` as
//!   `asset_checks`; run after each materialization of the asset, a failed blocking check
//!   (at [`AssetCheckSeverity::Error`]) stops the assets downstream.
//! - Asset jobs: [`define_asset_job`]`(name, `[`AssetSelection`]`::groups(["numbers"]))`.
//! - Schedules: [`ScheduleDefinition`]`::new(name, job, cron)`; or
//!   `#[schedule(cron = "0 * * * *", job = "j")] fn s(ctx: &ScheduleContext) -> ScheduleResult`,
//!   which turns `s` into a `fn() -> ScheduleDefinition` (test it with `s().evaluate(&ctx)`).
//! - `#[sensor(job = "j", minimum_interval_seconds = 30)] fn s(ctx: &SensorContext) -> SensorResult`.
//! - `#[run_status_sensor(run_status = "success", monitored_jobs = ["j"], request_job = "k")]
//!   fn s(ctx: &RunStatusSensorContext) -> SensorResult`, called once for each run of a
//!   watched job that ended so (`ctx.run()`); `#[run_failure_sensor(...)]` is the same for
//!   failures. The function may return `()` when it only acts (logs, notifies).
//! - [`definitions!`] lists what the location exports.
//! - Logging: [`log::info!`] anywhere, or `ctx.log().info(..)`.
//! - Kubernetes Jobs from an op: [`k8s::execute_k8s_job`] (Dagster's `execute_k8s_job`),
//!   and an op that runs one: [`k8s_job_op!`] (Dagster's `k8s_job_op.configured`).
//! - HTTP from an op: [`http::get`], [`http::post_json`], [`http::Request`] (to the hosts
//!   the location is granted).
#![allow(clippy::module_name_repetitions)]

extern crate self as weft_sdk;

mod asset;
#[doc(hidden)]
pub mod bindings;
mod check;
mod codec;
mod context;
mod dynamic;
mod export;
mod failure;
mod graph;
mod graph_asset;
mod hook;
pub mod http;
mod job;
pub mod k8s;
pub mod log;
mod metadata;
mod multi;
mod op;
mod registry;
mod schedule;
mod sensor;

pub use asset::{AssetJob, AssetSelection, define_asset_job};
pub use check::{AssetCheckResult, AssetCheckSeverity};
pub use context::{AssetExecutionContext, OpContext, Resource, resource};
pub use dynamic::{Collected, DynamicOutput, Mapped};
pub use failure::Failure;
pub use hook::HookContext;
pub use job::{Binding, IntoInput, JobDefinition, Node, Output};
pub use metadata::{MetadataValue, TableColumn};
pub use op::{Backoff, MaterializeResult, RetryPolicy};
pub use schedule::{ScheduleContext, ScheduleDefinition, ScheduleResult};
pub use sensor::{
    DefaultStatus, EndedRun, RunRequest, RunStatus, RunStatusSensorContext, SensorContext,
    SensorResult, SkipReason,
};
pub use serde_json::json;
pub use weft_sdk_macros::{
    asset, asset_check, failure_hook, graph, graph_asset, job, multi_asset, op, run_failure_sensor,
    run_status_sensor, schedule, sensor, success_hook,
};

/// What a code location usually needs: `use weft_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, AssetJob, AssetSelection,
        DefaultStatus, DynamicOutput, EndedRun, Failure, HookContext, JobDefinition,
        MaterializeResult, MetadataValue, OpContext, Output, RunRequest, RunStatus,
        RunStatusSensorContext, ScheduleContext, ScheduleDefinition, ScheduleResult, SensorContext,
        SensorResult, SkipReason, asset, asset_check, define_asset_job, failure_hook, graph,
        graph_asset, job, json, multi_asset, op, run_failure_sensor, run_status_sensor, schedule,
        sensor, success_hook,
    };
}

/// What the macros expand to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::asset::AssetSpec;
    pub use crate::bindings;
    pub use crate::check::{CheckSpec, IntoCheckResult};
    pub use crate::codec::Inputs;
    pub use crate::dynamic::finish_dynamic;
    pub use crate::export::{Component, Location};
    pub use crate::graph::GraphCall;
    pub use crate::graph_asset::{GraphAssetSpec, build_graph_asset, graph_input};
    pub use crate::hook::{HookOn, HookSpec, IntoHookResult, NodeOptions};
    pub use crate::job::{Invocation, build_job};
    pub use crate::multi::MultiAssetSpec;
    pub use crate::op::{
        InputSpec, IntoOpResult, OpSpec, OutputSpec, OutputValue, Produced, encode_output,
        failure_of, finish, schema_of,
    };
    pub use crate::registry::{Entries, Registry};
    pub use crate::schedule::IntoScheduleResult;
    pub use crate::sensor::{IntoSensorResult, RunStatusSpec, SensorSpec};
    pub use wit_bindgen;
}
