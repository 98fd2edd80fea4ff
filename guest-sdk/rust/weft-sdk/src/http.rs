//! Outbound HTTP from an op: a small blocking client over `wasi:http`, built on
//! [wstd](https://docs.rs/wstd) (the Bytecode Alliance's async standard library for WASI
//! 0.2; ops are synchronous, so each request is driven to its end with `block_on`).
//!
//! ```ignore
//! use weft_sdk::http;
//!
//! #[op]
//! fn latest_rates() -> Result<serde_json::Value, http::Error> {
//!     let rates = http::get("https://api.example.com/rates")?.error_for_status()?;
//!     rates.json()
//! }
//! ```
//!
//! Nothing is reachable unless the location is granted it (`--grant-host
//! https://api.example.com`, or `hosts:` in weft.yaml). The host checks every request,
//! redirects included, before it connects, does TLS itself, and holds the step to its
//! deadline and network budget; a refused request is an [`Error`] naming the grant that
//! would allow it. Redirects (301, 302, 303, 307, 308) are followed, up to 10.

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// How many redirects one request follows.
const MAX_REDIRECTS: usize = 10;

/// Why a request failed: refused by the host (not granted, over budget), unreachable, a
/// timeout, or an answer that is not what was asked for. Its text is the host's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<Error> for crate::Failure {
    /// A failed request fails the op as retryable (the network may answer next time).
    fn from(e: Error) -> Self {
        crate::Failure::retryable(e.0)
    }
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, Error> {
    Request::get(url).send()
}

/// `POST url` with `body` as JSON.
pub fn post_json<T: Serialize + ?Sized>(url: &str, body: &T) -> Result<Response, Error> {
    Request::post(url).json(body)?.send()
}

/// A request to build and [`send`](Request::send).
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) timeout: Option<Duration>,
}

