//! A step runner over several code locations: each asset step (and asset check) goes to
//! the location that defines its asset, so that one run can materialize assets of several locations (an
//! asset in a Python location downstream of one in a Rust location). Op steps, and the
//! hooks of their nodes, go to the first location: the job's; in a run of several
//! locations (an asset selection), an op step (of a graph-backed asset) goes to the first
//! location that defines its op.

use std::collections::BTreeMap;

use weft_core::defs::{AssetKey, StepTarget};
use weft_core::events::FailureKind;

use weft_core::Cancel;
use weft_core::ports::{
    CodeLocation, HookAttempt, HookRequest, HookRunner, StepAttempt, StepFailure, StepRequest,
    StepRunner,
};

/// Routes asset steps by key; op steps and hooks go to the first location.
pub struct AssetRouter<'a> {
    locations: Vec<&'a dyn CodeLocation>,
    owners: BTreeMap<AssetKey, usize>,
}

impl<'a> AssetRouter<'a> {
    /// `owners` maps each asset to an index into `locations`.
    pub fn new(locations: Vec<&'a dyn CodeLocation>, owners: BTreeMap<AssetKey, usize>) -> Self {
        AssetRouter { locations, owners }
    }
}

impl StepRunner for AssetRouter<'_> {
    fn run_step(&self, request: &StepRequest, cancel: &Cancel) -> StepAttempt {
        let index = match &request.target {
            StepTarget::Asset(key) | StepTarget::Check { asset: key, .. } => {
                self.owners.get(key).copied()
            }
            StepTarget::MultiAsset { selected, .. } => selected
                .first()
                .and_then(|key| self.owners.get(key).copied()),
            StepTarget::Op(op) if self.locations.len() > 1 => self
                .locations
                .iter()
                .position(|l| l.definitions().op(op).is_some()),
            StepTarget::Op(_) => Some(0),
        };
        match index.and_then(|i| self.locations.get(i)) {
            Some(location) => location.run_step(request, cancel),
            None => StepAttempt::failed(
                format!(
                    "no code location in this run defines step {}",
                    request.step_key
                ),
                FailureKind::Io,
                false,
            ),
        }
    }
}

impl HookRunner for AssetRouter<'_> {
    fn run_hook(&self, request: &HookRequest, cancel: &Cancel) -> HookAttempt {
        match self.locations.first() {
            Some(location) => location.run_hook(request, cancel),
            None => HookAttempt {
                result: Err(StepFailure {
                    message: "no code location in this run defines hooks".into(),
                    kind: FailureKind::Io,
                    retryable: false,
                }),
                logs: Vec::new(),
                stdout: Vec::new(),
                stderr: Vec::new(),
            },
        }
    }
}
