//! The end of an asset check's step (Dagster's `@asset_check`): what the attempt evaluated
//! becomes an `ASSET_CHECK_EVALUATION`; a blocking check that failed at severity `ERROR`
//! fails its step, so that the assets downstream of its asset (which wait for it) are
//! skipped. A check stores no output.

use std::collections::HashMap;

use weft_core::checks::CheckEvaluation;
use weft_core::defs::{AssetKey, Value};
use weft_core::events::{Event, EventKind, FailureKind};
use weft_core::now_ms;
use weft_core::ports::StepFailure;

/// Records the evaluation of check `name` of `asset` and decides its step's outcome.
pub(crate) fn finish_check(
    asset: &AssetKey,
    name: &str,
    blocking: bool,
    evaluation: Option<CheckEvaluation>,
    events: &mut Vec<Event>,
    event: &dyn Fn(EventKind, i64) -> Event,
) -> Result<HashMap<String, Value>, StepFailure> {
    let fail = |message: String| StepFailure {
        message,
        kind: FailureKind::Error,
        retryable: false,
    };
    let Some(evaluation) = evaluation else {
        return Err(fail(format!(
            "check {name} of asset {asset} ended without evaluating it"
        )));
    };
    let blocks = evaluation.blocks(blocking);
    let description = evaluation.description.clone();
    let kind = EventKind::AssetCheckEvaluation {
        asset_key: asset.clone(),
        check: name.to_owned(),
        evaluation,
    };
    events.push(event(kind, now_ms()));
    if blocks {
        let why = description.map(|d| format!(": {d}")).unwrap_or_default();
        return Err(fail(format!(
            "blocking check {name} of asset {asset} failed with severity ERROR{why}"
        )));
    }
    Ok(HashMap::new())
}
