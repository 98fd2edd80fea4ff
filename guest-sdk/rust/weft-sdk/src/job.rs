//! Jobs as graphs. `#[job]` turns the job's body into a graph builder: in a job body, a
//! call of a bare name `f(a, b)` invokes the op `f` (it runs nothing) and returns an
//! [`Output<T>`] handle; passing handles to other ops makes the edges. Wiring is
//! type-checked through [`IntoInput`]: an `Output<T>` feeds a `T` input, and a
//! `Vec<Output<T>>` (or an array of them) fans in to a `Vec<T>` input.

use crate::bindings::weft::plugin::types as wit;
use crate::hook::{HookSpec, NodeOptions, hook_names};
use crate::op::{OpSpec, RESULT};
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;

/// A handle to an output of an op invoked in a job body; it holds no value.
pub struct Output<T> {
    node: usize,
    output: &'static str,
    _type: PhantomData<fn() -> T>,
}

impl<T> Output<T> {
    /// The output `output` of the node numbered `node`. Used by `#[op(outs(...))]`.
    #[doc(hidden)]
    pub fn of(node: usize, output: &'static str) -> Self {
        Self {
            node,
            output,
            _type: PhantomData,
        }
    }
}

impl<T> Output<T> {
    /// The same output, as a handle to values of type `U` (a dynamic output's values).
    pub(crate) fn cast<U>(self) -> Output<U> {
        Output::of(self.node, self.output)
    }
    pub(crate) fn node(&self) -> usize {
        self.node
    }
    pub(crate) fn name(&self) -> &'static str {
        self.output
    }
}

impl<T> Clone for Output<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Output<T> {}

impl<T> std::fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Output(node #{}, {})", self.node, self.output)
    }
}

/// Where an input's value comes from: the upstream nodes and whether they fan in.
#[doc(hidden)]
pub struct Sources {
    nodes: Vec<(usize, &'static str)>,
    fan_in: bool,
    collect: bool,
}

impl Sources {
    /// Every value of the dynamic (or mapped) output `output` of node `node`.
    pub(crate) fn collect(node: usize, output: &'static str) -> Self {
        Sources {
            nodes: vec![(node, output)],
            fan_in: false,
            collect: true,
        }
    }
}

/// What may feed an op input of type `T` in a job body.
#[diagnostic::on_unimplemented(
    message = "an op input of type `{T}` cannot be fed by `{Self}`",
    label = "this does not produce a `{T}`",
    note = "feed an input of type `T` with the `Output<T>` of another op, and a `Vec<T>` input with a `Vec<Output<T>>` (fan-in)"
)]
pub trait IntoInput<T> {
    #[doc(hidden)]
    fn into_sources(self) -> Sources;
}

impl<T> IntoInput<T> for Output<T> {
    fn into_sources(self) -> Sources {
        Sources {
            nodes: vec![(self.node, self.output)],
            fan_in: false,
            collect: false,
        }
    }
}

impl<T> IntoInput<Vec<T>> for Vec<Output<T>> {
    fn into_sources(self) -> Sources {
        Sources {
            nodes: self.iter().map(|o| (o.node, o.output)).collect(),
            fan_in: true,
            collect: false,
        }
    }
}

impl<T, const N: usize> IntoInput<Vec<T>> for [Output<T>; N] {
    fn into_sources(self) -> Sources {
        Sources {
            nodes: self.iter().map(|o| (o.node, o.output)).collect(),
            fan_in: true,
            collect: false,
        }
    }
}

/// One input of a node and the outputs feeding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The op's input name.
    pub input: String,
    /// The upstream node names, in order.
    pub sources: Vec<String>,
    /// The output of each source that feeds it: `result`, unless its op has several.
    pub outputs: Vec<String>,
    /// Whether the input receives all sources as a list.
    pub fan_in: bool,
    /// Whether it collects a dynamic (or mapped) output (`.collect()`).
    pub collect: bool,
}

/// One invocation of an op in a job.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique in the job: the alias, or the op's name (`op_2`, `op_3` when repeated).
    pub name: String,
    /// The op it invokes.
    pub op: &'static OpSpec,
    /// How its inputs are fed.
    pub inputs: Vec<Binding>,
    /// Its own hooks (`.with_hooks(...)` on it or on a graph around it), before its job's.
    pub hooks: Vec<&'static HookSpec>,
}

/// A job: what a `#[job]` function returns.
#[derive(Debug, Clone)]
pub struct JobDefinition {
    name: String,
    description: Option<String>,
    tags: Vec<(String, String)>,
    /// Hooks given to every node (`#[job(hooks = [...])]`).
    hooks: Vec<&'static HookSpec>,
    nodes: Vec<Node>,
    errors: Vec<String>,
    /// The graphs being called while the body runs (see `graph.rs`).
    pub(crate) scope: crate::graph::Scope,
    /// Of a graph-backed asset's graph: the node inputs its parameters feed (parameter
    /// number, node, input) and the node output it returns.
    graph_inputs: Vec<(usize, String, String)>,
    output: Option<(String, String)>,
}

