//! `weft.yaml` (Dagster's `dagster.yaml`), as data: where the database, the precompile cache, stored values and compute
//! logs live, which executor and I/O manager runs use, the sandbox limits, and what each
//! code location is granted.
//!
//! ```yaml
//! database_url: postgres://weft@db/weft   # default: SQLite at $WEFT_HOME/weft.db
//! executor: parallel          # or in-process (the default); for launched runs (`weft run`
//!                             # uses threads): multiprocess (a process per step), k8s-job
//!                             # (a Kubernetes Job per step), queue (steps for `weft worker`s)
//! max_concurrent: 4
//! io_manager: filesystem      # or in-memory, or database (small values in the database:
//!                             # {database: {max_bytes: 1048576}}), or
//!                             # {s3: {bucket: b, prefix: p, endpoint: URL}}
//! compute_logs: { s3: { bucket: b } }     # default: $WEFT_HOME/logs
//! run_coordinator:            # runs queue; the daemon starts them within the limits
//!   max_concurrent_runs: 3
//!   tag_concurrency_limits: [{ key: domain, value: numbers, limit: 1 }]
//! queue: { worker_timeout_seconds: 15 }     # the queue executor's silent workers
//! run_retries: { max_retries: 1 }            # the weft/max_retries tag overrides it
//! schedule_catch_up: { policy: all, max: 5 } # default: { policy: latest }
//! run_monitoring: { heartbeat_timeout_seconds: 60, start_timeout_seconds: 180 }
//! run_launcher: { type: process }            # a `weft execute-run` process per run, or
//!                                            # k8s: a Kubernetes Job per run
//! component_server: http://weft:8080   # pods fetch components by digest from the server
//! component_store: { s3: { bucket: b } } # or from an object store the server writes to
//! k8s:                        # the pods of the k8s launcher and the k8s-job executor
//!   image: registry.example/weft:0.1.0
//!   kubeconfig: /etc/weft/kubeconfig   # default: KUBECONFIG, ~/.kube/config, the pod's account
//!   namespace: data
//!   env_secrets: [weft-database]
//!   secret_env: { WEFT_TOKEN: { secret: weft-auth, key: token } }   # one key each
//!   resources: { requests: { cpu: 250m, memory: 256Mi } }
//! sandbox:                    # every call into a guest (defaults shown)
//!   memory_mb: 256            # all its memories and tables together
//!   step_timeout_seconds: 60  # wall time, guest code and host calls alike
//!   evaluation_timeout_seconds: 60  # a sensor's or schedule's evaluation, definitions at upload
//!   log_line_kb: 64           # one log line, message and fields (cut past it)
//!   log_lines: 10000          # log lines of one step (dropped past it, and counted)
//!   log_mb: 16                # all the log lines of one step
//!   output_mb: 64             # a step's outputs (the step fails past it)
//!   network_requests: 1000    # HTTP requests and TCP connections of one step
//!   network_mb: 256           # request and response bodies of one step
//! http: { ca_file: /etc/weft/ca.pem }   # a private CA, trusted beside the system's roots
//! api_tokens:                 # with any, every API route but /api/health needs a token
//!   - { role: viewer, sha256: 5e88...42d8 }   # reads; `weft token --role viewer` makes one
//!   - { role: editor, sha256: 9f86...0f00 }   # also launches, uploads, schedules
//!   - { role: admin, sha256: 2c26...a8b1 }    # also grants and removes (as --token is)
//! api_hosts: [weft.example.com]   # the names the API answers to, beside its address
//! api_live_streams: 256       # live event streams open at once (one more is a 503)
//! registry_mb: 256            # components kept loaded in memory, least recently used out
//! locations:
//!   numbers:
//!     path: /srv/locations/numbers.wasm   # `weft serve` uploads it at start
//!     dirs: [{ host: /srv/check, guest: /, read_only: true }]
//!     env: [SECRET_TOKEN]       # passed by name from weft's own environment
//!     resources: { warehouse: { bucket: my-bucket } }
//!     k8s_jobs: true            # its ops may start Kubernetes Jobs (k8s-jobs.execute)
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use weft_core::grants::{Grants, Limits};

