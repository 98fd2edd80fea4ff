//! [`ApiError`]: every failure the API answers with, as an HTTP status and a JSON body
//! `{"error": "..."}` naming the problem. Bad input is a 4xx, never a 500.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What kind of failure an [`ApiError`] is; decides the HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed or names something impossible.
    BadRequest,
    /// 401: tokens are configured and the request has none of them.
    Unauthorized,
    /// 403: the request's token has a role short of what it asks.
    Forbidden,
    /// 404: no such location, run, version or step.
    NotFound,
    /// 409: the request conflicts with the current state (cancelling a finished run).
    Conflict,
    /// 413: the upload is larger than the server accepts.
    TooLarge,
    /// 415: a change in a content type other than JSON or a component's bytes.
    UnsupportedMediaType,
    /// 422: well-formed but unusable: not a component, the wrong world, invalid definitions,
    /// run config that does not fit the job.
    Unprocessable,
    /// 503: the database or another dependency is unavailable; try again.
    Unavailable,
    /// 500: a fault of the server itself.
    Internal,
}

impl ErrorKind {
    fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A failed request: its kind and a message for the person who sent it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// 422.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unprocessable, message)
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.kind == ErrorKind::Internal {
            tracing::error!("internal error: {}", self.message);
        }
        let body = Json(serde_json::json!({ "error": self.message }));
        let mut response = (self.kind.status(), body).into_response();
        if self.kind == ErrorKind::TooLarge {
            // The rest of the body was not read: the connection cannot carry another request.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}
