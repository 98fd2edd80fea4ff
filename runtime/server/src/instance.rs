//! The Weft instance: `$WEFT_HOME` and its configuration, and what the configuration
//! makes — the database, the I/O manager and compute-log store runs use, the component
//! store, and each code location's sandbox (its grants from weft.yaml, with those given at
//! upload or on the command line).

use std::path::PathBuf;
use std::sync::Arc;

use weft_core::grants::{GrantError, Grants, Limits, Sandbox};
use weft_core::ports::{ComputeLogStore, IoManager};
use weft_engine::io::{FsComputeLogs, FsIoManager, InMemoryIoManager};
use weft_store::{DatabaseIoManager, Store};
use weft_wasm::{Allocation, WasmHost};

use crate::config::{IO_MANAGERS, InstanceConfig, IoManagerConfig, ObjectStoreConfig};
use crate::error::Error;

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
    pub fn open(self, store: &Store) -> Result<Box<dyn IoManager>, Error> {
        Ok(match self {
            ChosenIoManager::Made(io) => io,
            ChosenIoManager::Database { max_bytes } => {
                let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                    Error::internal("the database I/O manager is opened within the async runtime")
                })?;
                Box::new(DatabaseIoManager::new(store.clone(), runtime, max_bytes))
            }
        })
    }
}

/// The instance's home directory and configuration.
pub struct Instance {
    pub home: PathBuf,
    pub config: InstanceConfig,
}

impl Instance {
    /// The instance at `home` with `config`, as read from its `weft.yaml` (the `weft`
    /// binary reads it).
    pub fn new(home: PathBuf, config: InstanceConfig) -> Self {
        Instance { home, config }
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.join("weft.db")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home.join("cache")
    }

