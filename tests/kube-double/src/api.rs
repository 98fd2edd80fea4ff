//! The HTTP routes of the test double of the Kubernetes API server (not a Kubernetes): the
//! paths, verbs, query parameters and answers kube-rs uses for `batch/v1` Jobs and core/v1
//! Pods (with logs), ConfigMaps and Secrets (create, get, list, watch, delete, delete
//! collection); `/version`, discovery and authentication are in `discovery.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{MethodRouter, get};
use k8s_openapi::ByteString;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde_json::json;

use crate::job::{self, Propagation};
use crate::kubelet::{self, Deleted};
use crate::select::{FieldSelector, Filter, LabelSelector};
use crate::status::{self, ApiError, FieldError};
use crate::store::{Kind, Shared, new_uid, now, random_suffix};
use crate::watch::{self, Page, Repr, WatchOptions};

type Params = Query<HashMap<String, String>>;

/// The options of a delete, from its `DeleteOptions` body and query.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOpts {
    pub propagation: Option<Propagation>,
    pub orphan_dependents: Option<bool>,
    pub grace: Option<i64>,
    pub dry_run: bool,
    pub preconditions: Option<meta::Preconditions>,
}

/// A resource type with its create and delete behaviour.
pub(crate) trait Served: Kind {
    /// Defaults and validates an object being created (metadata already filled in).
    fn admit(_obj: &mut Self) -> Result<(), ApiError> {
        Ok(())
    }
    /// Runs after the object is stored (controllers start here).
    fn created(_shared: &Arc<Shared>, _obj: &Self) {}
    fn delete(
        shared: &Arc<Shared>,
        ns: &str,
        name: &str,
        _opts: &DeleteOpts,
    ) -> Result<Deleted<Self>, ApiError> {
        shared
            .write(|s| s.remove::<Self>(ns, name))
            .map(Deleted::Gone)
            .ok_or_else(|| ApiError::not_found(Self::resource(), name))
    }
}

impl Served for Job {
    fn admit(obj: &mut Self) -> Result<(), ApiError> {
        crate::admission::admit(obj)
    }
    fn created(shared: &Arc<Shared>, obj: &Self) {
        job::start(shared, obj);
    }
    fn delete(
        shared: &Arc<Shared>,
        ns: &str,
        name: &str,
        opts: &DeleteOpts,
    ) -> Result<Deleted<Self>, ApiError> {
        let propagation = opts.propagation.unwrap_or(match opts.orphan_dependents {
            Some(false) => Propagation::Background,
            _ => Propagation::Orphan,
        });
        job::delete_job(shared, ns, name, propagation)
    }
}

impl Served for Pod {
    fn delete(
        shared: &Arc<Shared>,
        ns: &str,
        name: &str,
        opts: &DeleteOpts,
    ) -> Result<Deleted<Self>, ApiError> {
        kubelet::delete_pod(shared, ns, name, opts.grace)
    }
}

fn check_keys<'a>(
    name: &str,
    keys: impl Iterator<Item = &'a String>,
    kind: &str,
) -> Vec<FieldError> {
    keys.filter(|k| {
        k.is_empty()
            || k.len() > 253
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    })
    .map(|k| {
        FieldError::invalid(
            format!("data[{k}]"),
            k,
            &format!("a valid {kind} key must consist of alphanumeric characters, '-', '_' or '.' (in {name})"),
        )
    })
    .collect()
}

impl Served for ConfigMap {
    fn admit(obj: &mut Self) -> Result<(), ApiError> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        let keys = obj.data.iter().flat_map(|d| d.keys());
        let keys = keys.chain(obj.binary_data.iter().flat_map(|d| d.keys()));
        let errors = check_keys(&name, keys, "config");
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(Self::resource(), &name, errors))
        }
    }
}

impl Served for Secret {
    fn admit(obj: &mut Self) -> Result<(), ApiError> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        if let Some(strings) = obj.string_data.take() {
            let data = obj.data.get_or_insert_with(Default::default);
            for (k, v) in strings {
                data.insert(k, ByteString(v.into_bytes()));
            }
        }
        obj.type_.get_or_insert_with(|| "Opaque".to_string());
        let errors = check_keys(&name, obj.data.iter().flat_map(|d| d.keys()), "secret");
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(Self::resource(), &name, errors))
        }
    }
}

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name)
        .is_some_and(|v| v == "true" || v == "1" || v.is_empty())
}

fn number<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    q.get(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid {name}: {v:?}")))
        })
        .transpose()
}

