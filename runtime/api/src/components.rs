//! Components by digest, for the pods and workers that run steps: `GET
//! /api/components/{digest}` answers a component's bytes (the pod checks that they hash to
//! the digest it asked for), and `GET /api/components/{digest}/precompiled/{engine}` its
//! precompiled form for the engine whose compatibility key is `engine`, when this server
//! has it: a pod with the same build of `weft` then starts a step without compiling. Both
//! need the API token when the server has one, like every route but `/health`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

use crate::AppState;
use crate::error::ApiError;
use crate::service::ControlPlane;

/// A digest as Weft writes them: 64 lowercase hex digits.
fn check_digest(digest: &str) -> Result<(), ApiError> {
    let hex = digest.len() == 64
        && digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    match hex {
        true => Ok(()),
        false => Err(ApiError::not_found(format!(
            "{digest:?} is not a component digest (64 lowercase hex digits)"
        ))),
    }
}

pub(crate) async fn component<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(digest): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    check_digest(&digest)?;
    let bytes = state.service.component(&digest).await?;
    Ok(([(header::CONTENT_TYPE, "application/wasm")], bytes))
}

pub(crate) async fn precompiled<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((digest, engine)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    check_digest(&digest)?;
    if engine.is_empty() || !engine.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::not_found(format!(
            "{engine:?} is not an engine key"
        )));
    }
    let bytes = state.service.precompiled(&digest, &engine).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}