/// Node numbers from here on stand for a graph-backed asset's parameters (see
/// `graph_asset.rs`), not for nodes.
pub(crate) const GRAPH_INPUT: usize = usize::MAX / 2;

impl JobDefinition {
    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its nodes, in the order the body invoked them.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
    /// Every hook its nodes name, each once.
    pub(crate) fn all_hooks(&self) -> impl Iterator<Item = &'static HookSpec> + '_ {
        self.hooks
            .iter()
            .chain(self.nodes.iter().flat_map(|n| &n.hooks))
            .copied()
    }

    /// The hooks of node `node`: its own and the job's, by name, each once.
    pub fn node_hooks(&self, node: &Node) -> Vec<String> {
        hook_names(node.hooks.iter().chain(&self.hooks))
    }

    /// Of a graph-backed asset's graph: the node inputs its parameters feed (parameter
    /// number, node, input).
    pub fn graph_inputs(&self) -> &[(usize, String, String)] {
        &self.graph_inputs
    }

    /// Of a graph-backed asset's graph: the node and output that are the asset's value.
    pub fn output(&self) -> Option<&(String, String)> {
        self.output.as_ref()
    }

    /// Records the node output (node number, output) a graph-backed asset's body returned.
    pub(crate) fn set_output(&mut self, node: usize, output: &str) {
        match self.nodes.get(node) {
            Some(n) => self.output = Some((n.name.clone(), output.to_owned())),
            None => self.errors.push(format!(
                "graph asset `{}` returns one of its parameters, not an op's output",
                self.name
            )),
        }
    }

    /// Mistakes found while building the graph (a node name used twice, ...).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    pub(crate) fn to_wit(&self) -> wit::JobDef {
        wit::JobDef {
            name: self.name.clone(),
            description: self.description.clone(),
            tags: self.tags.clone(),
            nodes: self
                .nodes
                .iter()
                .map(|n| wit::NodeDef {
                    name: n.name.clone(),
                    op: n.op.name.into(),
                    inputs: n
                        .inputs
                        .iter()
                        .map(|b| wit::InputBinding {
                            input: b.input.clone(),
                            sources: b
                                .sources
                                .iter()
                                .zip(&b.outputs)
                                .map(|(node, output)| wit::OutputRef {
                                    node: node.clone(),
                                    output: output.clone(),
                                })
                                .collect(),
                            fan_in: b.fan_in,
                            collect: b.collect,
                        })
                        .collect(),
                    tags: Vec::new(),
                    hooks: self.node_hooks(n),
                })
                .collect(),
        }
    }
}

thread_local! {
    pub(crate) static CURRENT: RefCell<Option<JobDefinition>> = const { RefCell::new(None) };
    /// Set while [`find_op`] looks for an op: job bodies then record no graph.
    static LOOKUP: RefCell<Option<Lookup>> = const { RefCell::new(None) };
}

/// What [`find_op`] is looking for, and what it found.
struct Lookup {
    /// The job whose body is run; the others are skipped.
    job: String,
    /// The op's name.
    op: String,
    /// Whether a job of that name was built.
    job_seen: bool,
    found: Option<&'static OpSpec>,
}

fn looking_up() -> bool {
    LOOKUP.with(|l| l.borrow().is_some())
}

/// The op named `op` that job `job` invokes, found by running only that job's body, and
/// that without recording its graph (no node names, no bindings): how a step finds its op
/// without building every job of the location. `None` if no job of that name invokes an
/// op of that name (the caller then builds the whole registry to say why).
pub(crate) fn find_op(
    jobs: &[fn() -> JobDefinition],
    job: &str,
    op: &str,
) -> Option<&'static OpSpec> {
    let lookup = Lookup {
        job: job.to_owned(),
        op: op.to_owned(),
        job_seen: false,
        found: None,
    };
    let outer = LOOKUP.with(|l| l.replace(Some(lookup)));
    for build in jobs {
        let _ = build();
        let done = LOOKUP.with(|l| l.borrow().as_ref().is_some_and(|l| l.job_seen));
        if done {
            break;
        }
    }
    let lookup = LOOKUP.with(|l| l.replace(outer));
    lookup.and_then(|l| l.found)
}

/// An empty job, returned by `build_job` while looking up an op; nothing reads it.
fn placeholder() -> JobDefinition {
    JobDefinition {
        name: String::new(),
        description: None,
        tags: Vec::new(),
        hooks: Vec::new(),
        nodes: Vec::new(),
        errors: Vec::new(),
        scope: Default::default(),
        graph_inputs: Vec::new(),
        output: None,
    }
}

