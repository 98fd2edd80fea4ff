//! The server's loaded code-location versions: each `(location, digest)` is loaded once
//! (from the component bytes in the database, precompiled through the on-disk cache) and
//! kept in memory while its grants stay the same, within a budget (`registry_mb` in
//! weft.yaml, counted in component bytes): past it, the least recently used versions are
//! let go (a run under way keeps its own hold). Nothing here is state of its own: a
//! version missing from memory is loaded again from the database, so every replica can run
//! every version, including one uploaded to another replica a moment ago. A pod or worker
//! whose weft.yaml names a `component_store` (which every upload is written to) or a
//! `component_server` fetches the bytes (and the precompiled form) from there by digest
//! instead (`fetch.rs`). Versions are loaded through the core's `LocationLoader` port (the
//! wasm host in `weft`; Rust stand-ins in tests).

use std::sync::{Arc, Mutex};

use lru::LruCache;

use weft_core::grants::{Grants, Limits, Sandbox};
use weft_core::ports::{CodeLocation, LocationLoader, digest_of};
use weft_objstore::S3Components;
use weft_store::Store;

use crate::error::{Error, ErrorKind};
use crate::instance::Instance;

/// A loaded version, the grants it was loaded with, and its component's size.
struct Entry<L = Arc<dyn CodeLocation>> {
    grants: Grants,
    location: L,
    bytes: usize,
}

/// The versions kept loaded, least recently used first out once their components pass
/// `budget` bytes (the newest is kept whatever its size).
struct Loaded<L = Arc<dyn CodeLocation>> {
    versions: LruCache<(String, String), Entry<L>>,
    bytes: usize,
    budget: usize,
}

impl<L> Loaded<L> {
    fn new(budget: usize) -> Self {
        Loaded {
            versions: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    fn insert(&mut self, key: (String, String), entry: Entry<L>) {
        self.bytes += entry.bytes;
        if let Some(old) = self.versions.put(key, entry) {
            self.bytes -= old.bytes;
        }
        while self.bytes > self.budget && self.versions.len() > 1 {
            match self.versions.pop_lru() {
                Some((_, gone)) => self.bytes -= gone.bytes,
                None => break,
            }
        }
    }
}

/// The default of `registry_mb`.
pub const DEFAULT_REGISTRY_MB: usize = 256;

/// Loaded versions by `(location name, digest)`.
pub struct Registry {
    host: Arc<dyn LocationLoader>,
    store: Arc<Store>,
    instance: Arc<Instance>,
    /// `component_store` in weft.yaml.
    components: Option<Arc<S3Components>>,
    loaded: Mutex<Loaded>,
}

impl Registry {
    pub fn new(
        host: Arc<dyn LocationLoader>,
        store: Arc<Store>,
        instance: Arc<Instance>,
        components: Option<Arc<S3Components>>,
    ) -> Self {
        let budget = instance.config.registry_mb.unwrap_or(DEFAULT_REGISTRY_MB) << 20;
        Registry {
            host,
            store,
            components,
            instance,
            loaded: Mutex::new(Loaded::new(budget)),
        }
    }

    /// Writes a version about to be stored to the component store, if there is one: an
    /// upload that cannot be written there fails before anything is stored.
    pub async fn publish(&self, digest: &str, bytes: Arc<Vec<u8>>) -> Result<(), Error> {
        match &self.components {
            Some(components) => {
                crate::fetch::publish(self.host.as_ref(), components, digest, bytes).await
            }
            None => Ok(()),
        }
    }

    /// What location `name` is shown to be granted: its stored `grants` and, beside them,
    /// what weft.yaml (or `weft dev`'s flags) grant it: the hosts, directories, variable
    /// names and Kubernetes Jobs, never weft.yaml's environment values or resources; the
    /// stored environment values masked ([`Grants::masked`]).
    pub fn shown_grants(&self, name: &str, grants: &Grants) -> Grants {
        let configured = self.instance.grants(name);
        let mut shown = grants.masked();
        shown.merge(&Grants {
            environment: Default::default(),
            resources: Default::default(),
            ..configured
        });
        shown
    }

    /// The sandbox of location `name` under `grants`, with weft.yaml's limits and grants.
    pub fn sandbox(&self, name: &str, grants: &Grants) -> Result<Sandbox, Error> {
        self.instance
            .sandbox(name, grants, Limits::default())
            .map_err(|e| Error::unprocessable(e.to_string()))
    }

    /// Validates and compiles `bytes` as location `name` (without storing anything).
    pub async fn compile(
        &self,
        name: &str,
        bytes: Arc<Vec<u8>>,
        grants: &Grants,
    ) -> Result<Arc<dyn CodeLocation>, Error> {
        let sandbox = self.sandbox(name, grants)?;
        let host = self.host.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || host.load(&name, &bytes, sandbox))
            .await
            .map_err(|e| Error::internal(format!("loading the component: {e}")))?
            .map_err(Error::from)
    }

    /// Keeps a freshly compiled version (of a component of `bytes` bytes), so that its
    /// first run does not load it again.
    pub fn keep(
        &self,
        location: Arc<dyn CodeLocation>,
        grants: Grants,
        bytes: usize,
    ) -> Arc<dyn CodeLocation> {
        let key = (location.name().to_owned(), location.digest().to_owned());
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(
                key,
                Entry {
                    grants,
                    location: location.clone(),
                    bytes,
                },
            );
        }
        location
    }

