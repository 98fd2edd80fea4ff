//! Container logs, as a kubelet keeps and serves them: each container's stdout and stderr,
//! interleaved line by line (one pipe, so in the order the process wrote), each line with
//! its time; served over HTTPS at `/containerLogs/{namespace}/{pod}/{container}`, where
//! kube-apiserver's `pods/{name}/log` subresource proxies, with `follow` (streaming until
//! the container exits), `tailLines`, `timestamps`, `sinceSeconds`, `sinceTime`,
//! `limitBytes` and `previous` (the container's run before its last restart).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use k8s_openapi::jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::{Error, Kubelet};

/// The log of one container: whole lines (the last one may lack its newline) with their times.
pub(crate) struct PodLog {
    lines: Mutex<LogLines>,
    changed: watch::Sender<usize>,
}

#[derive(Default)]
struct LogLines {
    lines: Vec<(Timestamp, Bytes)>,
    closed: bool,
}

impl PodLog {
    pub fn new() -> Self {
        PodLog {
            lines: Mutex::new(LogLines::default()),
            changed: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogLines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, line: Vec<u8>) {
        let count = {
            let mut lines = self.lock();
            lines.lines.push((Timestamp::now(), Bytes::from(line)));
            lines.lines.len()
        };
        self.changed.send_replace(count);
    }

    /// The container exited: followers end after the last line.
    pub fn close(&self) {
        let count = {
            let mut lines = self.lock();
            lines.closed = true;
            lines.lines.len()
        };
        self.changed.send_replace(count);
    }

    /// Lines from index `from` on, and whether the log is complete.
    fn since(&self, from: usize) -> (Vec<(Timestamp, Bytes)>, bool) {
        let lines = self.lock();
        (
            lines.lines.iter().skip(from).cloned().collect(),
            lines.closed,
        )
    }

    /// The last `count` lines of the log as it is now (all of it when None).
    pub fn tail(&self, count: Option<usize>) -> Vec<u8> {
        let lines = self.lock();
        let skip = count.map_or(0, |c| lines.lines.len().saturating_sub(c));
        lines
            .lines
            .iter()
            .skip(skip)
            .flat_map(|(_, l)| l.iter().copied())
            .collect()
    }
}

fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query
        .get(name)
        .is_some_and(|v| v == "true" || v == "1" || v.is_empty())
}

fn number<T: std::str::FromStr>(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, Refusal> {
    query
        .get(name)
        .map(|v| {
            v.parse()
                .map_err(|_| bad_request(format!("invalid {name}: {v:?}")))
        })
        .transpose()
}

/// Starts the log server on a free port of 127.0.0.1; returns the port.
pub(crate) async fn serve(kubelet: Arc<Kubelet>) -> Result<u16, Error> {
    let io = |doing: &str| {
        let doing = doing.to_owned();
        move |source| Error::Io { doing, source }
    };
    let inner = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(io("binding the log server"))?;
    let port = inner
        .local_addr()
        .map_err(io("the log server's port"))?
        .port();
    let listener = crate::tls::TlsListener {
        inner,
        acceptor: tokio_rustls::TlsAcceptor::from(crate::tls::server_config()?),
    };
    let routes = axum::Router::new()
        .route(
            "/containerLogs/{namespace}/{pod}/{container}",
            axum::routing::get(container_log),
        )
        .with_state(kubelet);
    tokio::spawn(async move { axum::serve(listener, routes).await });
    Ok(port)
}

/// A request the log server refuses: its status and why.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

fn bad_request(message: String) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message)
}

/// `GET /containerLogs/{namespace}/{pod}/{container}`.
async fn container_log(
    State(kubelet): State<Arc<Kubelet>>,
    Path((ns, name, container)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let not_found = || {
        Refusal(
            StatusCode::NOT_FOUND,
            format!("container {container:?} of pod {ns}/{name} is not on this node"),
        )
    };
    let pod = kubelet.pod(&ns, &name).ok_or_else(not_found)?;
    if pod.container != container {
        return Err(not_found());
    }
    let log = if flag(&query, "previous") {
        pod.previous_log().ok_or_else(|| {
            bad_request(format!(
                "previous terminated container {container:?} in pod {name:?} not found"
            ))
        })?
    } else {
        pod.log()
    };
    let follow = flag(&query, "follow");
    let timestamps = flag(&query, "timestamps");
    let tail: Option<usize> = number(&query, "tailLines")?;
    let limit: Option<usize> = number(&query, "limitBytes")?;
    let since = match (
        number::<i64>(&query, "sinceSeconds")?,
        query.get("sinceTime"),
    ) {
        (Some(secs), _) => Timestamp::now()
            .checked_sub(k8s_openapi::jiff::SignedDuration::from_secs(secs))
            .ok(),
        (None, Some(t)) => Some(
            t.parse::<Timestamp>()
                .map_err(|_| bad_request(format!("invalid sinceTime: {t:?}")))?,
        ),
        (None, None) => None,
    };
    let render = move |time: &Timestamp, line: &Bytes| -> Option<Bytes> {
        if since.is_some_and(|s| *time < s) {
            return None;
        }
        if timestamps {
            let mut out = format!("{time} ").into_bytes();
            out.extend_from_slice(line);
            Some(Bytes::from(out))
        } else {
            Some(line.clone())
        }
    };
    let (first, closed) = log.since(0);
    let skip = tail.map_or(0, |t| first.len().saturating_sub(t));
    let mut seen = first.len();
    let first: Vec<Bytes> = first
        .iter()
        .skip(skip)
        .filter_map(|(t, l)| render(t, l))
        .collect();
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let mut budget = limit.unwrap_or(usize::MAX);
        let mut send = async |chunk: Bytes| -> bool {
            if budget == 0 {
                return false;
            }
            let chunk = if chunk.len() > budget {
                chunk.slice(..budget)
            } else {
                chunk
            };
            budget -= chunk.len();
            tx.send(chunk).await.is_ok()
        };
        for chunk in first {
            if !send(chunk).await {
                return;
            }
        }
        if !follow || closed {
            return;
        }
        let mut changes = log.changed.subscribe();
        loop {
            changes.borrow_and_update();
            let (more, closed) = log.since(seen);
            seen += more.len();
            for (t, l) in &more {
                if let Some(chunk) = render(t, l)
                    && !send(chunk).await
                {
                    return;
                }
            }
            if closed || changes.changed().await.is_err() {
                return;
            }
        }
    });
    let body = Body::from_stream(stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response())
}
