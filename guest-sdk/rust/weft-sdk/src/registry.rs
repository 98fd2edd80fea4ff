//! The registry of a code location: everything `definitions!` lists, built once per
//! instance, checked (unique names, known dependencies), and dispatched to by the exports.

use crate::asset::{AssetJob, AssetSpec};
use crate::bindings::weft::plugin::types as wit;
use crate::check::{CheckSpec, run_check};
use crate::codec::Inputs;
use crate::context::OpContext;
use crate::failure::Failure;
use crate::graph_asset::GraphAssetSpec;
use crate::hook::{HookContext, HookSpec};
use crate::job::JobDefinition;
use crate::multi::MultiAssetSpec;
use crate::op::{InputSpec, OpSpec};
use crate::schedule::{ScheduleContext, ScheduleDefinition};
use crate::sensor::{EndedRun, SensorContext, SensorSpec};
use std::collections::HashSet;

/// What `definitions!` lists.
#[doc(hidden)]
#[derive(Default)]
pub struct Entries {
    pub assets: Vec<&'static AssetSpec>,
    pub jobs: Vec<fn() -> JobDefinition>,
    pub asset_jobs: Vec<fn() -> AssetJob>,
    pub schedules: Vec<fn() -> ScheduleDefinition>,
    pub sensors: Vec<&'static SensorSpec>,
    pub asset_checks: Vec<&'static CheckSpec>,
    pub multi_assets: Vec<&'static MultiAssetSpec>,
    pub graph_assets: Vec<&'static GraphAssetSpec>,
}

/// A code location's definitions, built and checked.
#[doc(hidden)]
pub struct Registry {
    ops: Vec<&'static OpSpec>,
    jobs: Vec<JobDefinition>,
    assets: Vec<(&'static AssetSpec, Vec<wit::AssetDep>)>,
    asset_jobs: Vec<AssetJob>,
    schedules: Vec<ScheduleDefinition>,
    sensors: Vec<&'static SensorSpec>,
    hooks: Vec<&'static HookSpec>,
    checks: Vec<&'static CheckSpec>,
    multis: Vec<(&'static MultiAssetSpec, Vec<wit::AssetDep>)>,
    /// Each graph-backed asset with its dependencies and its built graph.
    graphs: Vec<(&'static GraphAssetSpec, Vec<wit::AssetDep>, JobDefinition)>,
}

fn unique<'a>(kind: &str, names: impl IntoIterator<Item = &'a str>) -> Result<(), Failure> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(Failure::fatal(format!("two {kind} are named `{name}`")));
        }
    }
    Ok(())
}

