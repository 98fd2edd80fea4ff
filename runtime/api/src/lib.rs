//! # weft-api
//!
//! The HTTP face of `weft serve`: a JSON API over a [`ControlPlane`] (code locations and
//! their versions, definitions, runs, events, compute logs), its OpenAPI document, a run's
//! events live over server-sent events, and the web UI, embedded in the binary. This is the
//! only crate that knows axum; it never sees wasmtime or sqlx, and keeps no state of its
//! own: what it shows comes from the control plane, so any number of replicas can serve
//! one database.
//!
//! ```no_run
//! # async fn demo<S: weft_api::ControlPlane>(service: S) -> std::io::Result<()> {
//! let app = weft_api::router(std::sync::Arc::new(service), weft_api::Options::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

mod assets;
mod auth;
mod components;
mod definitions;
mod drain;
mod error;
mod extract;
mod guard;
mod live;
mod locations;
mod openapi;
mod runs;
mod service;
mod ui;
mod upload_limit;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use auth::{ApiToken, Role};
pub use error::{ApiError, ErrorKind};
pub use guard::answers_to;
pub use service::{
    CheckResult, ControlPlane, Counts, InstigatorStatus, LaunchRequest, Location, Materialization,
    Reexecute, Version,
};
pub use weft_core::grants::{DirGrant, Grants};
pub use weft_core::instigator::{InstigatorKind, TickRecord};

/// How the API is served.
#[derive(Clone, Debug)]
pub struct Options {
    /// The tokens it accepts, each with its role. With any, every route but `/api/health`
    /// and the OpenAPI document needs one (see `auth.rs`); with none, the API is open.
    pub tokens: Vec<ApiToken>,
    /// The names (`host[:port]`) the server answers to; a request with another `Host` is
    /// refused (`guard.rs`). Empty: any.
    pub hosts: Vec<String>,
    /// The largest component an upload may carry, in bytes.
    pub max_upload_bytes: usize,
    /// The most live event streams open at once (`live.rs`).
    pub max_live_streams: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tokens: Vec::new(),
            hosts: Vec::new(),
            max_upload_bytes: 64 << 20,
            max_live_streams: 256,
        }
    }
}

/// What every handler gets: the control plane, and the live streams open.
pub(crate) struct AppState<S> {
    pub(crate) service: Arc<S>,
    pub(crate) live: Arc<live::Live>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            service: self.service.clone(),
            live: self.live.clone(),
        }
    }
}

/// The whole application: API routes, the OpenAPI document and the UI.
pub fn router<S: ControlPlane>(service: Arc<S>, options: Options) -> Router {
    let state = AppState {
        service,
        live: live::Live::new(options.max_live_streams),
    };
    let drain_limit = options.max_upload_bytes;
    let api = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({ "ok": true })) }),
        )
        .route("/openapi.json", get(openapi::document))
        .route("/locations", get(locations::list::<S>))
        .route(
            "/locations/{name}",
            get(locations::get::<S>)
                .post(locations::upload::<S>)
                .delete(locations::remove::<S>),
        )
        .route("/locations/{name}/versions", get(locations::versions::<S>))
        .route("/locations/{name}/rollback", post(locations::rollback::<S>))
        .route(
            "/locations/{name}/grants",
            get(locations::grants::<S>).put(locations::set_grants::<S>),
        )
        .route("/locations/{name}/jobs/{job}", get(definitions::job::<S>))
        .route("/jobs", get(definitions::jobs::<S>))
        .route("/ops", get(definitions::ops::<S>))
        .route("/assets", get(definitions::assets::<S>))
        .route("/asset", get(assets::asset::<S>))
        .route("/assets/{key}/checks", get(assets::checks::<S>))
        .route("/schedules", get(definitions::schedules::<S>))
        .route("/sensors", get(definitions::sensors::<S>))
        .route(
            "/schedules/{location}/{name}/start",
            post(definitions::start_schedule::<S>),
        )
        .route(
            "/schedules/{location}/{name}/stop",
            post(definitions::stop_schedule::<S>),
        )
        .route(
            "/schedules/{location}/{name}/ticks",
            get(definitions::ticks::<S>),
        )
        .route(
            "/sensors/{location}/{name}/start",
            post(definitions::start_sensor::<S>),
        )
        .route(
            "/sensors/{location}/{name}/stop",
            post(definitions::stop_sensor::<S>),
        )
        .route(
            "/sensors/{location}/{name}/ticks",
            get(definitions::ticks::<S>),
        )
        .route("/components/{digest}", get(components::component::<S>))
        .route(
            "/components/{digest}/precompiled/{engine}",
            get(components::precompiled::<S>),
        )
        .route("/runs", get(runs::list::<S>).post(runs::launch::<S>))
        .route("/runs/{run_id}", get(runs::get::<S>))
        .route("/runs/{run_id}/cancel", post(runs::cancel::<S>))
        .route("/runs/{run_id}/reexecute", post(runs::reexecute::<S>))
        .route("/runs/{run_id}/events", get(runs::events::<S>))
        .route("/runs/{run_id}/events/stream", get(runs::stream::<S>))
        .route("/runs/{run_id}/logs/{step_key}", get(runs::logs::<S>))
        .fallback(move |body: axum::body::Body| async move {
            // Read what the client sends (up to the upload limit), so that it gets the 404
            // rather than a connection reset.
            drain::drain(body, drain_limit).await;
            ApiError::not_found("no such API endpoint")
        })
        .layer(DefaultBodyLimit::max(options.max_upload_bytes))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(upload_limit::UploadLimit {
                max_bytes: options.max_upload_bytes,
            }),
            upload_limit::refuse_oversized,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(auth::Auth {
                tokens: options.tokens.clone(),
                drain_limit: options.max_upload_bytes,
            }),
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(guard::Guard {
                hosts: options.hosts.clone(),
                drain_limit: options.max_upload_bytes,
            }),
            guard::guard,
        ))
        .with_state(state);
    Router::new().nest("/api", api).merge(ui::routes())
}

/// Serves the application over `service` on `listener` until `shutdown` resolves, letting
/// the requests under way end.
pub async fn serve<S: ControlPlane>(
    listener: tokio::net::TcpListener,
    service: Arc<S>,
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(service, options))
        .with_graceful_shutdown(shutdown)
        .await
}