    /// The process's WebAssembly host: its precompile cache here, instances allocated as
    /// `allocation` says, HTTPS trusting `http.ca_file` too. A CA file that cannot be read
    /// is a configuration error, said at start.
    pub fn wasm_host(&self, allocation: Allocation) -> Result<WasmHost, Error> {
        let ca_file = self.config.http.ca_file.as_deref();
        WasmHost::configured(self.cache_dir(), allocation, ca_file).map_err(|e| match e {
            weft_wasm::LoadError::Tls(message) => {
                Error::bad_request(format!("weft.yaml: {message}"))
            }
            e => Error::internal(e.to_string()),
        })
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
    /// else SQLite at `$WEFT_HOME/weft.db`; and stores there the events saved under the
    /// home while it was out of reach.
    pub async fn open_store(&self) -> Result<Store, Error> {
        let store = match self.database_url() {
            Some(url) => Store::connect(&url).await?,
            None => Store::open_sqlite(&self.db_path()).await?,
        };
        crate::replay_unsaved(&self.unsaved_dir(), &store)
            .await
            .report();
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
    pub fn io_manager(&self) -> Result<ChosenIoManager, Error> {
        let made = |io: Box<dyn IoManager>| Ok(ChosenIoManager::Made(io));
        match &self.config.io_manager {
            None => made(Box::new(FsIoManager::new(self.storage_dir()))),
            Some(IoManagerConfig::Named(name)) => match name.as_str() {
                "filesystem" => made(Box::new(FsIoManager::new(self.storage_dir()))),
                "in-memory" => made(Box::<InMemoryIoManager>::default()),
                "database" => Ok(ChosenIoManager::Database {
                    max_bytes: DatabaseIoManager::DEFAULT_MAX_BYTES,
                }),
                other => Err(Error::bad_request(format!(
                    "unknown io_manager {other:?} in weft.yaml ({IO_MANAGERS})"
                ))),
            },
            Some(IoManagerConfig::Database { database }) => {
                let max_bytes = database
                    .max_bytes
                    .unwrap_or(DatabaseIoManager::DEFAULT_MAX_BYTES);
                let largest = DatabaseIoManager::LARGEST_MAX_BYTES;
                if max_bytes == 0 {
                    return Err(Error::bad_request(
                        "io_manager database in weft.yaml: max_bytes must be at least 1",
                    ));
                }
                if max_bytes > largest {
                    return Err(Error::bad_request(format!(
                        "io_manager database in weft.yaml: max_bytes is {max_bytes}, over \
                         {largest} (the most either database takes in one value): large \
                         values belong in io_manager: filesystem or {{s3: {{bucket: ...}}}}"
                    )));
                }
                Ok(ChosenIoManager::Database { max_bytes })
            }
            Some(IoManagerConfig::S3 { s3 }) => made(Box::new(
                weft_objstore::S3IoManager::new(&s3.under("storage"))
                    .map_err(|e| Error::bad_request(format!("io_manager s3 in weft.yaml: {e}")))?,
            )),
        }
    }

    /// The compute-log store runs use (`compute_logs` in weft.yaml: `$WEFT_HOME/logs` by
    /// default).
    pub fn compute_logs(&self) -> Result<Arc<dyn ComputeLogStore>, Error> {
        Ok(match &self.config.compute_logs {
            None => std::sync::Arc::new(FsComputeLogs::new(self.logs_dir())),
            Some(ObjectStoreConfig { s3 }) => std::sync::Arc::new(
                weft_objstore::S3ComputeLogs::new(&s3.under("logs")).map_err(|e| {
                    Error::bad_request(format!("compute_logs s3 in weft.yaml: {e}"))
                })?,
            ),
        })
    }

    /// The component store (`component_store` in weft.yaml), if any.
    pub fn component_store(&self) -> Result<Option<Arc<weft_objstore::S3Components>>, Error> {
        self.config
            .component_store
            .as_ref()
            .map(|ObjectStoreConfig { s3 }| {
                weft_objstore::S3Components::new(&s3.under("components"))
                    .map(std::sync::Arc::new)
                    .map_err(|e| {
                        Error::bad_request(format!("component_store s3 in weft.yaml: {e}"))
                    })
            })
            .transpose()
    }

    /// Whether outputs live only in this process (the in-memory I/O manager), so steps in
    /// other processes cannot read them.
    pub fn outputs_stay_in_process(&self) -> bool {
        matches!(&self.config.io_manager, Some(IoManagerConfig::Named(n)) if n == "in-memory")
    }

    /// The environment the code locations named in `location` (`a+b` for a run across
    /// locations) are granted in weft.yaml, with this process's values for the variables
    /// granted by name: what their run's and steps' pods must be given.
    pub fn location_env(&self, location: &str) -> Vec<(String, String)> {
        location
            .split('+')
            .filter_map(|name| self.config.locations.get(name))
            .flat_map(|l| {
                let named =
                    l.grants.env.iter().filter_map(|var| {
                        std::env::var(var).ok().map(|value| (var.clone(), value))
                    });
                named
                    .chain(l.grants.environment.clone())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// What weft.yaml grants location `name`.
    pub fn grants(&self, name: &str) -> Grants {
        self.config
            .locations
            .get(name)
            .map(|l| l.grants.clone())
            .unwrap_or_default()
    }

    /// The sandbox of location `name`: weft.yaml's grants plus `extra` (given at upload or
    /// on the command line), under `limits` over weft.yaml's.
    pub fn sandbox(
        &self,
        name: &str,
        extra: &Grants,
        limits: Limits,
    ) -> Result<Sandbox, GrantError> {
        let mut grants = self.grants(name);
        grants.merge(extra);
        let limits = limits.or(self.config.sandbox.limits());
        let sandbox = grants.resolve(
            name,
            limits,
            |var| std::env::var(var).ok(),
            |dir| dir.is_dir(),
        )?;
        // No directory grant reaches the instance's own files: a grant of the home, of a
        // directory above it (`/`), or of one inside it is refused.
        if sandbox.dirs.is_empty() {
            return Ok(sandbox);
        }
        let home = self
            .home
            .canonicalize()
            .unwrap_or_else(|_| self.home.clone());
        for dir in &sandbox.dirs {
            let granted = dir.host.canonicalize().unwrap_or_else(|_| dir.host.clone());
            if home.starts_with(&granted) || granted.starts_with(&home) {
                return Err(GrantError::CoversHome {
                    location: name.to_owned(),
                    dir: dir.host.clone(),
                    home: self.home.clone(),
                });
            }
        }
        Ok(sandbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
