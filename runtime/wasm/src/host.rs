//! The wasmtime engine of a Weft process, its linker (WASI plus the `log`, `resources` and
//! `k8s-jobs` imports), the epoch ticker that enforces deadlines, and the precompile cache: each
//! component is compiled once per digest and engine, kept as `<digest>-<engine>.cwasm`,
//! and loaded from there (memory-mapped) ever after.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};
use weft_core::validate::DefinitionError;
use weft_engine::ports::ExternalJobs;

use crate::bindings::{CodeLocation as World, CodeLocationPre};
use crate::location::CodeLocation;
use crate::sandbox::{CallState, Sandbox};

/// How often the engine's epoch advances: the granularity of step deadlines.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// How many stores (steps, sensor ticks...) may be live at once in one process: each is one
/// component instance of the pool.
const POOL_INSTANCES: u32 = 500;

/// How much of a linear memory's dirtied pages a freed slot resets in place (with
/// `PAGEMAP_SCAN`), rather than giving them back to the kernel.
const KEEP_RESIDENT: usize = 4 << 20;

/// How many freed slots keep their pages (and their affinity to a component) for reuse.
/// With [`KEEP_RESIDENT`] this bounds what idle slots hold: 32 × 4 MiB at most.
const WARM_SLOTS: u32 = 32;

/// The instance pool. Every call gets a fresh store and instance (isolation is unchanged),
/// but its memories, tables and instance state come from pre-reserved slots that are reset
/// and reused, rather than mapped and unmapped per call; the component's initial memory
/// image is mapped copy-on-write. Measured on the numbers location (fresh store +
/// instantiate + one small step): ~60 µs allocating on demand, ~48 µs pooled, ~35 µs pooled
/// with the first 64 KiB of each table kept resident (reset by `memset` rather than
/// `madvise`, which on reuse faults the pages in again).
///
/// Where the kernel has the `PAGEMAP_SCAN` ioctl (Linux 6.7 and later), a freed slot finds
/// the pages of linear memory the call dirtied and copies them back from the image, up to
/// [`KEEP_RESIDENT`]: the next call takes no page faults on them, and no `madvise` flushes
/// the TLB. Measured when it was chosen (a loop of warm steps of the numbers locations, one
/// machine, without → with): Rust 27 → 12 µs, Go (pre-initialized) 155 → 95 µs, Python
/// 1.16 → 1.03 ms. Without the ioctl, keeping memory
/// resident means a `memset` of its low addresses on every reuse, which costs more than the
/// faults it saves, so it is left off.
///
/// Only address space is reserved up front (about 4 GiB per memory slot, the most a 32-bit
/// memory can reach, so every sandbox memory limit fits); the limits are per process and
/// generous for a component's core instances, memories and tables (Go and Python
/// components have several of each).
fn pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOL_INSTANCES)
        .total_core_instances(POOL_INSTANCES * 8)
        .total_memories(POOL_INSTANCES * 2)
        .total_tables(POOL_INSTANCES * 8)
        .max_memories_per_module(2)
        .max_tables_per_module(4)
        .table_elements(100_000)
        .table_keep_resident(64 << 10);
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .max_unused_warm_slots(WARM_SLOTS);
    }
    pool
}

/// Why a component could not be loaded as a code location. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a WebAssembly file (it does not start with the \\0asm header)")]
    NotWasm,
    #[error(
        "this is a core WebAssembly module, not a component: build the location for wasm32-wasip2 \
         (Rust), or build it with `weft build DIR` (Go, Python)"
    )]
    CoreModule,
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error("not a Weft code location (world weft:plugin/code-location@{CONTRACT_VERSION}): {0}")]
    WrongWorld(String),
    #[error(
        "this location was built against the Weft contract weft:plugin@{found}; this host speaks \
         weft:plugin@{CONTRACT_VERSION}: rebuild it with the current SDK"
    )]
    ContractVersion { found: String },
    #[error("the location failed to return its definitions: {0}")]
    Definitions(String),
    #[error("the location's definitions are invalid: {0}")]
    InvalidDefinitions(#[from] DefinitionError),
    #[error("precompile cache {path}: {message}")]
    Cache { path: PathBuf, message: String },
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    linker: Linker<CallState>,
    cache_dir: PathBuf,
    engine_key: String,
    /// Where steps' Kubernetes Jobs run, once the process says.
    pub(crate) external_jobs: OnceLock<Arc<dyn ExternalJobs>>,
}

/// The process's WebAssembly host: one engine, one linker, one precompile cache.
/// Cheap to clone.
#[derive(Clone)]
pub struct WasmHost {
    inner: Arc<HostInner>,
}

/// The sha256 of `bytes`, in hex: a component's identity.
pub fn digest_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// How a host allocates the instances of its steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation {
    /// From a pool reserved up front: the cheapest instantiation, for processes that run
    /// many steps (the server, a run's process, a worker).
    Pooled,
    /// One by one: no reservation to make, for a process that runs one step and exits
    /// (`weft step`), where setting the pool up costs more than it saves.
    OnDemand,
}

impl WasmHost {
    /// A host whose precompiled components live in `cache_dir` (created when needed).
    pub fn new(cache_dir: PathBuf) -> Result<Self, LoadError> {
        Self::with_allocation(cache_dir, Allocation::Pooled)
    }

    /// A host allocating instances as `allocation` says; its precompiled components are
    /// the same whichever.
    pub fn with_allocation(cache_dir: PathBuf, allocation: Allocation) -> Result<Self, LoadError> {
        let engine_err = |e: wasmtime::Error| LoadError::Engine(format!("{e:#}"));
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(OptLevel::Speed);
        let pooled = config
            .clone()
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool()))
            .clone();
        let engine = match allocation {
            Allocation::OnDemand => Engine::new(&config).map_err(engine_err)?,
            Allocation::Pooled => match Engine::new(&pooled) {
                Ok(engine) => engine,
                // The pool reserves its address space up front; where that is refused (a
                // `ulimit -v`), instances are allocated one by one instead: slower, same
                // results.
                Err(e) => {
                    tracing::warn!("no pooling allocator ({e:#}); allocating instances on demand");
                    Engine::new(&config).map_err(engine_err)?
                }
            },
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_err)?;
        World::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(engine_err)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        let weak = engine.weak();
        std::thread::Builder::new()
            .name("weft-epoch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(|e| LoadError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(WasmHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                cache_dir,
                engine_key,
                external_jobs: OnceLock::new(),
            }),
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
    ) -> Result<CodeLocation, LoadError> {
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
        CodeLocation::new(self.inner.clone(), name.to_owned(), digest, pre, sandbox)
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

/// The version of `wit/` this host implements (the package `weft:plugin`).
pub const CONTRACT_VERSION: &str = "0.3.0";

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
