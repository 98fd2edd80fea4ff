//! The Weft instance: `$WEFT_HOME` (default `~/.weft`) and its `weft.yaml` (Dagster's
//! `dagster.yaml`): where the database, the precompile cache, stored values and compute
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
//! sandbox:
//!   memory_mb: 256
//!   step_timeout_seconds: 60
//! locations:
//!   numbers:
//!     path: /srv/locations/numbers.wasm   # `weft serve` uploads it at start
//!     dirs: [{ host: /srv/check, guest: /, read_only: true }]
//!     env: [SECRET_TOKEN]       # passed by name from weft's own environment
//!     resources: { warehouse: { bucket: my-bucket } }
//!     k8s_jobs: true            # its ops may start Kubernetes Jobs (k8s-jobs.execute)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use weft_core::defs::Value;
use weft_engine::io::{FsComputeLogs, FsIoManager, InMemoryIoManager};
use weft_engine::ports::{ComputeLogStore, IoManager};
use weft_store::{DatabaseIoManager, Store};
use weft_wasm::{DirGrant, Sandbox};

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
    #[serde(default)]
    pub locations: BTreeMap<String, LocationConfig>,
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
const IO_MANAGERS: &str = "filesystem, in-memory, database (or {database: {max_bytes: N}}), \
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

/// The I/O manager weft.yaml chooses, checked and made, except the database's, which needs
/// the store: [`ChosenIoManager::open`] finishes it once the store is open.
pub enum ChosenIoManager {
    /// Ready to use.
    Made(Box<dyn IoManager>),
    /// The database I/O manager with this limit.
    Database { max_bytes: u64 },
}

impl ChosenIoManager {
    /// The I/O manager; the database's over `store`, its queries run on the runtime this is
    /// called in (the one the store was opened on).
    pub fn open(self, store: &Store) -> Result<Box<dyn IoManager>> {
        Ok(match self {
            ChosenIoManager::Made(io) => io,
            ChosenIoManager::Database { max_bytes } => {
                let runtime = tokio::runtime::Handle::try_current()
                    .context("the database I/O manager is opened within the async runtime")?;
                Box::new(DatabaseIoManager::new(store.clone(), runtime, max_bytes))
            }
        })
    }
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
}

/// What one location is granted.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    /// The component `weft serve` uploads at start (the workspace), if not already current.
    #[serde(default)]
    pub path: Option<PathBuf>,
    #[serde(default)]
    pub dirs: Vec<DirConfig>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub resources: BTreeMap<String, serde_json::Value>,
    /// Whether its ops may start Kubernetes Jobs (Dagster's `execute_k8s_job`).
    #[serde(default)]
    pub k8s_jobs: bool,
}

/// A directory grant.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DirConfig {
    pub host: PathBuf,
    pub guest: String,
    #[serde(default)]
    pub read_only: bool,
}

/// The instance's home directory and configuration.
pub struct Instance {
    pub home: PathBuf,
    pub config: InstanceConfig,
}

