//! Uploads over the server's limit (`weft serve --max-upload-mb`), refused before any handler
//! reads them: when a request declares a length over the limit, its body is read and dropped
//! (up to twice the limit) and the answer is 413. Answering without reading would close the
//! connection on bytes still arriving, and the client, still sending, would see a reset
//! connection rather than the answer.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorKind};

/// The most bytes a request body may have.
pub(crate) struct UploadLimit {
    pub(crate) max_bytes: usize,
}

/// Lets through requests within the limit, or of no declared length (the extractors hold
/// those to the limit as they read).
pub(crate) async fn refuse_oversized(
    State(limit): State<Arc<UploadLimit>>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max = u64::try_from(limit.max_bytes).unwrap_or(u64::MAX);
    match declared {
        Some(length) if length > max => {
            if length <= max.saturating_mul(2) {
                let length = usize::try_from(length).unwrap_or(usize::MAX);
                crate::drain::drain(request.into_body(), length).await;
            }
            too_large().into_response()
        }
        _ => next.run(request).await,
    }
}

/// The answer to an upload over the limit.
pub(crate) fn too_large() -> ApiError {
    ApiError::new(
        ErrorKind::TooLarge,
        "the upload is larger than this server accepts (see `weft serve --max-upload-mb`)",
    )
}