impl Registry {
    /// Builds every job graph, collects the ops they invoke and resolves asset dependencies.
    pub fn build(entries: Entries) -> Result<Self, Failure> {
        let jobs: Vec<JobDefinition> = entries.jobs.iter().map(|f| f()).collect();
        let graphs: Vec<JobDefinition> = entries.graph_assets.iter().map(|g| (g.build)()).collect();
        if let Some(error) = jobs.iter().chain(&graphs).flat_map(|j| j.errors()).next() {
            return Err(Failure::fatal(error.clone()));
        }
        let mut ops: Vec<&'static OpSpec> = Vec::new();
        for node in jobs.iter().chain(&graphs).flat_map(|j| j.nodes()) {
            match ops.iter().find(|o| o.name == node.op.name) {
                Some(known) if !std::ptr::eq(*known, node.op) => {
                    return Err(Failure::fatal(format!(
                        "two different ops are named `{}`",
                        node.op.name
                    )));
                }
                Some(_) => {}
                None => ops.push(node.op),
            }
        }
        let mut hooks: Vec<&'static HookSpec> = Vec::new();
        for hook in jobs
            .iter()
            .chain(&graphs)
            .flat_map(JobDefinition::all_hooks)
        {
            match hooks.iter().find(|h| h.name == hook.name) {
                Some(known) if !std::ptr::eq(*known, hook) => {
                    return Err(Failure::fatal(format!(
                        "two different hooks are named `{}`",
                        hook.name
                    )));
                }
                Some(_) => {}
                None => hooks.push(hook),
            }
        }
        let asset_jobs: Vec<AssetJob> = entries.asset_jobs.iter().map(|f| f()).collect();
        let schedules: Vec<ScheduleDefinition> = entries.schedules.iter().map(|f| f()).collect();
        unique(
            "jobs",
            jobs.iter()
                .map(|j| j.name())
                .chain(asset_jobs.iter().map(|j| j.name())),
        )?;
        unique("schedules", schedules.iter().map(|s| s.name()))?;
        unique("sensors", entries.sensors.iter().map(|s| s.name))?;
        let keys: Vec<Vec<String>> = entries
            .assets
            .iter()
            .map(|a| a.key())
            .chain(entries.multi_assets.iter().flat_map(|m| m.keys()))
            .chain(entries.graph_assets.iter().map(|g| g.key()))
            .collect();
        let joined: Vec<String> = keys.iter().map(|k| k.join("/")).collect();
        unique("assets", joined.iter().map(String::as_str))?;
        for check in &entries.asset_checks {
            if !joined.iter().any(|k| k == check.asset) {
                return Err(Failure::fatal(format!(
                    "check `{}` checks asset `{}`, which this location does not define",
                    check.name, check.asset
                )));
            }
        }
        let mut assets = Vec::new();
        for asset in &entries.assets {
            let what = format!("asset `{}`", asset.key().join("/"));
            let deps = resolve_deps(&what, asset.key_prefix, asset.op.inputs, asset.deps, &keys)?;
            assets.push((*asset, deps));
        }
        unique(
            "multi-assets",
            entries.multi_assets.iter().map(|m| m.op.name),
        )?;
        let mut multis = Vec::new();
        for multi in &entries.multi_assets {
            let what = format!("multi-asset `{}`", multi.op.name);
            let deps = resolve_deps(&what, &[], multi.op.inputs, &[], &keys)?;
            multis.push((*multi, deps));
        }
        let mut graph_assets = Vec::new();
        for (spec, graph) in entries.graph_assets.iter().zip(graphs) {
            let what = format!("graph asset `{}`", spec.key().join("/"));
            let deps = resolve_deps(&what, spec.key_prefix, spec.inputs, spec.deps, &keys)?;
            graph_assets.push((*spec, deps, graph));
        }
        Ok(Self {
            ops,
            jobs,
            assets,
            asset_jobs,
            schedules,
            sensors: entries.sensors,
            hooks,
            checks: entries.asset_checks,
            multis,
            graphs: graph_assets,
        })
    }

    /// A job by name (for tests).
    pub fn job(&self, name: &str) -> Option<&JobDefinition> {
        self.jobs.iter().find(|j| j.name() == name)
    }

    /// The definitions as `definitions.get` returns them.
    pub fn definitions(&self) -> wit::Definitions {
        wit::Definitions {
            ops: self.ops.iter().map(|o| o.to_wit()).collect(),
            jobs: self.jobs.iter().map(JobDefinition::to_wit).collect(),
            assets: self
                .assets
                .iter()
                .map(|(a, deps)| wit::AssetDef {
                    key: a.key(),
                    group: a.group.into(),
                    description: a.op.description.map(Into::into),
                    kinds: a.kinds.iter().map(|k| k.to_string()).collect(),
                    deps: deps.clone(),
                    tags: crate::op::tags_to_wit(a.op.tags),
                    retry_policy: a.op.retry_policy.map(crate::op::retry_to_wit),
                    config_schema: a.op.schema(),
                    multi: None,
                    graph: None,
                })
                .chain(self.multis.iter().flat_map(|(m, deps)| m.to_wit(deps)))
                .chain(
                    self.graphs
                        .iter()
                        .map(|(g, deps, graph)| g.to_wit(deps, graph)),
                )
                .collect(),
            asset_jobs: self.asset_jobs.iter().map(AssetJob::to_wit).collect(),
            schedules: self
                .schedules
                .iter()
                .map(ScheduleDefinition::to_wit)
                .collect(),
            sensors: self.sensors.iter().map(|s| s.to_wit()).collect(),
            hooks: self.hooks.iter().map(|h| h.to_wit()).collect(),
            asset_checks: self.checks.iter().map(|c| c.to_wit()).collect(),
        }
    }

