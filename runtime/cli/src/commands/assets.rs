//! `weft assets checks KEY`: what an asset's checks found in this instance's runs — the
//! latest evaluation of each check, then every evaluation, newest first.

use anyhow::anyhow;
use weft_core::checks::CheckSeverity;
use weft_server::Instance;

use super::inspect::open_store;
use crate::Failure;

pub async fn checks(instance: &Instance, key: &str, limit: u32, json: bool) -> Result<(), Failure> {
    let store = open_store(instance).await?;
    let found = store
        .check_evaluations(key, limit)
        .await
        .map_err(|e| Failure::Failed(Some(anyhow!("{e}"))))?;
    if json {
        let evaluations: Vec<_> = found
            .iter()
            .map(|r| {
                let mut e = serde_json::json!({
                    "check": r.check,
                    "run_id": r.run_id,
                    "step_key": r.step_key,
                    "timestamp_ms": r.timestamp_ms,
                });
                if let (Some(map), Ok(serde_json::Value::Object(more))) =
                    (e.as_object_mut(), serde_json::to_value(&r.evaluation))
                {
                    map.extend(more);
                }
                e
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "key": key, "evaluations": evaluations })
        );
        return Ok(());
    }
    if found.is_empty() {
        println!("No check of asset {key} was evaluated in this instance.");
        return Ok(());
    }
    println!("Checks of asset {key} (newest first):");
    for r in &found {
        let e = &r.evaluation;
        let verdict = match (e.passed, e.severity) {
            (true, _) => "PASSED",
            (false, CheckSeverity::Error) => "FAILED",
            (false, CheckSeverity::Warn) => "WARNED",
        };
        println!(
            "  {:<28} {verdict:<7} run {}  {}",
            r.check,
            r.run_id,
            e.description.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