fn list_or_watch<K: Served>(
    shared: Arc<Shared>,
    namespace: Option<String>,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let filter = Filter {
        namespace,
        labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
        fields: FieldSelector::parse::<K>(q.get("fieldSelector").map_or("", String::as_str))?,
    };
    let repr = watch::repr(headers);
    if flag(q, "watch") {
        let from =
            match q.get("resourceVersion").map(String::as_str) {
                None | Some("" | "0") => None,
                Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!("invalid resourceVersion: {rv:?}"))
                })?),
            };
        let timeout = number::<u64>(q, "timeoutSeconds")?.unwrap_or(1800);
        let opts = WatchOptions {
            from,
            timeout: Duration::from_secs(timeout),
            bookmarks: flag(q, "allowWatchBookmarks"),
            initial_events: flag(q, "sendInitialEvents"),
            repr,
        };
        return Ok(watch::watch::<K>(shared, filter, opts));
    }
    let page = Page {
        limit: number(q, "limit")?,
        continue_token: q.get("continue").cloned(),
    };
    let list = shared.read(|s| watch::list::<K>(s, &filter, &page, repr))?;
    Ok(Json(list).into_response())
}

async fn list_namespaced<K: Served>(
    State(shared): State<Arc<Shared>>,
    Path(ns): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list_or_watch::<K>(shared, Some(ns), &q, &headers)
}

async fn list_all<K: Served>(
    State(shared): State<Arc<Shared>>,
    Query(q): Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list_or_watch::<K>(shared, None, &q, &headers)
}

async fn get_one<K: Served>(
    State(shared): State<Arc<Shared>>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let obj = shared
        .read(|s| s.get::<K>(&ns, &name).cloned())
        .ok_or_else(|| ApiError::not_found(K::resource(), &name))?;
    Ok(Json(watch::render(&obj, watch::repr(&headers))).into_response())
}

fn subdomain_error(name: &str) -> Option<FieldError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() <= 253 && name.split('.').all(label_ok) {
        return None;
    }
    Some(FieldError::invalid(
        "metadata.name",
        name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ))
}

