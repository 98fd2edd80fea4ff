//! Graph-backed assets (Dagster's `@graph_asset`): `#[graph_asset]` makes a function whose
//! body wires ops on the asset's upstream assets an asset. Its ops run as steps of their
//! own, named `<graph>.<op>` as Dagster names them; the step of the op whose output the
//! body returns materializes the asset.
//!
//! ```
//! use weft_sdk::prelude::*;
//!
//! #[asset]
//! fn scored() -> f64 {
//!     1.0
//! }
//!
//! #[op]
//! fn double_score(x: f64) -> f64 {
//!     2.0 * x
//! }
//!
//! #[op]
//! fn add_half(x: f64) -> f64 {
//!     x + 0.5
//! }
//!
//! #[graph_asset]
//! fn boosted(scored: Output<f64>) -> Output<f64> {
//!     add_half(double_score(scored))
//! }
//!
//! weft_sdk::definitions! { assets: [scored], graph_assets: [boosted] }
//!
//! # fn main() {}
//! ```

use crate::bindings::weft::plugin::types as wit;
use crate::graph::GraphCall;
use crate::hook::NodeOptions;
use crate::job::{CURRENT, GRAPH_INPUT, JobDefinition, Output};
use crate::op::InputSpec;

/// A graph-backed asset as `#[graph_asset]` describes it.
#[doc(hidden)]
#[derive(Debug)]
pub struct GraphAssetSpec {
    pub name: &'static str,
    pub description: Option<&'static str>,
    pub key_prefix: &'static [&'static str],
    pub group: &'static str,
    pub kinds: &'static [&'static str],
    /// Ordering-only dependencies, as keys joined with `/`.
    pub deps: &'static [&'static str],
    /// Its parameters: each names an upstream asset whose value the graph reads.
    pub inputs: &'static [InputSpec],
    /// Builds the graph (runs the body on the upstream assets' handles).
    pub build: fn() -> JobDefinition,
}

impl GraphAssetSpec {
    /// The asset's key: its prefix, then its name.
    pub fn key(&self) -> Vec<String> {
        self.key_prefix
            .iter()
            .chain([&self.name])
            .map(|s| s.to_string())
            .collect()
    }

    /// The asset as the host sees it, with its resolved dependencies and its built graph.
    pub(crate) fn to_wit(&self, deps: &[wit::AssetDep], graph: &JobDefinition) -> wit::AssetDef {
        let (node, output) = graph.output().cloned().unwrap_or_default();
        wit::AssetDef {
            key: self.key(),
            group: self.group.into(),
            description: self.description.map(Into::into),
            kinds: self.kinds.iter().map(|k| k.to_string()).collect(),
            deps: deps.to_vec(),
            tags: Vec::new(),
            retry_policy: None,
            config_schema: None,
            multi: None,
            graph: Some(wit::AssetGraph {
                nodes: graph.to_wit().nodes,
                inputs: graph
                    .graph_inputs()
                    .iter()
                    .map(|(index, node, input)| wit::AssetGraphInput {
                        dep: self.inputs.get(*index).map_or("", |i| i.name).into(),
                        node: node.clone(),
                        input: input.clone(),
                    })
                    .collect(),
                output: wit::OutputRef { node, output },
            }),
        }
    }
}

/// The handle of the graph's parameter number `index` (an upstream asset's value).
#[doc(hidden)]
pub fn graph_input<T>(index: usize) -> Output<T> {
    Output::of(GRAPH_INPUT + index, "result")
}

/// Builds a graph-backed asset's graph `name` (its key, parts joined with `__`): runs
/// `body` in a job of that name, under the graph `name` (its ops named `name.op`), and
/// records the output it returns.
#[doc(hidden)]
pub fn build_graph_asset<T>(name: &str, body: impl FnOnce() -> Output<T>) -> JobDefinition {
    crate::job::build_job(name, None, &[], &[], || {
        let scope = GraphCall::enter(name, NodeOptions::default());
        let output = body();
        drop(scope);
        CURRENT.with(|c| {
            if let Some(job) = c.borrow_mut().as_mut() {
                job.set_output(output.node(), output.name());
            }
        });
    })
}
