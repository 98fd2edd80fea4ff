//! What keeps a web page the user visits from driving the API through their browser: a
//! request whose `Host` is not one of this server's names is refused (DNS rebinding: a
//! hostile name resolved to 127.0.0.1), and so is a change sent across origins (its
//! `Origin` is another site's, or `Sec-Fetch-Site` says so) or in a form's content type (a
//! cross-site form needs no permission to post `text/plain`, `multipart/form-data` or
//! `application/x-www-form-urlencoded`): changes are JSON, or a component's bytes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorKind};

/// The names the server answers to: `host[:port]`, compared without case. Empty: any (a
/// server bound to every address, whose names the deployment gives).
pub(crate) struct Guard {
    pub(crate) hosts: Vec<String>,
    pub(crate) drain_limit: usize,
}

/// The content types a change may be sent in.
const CHANGE_TYPES: [&str; 3] = [
    "application/json",
    "application/wasm",
    "application/octet-stream",
];

/// The names a server listening on `address` answers to: weft.yaml's `api_hosts` (each as
/// given and at the port), and, when it listens on a loopback address, 127.0.0.1,
/// localhost and [::1] (as given and at its port: a proxy in front may drop the port).
/// None (any name) when it listens on another address and weft.yaml names none.
pub fn answers_to(address: SocketAddr, configured: &[String]) -> Vec<String> {
    let port = address.port();
    let mut hosts: Vec<String> = configured
        .iter()
        .flat_map(|name| {
            [
                name.to_ascii_lowercase(),
                format!("{name}:{port}").to_ascii_lowercase(),
            ]
        })
        .collect();
    if address.ip().is_loopback() {
        for name in ["127.0.0.1", "localhost", "[::1]"] {
            hosts.extend([name.to_owned(), format!("{name}:{port}")]);
        }
    } else if !hosts.is_empty() {
        hosts.push(address.to_string());
    }
    hosts
}

/// Why `method` with `headers` is refused, if it is.
pub(crate) fn refusal(guard: &Guard, method: &Method, headers: &HeaderMap) -> Option<ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !guard.hosts.is_empty() && !guard.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Some(ApiError::new(
            ErrorKind::Forbidden,
            format!(
                "this server does not answer to the name {host:?}: it answers to {}",
                guard.hosts.join(", ")
            ),
        ));
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|o| {
            o.split_once("://")
                .map_or(o, |(_, rest)| rest)
                .to_ascii_lowercase()
        });
    let cross_origin =
        matches!(site, "cross-site" | "same-site") || origin.is_some_and(|origin| origin != host);
    if cross_origin {
        return Some(ApiError::new(
            ErrorKind::Forbidden,
            "a change from another site's page is refused: the API takes changes from its own \
             web UI and from clients that are not browsers",
        ));
    }
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|n| n.trim() != "0");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let typed = content_type
        .as_deref()
        .is_some_and(|t| CHANGE_TYPES.contains(&t));
    if has_body && !typed {
        return Some(ApiError::new(
            ErrorKind::UnsupportedMediaType,
            format!(
                "a change is sent as application/json, or a component as application/wasm or \
                 application/octet-stream, not as {}",
                content_type
                    .as_deref()
                    .unwrap_or("a body without a content type")
            ),
        ));
    }
    None
}

/// Lets through what [`refusal`] does not refuse.
pub(crate) async fn guard(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    match refusal(&guard, request.method(), request.headers()) {
        None => next.run(request).await,
        Some(refused) => {
            // Read what the client is still sending, so that it gets this answer rather than
            // a connection reset in the middle of its upload.
            crate::drain::drain(request.into_body(), guard.drain_limit).await;
            refused.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn browsers_are_kept_to_the_servers_own_pages() {
        let guard = Guard {
            hosts: vec!["127.0.0.1:3000".into(), "localhost:3000".into()],
            drain_limit: 0,
        };
        let host = ("host", "127.0.0.1:3000");
        let json = ("content-type", "application/json");
        let some_body = ("content-length", "2");
        let refused = |method: Method, pairs: &[(&'static str, &str)]| {
            refusal(&guard, &method, &headers(pairs)).map(|e| e.kind)
        };
        assert_eq!(refused(Method::GET, &[host]), None);
        assert_eq!(refused(Method::POST, &[host, json, some_body]), None);
        assert_eq!(refused(Method::POST, &[host]), None, "no body, no type");
        assert_eq!(
            refused(Method::GET, &[("host", "evil.example:3000")]),
            Some(ErrorKind::Forbidden)
        );
        assert_eq!(
            refused(
                Method::POST,
                &[host, json, some_body, ("origin", "http://evil.example")]
            ),
            Some(ErrorKind::Forbidden)
        );
        assert_eq!(
            refused(
                Method::POST,
                &[host, json, some_body, ("origin", "http://127.0.0.1:3000")]
            ),
            None
        );
        assert_eq!(
            refused(Method::DELETE, &[host, ("sec-fetch-site", "cross-site")]),
            Some(ErrorKind::Forbidden)
        );
        for form in [
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
        ] {
            assert_eq!(
                refused(Method::POST, &[host, some_body, ("content-type", form)]),
                Some(ErrorKind::UnsupportedMediaType),
                "{form}"
            );
        }
        let any = Guard {
            hosts: Vec::new(),
            drain_limit: 0,
        };
        assert!(refusal(&any, &Method::GET, &headers(&[("host", "weft.svc:8080")])).is_none());
    }

    #[test]
    fn a_server_answers_to_its_own_names() {
        let local: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let names = answers_to(local, &[]);
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "[::1]:3000",
            "localhost",
        ] {
            assert!(names.contains(&host.to_owned()), "{names:?}");
        }
        assert!(!names.contains(&"evil.example:3000".to_owned()));
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(answers_to(any, &[]).is_empty(), "any name");
        let named = answers_to(any, &["Weft.Example.com".into()]);
        for host in ["weft.example.com", "weft.example.com:8080", "0.0.0.0:8080"] {
            assert!(named.contains(&host.to_owned()), "{named:?}");
        }
    }
}
