//! List and watch of the test double of the Kubernetes API server (not a Kubernetes): list
//! pages (`limit`/`continue`), and watches that replay the changes after a resourceVersion and
//! then stream the live ones as newline-delimited `WatchEvent` JSON, as the real server does:
//! synthetic ADDED events for the current state when no resourceVersion is given, ADDED and
//! DELETED when an object starts or stops matching the selectors, BOOKMARKs when asked for,
//! an ERROR event with 410 Expired for a resourceVersion older than the kept history, and the
//! end of the stream at `timeoutSeconds`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::select::Filter;
use crate::status::ApiError;
use crate::store::{EventType, Kind, Shared, State};

/// Whether the client asked for whole objects or only their metadata
/// (`Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1`, as kube's
/// `metadata_watcher` and `Api::get_metadata` do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repr {
    Full,
    Metadata,
}

pub(crate) fn repr(headers: &HeaderMap) -> Repr {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("as=PartialObjectMetadata") {
        Repr::Metadata
    } else {
        Repr::Full
    }
}

/// An object as the server writes it: with `apiVersion` and `kind`.
pub(crate) fn render<K: Kind>(obj: &K, repr: Repr) -> Value {
    match repr {
        Repr::Full => serde_json::to_value(obj).unwrap_or(Value::Null),
        Repr::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": serde_json::to_value(obj.metadata()).unwrap_or(Value::Null),
        }),
    }
}

/// One page of a list request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Page {
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

/// A list answer: `<Kind>List` with `metadata.resourceVersion`, its items without
/// `apiVersion`/`kind` (the real server leaves them out of typed list items).
pub(crate) fn list<K: Kind>(
    state: &State,
    filter: &Filter,
    page: &Page,
    repr: Repr,
) -> Result<Value, ApiError> {
    let after = match page.continue_token.as_deref() {
        None | Some("") => None,
        Some(token) => Some(
            token
                .split_once('/')
                .map(|(ns, name)| (ns.to_string(), name.to_string()))
                .ok_or_else(|| ApiError::bad_request("invalid continue token"))?,
        ),
    };
    let matching: Vec<(&(String, String), &K)> = K::table(state)
        .objects
        .iter()
        .filter(|(key, _)| after.as_ref().is_none_or(|a| *key > a))
        .filter(|(_, obj)| filter.matches(*obj))
        .collect();
    let limit = page.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let taken = matching.len().min(limit);
    let mut metadata = json!({ "resourceVersion": state.rv.to_string() });
    if taken < matching.len()
        && let Some(((ns, name), _)) = matching.get(taken.wrapping_sub(1))
    {
        metadata["continue"] = json!(format!("{ns}/{name}"));
        metadata["remainingItemCount"] = json!(matching.len() - taken);
    }
    let items: Vec<Value> = matching
        .iter()
        .take(taken)
        .map(|(_, obj)| {
            let mut value = render(*obj, repr);
            if repr == Repr::Full
                && let Some(map) = value.as_object_mut()
            {
                map.remove("apiVersion");
                map.remove("kind");
            }
            value
        })
        .collect();
    let (kind, api_version) = match repr {
        Repr::Full => (K::LIST_KIND, K::API_VERSION),
        Repr::Metadata => ("PartialObjectMetadataList", "meta.k8s.io/v1"),
    };
    Ok(json!({
        "kind": kind,
        "apiVersion": api_version,
        "metadata": metadata,
        "items": items,
    }))
}

/// What a watch asks for besides its filter.
#[derive(Debug, Clone)]
pub(crate) struct WatchOptions {
    /// The resourceVersion to start after; None for unset or "0" (current state first).
    pub from: Option<u64>,
    pub timeout: Duration,
    pub bookmarks: bool,
    /// `sendInitialEvents=true`: the current state, then a bookmark marking its end.
    pub initial_events: bool,
    pub repr: Repr,
}

/// One watch event line, `type` first as the real server writes it.
fn line(event_type: &str, object: Value) -> Bytes {
    Bytes::from(format!(
        "{{\"type\":{},\"object\":{object}}}\n",
        Value::from(event_type)
    ))
}

