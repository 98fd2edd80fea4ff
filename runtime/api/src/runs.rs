//! `/api/runs`: launch a job or an asset selection, list runs with filters page by page
//! (`before` the last run of the previous page), read one run with a summary of its steps
//! (for the Gantt chart; from its step lifecycle events only), cancel, re-execute, page
//! through its events or follow them live over server-sent events, and read a step's
//! compute logs.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_core::events::{Event, EventKind, RunStatus, StepCost};
use weft_core::run::RunFilter;

use crate::AppState;
use crate::error::{ApiError, ErrorKind};
use crate::extract::{Json as Body, Path, Query};
use crate::live::{Progress, Subscription};
use crate::service::{ControlPlane, LaunchRequest, Reexecute};

/// The most runs one list returns.
const MAX_LIST: u32 = 1000;

/// The most events one page returns.
const MAX_PAGE: u32 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    job: Option<String>,
    #[serde(default)]
    location: Option<String>,
    /// `key=value`.
    #[serde(default)]
    tag: Option<String>,
    /// The last run of the previous page: this page lists the runs after it.
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

pub(crate) async fn list<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let status = match &query.status {
        Some(text) => Some(RunStatus::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown run status {text:?} (QUEUED, NOT_STARTED, STARTING, STARTED, SUCCESS, FAILURE, CANCELING, CANCELED)"
            ))
        })?),
        None => None,
    };
    let tag = match &query.tag {
        Some(text) => match text.split_once('=') {
            Some((k, v)) if !k.is_empty() => Some((k.to_owned(), v.to_owned())),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "tag filter {text:?} is not key=value"
                )));
            }
        },
        None => None,
    };
    let filter = RunFilter {
        status,
        job: query.job,
        location: query.location,
        tag,
        before: query.before,
        limit: Some(query.limit.unwrap_or(100).clamp(1, MAX_LIST)),
    };
    Ok(Json(state.service.runs(filter).await?).into_response())
}

pub(crate) async fn launch<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Body(request): Body<LaunchRequest>,
) -> Result<Response, ApiError> {
    let run_id = state.service.launch(request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "run_id": run_id }))).into_response())
}

/// What a step did in a run, from its events.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct StepSummary {
    pub(crate) key: String,
    /// `RUNNING`, `RETRYING`, `SUCCESS`, `FAILURE` or `SKIPPED`.
    pub(crate) status: &'static str,
    pub(crate) start_ms: Option<i64>,
    pub(crate) end_ms: Option<i64>,
    pub(crate) attempts: u32,
    /// What its last attempt cost, when a guest ran it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cost: Option<StepCost>,
}

/// Each step's summary, in the order the steps first appear in `events`.
pub(crate) fn step_summaries<'e>(events: impl IntoIterator<Item = &'e Event>) -> Vec<StepSummary> {
    let mut order: Vec<String> = Vec::new();
    let mut steps: BTreeMap<String, StepSummary> = BTreeMap::new();
    for event in events {
        let Some(key) = &event.step_key else { continue };
        let step = steps.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            StepSummary {
                key: key.clone(),
                status: "RUNNING",
                start_ms: None,
                end_ms: None,
                attempts: 0,
                cost: None,
            }
        });
        let at = Some(event.timestamp_ms);
        match &event.kind {
            EventKind::StepStart { .. } => {
                step.attempts += 1;
                step.status = "RUNNING";
                step.start_ms = step.start_ms.or(at);
            }
            EventKind::StepUpForRetry { cost, .. } => {
                step.status = "RETRYING";
                step.cost = *cost;
            }
            EventKind::StepSuccess { cost, .. } => {
                (step.status, step.end_ms) = ("SUCCESS", at);
                step.cost = *cost;
            }
            EventKind::StepFailure { cost, .. } => {
                (step.status, step.end_ms) = ("FAILURE", at);
                step.cost = *cost;
            }
            EventKind::StepSkipped { .. } => (step.status, step.end_ms) = ("SKIPPED", at),
            _ => {}
        }
    }
    order.into_iter().filter_map(|k| steps.remove(&k)).collect()
}

pub(crate) async fn get<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(run_id): Path<String>,
) -> Result<Response, ApiError> {
    let run = state.service.run(&run_id).await?;
    let events = state.service.step_events(&run_id).await?;
    let mut value = serde_json::to_value(&run).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Value::Object(map) = &mut value {
        let steps = serde_json::to_value(step_summaries(&events))
            .map_err(|e| ApiError::internal(e.to_string()))?;
        map.insert("steps".into(), steps);
    }
    Ok(Json(value).into_response())
}

pub(crate) async fn cancel<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(run_id): Path<String>,
) -> Result<Response, ApiError> {
    let status = state.service.cancel(&run_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "run_id": run_id, "status": status })),
    )
        .into_response())
}

pub(crate) async fn reexecute<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(run_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // The body is optional: none means all steps.
    let how: Reexecute = if body.iter().all(u8::is_ascii_whitespace) {
        Reexecute::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("request body: {e}")))?
    };
    let new_run = state.service.reexecute(&run_id, how).await?;
    Ok((StatusCode::CREATED, Json(json!({ "run_id": new_run }))).into_response())
}

/// An event as the API shows it: its storage id, then the event's own fields.
fn event_json(id: i64, event: &Event) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("id".into(), Value::from(id));
    }
    value
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