async fn create<K: Served>(
    State(shared): State<Arc<Shared>>,
    Path(ns): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut obj: K = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request could not be decoded as a {}: {e}",
            K::KIND
        ))
    })?;
    let meta = obj.metadata_mut();
    if meta.namespace.as_ref().is_some_and(|n| *n != ns) {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if meta
        .resource_version
        .as_ref()
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    let explicit = meta.name.clone().filter(|n| !n.is_empty());
    let generate = meta.generate_name.clone().filter(|g| !g.is_empty());
    let name = match (&explicit, &generate) {
        (Some(name), _) => name.clone(),
        (None, Some(prefix)) => {
            let prefix: String = prefix.chars().take(63 - 5).collect();
            format!("{prefix}{}", random_suffix())
        }
        (None, None) => {
            return Err(ApiError::invalid(
                K::resource(),
                "",
                vec![FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
    };
    if let Some(error) = subdomain_error(&name) {
        return Err(ApiError::invalid(K::resource(), &name, vec![error]));
    }
    meta.name = Some(name.clone());
    meta.namespace = Some(ns.clone());
    meta.uid = Some(new_uid());
    meta.creation_timestamp = Some(now());
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.managed_fields = None;
    K::admit(&mut obj)?;
    let dry_run = q.get("dryRun").is_some_and(|v| v == "All");
    let stored = shared.write(|s| {
        if s.get::<K>(&ns, &name).is_some() {
            return Err(ApiError::already_exists(K::resource(), &name));
        }
        Ok(if dry_run { obj } else { s.insert(obj) })
    })?;
    if !dry_run {
        K::created(&shared, &stored);
    }
    Ok((
        StatusCode::CREATED,
        Json(watch::render(&stored, Repr::Full)),
    )
        .into_response())
}

fn delete_opts(q: &HashMap<String, String>, body: &Bytes) -> Result<DeleteOpts, ApiError> {
    let parsed: meta::DeleteOptions = if body.iter().all(u8::is_ascii_whitespace) {
        meta::DeleteOptions::default()
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let policy = parsed
        .propagation_policy
        .clone()
        .or_else(|| q.get("propagationPolicy").cloned());
    let propagation = match policy.as_deref() {
        None | Some("") => None,
        Some("Orphan") => Some(Propagation::Orphan),
        Some("Background") => Some(Propagation::Background),
        Some("Foreground") => Some(Propagation::Foreground),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    };
    let dry_run = parsed.dry_run.iter().flatten().any(|d| d == "All")
        || q.get("dryRun").is_some_and(|v| v == "All");
    Ok(DeleteOpts {
        propagation,
        orphan_dependents: parsed
            .orphan_dependents
            .or_else(|| q.get("orphanDependents").map(|v| v == "true")),
        grace: parsed
            .grace_period_seconds
            .or(number(q, "gracePeriodSeconds")?),
        dry_run,
        preconditions: parsed.preconditions,
    })
}

/// Deletes one object; the answer as the real server gives it.
fn delete_named<K: Served>(
    shared: &Arc<Shared>,
    ns: &str,
    name: &str,
    opts: &DeleteOpts,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let current = shared
        .read(|s| s.get::<K>(ns, name).cloned())
        .ok_or_else(|| ApiError::not_found(K::resource(), name))?;
    let meta = current.metadata();
    if let Some(pre) = &opts.preconditions {
        if let Some(uid) = &pre.uid
            && meta.uid.as_ref() != Some(uid)
        {
            return Err(ApiError::conflict(
                K::resource(),
                name,
                format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta.uid.clone().unwrap_or_default()
                ),
            ));
        }
        if let Some(rv) = &pre.resource_version
            && meta.resource_version.as_ref() != Some(rv)
        {
            return Err(ApiError::conflict(
                K::resource(),
                name,
                format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta.resource_version.clone().unwrap_or_default()
                ),
            ));
        }
    }
    let deleted = if opts.dry_run {
        Deleted::Gone(current)
    } else {
        K::delete(shared, ns, name, opts)?
    };
    Ok(match deleted {
        Deleted::Gone(obj) if !K::RETURNS_DELETED_OBJECT => {
            let uid = obj.metadata().uid.clone();
            let status = status::deleted(K::resource(), name, uid);
            (
                StatusCode::OK,
                serde_json::to_value(status).unwrap_or_default(),
            )
        }
        Deleted::Gone(obj) => (StatusCode::OK, watch::render(&obj, Repr::Full)),
        Deleted::Pending(obj) => {
            let code = if opts.orphan_dependents == Some(false) {
                StatusCode::ACCEPTED
            } else {
                StatusCode::OK
            };
            (code, watch::render(&obj, Repr::Full))
        }
    })
}

/// The warning the real server adds when a batch/v1 Job is deleted without a policy.
fn orphan_warning<K: Served>(opts: &DeleteOpts) -> Option<HeaderValue> {
    (K::KIND == "Job" && opts.propagation.is_none() && opts.orphan_dependents.is_none()).then(|| {
        HeaderValue::from_static(
            "299 - \"child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning\"",
        )
    })
}

async fn delete_one<K: Served>(
    State(shared): State<Arc<Shared>>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let opts = delete_opts(&q, &body)?;
    let (code, value) = delete_named::<K>(&shared, &ns, &name, &opts)?;
    let mut response = (code, Json(value)).into_response();
    if let Some(warning) = orphan_warning::<K>(&opts) {
        response.headers_mut().insert(header::WARNING, warning);
    }
    Ok(response)
}

async fn delete_collection<K: Served>(
    State(shared): State<Arc<Shared>>,
    Path(ns): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let opts = delete_opts(&q, &body)?;
    let filter = Filter {
        namespace: Some(ns.clone()),
        labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
        fields: FieldSelector::parse::<K>(q.get("fieldSelector").map_or("", String::as_str))?,
    };
    let names: Vec<String> = shared.read(|s| {
        K::table(s)
            .objects
            .values()
            .filter(|o| filter.matches(*o))
            .filter_map(|o| o.metadata().name.clone())
            .collect()
    });
    let mut items = Vec::new();
    for name in names {
        if let Ok((_, mut value)) = delete_named::<K>(&shared, &ns, &name, &opts)
            && value.get("kind").and_then(|k| k.as_str()) != Some("Status")
        {
            if let Some(map) = value.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            items.push(value);
        }
    }
    let rv = shared.read(|s| s.rv);
    let list = json!({
        "kind": K::LIST_KIND,
        "apiVersion": K::API_VERSION,
        "metadata": { "resourceVersion": rv.to_string() },
        "items": items,
    });
    Ok(Json(list).into_response())
}

async fn not_allowed() -> ApiError {
    ApiError::method_not_allowed("the server does not allow this method on the requested resource")
}

/// The routes of one namespaced resource type under `prefix` (`/api/v1` or `/apis/batch/v1`).
fn resource<K: Served>(
    router: Router<Arc<Shared>>,
    prefix: &str,
    creatable: bool,
) -> Router<Arc<Shared>> {
    let plural = K::URL_PATH_SEGMENT;
    let mut collection: MethodRouter<Arc<Shared>> =
        get(list_namespaced::<K>).delete(delete_collection::<K>);
    if creatable {
        collection = collection.post(create::<K>);
    }
    router
        .route(
            &format!("{prefix}/{plural}"),
            get(list_all::<K>).fallback(not_allowed),
        )
        .route(
            &format!("{prefix}/namespaces/{{ns}}/{plural}"),
            collection.fallback(not_allowed),
        )
        .route(
            &format!("{prefix}/namespaces/{{ns}}/{plural}/{{name}}"),
            get(get_one::<K>)
                .delete(delete_one::<K>)
                .fallback(not_allowed),
        )
        .route(
            &format!("{prefix}/namespaces/{{ns}}/{plural}/{{name}}/status"),
            get(get_one::<K>).fallback(not_allowed),
        )
}

/// The whole API.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    router = resource::<Job>(router, "/apis/batch/v1", true);
    router = resource::<Pod>(router, "/api/v1", false);
    router = resource::<ConfigMap>(router, "/api/v1", true);
    router = resource::<Secret>(router, "/api/v1", true);
    router = router.route(
        "/api/v1/namespaces/{ns}/pods/{name}/log",
        get(crate::logs::pod_log).fallback(not_allowed),
    );
    crate::discovery::discovery(router)
        .fallback(|| async { ApiError::no_route() })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            crate::discovery::authenticate,
        ))
        .with_state(shared)
}
