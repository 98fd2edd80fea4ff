//! The API's one rule of access: when a token is configured, every request that changes
//! something (anything but GET and HEAD) must carry `Authorization: Bearer <token>`, and so
//! must every read of user code (`/components/...`: what pods fetch by digest).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorKind};

/// The configured token, and how much of a refused request's body is read before the
/// answer (so that a client still sending an upload gets the 401 rather than a reset
/// connection).
pub(crate) struct Auth {
    pub(crate) token: Option<String>,
    pub(crate) drain_limit: usize,
}

/// Lets reads through, and writes only with the configured token (if any).
pub(crate) async fn require_token(
    State(auth): State<Arc<Auth>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = auth.token.as_deref() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let reads_code = path.starts_with("/components/") || path.starts_with("/api/components/");
    if matches!(*request.method(), Method::GET | Method::HEAD) && !reads_code {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let refusal = match given {
        Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => None,
        Some(_) => Some("the bearer token is wrong"),
        None => Some(
            "this server requires a token for changes and components: send `Authorization: Bearer <token>`",
        ),
    };
    match refusal {
        None => next.run(request).await,
        Some(refusal) => {
            // Read what the client is still sending, so that it gets this answer rather than
            // a connection reset in the middle of its upload.
            let _ = axum::body::to_bytes(request.into_body(), auth.drain_limit).await;
            ApiError::new(ErrorKind::Unauthorized, refusal).into_response()
        }
    }
}

/// Compares without stopping at the first difference, so timing does not tell how much of
/// a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
