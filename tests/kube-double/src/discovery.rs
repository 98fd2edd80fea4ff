//! `/version`, discovery and authentication in the test double of the Kubernetes API server
//! (not a Kubernetes): the minimal `/api`, `/apis`, `/api/v1` and `/apis/batch/v1` answers
//! kube's `Discovery` and kubectl read (kube's typed `Api` never calls them), and the bearer
//! token check, with the real server's 401 for a wrong token and 403 for an anonymous request
//! (which may read only `/version` and the health paths).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;

use crate::RequestRecord;
use crate::status::ApiError;
use crate::store::Shared;

fn api_resource(name: &str, singular: &str, kind: &str, verbs: &[&str]) -> meta::APIResource {
    meta::APIResource {
        name: name.to_string(),
        singular_name: singular.to_string(),
        namespaced: true,
        kind: kind.to_string(),
        verbs: verbs.iter().map(|v| v.to_string()).collect(),
        ..meta::APIResource::default()
    }
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "watch",
];

async fn version() -> Json<k8s_openapi::apimachinery::pkg::version::Info> {
    Json(k8s_openapi::apimachinery::pkg::version::Info {
        major: "1".to_string(),
        minor: "33".to_string(),
        git_version: "v1.33.0-weft-kube-double".to_string(),
        git_tree_state: "clean".to_string(),
        build_date: "2025-04-23T00:00:00Z".to_string(),
        go_version: "go1.24.2".to_string(),
        compiler: "gc".to_string(),
        platform: "linux/amd64".to_string(),
        ..Default::default()
    })
}

pub(crate) fn discovery(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    let batch = meta::GroupVersionForDiscovery {
        group_version: "batch/v1".to_string(),
        version: "v1".to_string(),
    };
    let group = meta::APIGroup {
        name: "batch".to_string(),
        preferred_version: Some(batch.clone()),
        versions: vec![batch],
        server_address_by_client_cidrs: None,
    };
    let groups = meta::APIGroupList {
        groups: vec![group.clone()],
    };
    let core = meta::APIResourceList {
        group_version: "v1".to_string(),
        resources: vec![
            api_resource("configmaps", "configmap", "ConfigMap", VERBS),
            api_resource(
                "pods",
                "pod",
                "Pod",
                &["delete", "deletecollection", "get", "list", "watch"],
            ),
            api_resource("pods/log", "", "Pod", &["get"]),
            api_resource("pods/status", "", "Pod", &["get"]),
            api_resource("secrets", "secret", "Secret", VERBS),
        ],
    };
    let batch_resources = meta::APIResourceList {
        group_version: "batch/v1".to_string(),
        resources: vec![
            api_resource("jobs", "job", "Job", VERBS),
            api_resource("jobs/status", "", "Job", &["get"]),
        ],
    };
    router
        .route("/version", get(version))
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .route(
            "/api",
            get(|State(shared): State<Arc<Shared>>| async move {
                Json(meta::APIVersions {
                    versions: vec!["v1".to_string()],
                    server_address_by_client_cidrs: vec![meta::ServerAddressByClientCIDR {
                        client_cidr: "0.0.0.0/0".to_string(),
                        server_address: format!("127.0.0.1:{}", shared.config.port),
                    }],
                })
            }),
        )
        .route("/apis", get(move || async move { Json(groups) }))
        .route("/apis/batch", get(move || async move { Json(group) }))
        .route("/api/v1", get(move || async move { Json(core) }))
        .route(
            "/apis/batch/v1",
            get(move || async move { Json(batch_resources) }),
        )
}

/// Records the request and checks its bearer token, as the real server authenticates it.
pub(crate) async fn authenticate(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    shared.record(RequestRecord {
        method: request.method().to_string(),
        path: path.clone(),
        query: request.uri().query().unwrap_or_default().to_string(),
    });
    let auth = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let expected = format!("Bearer {}", shared.config.token);
    match auth {
        Some(a) if a == expected => next.run(request).await,
        Some(_) => ApiError::unauthorized().into_response(),
        None if matches!(
            path.as_str(),
            "/version" | "/healthz" | "/livez" | "/readyz"
        ) =>
        {
            next.run(request).await
        }
        None => ApiError::forbidden(format!(
            "forbidden: User \"system:anonymous\" cannot {} path \"{path}\"",
            request.method().as_str().to_lowercase()
        ))
        .into_response(),
    }
}