    /// Version `digest` of location `name` under `grants`, loaded if need be.
    pub async fn get(
        &self,
        name: &str,
        digest: &str,
        grants: &Grants,
    ) -> Result<Arc<dyn CodeLocation>, Error> {
        let key = (name.to_owned(), digest.to_owned());
        if let Ok(mut loaded) = self.loaded.lock()
            && let Some(entry) = loaded.versions.get(&key)
            && entry.grants == *grants
        {
            return Ok(entry.location.clone());
        }
        // What a precompiled form fetched from elsewhere must hash to (none recorded: the
        // component is compiled here). Read only when there is an elsewhere.
        let fetched = self.components.is_some() || self.instance.config.component_server.is_some();
        let precompiled = if fetched {
            self.store
                .precompiled_sha256(digest, self.host.engine_key())
                .await
                .map_err(Error::from)?
        } else {
            None
        };
        let precompiled = precompiled.as_deref();
        let from_store = match &self.components {
            Some(components) => {
                match crate::fetch::component_from_store(
                    self.host.as_ref(),
                    components,
                    digest,
                    precompiled,
                )
                .await
                {
                    Ok(found) => found,
                    // Bytes that do not match the digest are refused, wherever else they are.
                    Err(e) if e.kind == ErrorKind::Unprocessable => return Err(e),
                    Err(e) => {
                        tracing::warn!("{}; reading the component elsewhere", e.message);
                        None
                    }
                }
            }
            None => None,
        };
        let bytes = match (from_store, &self.instance.config.component_server) {
            (Some(bytes), _) => bytes,
            (None, Some(server)) => {
                crate::fetch::component(self.host.as_ref(), server, digest, precompiled).await?
            }
            (None, None) => self
                .stored_component(digest)
                .await
                .map_err(|e| match e.kind {
                    ErrorKind::NotFound => Error::new(
                        ErrorKind::Unprocessable,
                        format!(
                            "version {digest} of code location {name} has no stored component: \
                         upload it again"
                        ),
                    ),
                    _ => e,
                })?,
        };
        let size = bytes.len();
        let location = self.compile(name, Arc::new(bytes), grants).await?;
        Ok(self.keep(location, grants.clone(), size))
    }
}

impl Registry {
    /// The stored bytes of component `digest`.
    async fn stored_component(&self, digest: &str) -> Result<Vec<u8>, Error> {
        self.store
            .component(digest)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no component {digest} is stored: upload it again"),
                )
            })
    }

    /// Component `digest`, as the server serves it to pods.
    pub async fn component_bytes(&self, digest: &str) -> Result<Vec<u8>, Error> {
        self.stored_component(digest).await
    }

    /// The precompiled form of component `digest` for engine `engine`, compiled here first
    /// if this server's engine is that one and has not compiled it yet.
    pub async fn precompiled_bytes(&self, digest: &str, engine: &str) -> Result<Vec<u8>, Error> {
        if engine != self.host.engine_key() {
            return Err(Error::not_found(format!(
                "this server's engine is {}, not {engine}: the pod compiles the component itself",
                self.host.engine_key()
            )));
        }
        let path = self.host.cache_path(digest);
        if !path.exists() {
            let bytes = self.stored_component(digest).await?;
            let host = self.host.clone();
            tokio::task::spawn_blocking(move || host.precompile(&bytes))
                .await
                .map_err(|e| Error::internal(e.to_string()))?
                .map_err(Error::from)?;
            // Compiled here now: what the pod will check it against. (A form compiled at
            // upload was recorded then.)
            self.record_own_precompiled(digest).await?;
        }
        tokio::fs::read(&path)
            .await
            .map_err(|e| Error::internal(format!("reading {}: {e}", path.display())))
    }

    /// Records the digest of this server's precompiled form of component `digest` (made
    /// when it compiled it), if it has one, for whoever fetches it from elsewhere to check.
    pub async fn record_own_precompiled(&self, digest: &str) -> Result<(), Error> {
        let Ok(compiled) = tokio::fs::read(self.host.cache_path(digest)).await else {
            return Ok(());
        };
        self.store
            .record_precompiled(digest, self.host.engine_key(), &digest_of(&compiled))
            .await
            .map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(location: &'static str, bytes: usize) -> Entry<&'static str> {
        Entry {
            grants: Grants::default(),
            location,
            bytes,
        }
    }

    fn key(digest: &str) -> (String, String) {
        ("numbers".to_owned(), digest.to_owned())
    }

    #[test]
    fn the_least_recently_used_versions_go_once_past_the_budget() {
        let mut loaded = Loaded::new(100);
        loaded.insert(key("a"), entry("a", 40));
        loaded.insert(key("b"), entry("b", 40));
        // `a` is used again: `b` is now the least recently used.
        assert!(loaded.versions.get(&key("a")).is_some());
        loaded.insert(key("c"), entry("c", 40));
        assert!(loaded.versions.contains(&key("a")) && loaded.versions.contains(&key("c")));
        assert!(!loaded.versions.contains(&key("b")));
        assert_eq!(loaded.bytes, 80);
        // Replacing a version counts its size once.
        loaded.insert(key("c"), entry("c2", 50));
        assert_eq!(loaded.bytes, 90);
        // One larger than the whole budget is kept alone: the newest always is.
        loaded.insert(key("huge"), entry("huge", 500));
        assert_eq!(loaded.versions.len(), 1);
        assert_eq!(loaded.bytes, 500);
    }
}