/// `weft.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// The database (`postgres://...` or `sqlite://PATH`); `WEFT_DATABASE_URL` overrides
    /// it, and without either it is SQLite at `$WEFT_HOME/weft.db`.
    #[serde(default)]
    pub database_url: Option<String>,
    #[serde(default)]
    pub executor: Option<String>,
    #[serde(default)]
    pub max_concurrent: Option<usize>,
    #[serde(default)]
    pub io_manager: Option<IoManagerConfig>,
    #[serde(default)]
    pub sandbox: SandboxConfig,
    /// Runs queue and the daemon starts them within these limits (Dagster's
    /// `QueuedRunCoordinator`); without it, runs start when launched.
    #[serde(default)]
    pub run_coordinator: Option<weft_core::coordinator::QueueLimits>,
    /// Which missed ticks of a schedule run: `{ policy: latest }` (the default) or
    /// `{ policy: all, max: N }`.
    #[serde(default)]
    pub schedule_catch_up: weft_core::schedule::CatchUp,
    #[serde(default)]
    pub run_retries: RunRetries,
    #[serde(default)]
    pub run_monitoring: RunMonitoring,
    /// Where launched runs execute: `{type: in_process}` (the default: threads of the
    /// server or daemon) or `{type: process}` (a `weft execute-run` process per run).
    #[serde(default)]
    pub run_launcher: RunLauncherConfig,
    /// Where run and step pods and workers fetch components by digest (`weft serve`'s URL,
    /// with `WEFT_TOKEN` when it has a token) instead of reading them from the database;
    /// each is checked against its digest and cached under `$WEFT_HOME/cache`.
    #[serde(default)]
    pub component_server: Option<String>,
    /// An object store that holds every uploaded component and its precompiled form by
    /// digest (`{s3: {...}}`, under `components/`): the server writes each version there
    /// before storing it, and run and step pods and workers fetch from there first (then
    /// from `component_server`, then from the database, for versions stored before).
    #[serde(default)]
    pub component_store: Option<ObjectStoreConfig>,
    /// Where steps' stdout and stderr are kept: `$WEFT_HOME/logs` by default, or
    /// `{s3: {...}}` (an object store, under `logs/`), which every pod and replica reaches.
    #[serde(default)]
    pub compute_logs: Option<ObjectStoreConfig>,
    /// The `queue` executor's step queue.
    #[serde(default)]
    pub queue: QueueConfig,
    /// The pods of the `k8s` run launcher and the `k8s-job` executor.
    #[serde(default)]
    pub k8s: Option<weft_k8s::PodConfig>,
    /// The guests' outbound HTTP.
    #[serde(default)]
    pub http: HttpConfig,
    /// The API's tokens, each by role and the SHA-256 of its text (never the text).
    #[serde(default)]
    pub api_tokens: Vec<ApiTokenConfig>,
    /// The names the API answers to (`host` or `host:port`, as clients' `Host` header
    /// gives them), beside the address it listens on: a request naming another is refused
    /// (DNS rebinding). Without them, a server listening on a loopback address answers only
    /// to 127.0.0.1, localhost and [::1] at its port, and one listening on another address
    /// to any name.
    #[serde(default)]
    pub api_hosts: Vec<String>,
    /// The most live event streams (`/runs/{id}/events/stream`) open at once. Default 256.
    #[serde(default)]
    pub api_live_streams: Option<usize>,
    /// How many MiB of components the server keeps loaded (compiled, ready to run); past
    /// it the least recently used versions are let go, loaded again when next needed.
    /// Default 256.
    #[serde(default)]
    pub registry_mb: Option<usize>,
    #[serde(default)]
    pub locations: BTreeMap<String, LocationConfig>,
}

/// One of `api_tokens:`: `{ role: viewer | editor | admin, sha256: <64 hex digits> }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "ApiTokenEntry")]
pub struct ApiTokenConfig(pub weft_api::ApiToken);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiTokenEntry {
    role: String,
    sha256: String,
}

impl TryFrom<ApiTokenEntry> for ApiTokenConfig {
    type Error = String;

    fn try_from(entry: ApiTokenEntry) -> Result<Self, String> {
        let role = weft_api::Role::parse(&entry.role).ok_or_else(|| {
            format!(
                "api_tokens: unknown role {:?}: viewer, editor or admin",
                entry.role
            )
        })?;
        weft_api::ApiToken::from_sha256_hex(role, &entry.sha256)
            .map(ApiTokenConfig)
            .map_err(|e| format!("api_tokens: {e}"))
    }
}

/// `http:`: how the host makes the guests' HTTPS requests.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// PEM certificates of private CAs, trusted beside the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// Where launched runs execute (Dagster's run launcher).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RunLauncherConfig {
    /// On threads of the process that launched them.
    #[default]
    InProcess,
    /// Each in a `weft execute-run RUN_ID` process of its own, which writes its events to
    /// the database: a run goes on when the server or daemon that launched it stops.
    Process,
    /// Each in a Kubernetes Job of its own (`weft execute-run RUN_ID` in the instance's
    /// image; `k8s:` says how its pod looks).
    K8s,
}

/// The `queue` executor: a claimed step whose worker has said nothing for
/// `worker_timeout_seconds` (workers say they are alive every second) is given up and
/// fails retryably.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    #[serde(default = "QueueConfig::default_worker_timeout")]
    pub worker_timeout_seconds: f64,
}

