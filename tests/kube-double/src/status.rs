//! Errors of the test double of the Kubernetes API server (not a Kubernetes), answered the way
//! the real API server answers them: a `v1` `Status` object with `code`, `reason`, `message`
//! and `details`, and the same HTTP status code, so that kube's client turns them into
//! `kube::Error::Api` carrying the same fields it would get from a cluster.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ListMeta, Status, StatusCause, StatusDetails,
};

/// An error answer of the API: becomes a `Status` with `status: Failure`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Box<StatusDetails>>,
}

/// The name of a resource type as the server names it in messages and `details`:
/// `plural` is the URL segment (`jobs`), `group` the API group (`batch`, or empty for core).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceName {
    pub plural: &'static str,
    pub group: &'static str,
    pub kind: &'static str,
}

impl ResourceName {
    /// `jobs.batch` or `pods`, as in `jobs.batch "x" not found`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Job.batch` or `Pod`, as in `Job.batch "x" is invalid`.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    fn details(&self, name: &str) -> StatusDetails {
        StatusDetails {
            name: Some(name.to_string()),
            group: Some(self.group.to_string()),
            kind: Some(self.plural.to_string()),
            ..StatusDetails::default()
        }
    }
}

/// One field error of a 422 Invalid answer.
#[derive(Debug, Clone)]
pub(crate) struct FieldError {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`.
    pub reason: &'static str,
    pub field: String,
    /// The message as the server words it, e.g. `Required value`.
    pub message: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>, detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        FieldError {
            reason: "FieldValueRequired",
            field: field.into(),
            message,
        }
    }

    pub fn invalid(field: impl Into<String>, value: &str, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {value:?}: {detail}"),
        }
    }

    pub fn not_supported(field: impl Into<String>, value: &str, supported: &str) -> Self {
        FieldError {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!("Unsupported value: {value:?}: supported values: {supported}"),
        }
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    pub fn not_found(resource: ResourceName, name: &str) -> Self {
        ApiError {
            details: Some(Box::new(resource.details(name))),
            ..Self::new(
                404,
                "NotFound",
                format!("{} {name:?} not found", resource.qualified()),
            )
        }
    }

    /// A path the server does not serve.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }

    pub fn already_exists(resource: ResourceName, name: &str) -> Self {
        ApiError {
            details: Some(Box::new(resource.details(name))),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} {name:?} already exists", resource.qualified()),
            )
        }
    }

    pub fn conflict(resource: ResourceName, name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            details: Some(Box::new(resource.details(name))),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} {name:?}: {message}",
                    resource.qualified()
                ),
            )
        }
    }

    /// 410 Expired: a watch from a resourceVersion older than the kept history.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn invalid(resource: ResourceName, name: &str, errors: Vec<FieldError>) -> Self {
        let summary = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>();
        let summary = if summary.len() == 1 {
            summary.concat()
        } else {
            format!("[{}]", summary.join(", "))
        };
        let causes = errors
            .into_iter()
            .map(|e| StatusCause {
                reason: Some(e.reason.to_string()),
                message: Some(e.message),
                field: Some(e.field),
            })
            .collect();
        ApiError {
            details: Some(Box::new(StatusDetails {
                name: Some(name.to_string()),
                group: Some(resource.group.to_string()),
                kind: Some(resource.kind.to_string()),
                causes: Some(causes),
                ..StatusDetails::default()
            })),
            ..Self::new(
                422,
                "Invalid",
                format!(
                    "{} {name:?} is invalid: {summary}",
                    resource.qualified_kind()
                ),
            )
        }
    }

    /// The `Status` object of this error.
    pub fn status(&self) -> Status {
        Status {
            code: Some(i32::from(self.code)),
            details: self.details.as_deref().cloned(),
            message: Some(self.message.clone()),
            metadata: ListMeta::default(),
            reason: Some(self.reason.to_string()),
            status: Some("Failure".to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, Json(self.status())).into_response()
    }
}

/// The `Status` a delete answers with when the object is gone at once and its type does not
/// return the deleted object (Jobs, ConfigMaps, Secrets).
pub(crate) fn deleted(resource: ResourceName, name: &str, uid: Option<String>) -> Status {
    Status {
        code: None,
        details: Some(StatusDetails {
            uid,
            ..resource.details(name)
        }),
        message: None,
        metadata: ListMeta::default(),
        reason: None,
        status: Some("Success".to_string()),
    }
}
