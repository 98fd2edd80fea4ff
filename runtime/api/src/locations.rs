//! `/api/locations`: list code locations, upload a new version (the component as the body,
//! with an optional expected sha256), read one with its definitions, its version history,
//! roll back, remove, and read or set its grants.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::Digest;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{self, Path};
use weft_core::grants::Grants;

use crate::service::ControlPlane;

/// The longest location name.
const MAX_NAME: usize = 64;

/// Checks a location name: letters, digits, `_` and `-`, starting with a letter or `_`.
/// (`+` joins the names of a run across locations, `/` would break paths.)
pub(crate) fn check_name(name: &str) -> Result<(), ApiError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok
        || name.len() > MAX_NAME
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ApiError::bad_request(format!(
            "{name:?} is not a valid code location name: use letters, digits, `_` and `-`, \
             starting with a letter or `_`, at most {MAX_NAME} characters"
        )));
    }
    Ok(())
}

pub(crate) async fn list<S: ControlPlane>(
    State(state): State<AppState<S>>,
) -> Result<Response, ApiError> {
    let locations = state.service.locations().await?;
    let summaries: Vec<serde_json::Value> = locations
        .iter()
        .map(|l| {
            serde_json::json!({
                "name": l.name,
                "digest": l.digest,
                "updated_ms": l.updated_ms,
                "wasm_size": l.wasm_size,
                "counts": l.counts,
                "hosts": l.grants.hosts,
            })
        })
        .collect();
    Ok(Json(summaries).into_response())
}

pub(crate) async fn get<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.service.location(&name).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadQuery {
    /// The sha256 the uploader expects the component to have.
    #[serde(default)]
    sha256: Option<String>,
}

/// `POST /api/locations/{name}`: the body is the component (`application/wasm` or
/// `application/octet-stream`; a form's content types are refused, see `guard.rs`). The body is read before anything is checked, so that a refused upload
/// gets its answer rather than a connection reset in the middle of sending.
pub(crate) async fn upload<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let uri = request.uri().clone();
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|e| body_error(e.status(), &e.body_text()))?
        .to_vec();
    check_name(&name)?;
    let query = axum::extract::Query::<UploadQuery>::try_from_uri(&uri)
        .map_err(|e| ApiError::bad_request(format!("query: {}", e.body_text())))?
        .0;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the upload is empty: send the component as the request body",
        ));
    }
    if let Some(expected) = &query.sha256 {
        let actual = hex::encode(sha2::Sha256::digest(&bytes));
        if !expected.eq_ignore_ascii_case(&actual) {
            return Err(ApiError::bad_request(format!(
                "the upload's sha256 is {actual}, not the expected {expected}: it was changed or cut short on the way"
            )));
        }
    }
    let version = state.service.upload(&name, bytes).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "name": name,
            "digest": version.digest,
            "created_ms": version.created_ms,
            "wasm_size": version.wasm_size,
            "current": version.current,
            "counts": version.counts,
        })),
    )
        .into_response())
}

fn body_error(status: StatusCode, text: &str) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        crate::upload_limit::too_large()
    } else {
        ApiError::bad_request(format!("reading the upload: {text}"))
    }
}

pub(crate) async fn versions<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.service.versions(&name).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rollback {
    digest: String,
}

pub(crate) async fn rollback<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
    extract::Json(body): extract::Json<Rollback>,
) -> Result<Response, ApiError> {
    Ok(Json(state.service.rollback(&name, &body.digest).await?).into_response())
}

pub(crate) async fn remove<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state.service.remove(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn grants<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.service.location(&name).await?.grants).into_response())
}

pub(crate) async fn set_grants<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(name): Path<String>,
    extract::Json(grants): extract::Json<Grants>,
) -> Result<Response, ApiError> {
    Ok(Json(state.service.set_grants(&name, grants).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_names() {
        for good in ["numbers", "numbers-go", "_x", "a1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "1a", "a+b", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
