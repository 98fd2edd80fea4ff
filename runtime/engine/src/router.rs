//! A step runner over several code locations: each asset step goes to the location that
//! defines its asset, so that one run can materialize assets of several locations (an
//! asset in a Python location downstream of one in a Rust location).

use std::collections::BTreeMap;

use weft_core::defs::{AssetKey, StepTarget};
use weft_core::events::FailureKind;

use weft_core::Cancel;
use weft_core::ports::{StepAttempt, StepRequest, StepRunner};

/// Routes asset steps by key; op steps go to the first runner.
pub struct AssetRouter<'a> {
    runners: Vec<&'a dyn StepRunner>,
    owners: BTreeMap<AssetKey, usize>,
}

impl<'a> AssetRouter<'a> {
    /// `owners` maps each asset to an index into `runners`.
    pub fn new(runners: Vec<&'a dyn StepRunner>, owners: BTreeMap<AssetKey, usize>) -> Self {
        AssetRouter { runners, owners }
    }
}

impl StepRunner for AssetRouter<'_> {
    fn run_step(&self, request: &StepRequest, cancel: &Cancel) -> StepAttempt {
        let index = match &request.target {
            StepTarget::Asset(key) => self.owners.get(key).copied(),
            StepTarget::Op(_) => Some(0),
        };
        match index.and_then(|i| self.runners.get(i)) {
            Some(runner) => runner.run_step(request, cancel),
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
