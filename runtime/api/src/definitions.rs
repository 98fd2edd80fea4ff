//! What the current version of every location defines, shaped for people and the UI: jobs
//! (and one job's execution plan, to draw its op graph), ops, assets with their lineage
//! edges and latest materialization, schedules and sensors.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use weft_core::defs::{DefaultStatus, Definitions, StepTarget};
use weft_core::plan::{ExecutionPlan, plan_job};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use weft_core::instigator::{InstigatorKind, InstigatorStatus};

use crate::service::ControlPlane;

/// Adds `"location": name` in front of a definition's own fields.
fn with_location(location: &str, def: &impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(def).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("location".into(), Value::String(location.to_owned()));
    }
    value
}

pub(crate) async fn jobs<S: ControlPlane>(
    State(state): State<AppState<S>>,
) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    for (location, _, defs) in state.service.current_definitions().await? {
        for job in &defs.jobs {
            out.push(json!({
                "location": location,
                "name": job.name,
                "description": job.description,
                "kind": "op",
                "step_count": job.nodes.len(),
            }));
        }
        for job in &defs.asset_jobs {
            let steps = plan_job(&defs, &job.name).map_or(0, |p| p.steps.len());
            out.push(json!({
                "location": location,
                "name": job.name,
                "description": job.description,
                "kind": "asset",
                "step_count": steps,
            }));
        }
    }
    Ok(Json(out).into_response())
}

/// The steps of a plan with their upstream steps by key.
pub(crate) fn plan_steps(plan: &ExecutionPlan) -> Vec<Value> {
    plan.steps
        .iter()
        .map(|step| {
            let (kind, op, asset) = match &step.target {
                StepTarget::Op(op) => ("op", Some(op.clone()), None),
                StepTarget::Asset(key) => ("asset", None, Some(key.to_string())),
                StepTarget::Check { asset, .. } => ("check", None, Some(asset.to_string())),
                StepTarget::MultiAsset { selected, .. } => {
                    let keys: Vec<String> = selected.iter().map(ToString::to_string).collect();
                    ("multi_asset", None, Some(keys.join(", ")))
                }
            };
            let upstream: Vec<&str> = step
                .upstream
                .iter()
                .filter_map(|&i| plan.steps.get(i).map(|s| s.key.as_str()))
                .collect();
            let mapped = step.mapped_over.is_some();
            json!({ "key": step.key, "kind": kind, "op": op, "asset": asset, "upstream": upstream, "mapped": mapped })
        })
        .collect()
}

pub(crate) async fn job<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((location, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let current = state.service.current_definitions().await?;
    let Some((_, digest, defs)) = current.iter().find(|(l, _, _)| *l == location) else {
        return Err(ApiError::not_found(format!(
            "there is no code location {location:?}"
        )));
    };
    let (description, tags, kind) = if let Some(job) = defs.job(&name) {
        (job.description.clone(), job.tags.clone(), "op")
    } else if let Some(job) = defs.asset_job(&name) {
        (job.description.clone(), job.tags.clone(), "asset")
    } else {
        return Err(ApiError::not_found(format!(
            "code location {location} has no job {name:?} (it has: {})",
            defs.job_names().join(", ")
        )));
    };
    let plan = plan_job(defs, &name).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    Ok(Json(json!({
        "location": location,
        "digest": digest,
        "name": name,
        "description": description,
        "kind": kind,
        "tags": tags,
        "steps": plan_steps(&plan),
    }))
    .into_response())
}

/// One list of definitions of every location, each with its location's name.
async fn each<S: ControlPlane, T: serde::Serialize>(
    state: &AppState<S>,
    pick: impl Fn(&Definitions) -> &[T],
) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    for (location, _, defs) in state.service.current_definitions().await? {
        out.extend(pick(&defs).iter().map(|d| with_location(&location, d)));
    }
    Ok(Json(out).into_response())
}

pub(crate) async fn ops<S: ControlPlane>(
    State(state): State<AppState<S>>,
) -> Result<Response, ApiError> {
    each(&state, |d| &d.ops).await
}

