//! Container logs in the test double of the Kubernetes API server (not a Kubernetes): the
//! "kubelet" keeps each pod's stdout and stderr interleaved line by line in one log, with the
//! time of each line, as the container runtime does, and `GET .../pods/{name}/log` serves it
//! with `follow` (streaming until the container exits), `tailLines`, `timestamps`,
//! `sinceSeconds`, `sinceTime`, `limitBytes` and `container`, answering 400 for a container
//! that has not started, as the real API server does.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::status::ApiError;
use crate::store::{Kind, Shared};

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
) -> Result<Option<T>, ApiError> {
    query
        .get(name)
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid {name}: {v:?}")))
        })
        .transpose()
}

/// `GET /api/v1/namespaces/{ns}/pods/{name}/log`.
pub(crate) async fn pod_log(
    State(shared): State<Arc<Shared>>,
    Path((ns, name)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let pod = shared
        .read(|s| s.get::<Pod>(&ns, &name).cloned())
        .ok_or_else(|| ApiError::not_found(Pod::resource(), &name))?;
    let spec = pod.spec.clone().unwrap_or_default();
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    let container = match query.get("container") {
        Some(c) if !names.contains(&c.as_str()) => {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        Some(c) => c.clone(),
        None => match names.as_slice() {
            [one] => (*one).to_string(),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    names.join(" ")
                )));
            }
        },
    };
    if flag(&query, "previous") {
        return Err(ApiError::bad_request(format!(
            "previous terminated container {container:?} in pod {name:?} not found"
        )));
    }
    let state = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.iter().find(|c| c.name == container))
        .and_then(|c| c.state.clone())
        .unwrap_or_default();
    if state.running.is_none() && state.terminated.is_none() {
        let reason = state
            .waiting
            .and_then(|w| w.reason)
            .unwrap_or_else(|| "ContainerCreating".to_string());
        return Err(ApiError::bad_request(format!(
            "container {container:?} in pod {name:?} is waiting to start: {reason}"
        )));
    }
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let Some(log) = shared.read(|s| s.procs.get(&uid).map(|p| p.log.clone())) else {
        return Ok((StatusCode::OK, "").into_response());
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
                .map_err(|_| ApiError::bad_request(format!("invalid sinceTime: {t:?}")))?,
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
