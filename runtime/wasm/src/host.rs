//! [`WasmHost`]: the process's WebAssembly host. It loads a component as a code location
//! (header, contract version, world, definitions, validation) and keeps the precompile
//! cache: each component is compiled once per digest and engine, kept as
//! `<digest>-<engine>.cwasm`, and loaded from there (memory-mapped) ever after. It is the
//! [`LocationLoader`] the control plane loads versions through.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::Component;
use weft_core::grants::Sandbox;
use weft_core::ports::{CodeLocation, ExternalJobs, LocationLoader, digest_of};

use crate::bindings::CodeLocationPre;
use crate::engine::{Allocation, HostInner};
use crate::error::{CONTRACT_VERSION, LoadError};
use crate::location::WasmLocation;
use crate::network::Tls;

/// The process's WebAssembly host: one engine, one linker, one precompile cache.
/// Cheap to clone.
#[derive(Clone)]
pub struct WasmHost {
    inner: Arc<HostInner>,
}

impl WasmHost {
    /// A host whose precompiled components live in `cache_dir` (created when needed).
    pub fn new(cache_dir: PathBuf) -> Result<Self, LoadError> {
        Self::with_allocation(cache_dir, Allocation::Pooled)
    }

    /// A host allocating instances as `allocation` says; its precompiled components are
    /// the same whichever.
    pub fn with_allocation(cache_dir: PathBuf, allocation: Allocation) -> Result<Self, LoadError> {
        Self::configured(cache_dir, allocation, None)
    }

    /// A host allocating instances as `allocation` says, whose guests' HTTPS requests also
    /// trust the PEM certificates in `ca_file` (weft.yaml's `http.ca_file`), beside the
    /// system's roots. A file that cannot be read or holds no certificate is an error here.
    pub fn configured(
        cache_dir: PathBuf,
        allocation: Allocation,
        ca_file: Option<&Path>,
    ) -> Result<Self, LoadError> {
        let tls = Tls::new(ca_file).map_err(LoadError::Tls)?;
        Ok(WasmHost {
            inner: Arc::new(HostInner::new(cache_dir, allocation, tls)?),
        })
    }

    /// Loads `bytes` as the code location `name`: checks it is a component of our world,
    /// compiles it (or takes it from the cache), asks it for its definitions and validates
    /// them. Nothing is kept of a component that fails any of these.
    pub fn load(
        &self,
        name: &str,
        bytes: &[u8],
        sandbox: Sandbox,
    ) -> Result<WasmLocation, LoadError> {
        check_header(bytes)?;
        let digest = digest_of(bytes);
        let component = self.compile(&digest, bytes)?;
        check_contract(&self.inner.engine, &component)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        let pre = CodeLocationPre::new(pre).map_err(|e| LoadError::WrongWorld(format!("{e:#}")))?;
        WasmLocation::new(self.inner.clone(), name.to_owned(), digest, pre, sandbox)
    }

    /// Lets the steps of locations granted `k8s_jobs` start Kubernetes Jobs through `jobs`
    /// (once per host; a later call is ignored). Without it their requests are refused.
    pub fn set_external_jobs(&self, jobs: Arc<dyn ExternalJobs>) {
        let _ = self.inner.external_jobs.set(jobs);
    }

    /// This engine's compatibility key: precompiled components are interchangeable
    /// between hosts with the same key (the same build of Weft and wasmtime settings).
    pub fn engine_key(&self) -> &str {
        &self.inner.engine_key
    }

    /// Compiles `bytes` into the precompile cache (if not there yet), without loading it.
    pub fn precompile(&self, bytes: &[u8]) -> Result<(), LoadError> {
        check_header(bytes)?;
        self.compile(&digest_of(bytes), bytes).map(drop)
    }

    /// Where the precompiled form of `digest` is kept.
    pub fn cache_path(&self, digest: &str) -> PathBuf {
        self.inner
            .cache_dir
            .join(format!("{digest}-{}.cwasm", self.inner.engine_key))
    }

