//! The attribute macros of `weft-sdk`: `#[op]`, `#[job]`, `#[asset]`, `#[multi_asset]`,
//! `#[asset_check]`, `#[sensor]`, `#[run_status_sensor]`, `#[run_failure_sensor]`,
//! `#[schedule]`, `#[success_hook]` and `#[failure_hook]`. Use them through
//! `weft_sdk::prelude`; their documentation is there.
//! A signature no definition can have is a compile error pointing at it.

use proc_macro::TokenStream;

mod args;
mod check;
mod hook;
mod job;
mod op;
mod outs;
mod sig;
mod trigger;

fn emit(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// An op: the smallest unit of work. See `weft_sdk`'s crate documentation.
#[proc_macro_attribute]
pub fn op(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(op::expand_op(attr.into(), item.into()))
}

/// An asset: an op that materializes a persistent object. See `weft_sdk`.
#[proc_macro_attribute]
pub fn asset(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(op::expand_asset(attr.into(), item.into()))
}

/// A multi-asset (Dagster's `@multi_asset`): one step materializing one asset per output.
/// See `weft_sdk`.
#[proc_macro_attribute]
pub fn multi_asset(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(op::expand_multi_asset(attr.into(), item.into()))
}

/// An asset check (Dagster's `@asset_check`): evaluates an asset after each
/// materialization of it. See `weft_sdk`.
#[proc_macro_attribute]
pub fn asset_check(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(check::expand_asset_check(attr.into(), item.into()))
}

/// A job: its body wires op invocations into a graph. See `weft_sdk`.
#[proc_macro_attribute]
pub fn job(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(job::expand_job(attr.into(), item.into()))
}

/// A graph (Dagster's `@graph`): `#[graph] fn twice(x: Output<i64>) -> Output<i64> {
/// add_one(add_one(x)) }`, called in a job body as an op; its ops are named `twice.add_one`.
#[proc_macro_attribute]
pub fn graph(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(job::expand_graph(attr.into(), item.into()))
}

/// A graph-backed asset (Dagster's `@graph_asset`): `#[graph_asset] fn boosted(scored:
/// Output<f64>) -> Output<f64> { add_half(double_score(scored)) }`; its parameters name its
/// upstream assets, its ops are steps `boosted.double_score`, ... See `weft_sdk`.
#[proc_macro_attribute]
pub fn graph_asset(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(job::expand_graph_asset(attr.into(), item.into()))
}

/// A hook run after a node's step succeeded (Dagster's `@success_hook`). See `weft_sdk`.
#[proc_macro_attribute]
pub fn success_hook(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(hook::expand_hook(
        hook::On::Success,
        attr.into(),
        item.into(),
    ))
}

/// A hook run after a node's step failed for good (Dagster's `@failure_hook`). See
/// `weft_sdk`.
#[proc_macro_attribute]
pub fn failure_hook(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(hook::expand_hook(
        hook::On::Failure,
        attr.into(),
        item.into(),
    ))
}

/// A sensor, called by the daemon. See `weft_sdk`.
#[proc_macro_attribute]
pub fn sensor(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(trigger::expand_sensor(attr.into(), item.into()))
}

/// A run-status sensor: called once for each run of a watched job that ended with
/// `run_status`. See `weft_sdk`.
#[proc_macro_attribute]
pub fn run_status_sensor(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(trigger::expand_run_status_sensor(
        trigger::RunStatusFlavor::Any,
        attr.into(),
        item.into(),
    ))
}

/// A run-status sensor for failed runs (`run_status = "failure"`). See `weft_sdk`.
#[proc_macro_attribute]
pub fn run_failure_sensor(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(trigger::expand_run_status_sensor(
        trigger::RunStatusFlavor::Failure,
        attr.into(),
        item.into(),
    ))
}

/// A schedule whose function decides each tick. See `weft_sdk`.
#[proc_macro_attribute]
pub fn schedule(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit(trigger::expand_schedule(attr.into(), item.into()))
}