impl Request {
    /// A request of any method: `Request::new("PATCH", url)`.
    pub fn new(method: &str, url: &str) -> Self {
        Request {
            method: method.to_ascii_uppercase(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }

    pub fn get(url: &str) -> Self {
        Self::new("GET", url)
    }

    pub fn post(url: &str) -> Self {
        Self::new("POST", url)
    }

    pub fn put(url: &str) -> Self {
        Self::new("PUT", url)
    }

    pub fn delete(url: &str) -> Self {
        Self::new("DELETE", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The body, as bytes.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The body, `value` as JSON (with `content-type: application/json`).
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        let body = serde_json::to_vec(value).map_err(|e| Error::new(format!("JSON body: {e}")))?;
        Ok(self.header("content-type", "application/json").body(body))
    }

    /// How long connecting, the first byte of the answer, and each gap between its bytes
    /// may take. The step's deadline bounds them all anyway.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request, following redirects, and reads the whole answer.
    pub fn send(self) -> Result<Response, Error> {
        let mut request = self;
        for _ in 0..=MAX_REDIRECTS {
            let response = wasi::send(&request)?;
            match redirect(&request, &response)? {
                Some(next) => request = next,
                None => return Ok(response),
            }
        }
        Err(Error::new(format!(
            "{}: more than {MAX_REDIRECTS} redirects",
            request.url
        )))
    }
}

/// The request a redirect answer asks for, if it is one.
fn redirect(request: &Request, response: &Response) -> Result<Option<Request>, Error> {
    if !matches!(response.status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = response.header("location") else {
        return Ok(None);
    };
    let url = resolve(&request.url, location)?;
    let mut next = request.clone();
    next.url = url;
    // 303 (and 301/302 after a POST, as browsers do) turn into a GET without a body.
    if response.status == 303 || (matches!(response.status, 301 | 302) && request.method == "POST")
    {
        next.method = "GET".into();
        next.body.clear();
        next.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
    }
    Ok(Some(next))
}

/// `location` resolved against `base`: absolute (`https://b/x`), scheme-relative
/// (`//b/x`), absolute path (`/x`) or relative path (`x`).
pub(crate) fn resolve(base: &str, location: &str) -> Result<String, Error> {
    if location.contains("://") {
        return Ok(location.to_owned());
    }
    let (scheme, rest) = base
        .split_once("://")
        .ok_or_else(|| Error::new(format!("{base}: not an absolute URL")))?;
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{scheme}://{rest}"));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..authority_end]);
    if location.starts_with('/') {
        return Ok(format!("{origin}{location}"));
    }
    let path = rest[authority_end..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    Ok(format!("{origin}{dir}{location}"))
}

/// An answer, read whole.
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// The status code: `200`.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Error::new(format!("the answer is not the JSON expected: {e}")))
    }

    /// This answer, or an error if its status is 4xx or 5xx.
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.status >= 400 {
            let text = self.text();
            let text: String = text.chars().take(200).collect();
            return Err(Error::new(format!("HTTP {}: {text}", self.status)));
        }
        Ok(self)
    }
}

#[cfg(target_arch = "wasm32")]
mod wasi {
    //! The request on wstd's client.
    use super::{Error, Request, Response};
    use wasip2::http::types::ErrorCode;
    use wstd::http::{Body, Client};

    pub(super) fn send(request: &Request) -> Result<Response, Error> {
        wstd::runtime::block_on(async {
            let mut client = Client::new();
            if let Some(t) = request.timeout {
                client.set_connect_timeout(t);
                client.set_first_byte_timeout(t);
                client.set_between_bytes_timeout(t);
            }
            let mut builder = wstd::http::Request::builder()
                .method(request.method.as_str())
                .uri(request.url.as_str());
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let wasi_request = builder
                .body(Body::from(request.body.clone()))
                .map_err(|e| Error::new(format!("{}: {e}", request.url)))?;
            let response = client
                .send(wasi_request)
                .await
                .map_err(|e| error(&request.url, &e))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = response.into_body();
            let body = body
                .contents()
                .await
                .map_err(|e| error(&request.url, &e))?
                .to_vec();
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }

    /// The host's words when it said something (a refusal, a budget), else the error's.
    fn error(url: &str, e: &wstd::http::Error) -> Error {
        let said = e
            .chain()
            .find_map(|cause| match cause.downcast_ref::<ErrorCode>() {
                Some(ErrorCode::InternalError(Some(message))) => Some(message.clone()),
                Some(code) => Some(describe(code)),
                None => None,
            });
        Error::new(match said {
            Some(message) => format!("{url}: {message}"),
            None => format!("{url}: {e:#}"),
        })
    }

    fn describe(code: &ErrorCode) -> String {
        match code {
            ErrorCode::ConnectionRefused => "connection refused".into(),
            ErrorCode::ConnectionTimeout => "connection timed out".into(),
            ErrorCode::ConnectionReadTimeout => "timed out waiting for the answer".into(),
            ErrorCode::HttpResponseTimeout => "timed out waiting for the answer".into(),
            ErrorCode::DnsError(_) => "the host name does not resolve".into(),
            ErrorCode::TlsCertificateError => "TLS certificate error".into(),
            ErrorCode::TlsProtocolError => "TLS protocol error".into(),
            ErrorCode::HttpRequestUriInvalid => "not a valid URL".into(),
            other => format!("{other:?}"),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod wasi {
    //! Outside a component (unit tests of ops on the host) there is no wasi:http.
    use super::{Error, Request, Response};

    pub(super) fn send(request: &Request) -> Result<Response, Error> {
        Err(Error::new(format!(
            "{}: HTTP is only available inside a Weft code location",
            request.url
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_locations_resolve_against_the_request() {
        let base = "http://127.0.0.1:8080/a/b?q=1";
        assert_eq!(resolve(base, "https://x.org/y").unwrap(), "https://x.org/y");
        assert_eq!(resolve(base, "//x.org/y").unwrap(), "http://x.org/y");
        assert_eq!(resolve(base, "/c").unwrap(), "http://127.0.0.1:8080/c");
        assert_eq!(resolve(base, "c").unwrap(), "http://127.0.0.1:8080/a/c");
        assert_eq!(resolve("http://h", "c").unwrap(), "http://h/c");
    }

    #[test]
    fn a_see_other_turns_a_post_into_a_get() {
        let post = Request::post("http://h/a").json(&[1]).unwrap();
        let answer = |status| Response {
            status,
            headers: vec![("Location".into(), "/b".into())],
            body: Vec::new(),
        };
        let next = redirect(&post, &answer(303)).unwrap().unwrap();
        assert_eq!(
            (next.method.as_str(), next.url.as_str()),
            ("GET", "http://h/b")
        );
        assert!(next.body.is_empty());
        let next = redirect(&post, &answer(307)).unwrap().unwrap();
        assert_eq!(next.method, "POST");
        assert_eq!(next.body, b"[1]");
        assert!(redirect(&post, &answer(200)).unwrap().is_none());
    }

    #[test]
    fn outside_a_component_a_request_says_why_it_cannot_go() {
        let error = get("http://h/").unwrap_err().to_string();
        assert!(
            error.contains("only available inside a Weft code location"),
            "{error}"
        );
    }

    #[test]
    fn error_statuses_become_errors() {
        let answer = Response {
            status: 404,
            headers: Vec::new(),
            body: b"no such thing".to_vec(),
        };
        assert_eq!(
            answer.error_for_status().unwrap_err().to_string(),
            "HTTP 404: no such thing"
        );
    }
}