/// Builds a job by running its (rewritten) body. Used by `#[job]`.
#[doc(hidden)]
pub fn build_job<R>(
    name: &str,
    description: Option<&str>,
    tags: &[(&str, &str)],
    hooks: &[&'static HookSpec],
    body: impl FnOnce() -> R,
) -> JobDefinition {
    let run_body = LOOKUP.with(|l| match l.borrow_mut().as_mut() {
        Some(lookup) if lookup.job == name && !lookup.job_seen => {
            lookup.job_seen = true;
            Some(true)
        }
        Some(_) => Some(false),
        None => None,
    });
    match run_body {
        Some(true) => {
            let _ = body();
            return placeholder();
        }
        Some(false) => return placeholder(),
        None => {}
    }
    let job = JobDefinition {
        name: name.into(),
        description: description.map(Into::into),
        tags: crate::op::tags_to_wit(tags),
        hooks: hooks.to_vec(),
        nodes: Vec::new(),
        errors: Vec::new(),
        scope: Default::default(),
        graph_inputs: Vec::new(),
        output: None,
    };
    let outer = CURRENT.with(|c| c.replace(Some(job)));
    let _ = body();
    let built = CURRENT.with(|c| c.replace(outer));
    built.unwrap_or_else(|| JobDefinition {
        name: name.into(),
        description: None,
        tags: Vec::new(),
        hooks: Vec::new(),
        nodes: Vec::new(),
        errors: vec!["the job's graph was lost while building it".into()],
        scope: Default::default(),
        graph_inputs: Vec::new(),
        output: None,
    })
}

/// One op invocation being recorded. Used by the `__invoke` function `#[op]` generates.
#[doc(hidden)]
pub struct Invocation {
    op: &'static OpSpec,
    options: NodeOptions,
    inputs: Vec<(usize, Sources)>,
}

impl Invocation {
    /// Starts an invocation of `op`, under its alias and with its hooks if given.
    pub fn new(op: &'static OpSpec, options: NodeOptions) -> Self {
        Self {
            op,
            options,
            inputs: Vec::new(),
        }
    }

    /// Feeds the op's input number `index`.
    pub fn input<T>(&mut self, index: usize, source: impl IntoInput<T>) {
        if !looking_up() {
            self.inputs.push((index, source.into_sources()));
        }
    }

    /// Adds the node to the job being built and returns a handle to its output `result`.
    pub fn finish<T>(self) -> Output<T> {
        Output::of(self.finish_node(), RESULT)
    }

    /// Adds the node to the job being built and returns its number, for handles to its
    /// outputs (`Output::of`).
    pub fn finish_node(self) -> usize {
        let found = LOOKUP.with(|l| match l.borrow_mut().as_mut() {
            Some(lookup) => {
                if lookup.found.is_none() && lookup.op == self.op.name {
                    lookup.found = Some(self.op);
                }
                true
            }
            None => false,
        });
        if found {
            return usize::MAX;
        }
        CURRENT.with(|c| {
            let mut current = c.borrow_mut();
            let Some(job) = current.as_mut() else {
                return usize::MAX;
            };
            job.add(self)
        })
    }
}

impl JobDefinition {
    fn add(&mut self, call: Invocation) -> usize {
        let name = match call.options.alias {
            Some(alias) => {
                let alias = self.scope.qualified(&alias);
                if self.node(&alias).is_some() {
                    self.errors.push(format!(
                        "job `{}`: node name `{alias}` is used twice",
                        self.name
                    ));
                }
                alias
            }
            None => self.fresh_name(&self.scope.qualified(call.op.name)),
        };
        let mut inputs = Vec::new();
        for (index, sources) in call.inputs {
            let Some(spec) = call.op.inputs.get(index) else {
                continue;
            };
            let mut names = Vec::new();
            let mut outputs = Vec::new();
            for (node, output) in sources.nodes {
                if let Some(param) = node.checked_sub(GRAPH_INPUT) {
                    let fed = (param, name.clone(), spec.name.to_owned());
                    self.graph_inputs.push(fed);
                    continue;
                }
                match self.nodes.get(node) {
                    Some(n) => {
                        names.push(n.name.clone());
                        outputs.push(output.to_owned());
                    }
                    None => self.errors.push(format!(
                        "job `{}`: input `{}` of node `{name}` is fed by an output from outside this job",
                        self.name, spec.name
                    )),
                }
            }
            if names.is_empty() && !sources.fan_in {
                // Fed by a graph-backed asset's parameter only.
                continue;
            }
            inputs.push(Binding {
                input: spec.name.into(),
                sources: names,
                outputs,
                fan_in: sources.fan_in,
                collect: sources.collect,
            });
        }
        let mut hooks = call.options.hooks;
        hooks.extend(self.scope.hooks.iter().copied());
        self.nodes.push(Node {
            name,
            op: call.op,
            inputs,
            hooks,
        });
        self.nodes.len() - 1
    }

    /// `op`, or `op_2`, `op_3`... when taken by a node or a graph (as Dagster names
    /// repeated ops).
    pub(crate) fn fresh_name(&self, op: &str) -> String {
        let taken: HashMap<&str, ()> = self
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .chain(self.scope.graphs.iter().map(String::as_str))
            .map(|n| (n, ()))
            .collect();
        if !taken.contains_key(op) {
            return op.to_string();
        }
        (2..)
            .map(|i| format!("{op}_{i}"))
            .find(|n| !taken.contains_key(n.as_str()))
            .unwrap_or_else(|| op.to_string())
    }
}
