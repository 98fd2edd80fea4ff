//! Graphs (Dagster's `@graph`): `#[graph]` makes a function whose body wires ops (and other
//! graphs) on its inputs a graph, called in a job body like an op. An op invoked inside it
//! is the node `graph.op` — its step key, as Dagster names it; a graph called twice is
//! `graph` and `graph_2`, or named with `.alias(...)`; `.with_hooks([h])` gives its every
//! op the hook `h`.

use crate::hook::{HookSpec, NodeOptions};
use crate::job::CURRENT;

/// Where a job body is while it runs: the graphs being called, and every graph name used.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// The graphs being called, outermost first (`["outer", "inner"]`).
    pub(crate) prefix: Vec<String>,
    /// Every graph called so far, by its qualified name.
    pub(crate) graphs: Vec<String>,
    /// The hooks given to the graphs being called (`.with_hooks(...)`): every node inside
    /// gets them.
    pub(crate) hooks: Vec<&'static HookSpec>,
}

impl Scope {
    /// `name` under the graphs being called: `outer.inner.name`.
    pub(crate) fn qualified(&self, name: &str) -> String {
        let mut parts = self.prefix.clone();
        parts.push(name.to_owned());
        parts.join(".")
    }
}

/// A graph being called: its ops are named under it until this is dropped. Made by the
/// `__invoke` function `#[graph]` generates.
#[doc(hidden)]
#[must_use]
pub struct GraphCall {
    /// The prefix and the hooks of the scope around the graph, restored when it ends.
    outer: Option<(Vec<String>, usize)>,
}

impl GraphCall {
    /// Enters the graph `name` (or its alias, with its hooks) in the job being built, if
    /// one is.
    pub fn enter(name: &str, options: NodeOptions) -> Self {
        let outer = CURRENT.with(|c| {
            let mut current = c.borrow_mut();
            let job = current.as_mut()?;
            let qualified = match options.alias {
                Some(alias) => job.scope.qualified(&alias),
                None => job.fresh_name(&job.scope.qualified(name)),
            };
            job.scope.graphs.push(qualified.clone());
            let inner = qualified.split('.').map(str::to_owned).collect();
            let hooks = job.scope.hooks.len();
            job.scope.hooks.extend(options.hooks);
            Some((std::mem::replace(&mut job.scope.prefix, inner), hooks))
        });
        GraphCall { outer }
    }
}

impl Drop for GraphCall {
    fn drop(&mut self) {
        if let Some((prefix, hooks)) = self.outer.take() {
            CURRENT.with(|c| {
                if let Some(job) = c.borrow_mut().as_mut() {
                    job.scope.prefix = prefix;
                    job.scope.hooks.truncate(hooks);
                }
            });
        }
    }
}
