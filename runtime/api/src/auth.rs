//! Who may use the API. With no token configured, anyone who reaches the port may (`weft
//! serve` says so when it starts). With any, every `/api` route but `/api/health` and the
//! OpenAPI document needs `Authorization: Bearer <token>`, and the token's [`Role`] says
//! what it may do: a viewer reads; an editor also changes (launches, cancels, uploads, roll
//! backs, schedules and sensors on and off, and the components pods fetch); an admin also
//! sets grants and removes locations. Tokens are held as SHA-256 digests (weft.yaml lists
//! them so) and a presented token's digest is compared in constant time.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorKind};

/// What a token may do, each role all that the one before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads: locations, definitions, runs, events, compute logs, grants (masked).
    Viewer,
    /// Also changes: launch, cancel, re-execute, upload, roll back, schedules and sensors;
    /// and reads the components (what run and step pods fetch).
    Editor,
    /// Also grants and removes code locations.
    Admin,
}

impl Role {
    /// Parses `viewer`, `editor` or `admin`.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// "a viewer", "an editor", "an admin".
    fn with_article(self) -> &'static str {
        match self {
            Role::Viewer => "a viewer",
            Role::Editor => "an editor",
            Role::Admin => "an admin",
        }
    }

    /// The role's name, as weft.yaml spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One accepted token: its role and the SHA-256 digest of its text.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub role: Role,
    sha256: [u8; 32],
}

impl ApiToken {
    /// The token `secret` (given in full, as `--token` is), kept as its digest.
    pub fn from_secret(role: Role, secret: &str) -> ApiToken {
        ApiToken {
            role,
            sha256: Sha256::digest(secret.as_bytes()).into(),
        }
    }

    /// A token known by the hex SHA-256 digest of its text (as weft.yaml lists it).
    pub fn from_sha256_hex(role: Role, digest: &str) -> Result<ApiToken, String> {
        let text = digest.trim();
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(text, &mut sha256).map_err(|_| {
            format!("{text:?} is not a SHA-256 digest (64 hex digits, as `weft token` prints)")
        })?;
        Ok(ApiToken { role, sha256 })
    }

    /// The hex SHA-256 digest of `secret`, as weft.yaml lists a token.
    pub fn sha256_hex(secret: &str) -> String {
        weft_core::ports::digest_of(secret.as_bytes())
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiToken({}, sha256:…)", self.role)
    }
}

/// The accepted tokens, and how much of a refused request's body is read before the
/// answer (so that a client still sending an upload gets the refusal rather than a reset
/// connection).
pub(crate) struct Auth {
    pub(crate) tokens: Vec<ApiToken>,
    pub(crate) drain_limit: usize,
}

impl Auth {
    /// The role of the token `given`, if it is one of these.
    fn role_of(&self, given: &str) -> Option<Role> {
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        // Every token is compared, so the time taken does not tell which one matched.
        self.tokens
            .iter()
            .filter(|t| constant_time_eq(&t.sha256, &digest))
            .map(|t| t.role)
            .fold(None, |best, role| best.max(Some(role)))
    }
}

/// The role a request needs, `None` for the open ones. `path` is the API's own path, with
/// or without its `/api` prefix.
pub(crate) fn required_role(method: &Method, path: &str) -> Option<Role> {
    let path = path.strip_prefix("/api").unwrap_or(path);
    let reads = matches!(*method, Method::GET | Method::HEAD);
    if reads && matches!(path, "/health" | "/openapi.json") {
        return None;
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    Some(match (reads, parts.as_slice()) {
        (true, ["components", ..]) => Role::Editor,
        (true, _) => Role::Viewer,
        (false, ["locations", _, "grants"]) => Role::Admin,
        (false, ["locations", _]) if *method == Method::DELETE => Role::Admin,
        (false, _) => Role::Editor,
    })
}

/// Lets a request through when no token is configured, or when it carries a token whose
/// role is the one it needs; otherwise answers 401 (no token, an unknown one) or 403 (a
/// role short of it).
pub(crate) async fn require_token(
    State(auth): State<Arc<Auth>>,
    request: Request,
    next: Next,
) -> Response {
    if auth.tokens.is_empty() {
        return next.run(request).await;
    }
    let Some(needed) = required_role(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let refusal = match given.map(|given| auth.role_of(given.trim())) {
        Some(Some(role)) if role >= needed => None,
        Some(Some(role)) => Some((
            ErrorKind::Forbidden,
            format!(
                "{} token may not do this: it needs {} token",
                role.with_article(),
                needed.with_article()
            ),
        )),
        Some(None) => Some((
            ErrorKind::Unauthorized,
            "the bearer token is not one of this server's".to_owned(),
        )),
        None => Some((
            ErrorKind::Unauthorized,
            "this server requires a token: send `Authorization: Bearer <token>`".to_owned(),
        )),
    };
    match refusal {
        None => next.run(request).await,
        Some((kind, refusal)) => {
            // Read what the client is still sending, so that it gets this answer rather than
            // a connection reset in the middle of its upload.
            crate::drain::drain(request.into_body(), auth.drain_limit).await;
            ApiError::new(kind, refusal).into_response()
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

    #[test]
    fn each_route_needs_its_role() {
        let get = Method::GET;
        assert_eq!(required_role(&get, "/api/health"), None);
        assert_eq!(required_role(&get, "/openapi.json"), None);
        assert_eq!(
            required_role(&get, "/api/locations/n/grants"),
            Some(Role::Viewer)
        );
        assert_eq!(required_role(&get, "/components/abc"), Some(Role::Editor));
        assert_eq!(required_role(&Method::POST, "/runs"), Some(Role::Editor));
        assert_eq!(
            required_role(&Method::POST, "/api/locations/n"),
            Some(Role::Editor)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/locations/n"),
            Some(Role::Admin)
        );
        assert_eq!(
            required_role(&Method::PUT, "/locations/n/grants"),
            Some(Role::Admin)
        );
        assert_eq!(required_role(&Method::POST, "/health"), Some(Role::Editor));
    }

    #[test]
    fn tokens_are_known_by_their_digest_and_the_best_role_wins() {
        let hex = ApiToken::sha256_hex("viewer-secret");
        let auth = Auth {
            tokens: vec![
                ApiToken::from_sha256_hex(Role::Viewer, &hex).unwrap(),
                ApiToken::from_secret(Role::Admin, "admin-secret"),
            ],
            drain_limit: 0,
        };
        assert_eq!(auth.role_of("viewer-secret"), Some(Role::Viewer));
        assert_eq!(auth.role_of("admin-secret"), Some(Role::Admin));
        assert_eq!(auth.role_of("guess"), None);
        assert!(ApiToken::from_sha256_hex(Role::Viewer, "abc").is_err());
        assert!(ApiToken::from_sha256_hex(Role::Viewer, &"g".repeat(64)).is_err());
        assert_eq!(
            format!("{:?}", auth.tokens[1]),
            "ApiToken(admin, sha256:…)",
            "a token's digest is never printed"
        );
    }
}