impl QueueConfig {
    fn default_worker_timeout() -> f64 {
        15.0
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            worker_timeout_seconds: Self::default_worker_timeout(),
        }
    }
}

/// An object store where something is kept (compute logs, components): `{s3: {...}}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    pub s3: weft_objstore::S3Config,
}

/// Where step outputs and assets are kept: a name, or one name with its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum IoManagerConfig {
    /// `filesystem` (under `$WEFT_HOME/storage`), `in-memory` or `database` (with the
    /// default limit); any other name is refused by [`Instance::io_manager`].
    Named(String),
    /// `{database: {max_bytes: N}}`: small values in the instance's database, which every
    /// process, pod and worker on it reads.
    Database { database: DatabaseIoConfig },
    /// An S3-compatible object store, which every pod reaches.
    S3 { s3: weft_objstore::S3Config },
}

/// The I/O managers weft.yaml may name, for messages.
pub(crate) const IO_MANAGERS: &str = "filesystem, in-memory, database (or {database: {max_bytes: N}}), \
                           or {s3: {bucket: ...}}";

impl<'de> Deserialize<'de> for IoManagerConfig {
    /// A name, or a map of one name to its settings, each read strictly so that a mistyped
    /// setting is named (an untagged enum would only say that nothing matched).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Named(String),
            Table(BTreeMap<String, serde_yaml_ng::Value>),
        }
        let raw = Raw::deserialize(deserializer).map_err(|_| {
            D::Error::custom(format!(
                "io_manager is a name or one name with its settings: {IO_MANAGERS}"
            ))
        })?;
        let table = match raw {
            Raw::Named(name) => return Ok(IoManagerConfig::Named(name)),
            Raw::Table(table) => table,
        };
        let mut entries = table.into_iter();
        let (name, settings) = match (entries.next(), entries.next()) {
            (Some(entry), None) => entry,
            _ => {
                return Err(D::Error::custom(format!(
                    "io_manager names one I/O manager: {IO_MANAGERS}"
                )));
            }
        };
        match name.as_str() {
            "database" if settings.is_null() => Ok(IoManagerConfig::Database {
                database: DatabaseIoConfig::default(),
            }),
            "database" => serde_yaml_ng::from_value(settings)
                .map(|database| IoManagerConfig::Database { database })
                .map_err(|e| D::Error::custom(format!("io_manager database: {e}"))),
            "s3" => serde_yaml_ng::from_value(settings)
                .map(|s3| IoManagerConfig::S3 { s3 })
                .map_err(|e| D::Error::custom(format!("io_manager s3: {e}"))),
            other => Err(D::Error::custom(format!(
                "unknown io_manager {other:?} ({IO_MANAGERS})"
            ))),
        }
    }
}

/// `io_manager: {database: {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseIoConfig {
    /// The largest value it keeps, in bytes (default 1 MiB); a larger one fails its step,
    /// saying to use the filesystem or S3 I/O manager instead.
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

/// Run retries: a failed run is re-executed by the daemon, at most `max_retries` times
/// (the `weft/max_retries` tag overrides it per run).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRetries {
    #[serde(default)]
    pub max_retries: u32,
    /// Re-execute all steps rather than from failure (the default).
    #[serde(default)]
    pub all_steps: bool,
}

/// Run monitoring: a run whose process stopped saying it is alive, or that never started,
/// is marked failed by the daemon.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMonitoring {
    #[serde(default = "RunMonitoring::default_heartbeat_timeout")]
    pub heartbeat_timeout_seconds: u64,
    #[serde(default = "RunMonitoring::default_start_timeout")]
    pub start_timeout_seconds: u64,
}

impl RunMonitoring {
    fn default_heartbeat_timeout() -> u64 {
        60
    }

    fn default_start_timeout() -> u64 {
        180
    }
}

impl Default for RunMonitoring {
    fn default() -> Self {
        RunMonitoring {
            heartbeat_timeout_seconds: Self::default_heartbeat_timeout(),
            start_timeout_seconds: Self::default_start_timeout(),
        }
    }
}

/// Limits applied to every location.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    pub memory_mb: Option<usize>,
    pub step_timeout_seconds: Option<f64>,
    pub evaluation_timeout_seconds: Option<f64>,
    pub log_line_kb: Option<usize>,
    pub log_lines: Option<usize>,
    pub log_mb: Option<usize>,
    pub output_mb: Option<usize>,
    pub network_requests: Option<usize>,
    pub network_mb: Option<usize>,
}

impl SandboxConfig {
    pub fn limits(&self) -> Limits {
        Limits {
            memory_mb: self.memory_mb,
            timeout_seconds: self.step_timeout_seconds,
            evaluation_timeout_seconds: self.evaluation_timeout_seconds,
            log_line_kb: self.log_line_kb,
            log_lines: self.log_lines,
            log_mb: self.log_mb,
            output_mb: self.output_mb,
            network_requests: self.network_requests,
            network_mb: self.network_mb,
        }
    }
}

