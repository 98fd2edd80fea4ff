//! The OpenAPI document (`openapi.yaml` beside this crate's manifest), embedded at build
//! time and served as JSON at `/api/openapi.json`.

use std::sync::OnceLock;

use axum::Json;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The document's YAML source.
pub(crate) const SOURCE: &str = include_str!("../openapi.yaml");

/// The document as JSON, parsed once.
pub(crate) fn json() -> Result<&'static serde_json::Value, String> {
    static DOC: OnceLock<Result<serde_json::Value, String>> = OnceLock::new();
    DOC.get_or_init(|| serde_yaml_ng::from_str(SOURCE).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

pub(crate) async fn document() -> Response {
    match json() {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => ApiError::internal(format!("the embedded OpenAPI document is invalid: {e}"))
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document parses, and documents exactly the routes `router` declares (read from
    /// its source: each `.route("/path"` or `.route(` followed by the path on the next line).
    #[test]
    fn the_document_lists_every_route() {
        let doc = json().expect("openapi.yaml parses");
        let mut documented: Vec<String> = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .cloned()
            .collect();
        documented.sort();
        let source = include_str!("lib.rs");
        let lines: Vec<&str> = source.lines().map(str::trim).collect();
        let mut routed: Vec<String> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.strip_prefix(".route(") else {
                continue;
            };
            let literal = if rest.is_empty() {
                lines.get(i + 1).copied().unwrap_or_default()
            } else {
                rest
            };
            if let Some(path) = literal.strip_prefix('"').and_then(|p| p.split('"').next()) {
                routed.push(format!("/api{path}"));
            }
        }
        routed.sort();
        assert_eq!(routed, documented);
    }
}