/// Every schedule or sensor with its state: `status` (`RUNNING`/`STOPPED`, the
/// definition's default until turned on or off) and `last_tick_ms`.
async fn with_states<S: ControlPlane, T: serde::Serialize>(
    state: &AppState<S>,
    pick: impl Fn(&Definitions) -> Vec<(&str, DefaultStatus, &T)>,
) -> Result<Response, ApiError> {
    let states: BTreeMap<(String, String), crate::service::InstigatorStatus> = state
        .service
        .instigator_states()
        .await?
        .into_iter()
        .map(|s| ((s.location.clone(), s.name.clone()), s))
        .collect();
    let mut out = Vec::new();
    for (location, _, defs) in state.service.current_definitions().await? {
        for (name, default, def) in pick(&defs) {
            let mut value = with_location(&location, def);
            let stored = states.get(&(location.clone(), name.to_owned()));
            let status = match (stored, default) {
                (Some(s), _) => s.status,
                (None, DefaultStatus::Running) => InstigatorStatus::Running,
                (None, DefaultStatus::Stopped) => InstigatorStatus::Stopped,
            };
            if let Value::Object(map) = &mut value {
                map.insert("status".into(), Value::String(status.as_str().into()));
                map.insert(
                    "last_tick_ms".into(),
                    json!(stored.and_then(|s| s.last_tick_ms)),
                );
            }
            out.push(value);
        }
    }
    Ok(Json(out).into_response())
}

pub(crate) async fn schedules<S: ControlPlane>(
    State(state): State<AppState<S>>,
) -> Result<Response, ApiError> {
    with_states(&state, |d| {
        d.schedules
            .iter()
            .map(|s| (s.name.as_str(), s.default_status, s))
            .collect()
    })
    .await
}

pub(crate) async fn sensors<S: ControlPlane>(
    State(state): State<AppState<S>>,
) -> Result<Response, ApiError> {
    with_states(&state, |d| {
        d.sensors
            .iter()
            .map(|s| (s.name.as_str(), s.default_status, s))
            .collect()
    })
    .await
}

async fn set<S: ControlPlane>(
    state: &AppState<S>,
    kind: InstigatorKind,
    location: &str,
    name: &str,
    running: bool,
) -> Result<Response, ApiError> {
    let status = state
        .service
        .set_instigator(kind, location, name, running)
        .await?;
    Ok(Json(status).into_response())
}

pub(crate) async fn start_schedule<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((location, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set(&state, InstigatorKind::Schedule, &location, &name, true).await
}

pub(crate) async fn stop_schedule<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((location, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set(&state, InstigatorKind::Schedule, &location, &name, false).await
}

pub(crate) async fn start_sensor<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((location, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set(&state, InstigatorKind::Sensor, &location, &name, true).await
}

pub(crate) async fn stop_sensor<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((location, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set(&state, InstigatorKind::Sensor, &location, &name, false).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicksQuery {
    /// The `timestamp_ms` of the last tick of the previous page.
    #[serde(default)]
    before_ms: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

pub(crate) async fn ticks<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((location, name)): Path<(String, String)>,
    Query(query): Query<TicksQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(50).clamp(1, 1000);
    Ok(Json(
        state
            .service
            .ticks(&location, &name, query.before_ms, limit)
            .await?,
    )
    .into_response())
}

pub(crate) async fn assets<S: ControlPlane>(
    State(state): State<AppState<S>>,
) -> Result<Response, ApiError> {
    let latest: BTreeMap<String, (String, i64)> = state
        .service
        .latest_materializations()
        .await?
        .into_iter()
        .map(|(key, run, ts)| (key, (run, ts)))
        .collect();
    let mut out = Vec::new();
    for (location, _, defs) in state.service.current_definitions().await? {
        for asset in &defs.assets {
            let key = asset.key.to_string();
            let deps: Vec<String> = asset.deps.iter().map(|d| d.key.to_string()).collect();
            let latest = latest
                .get(&key)
                .map(|(run_id, ts)| json!({ "run_id": run_id, "timestamp_ms": ts }));
            out.push(json!({
                "location": location,
                "key": key,
                "group": asset.group,
                "description": asset.description,
                "kinds": asset.kinds,
                "deps": deps,
                "tags": asset.tags,
                "latest_materialization": latest,
            }));
        }
    }
    Ok(Json(out).into_response())
}