    /// Evaluates the check a step's context names.
    pub fn evaluate_check(
        &self,
        ctx: wit::StepContext,
        inputs: Vec<wit::StepInput>,
    ) -> Result<wit::CheckResult, Failure> {
        let wit::StepTarget::Check(target) = &ctx.target else {
            return Err(Failure::fatal(format!(
                "step `{}` is not an asset check",
                ctx.step_key
            )));
        };
        let asset = target.asset.join("/");
        let check = self
            .checks
            .iter()
            .find(|c| c.name == target.name && c.asset == asset)
            .ok_or_else(|| {
                Failure::fatal(format!(
                    "this location has no check `{}` of asset `{asset}`",
                    target.name
                ))
            })?;
        run_check(check, ctx, inputs)
    }

    /// Runs the hook `name` after a step.
    pub fn run_hook(&self, name: &str, ctx: wit::HookContext) -> Result<(), Failure> {
        let hook = self.hooks.iter().find(|h| h.name == name).ok_or_else(|| {
            Failure::fatal(format!("no hook named \"{name}\" in this code location"))
        })?;
        (hook.run)(&HookContext::from_wit(ctx))
    }

    /// Runs one step.
    pub fn execute(
        &self,
        ctx: wit::StepContext,
        inputs: Vec<wit::StepInput>,
    ) -> Result<Vec<wit::StepOutput>, Failure> {
        let (spec, what) = match &ctx.target {
            wit::StepTarget::Op(name) => match self.ops.iter().find(|o| o.name == name) {
                Some(op) => (*op, format!("op `{name}`")),
                None => {
                    let known: Vec<&str> = self.ops.iter().map(|o| o.name).collect();
                    return Err(Failure::fatal(format!(
                        "this location has no op `{name}` (its ops: {})",
                        known.join(", ")
                    )));
                }
            },
            wit::StepTarget::Asset(key) => {
                match self.assets.iter().find(|(a, _)| &a.key() == key) {
                    Some((asset, _)) => (&asset.op, format!("asset `{}`", key.join("/"))),
                    None => {
                        return Err(Failure::fatal(format!(
                            "this location has no asset `{}`",
                            key.join("/")
                        )));
                    }
                }
            }
            wit::StepTarget::Check(target) => {
                return Err(Failure::fatal(format!(
                    "check `{}` is evaluated by `checks.evaluate`, not run as an op",
                    target.name
                )));
            }
            wit::StepTarget::MultiAsset(target) => {
                match self.multis.iter().find(|(m, _)| m.op.name == target.name) {
                    Some((multi, _)) => (&multi.op, format!("multi-asset `{}`", target.name)),
                    None => {
                        return Err(Failure::fatal(format!(
                            "this location has no multi-asset `{}`",
                            target.name
                        )));
                    }
                }
            }
        };
        run_step(spec, what, ctx, inputs)
    }

    /// Evaluates the sensor `name`.
    pub fn evaluate_sensor(
        &self,
        name: &str,
        ctx: wit::SensorContext,
    ) -> Result<wit::SensorResult, Failure> {
        let sensor = self
            .sensors
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Failure::fatal(format!("this location has no sensor `{name}`")))?;
        let ctx = SensorContext {
            cursor: ctx.cursor,
            last_evaluation_ms: ctx.last_evaluation_ms,
            run: ctx.run.map(EndedRun::from_wit),
        };
        (sensor.evaluate)(&ctx).map(|r| r.to_wit())
    }

    /// Evaluates the schedule `name`.
    pub fn evaluate_schedule(
        &self,
        name: &str,
        ctx: wit::ScheduleContext,
    ) -> Result<wit::ScheduleResult, Failure> {
        let schedule = self
            .schedules
            .iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| Failure::fatal(format!("this location has no schedule `{name}`")))?;
        let ctx = ScheduleContext {
            scheduled_time_ms: ctx.scheduled_time_ms,
        };
        schedule.evaluate(&ctx).map(|r| r.to_wit())
    }
}