impl Instance {
    /// Opens `$WEFT_HOME` (or `~/.weft`) and reads its `weft.yaml` if there is one.
    pub fn open(home: Option<PathBuf>) -> Result<Self> {
        let home = match home {
            Some(h) => h,
            None => match std::env::var_os("HOME") {
                Some(h) => PathBuf::from(h).join(".weft"),
                None => bail!("set WEFT_HOME (or HOME) to say where Weft keeps its data"),
            },
        };
        let path = home.join("weft.yaml");
        let config = match std::fs::read_to_string(&path) {
            Ok(text) => serde_yaml_ng::from_str(&text)
                .with_context(|| format!("{} is not valid", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => InstanceConfig::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Instance { home, config })
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.join("weft.db")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home.join("cache")
    }

    pub fn storage_dir(&self) -> PathBuf {
        self.home.join("storage")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.home.join("logs")
    }

    /// Where events that the database refused are saved.
    pub fn unsaved_dir(&self) -> PathBuf {
        self.home.join("unsaved-events")
    }

    /// Opens the instance's database: `database_url` in weft.yaml (or `WEFT_DATABASE_URL`),
    /// else SQLite at `$WEFT_HOME/weft.db`.
    pub async fn open_store(&self) -> Result<Store> {
        let store = match self.database_url() {
            Some(url) => Store::connect(&url).await?,
            None => Store::open_sqlite(&self.db_path()).await?,
        };
        Ok(store)
    }

    /// The configured database URL, if any (else the SQLite file under the home).
    pub fn database_url(&self) -> Option<String> {
        std::env::var("WEFT_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| self.config.database_url.clone())
    }

    /// The I/O manager runs use (`io_manager` in weft.yaml: filesystem by default), checked
    /// before anything is opened; the database's is finished by [`ChosenIoManager::open`].
    pub fn io_manager(&self) -> Result<ChosenIoManager> {
        let made = |io: Box<dyn IoManager>| Ok(ChosenIoManager::Made(io));
        match &self.config.io_manager {
            None => made(Box::new(FsIoManager::new(self.storage_dir()))),
            Some(IoManagerConfig::Named(name)) => match name.as_str() {
                "filesystem" => made(Box::new(FsIoManager::new(self.storage_dir()))),
                "in-memory" => made(Box::<InMemoryIoManager>::default()),
                "database" => Ok(ChosenIoManager::Database {
                    max_bytes: DatabaseIoManager::DEFAULT_MAX_BYTES,
                }),
                other => bail!("unknown io_manager {other:?} in weft.yaml ({IO_MANAGERS})"),
            },
            Some(IoManagerConfig::Database { database }) => {
                let max_bytes = database
                    .max_bytes
                    .unwrap_or(DatabaseIoManager::DEFAULT_MAX_BYTES);
                let largest = DatabaseIoManager::LARGEST_MAX_BYTES;
                if max_bytes == 0 {
                    bail!("io_manager database in weft.yaml: max_bytes must be at least 1");
                }
                if max_bytes > largest {
                    bail!(
                        "io_manager database in weft.yaml: max_bytes is {max_bytes}, over \
                         {largest} (the most either database takes in one value): large \
                         values belong in io_manager: filesystem or {{s3: {{bucket: ...}}}}"
                    );
                }
                Ok(ChosenIoManager::Database { max_bytes })
            }
            Some(IoManagerConfig::S3 { s3 }) => made(Box::new(
                weft_objstore::S3IoManager::new(&s3.under("storage"))
                    .context("io_manager s3 in weft.yaml")?,
            )),
        }
    }

    /// The compute-log store runs use (`compute_logs` in weft.yaml: `$WEFT_HOME/logs` by
    /// default).
    pub fn compute_logs(&self) -> Result<std::sync::Arc<dyn ComputeLogStore>> {
        Ok(match &self.config.compute_logs {
            None => std::sync::Arc::new(FsComputeLogs::new(self.logs_dir())),
            Some(ObjectStoreConfig { s3 }) => std::sync::Arc::new(
                weft_objstore::S3ComputeLogs::new(&s3.under("logs"))
                    .context("compute_logs s3 in weft.yaml")?,
            ),
        })
    }

    /// The component store (`component_store` in weft.yaml), if any.
    pub fn component_store(&self) -> Result<Option<std::sync::Arc<weft_objstore::S3Components>>> {
        self.config
            .component_store
            .as_ref()
            .map(|ObjectStoreConfig { s3 }| {
                weft_objstore::S3Components::new(&s3.under("components"))
                    .map(std::sync::Arc::new)
                    .context("component_store s3 in weft.yaml")
            })
            .transpose()
    }

    /// Whether outputs live only in this process (the in-memory I/O manager), so steps in
    /// other processes cannot read them.
    pub fn outputs_stay_in_process(&self) -> bool {
        matches!(&self.config.io_manager, Some(IoManagerConfig::Named(n)) if n == "in-memory")
    }

    /// The environment the code locations named in `location` (`a+b` for a run across
    /// locations) are granted by name, with this process's values: what their run's and
    /// steps' pods must be given.
    pub fn location_env(&self, location: &str) -> Vec<(String, String)> {
        location
            .split('+')
            .filter_map(|name| self.config.locations.get(name))
            .flat_map(|l| l.env.iter())
            .filter_map(|var| std::env::var(var).ok().map(|value| (var.clone(), value)))
            .collect()
    }

    /// The sandbox of location `name`: `weft.yaml`'s grants plus those given on the
    /// command line.
    pub fn sandbox(&self, name: &str, extra: &Grants) -> Result<Sandbox> {
        let mut sandbox = Sandbox::default();
        if let Some(mb) = extra.memory_mb.or(self.config.sandbox.memory_mb) {
            sandbox.memory_limit_bytes = mb << 20;
        }
        if let Some(secs) = extra
            .timeout_seconds
            .or(self.config.sandbox.step_timeout_seconds)
        {
            if !(secs > 0.0 && secs.is_finite()) {
                bail!("step timeout must be a positive number of seconds, got {secs}");
            }
            sandbox.timeout = Duration::from_secs_f64(secs);
        }
        let location = self.config.locations.get(name).cloned().unwrap_or_default();
        for dir in location.dirs.iter().chain(&extra.dirs) {
            if !dir.host.is_dir() {
                bail!(
                    "granted directory {} does not exist (location {name})",
                    dir.host.display()
                );
            }
            sandbox.dirs.push(DirGrant {
                host: dir.host.clone(),
                guest: dir.guest.clone(),
                read_only: dir.read_only,
            });
        }
        for var in location.env.iter().chain(&extra.env) {
            let value = std::env::var(var).with_context(|| {
                format!("environment variable {var} is granted to location {name} but not set")
            })?;
            sandbox.env.push((var.clone(), value));
        }
        for (key, value) in &location.resources {
            sandbox
                .resources
                .push((key.clone(), Value::json(value.to_string())));
        }
        sandbox.k8s_jobs = location.k8s_jobs;
        Ok(sandbox)
    }
}

/// Grants and limits given on the command line.
#[derive(Debug, Default)]
pub struct Grants {
    pub dirs: Vec<DirConfig>,
    pub env: Vec<String>,
    pub memory_mb: Option<usize>,
    pub timeout_seconds: Option<f64>,
}

/// Parses `HOST=GUEST[:ro]` (or just `HOST`, seen at the same path).
pub fn parse_dir_grant(text: &str) -> Result<DirConfig, String> {
    let (spec, read_only) = match text.strip_suffix(":ro") {
        Some(rest) => (rest, true),
        None => (text.strip_suffix(":rw").unwrap_or(text), false),
    };
    let (host, guest) = match spec.split_once('=') {
        Some((h, g)) => (h, g.to_owned()),
        None => (spec, spec.to_owned()),
    };
    if host.is_empty() || guest.is_empty() {
        return Err(format!("expected HOST=GUEST[:ro], got {text:?}"));
    }
    Ok(DirConfig {
        host: Path::new(host).to_path_buf(),
        guest,
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_grants_parse() {
        let g = parse_dir_grant("/srv/in=/data:ro").unwrap();
        assert_eq!(
            (g.host.to_str(), g.guest.as_str(), g.read_only),
            (Some("/srv/in"), "/data", true)
        );
        let g = parse_dir_grant("/tmp").unwrap();
        assert_eq!((g.guest.as_str(), g.read_only), ("/tmp", false));
        assert!(parse_dir_grant("=/x").is_err());
    }

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
    fn io_manager_names_and_limits_are_checked() {
        let instance = |yaml: &str| Instance {
            home: PathBuf::from("/nonexistent/weft-home"),
            config: serde_yaml_ng::from_str(yaml).unwrap(),
        };
        let chosen = |yaml: &str| instance(yaml).io_manager();
        assert!(matches!(
            chosen("io_manager: database").unwrap(),
            ChosenIoManager::Database { max_bytes } if max_bytes == 1 << 20
        ));
        assert!(matches!(
            chosen("io_manager: {database: {max_bytes: 4}}").unwrap(),
            ChosenIoManager::Database { max_bytes: 4 }
        ));
        assert!(matches!(
            chosen("io_manager: filesystem").unwrap(),
            ChosenIoManager::Made(_)
        ));
        let zero = chosen("io_manager: {database: {max_bytes: 0}}")
            .err()
            .unwrap();
        assert!(
            zero.to_string().contains("max_bytes must be at least 1"),
            "{zero}"
        );
        let huge = chosen("io_manager: {database: {max_bytes: 2000000000}}")
            .err()
            .unwrap();
        assert!(huge.to_string().contains("over 1000000000"), "{huge}");
        let unknown = chosen("io_manager: disk").err().unwrap();
        assert_eq!(
            unknown.to_string(),
            format!("unknown io_manager \"disk\" in weft.yaml ({IO_MANAGERS})")
        );
    }

    #[test]
    fn yaml_is_strict() {
        let err = serde_yaml_ng::from_str::<InstanceConfig>("executr: parallel").unwrap_err();
        assert!(err.to_string().contains("unknown field `executr`"), "{err}");
        let cfg: InstanceConfig =
            serde_yaml_ng::from_str("executor: parallel\nlocations: {numbers: {env: [A]}}")
                .unwrap();
        assert_eq!(cfg.locations["numbers"].env, ["A"]);
    }
}
