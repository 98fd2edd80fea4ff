//! Multi-assets (Dagster's `@multi_asset`): `#[multi_asset(outs(low: f64, high: f64))]`
//! on a function whose parameters name its upstream assets makes one step (keyed by the
//! function's name) that materializes one asset per output, keyed by the output's name.
//! With `can_subset = true`, a run may pick some of them: every output is then optional,
//! and the function returns only those the context says are selected
//! ([`OpContext::is_selected`](crate::OpContext::is_selected)).

use crate::bindings::weft::plugin::types as wit;
use crate::op::OpSpec;

/// A multi-asset as `#[multi_asset]` describes it: its group, kinds, whether it can be
/// subset, and its compute op (whose outputs are its assets).
#[doc(hidden)]
#[derive(Debug)]
pub struct MultiAssetSpec {
    pub group: &'static str,
    pub kinds: &'static [&'static str],
    pub can_subset: bool,
    pub op: OpSpec,
}

impl MultiAssetSpec {
    /// The keys of its assets: one per output, named by it.
    pub fn keys(&self) -> Vec<Vec<String>> {
        self.op
            .outputs
            .iter()
            .map(|o| vec![o.name.to_owned()])
            .collect()
    }

    /// Its assets as the contract lists them, each with the deps of the whole function.
    pub(crate) fn to_wit(&self, deps: &[wit::AssetDep]) -> Vec<wit::AssetDef> {
        self.op
            .outputs
            .iter()
            .map(|out| wit::AssetDef {
                key: vec![out.name.to_owned()],
                group: self.group.into(),
                description: self.op.description.map(Into::into),
                kinds: self.kinds.iter().map(|k| k.to_string()).collect(),
                deps: deps.to_vec(),
                tags: crate::op::tags_to_wit(self.op.tags),
                retry_policy: self.op.retry_policy.map(crate::op::retry_to_wit),
                config_schema: self.op.schema(),
                multi: Some(wit::MultiAssetOut {
                    name: self.op.name.into(),
                    output: out.name.into(),
                    can_subset: self.can_subset,
                }),
                graph: None,
            })
            .collect()
    }
}