impl Entries {
    /// The op of one step, found without building the registry: an op is looked up in the
    /// step's job alone ([`crate::job::find_op`]), an asset in the static list. Every step
    /// runs in a fresh instance, so building every job's graph would be paid per step.
    /// `None` when the target is not found that way: [`Registry::execute`] then says why.
    ///
    /// The host runs steps only of locations whose definitions it validated (through the
    /// registry), so what this skips checking has been checked.
    pub fn step_op(&self, ctx: &wit::StepContext) -> Option<(&'static OpSpec, String)> {
        match &ctx.target {
            wit::StepTarget::Op(name) => {
                let op = crate::job::find_op(&self.jobs, &ctx.job, name)?;
                Some((op, format!("op `{name}`")))
            }
            wit::StepTarget::Asset(key) => {
                let asset = self.assets.iter().find(|a| {
                    key.len() == a.key_prefix.len() + 1
                        && key
                            .iter()
                            .zip(a.key_prefix.iter().chain([&a.op.name]))
                            .all(|(k, p)| k == p)
                })?;
                Some((&asset.op, format!("asset `{}`", key.join("/"))))
            }
            wit::StepTarget::MultiAsset(target) => {
                let multi = self
                    .multi_assets
                    .iter()
                    .find(|m| m.op.name == target.name)?;
                Some((&multi.op, format!("multi-asset `{}`", target.name)))
            }
            wit::StepTarget::Check(_) => None,
        }
    }
}

/// Calls the op `spec` of one step and returns the outputs it produced, each with its
/// metadata.
pub(crate) fn run_step(
    spec: &OpSpec,
    what: String,
    ctx: wit::StepContext,
    inputs: Vec<wit::StepInput>,
) -> Result<Vec<wit::StepOutput>, Failure> {
    let what = if ctx.step_key == spec.name {
        what
    } else {
        format!("{what} (step `{}`)", ctx.step_key)
    };
    let ctx = OpContext::from_wit(ctx);
    let mut inputs = Inputs::new(what, inputs);
    let outputs = (spec.execute)(&ctx, &mut inputs)?;
    Ok(outputs
        .into_iter()
        .map(|(name, mapping_key, value)| wit::StepOutput {
            name: name.into(),
            value,
            metadata: ctx.metadata_for(name),
            mapping_key,
        })
        .collect())
}

/// An asset's parameters name its upstream assets: the one with the same prefix, or else
/// the only asset of that name.
fn resolve_deps(
    what: &str,
    key_prefix: &[&str],
    inputs: &[InputSpec],
    ordering: &[&str],
    keys: &[Vec<String>],
) -> Result<Vec<wit::AssetDep>, Failure> {
    let mut deps = Vec::new();
    for input in inputs {
        let mut same_prefix: Vec<String> = key_prefix.iter().map(|s| s.to_string()).collect();
        same_prefix.push(input.name.into());
        let key = if keys.contains(&same_prefix) {
            same_prefix
        } else {
            let named: Vec<&Vec<String>> = keys
                .iter()
                .filter(|k| k.last().is_some_and(|l| l == input.name))
                .collect();
            match named.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    return Err(Failure::fatal(format!(
                        "{what}: parameter `{}` names no asset of this location",
                        input.name
                    )));
                }
                _ => {
                    return Err(Failure::fatal(format!(
                        "{what}: parameter `{}` matches several assets; give them distinct names",
                        input.name
                    )));
                }
            }
        };
        deps.push(wit::AssetDep {
            key,
            input: Some(input.name.into()),
        });
    }
    for dep in ordering {
        deps.push(wit::AssetDep {
            key: dep.split('/').map(String::from).collect(),
            input: None,
        });
    }
    Ok(deps)
}
