//! One asset (Dagster's asset page): its definition in the location that defines it now,
//! and its materializations, newest first, each with its typed metadata — what the UI plots
//! a number of over time; and its checks (`/api/assets/{key}/checks`), each with what it
//! last found.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Query;
use crate::service::ControlPlane;

/// The most materializations one answer holds.
const MAX_MATERIALIZATIONS: u32 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssetQuery {
    /// The asset's key, `a/b`.
    key: String,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /api/asset?key=a/b&limit=N`: 404 when no current location defines the asset and
/// it was never materialized.
pub(crate) async fn asset<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Query(query): Query<AssetQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_MATERIALIZATIONS);
    let mut definition = None;
    for (location, digest, defs) in state.service.current_definitions().await? {
        if let Some(asset) = defs.assets.iter().find(|a| a.key.to_string() == query.key) {
            let deps: Vec<String> = asset.deps.iter().map(|d| d.key.to_string()).collect();
            definition = Some(json!({
                "location": location,
                "digest": digest,
                "group": asset.group,
                "description": asset.description,
                "kinds": asset.kinds,
                "deps": deps,
                "tags": asset.tags,
            }));
            break;
        }
    }
    let materializations = state.service.materializations(&query.key, limit).await?;
    if definition.is_none() && materializations.is_empty() {
        return Err(ApiError::not_found(format!(
            "no code location defines asset {:?} and it was never materialized",
            query.key
        )));
    }
    Ok(Json(json!({
        "key": query.key,
        "definition": definition,
        "materializations": materializations,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChecksQuery {
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /api/assets/{key}/checks?limit=N` (the key with its `/` encoded, `a%2Fb`): the
/// checks the current locations define for the asset, each with its latest evaluation,
/// and the evaluations (of those checks, and of checks no longer defined), newest first.
/// 404 when no check of the asset is defined and none was ever evaluated.
pub(crate) async fn checks<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(key): Path<String>,
    Query(query): Query<ChecksQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_MATERIALIZATIONS);
    let evaluations = state.service.check_results(&key, limit).await?;
    let mut checks = Vec::new();
    for (location, _, defs) in state.service.current_definitions().await? {
        for check in defs
            .asset_checks
            .iter()
            .filter(|c| c.asset.to_string() == key)
        {
            let latest = evaluations.iter().find(|e| e.check == check.name);
            checks.push(json!({
                "name": check.name,
                "location": location,
                "description": check.description,
                "blocking": check.blocking,
                "latest": latest,
            }));
        }
    }
    if checks.is_empty() && evaluations.is_empty() {
        return Err(ApiError::not_found(format!(
            "asset {key:?} has no checks in any code location, and none was ever evaluated"
        )));
    }
    Ok(Json(json!({ "key": key, "checks": checks, "evaluations": evaluations })).into_response())
}