    fn compile(&self, digest: &str, bytes: &[u8]) -> Result<Component, LoadError> {
        let path = self.cache_path(digest);
        if path.exists() {
            match load_precompiled(&self.inner.engine, &path) {
                Ok(component) => return Ok(component),
                // A stale or damaged cache entry is rebuilt, not trusted.
                Err(e) => tracing::warn!("ignoring precompiled {}: {e:#}", path.display()),
            }
        }
        let compiled = self
            .inner
            .engine
            .precompile_component(bytes)
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        let cache_err = |message: String| LoadError::Cache {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(&self.inner.cache_dir).map_err(|e| cache_err(e.to_string()))?;
        let tmp = path.with_extension(format!("partial-{}", std::process::id()));
        std::fs::write(&tmp, &compiled).map_err(|e| cache_err(e.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|e| cache_err(e.to_string()))?;
        load_precompiled(&self.inner.engine, &path).map_err(|e| cache_err(format!("{e:#}")))
    }
}

impl LocationLoader for WasmHost {
    fn load(
        &self,
        name: &str,
        bytes: &[u8],
        sandbox: Sandbox,
    ) -> Result<Arc<dyn CodeLocation>, weft_core::ports::LoadError> {
        Ok(Arc::new(WasmHost::load(self, name, bytes, sandbox)?))
    }

    fn precompile(&self, bytes: &[u8]) -> Result<(), weft_core::ports::LoadError> {
        Ok(WasmHost::precompile(self, bytes)?)
    }

    fn engine_key(&self) -> &str {
        WasmHost::engine_key(self)
    }

    fn cache_path(&self, digest: &str) -> PathBuf {
        WasmHost::cache_path(self, digest)
    }
}

/// Maps a precompiled component written by this host's `compile`.
#[allow(unsafe_code)]
fn load_precompiled(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was produced by `Engine::precompile_component` of an engine with the
    // same compatibility hash (it is in the file name) — here, or by the instance's own
    // server for a pod (`component_server`: trusted as the database is, and reached with
    // its token) — and written under Weft's cache directory by an atomic rename, so it is
    // whole; wasmtime checks its header and engine
    // settings again and errors out on a mismatch. The cache directory must be writable
    // only by the Weft user (it is under `$WEFT_HOME`).
    unsafe { Component::deserialize_file(engine, path) }
}

/// Distinguishes "not wasm" and "a core module" from a component before compiling.
fn check_header(bytes: &[u8]) -> Result<(), LoadError> {
    match bytes {
        [0, b'a', b's', b'm', 1, 0, 0, 0, ..] => Err(LoadError::CoreModule),
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => Ok(()),
        [0, b'a', b's', b'm', ..] => Err(LoadError::Invalid(
            "unknown WebAssembly version or layer".into(),
        )),
        _ => Err(LoadError::NotWasm),
    }
}

/// Refuses, by name, a component that exports the Weft interfaces of another contract
/// version, instead of the linker's list of missing exports.
fn check_contract(engine: &Engine, component: &Component) -> Result<(), LoadError> {
    let ty = component.component_type();
    for (name, _) in ty.exports(engine).chain(ty.imports(engine)) {
        if let Some(found) = name
            .strip_prefix("weft:plugin/")
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, version)| version)
            && found != CONTRACT_VERSION
        {
            return Err(LoadError::ContractVersion {
                found: found.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_told_apart() {
        assert!(matches!(
            check_header(b"hello world"),
            Err(LoadError::NotWasm)
        ));
        assert!(matches!(
            check_header(b"\0asm\x01\0\0\0"),
            Err(LoadError::CoreModule)
        ));
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn bad_input_is_rejected_with_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("weft-host-test-{}", std::process::id()));
        let host = WasmHost::new(dir.clone()).unwrap();
        let err = host
            .load("x", b"\0asm\x01\0\0\0", Sandbox::default())
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("core WebAssembly module, not a component"),
            "{err}"
        );
        let err = host
            .load("x", b"\0asm\x0d\0\x01\0garbage", Sandbox::default())
            .unwrap_err();
        assert!(matches!(err, LoadError::Invalid(_)), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