fn bookmark<K: Kind>(rv: u64, initial_end: bool) -> Bytes {
    let mut metadata = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        metadata["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    line(
        "BOOKMARK",
        json!({ "kind": K::KIND, "apiVersion": K::API_VERSION, "metadata": metadata }),
    )
}

/// What one look at the store found for a watch: lines to send, and the resourceVersion
/// the watch has now seen everything up to.
fn collect<K: Kind>(state: &State, filter: &Filter, after: u64, repr: Repr) -> (Vec<Bytes>, u64) {
    let table = K::table(state);
    let start = table.events.partition_point(|e| e.rv <= after);
    let mut lines = Vec::new();
    for event in table.events.iter().skip(start) {
        let now = filter.matches(&event.new);
        let before = event.old.as_ref().is_some_and(|o| filter.matches(o));
        let event_type = match (event.kind, before, now) {
            (EventType::Added, _, true) => "ADDED",
            (EventType::Modified, true, true) => "MODIFIED",
            (EventType::Modified, false, true) => "ADDED",
            (EventType::Modified, true, false) => "DELETED",
            (EventType::Deleted, _, true) => "DELETED",
            _ => continue,
        };
        lines.push(line(event_type, render(&event.new, repr)));
    }
    (lines, state.rv)
}

/// Starts a watch and answers with its stream.
pub(crate) fn watch<K: Kind>(shared: Arc<Shared>, filter: Filter, opts: WatchOptions) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    tokio::spawn(run::<K>(shared, filter, opts, tx));
    let body = Body::from_stream(stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

async fn send_all(tx: &mpsc::Sender<Bytes>, lines: Vec<Bytes>) -> bool {
    for l in lines {
        if tx.send(l).await.is_err() {
            return false;
        }
    }
    true
}

async fn run<K: Kind>(
    shared: Arc<Shared>,
    filter: Filter,
    opts: WatchOptions,
    tx: mpsc::Sender<Bytes>,
) {
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let mut changes = shared.subscribe();
    changes.borrow_and_update();
    // The starting point: the current state (synthetic ADDED events), or a resourceVersion.
    let (first, mut seen, expired) = shared.read(|state| {
        let table = K::table(state);
        match opts.from {
            Some(rv) if rv < table.compacted => (Vec::new(), rv, true),
            Some(rv) if !opts.initial_events => {
                let (lines, seen) = collect::<K>(state, &filter, rv, opts.repr);
                (lines, seen, false)
            }
            _ => {
                let lines = table
                    .objects
                    .values()
                    .filter(|o| filter.matches(*o))
                    .map(|o| line("ADDED", render(o, opts.repr)))
                    .collect();
                (lines, state.rv, false)
            }
        }
    });
    if expired {
        let status = ApiError::expired(format!(
            "too old resource version: {} ({})",
            opts.from.unwrap_or_default(),
            shared.read(|s| K::table(s).compacted)
        ))
        .status();
        let _ = tx
            .send(line(
                "ERROR",
                serde_json::to_value(status).unwrap_or(Value::Null),
            ))
            .await;
        return;
    }
    if !send_all(&tx, first).await {
        return;
    }
    if opts.initial_events && opts.bookmarks && tx.send(bookmark::<K>(seen, true)).await.is_err() {
        return;
    }
    let interval = shared.config.bookmark_interval;
    let mut next_bookmark = tokio::time::Instant::now() + interval;
    loop {
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep_until(deadline) => return,
            () = tokio::time::sleep_until(next_bookmark), if opts.bookmarks => {
                next_bookmark = tokio::time::Instant::now() + interval;
                if tx.send(bookmark::<K>(seen, false)).await.is_err() {
                    return;
                }
                continue;
            }
            () = tx.closed() => return,
        }
        changes.borrow_and_update();
        let (lines, now_seen) = shared.read(|state| collect::<K>(state, &filter, seen, opts.repr));
        seen = now_seen;
        if !send_all(&tx, lines).await {
            return;
        }
    }
}
