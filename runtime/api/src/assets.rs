//! One asset (Dagster's asset page): its definition in the location that defines it now,
//! and its materializations, newest first, each with its typed metadata — what the UI plots
//! a number of over time.

use axum::Json;
use axum::extract::State;
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