/// One code location in weft.yaml: the component `weft serve` uploads at start (if any)
/// and what the location is granted, beside it (`dirs`, `env`, `hosts`, `environment`,
/// `resources`, `k8s_jobs`: the fields of [`Grants`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LocationConfig {
    pub path: Option<PathBuf>,
    pub grants: Grants,
}

impl<'de> Deserialize<'de> for LocationConfig {
    /// `path` and the grants in one map, each read strictly (serde's `flatten` would
    /// accept unknown fields).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = serde_yaml_ng::Mapping::deserialize(deserializer)?;
        let path = match map.remove("path") {
            Some(path) => Some(serde_yaml_ng::from_value(path).map_err(D::Error::custom)?),
            None => None,
        };
        let grants = serde_yaml_ng::from_value(serde_yaml_ng::Value::Mapping(map))
            .map_err(D::Error::custom)?;
        Ok(LocationConfig { path, grants })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_managers_parse_by_name_or_with_settings() {
        let parse = |yaml: &str| serde_yaml_ng::from_str::<InstanceConfig>(yaml);
        let named = parse("io_manager: database").unwrap();
        assert_eq!(
            named.io_manager,
            Some(IoManagerConfig::Named("database".into()))
        );
        let limited = parse("io_manager: {database: {max_bytes: 4}}").unwrap();
        assert_eq!(
            limited.io_manager,
            Some(IoManagerConfig::Database {
                database: DatabaseIoConfig { max_bytes: Some(4) }
            })
        );
        let bare = parse("io_manager: {database: }").unwrap();
        assert_eq!(
            bare.io_manager,
            Some(IoManagerConfig::Database {
                database: DatabaseIoConfig::default()
            })
        );
        let s3 = parse("io_manager: {s3: {bucket: b}}").unwrap();
        assert!(
            matches!(&s3.io_manager, Some(IoManagerConfig::S3 { s3 }) if s3.bucket == "b"),
            "{s3:?}"
        );
        let typo = parse("io_manager: {database: {max_byte: 4}}").unwrap_err();
        assert!(
            typo.to_string()
                .contains("io_manager database: unknown field `max_byte`"),
            "{typo}"
        );
        let unknown = parse("io_manager: {disk: {}}").unwrap_err();
        assert!(
            unknown.to_string().contains("unknown io_manager \"disk\"")
                && unknown.to_string().contains(IO_MANAGERS),
            "{unknown}"
        );
        assert!(parse("io_manager: {database: {}, s3: {bucket: b}}").is_err());
    }

    #[test]
    fn yaml_is_strict() {
        let err = serde_yaml_ng::from_str::<InstanceConfig>("executr: parallel").unwrap_err();
        assert!(err.to_string().contains("unknown field `executr`"), "{err}");
        let cfg: InstanceConfig =
            serde_yaml_ng::from_str("executor: parallel\nlocations: {numbers: {env: [A]}}")
                .unwrap();
        assert_eq!(cfg.locations["numbers"].grants.env, ["A"]);
        let location = serde_yaml_ng::from_str::<InstanceConfig>(
            "locations: {n: {path: /x.wasm, k8s_jobs: true, resources: {r: {a: 1}}}}",
        )
        .unwrap();
        let n = &location.locations["n"];
        assert_eq!(n.path.as_deref(), Some(std::path::Path::new("/x.wasm")));
        assert!(n.grants.k8s_jobs);
        assert_eq!(n.grants.resources["r"], serde_json::json!({"a": 1}));
        let tokens = serde_yaml_ng::from_str::<InstanceConfig>(&format!(
            "api_tokens: [{{role: viewer, sha256: {}}}]",
            "ab".repeat(32)
        ))
        .unwrap();
        assert_eq!(tokens.api_tokens[0].0.role, weft_api::Role::Viewer);
        for (yaml, says) in [
            (
                "api_tokens: [{role: root, sha256: x}]",
                "unknown role \"root\"",
            ),
            (
                "api_tokens: [{role: admin, sha256: abc}]",
                "not a SHA-256 digest",
            ),
            (
                "api_tokens: [{role: admin, token: abc}]",
                "unknown field `token`",
            ),
        ] {
            let err = serde_yaml_ng::from_str::<InstanceConfig>(yaml).unwrap_err();
            assert!(err.to_string().contains(says), "{yaml}: {err}");
        }
        let typo = serde_yaml_ng::from_str::<InstanceConfig>("locations: {n: {envs: [A]}}");
        assert!(
            typo.unwrap_err()
                .to_string()
                .contains("unknown field `envs`"),
            "a mistyped grant is named"
        );
    }
}