pub(crate) async fn events<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(run_id): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Response, ApiError> {
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    // A run that does not exist is a 404, not an empty page.
    state.service.run(&run_id).await?;
    let page = state.service.events(&run_id, after, limit).await?;
    let cursor = page.last().map_or(after, |(id, _)| *id);
    let events: Vec<Value> = page.iter().map(|(id, e)| event_json(*id, e)).collect();
    Ok(Json(json!({ "events": events, "cursor": cursor })).into_response())
}

/// Where a live stream stands.
struct Follow<S> {
    state: AppState<S>,
    run_id: String,
    after: i64,
    ready: VecDeque<(i64, Event)>,
    /// Its run's progress, as the one poller publishes it (`live.rs`).
    live: Subscription,
    /// Nothing read yet: read at once rather than wait for the poller.
    first: bool,
    done: bool,
}

/// The next item of a live stream: a stored event, or the end once the run is over and
/// every event was sent.
async fn next_item<S: ControlPlane>(mut follow: Follow<S>) -> Option<(SseEvent, Follow<S>)> {
    loop {
        if let Some((id, event)) = follow.ready.pop_front() {
            let item = SseEvent::default()
                .event("event")
                .id(id.to_string())
                .data(event_json(id, &event).to_string());
            return Some((item, follow));
        }
        if follow.done {
            return None;
        }
        let seen = *follow.live.progress.borrow_and_update();
        if follow.first || seen.is_some_and(|p| p.last_event_id > follow.after) {
            follow.first = false;
            let service = follow.state.service.clone();
            match service.events(&follow.run_id, follow.after, MAX_PAGE).await {
                Ok(page) if !page.is_empty() => {
                    follow.after = page.last().map_or(follow.after, |(id, _)| *id);
                    follow.ready.extend(page);
                    continue;
                }
                Ok(_) => {
                    if let Some(p) = seen {
                        follow.after = follow.after.max(p.last_event_id);
                    }
                }
                Err(e) => {
                    return Some((
                        error_item(&e),
                        Follow {
                            done: true,
                            ..follow
                        },
                    ));
                }
            }
        }
        // The run's last event and its final status are stored together: once it is
        // finished and its last event sent, nothing more comes.
        if let Some(Progress {
            last_event_id,
            finished: Some(status),
        }) = seen
            && last_event_id <= follow.after
        {
            let item = SseEvent::default()
                .event("end")
                .data(json!({ "status": status }).to_string());
            return Some((
                item,
                Follow {
                    done: true,
                    ..follow
                },
            ));
        }
        if follow.live.progress.changed().await.is_err() {
            let gone = ApiError::new(ErrorKind::Unavailable, "the server stopped following runs");
            return Some((
                error_item(&gone),
                Follow {
                    done: true,
                    ..follow
                },
            ));
        }
    }
}

fn error_item(e: &ApiError) -> SseEvent {
    SseEvent::default()
        .event("error")
        .data(json!({ "error": e.message }).to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamQuery {
    #[serde(default)]
    after: Option<i64>,
}

pub(crate) async fn stream<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path(run_id): Path<String>,
    Query(query): Query<StreamQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    state.service.run(&run_id).await?;
    let live = state.live.follow(&state.service, &run_id)?;
    // A browser reconnecting sends the id of the last event it saw.
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let follow = Follow {
        state,
        run_id,
        after: resume.or(query.after).unwrap_or(0),
        ready: VecDeque::new(),
        live,
        first: true,
        done: false,
    };
    let items = futures_util::stream::unfold(follow, next_item);
    let items = futures_util::StreamExt::map(items, Ok::<_, Infallible>);
    Ok(Sse::new(items).keep_alive(KeepAlive::default()))
}

pub(crate) async fn logs<S: ControlPlane>(
    State(state): State<AppState<S>>,
    Path((run_id, step_key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (stdout, stderr) = state.service.compute_logs(&run_id, &step_key).await?;
    Ok(Json(json!({
        "stdout": String::from_utf8_lossy(&stdout),
        "stderr": String::from_utf8_lossy(&stderr),
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(step: &str, ts: i64, kind: EventKind) -> Event {
        Event {
            run_id: "r".into(),
            step_key: Some(step.into()),
            timestamp_ms: ts,
            kind,
        }
    }

    #[test]
    fn steps_are_summarized_from_their_events() {
        let events = [
            event("a", 1, EventKind::StepStart { attempt: 1 }),
            event(
                "a",
                2,
                EventKind::StepUpForRetry {
                    message: "x".into(),
                    attempt: 1,
                    delay_ms: 1,
                    cost: None,
                },
            ),
            event("a", 3, EventKind::StepStart { attempt: 2 }),
            event(
                "a",
                5,
                EventKind::StepSuccess {
                    duration_ms: 2.0,
                    cost: Some(StepCost {
                        guest_ms: 1.5,
                        ..StepCost::default()
                    }),
                },
            ),
            event("b", 6, EventKind::StepStart { attempt: 1 }),
            event(
                "c",
                7,
                EventKind::StepSkipped {
                    reason: "b failed".into(),
                },
            ),
        ];
        let steps = step_summaries(&events);
        type Seen<'a> = (&'a str, &'a str, Option<i64>, Option<i64>, u32);
        let seen: Vec<Seen> = steps
            .iter()
            .map(|s| (s.key.as_str(), s.status, s.start_ms, s.end_ms, s.attempts))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", "SUCCESS", Some(1), Some(5), 2),
                ("b", "RUNNING", Some(6), None, 1),
                ("c", "SKIPPED", None, Some(7), 0),
            ]
        );
        assert_eq!(steps[0].cost.map(|c| c.guest_ms), Some(1.5));
        assert_eq!(steps[1].cost, None);
    }
}
