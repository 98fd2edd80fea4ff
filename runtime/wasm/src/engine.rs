//! The wasmtime engine of a Weft process: its configuration (the instance pool), its
//! linker (WASI plus every `weft:plugin` import, see [`crate::imports`]), its clock (the
//! epoch ticker and the calls' deadlines, [`crate::deadlines`]), and the async runtime
//! that drives every call (so a host call that waits, a WASI sleep or a Kubernetes Job, is
//! interrupted at the deadline or a cancel like guest code is).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};
use weft_core::ports::ExternalJobs;

use crate::bindings::{k8s_jobs, log, resources};
use crate::deadlines::{Deadlines, start_ticker};
use crate::error::LoadError;
use crate::network::Tls;
use crate::sandbox::CallState;

/// The tokio runtime every call into a guest is driven on: the calling thread runs the
/// guest (on a fiber), and this runtime's one worker fires the guest's WASI timers and runs
/// its WASI I/O. One per process, never dropped (a runtime cannot be dropped from async code).
pub(crate) fn runtime() -> Result<&'static tokio::runtime::Runtime, &'static str> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("weft-wasm-io")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the wasm host's runtime: {e}"))
        })
        .as_ref()
        .map_err(String::as_str)
}

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
        .total_stacks(POOL_INSTANCES)
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

/// The engine of a process and what every location loaded on it shares.
pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    pub(crate) cache_dir: PathBuf,
    pub(crate) engine_key: String,
    /// The deadlines of the calls under way, watched by the epoch thread.
    pub(crate) deadlines: Arc<Deadlines>,
    /// TLS for the guests' HTTPS requests (`http.ca_file`).
    pub(crate) tls: Arc<Tls>,
    /// Where steps' Kubernetes Jobs run, once the process says.
    pub(crate) external_jobs: OnceLock<Arc<dyn ExternalJobs>>,
}

impl HostInner {
    /// An engine allocating instances as `allocation` says (its precompiled components are
    /// the same whichever), its linker, and the epoch thread that enforces deadlines.
    pub(crate) fn new(
        cache_dir: PathBuf,
        allocation: Allocation,
        tls: Tls,
    ) -> Result<Self, LoadError> {
        let engine_err = |e: wasmtime::Error| LoadError::Engine(format!("{e:#}"));
        runtime().map_err(|e| LoadError::Engine(e.to_owned()))?;
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
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_err)?;
        crate::network::lookup::add_to_linker(&mut linker).map_err(engine_err)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(engine_err)?;
        // Weft's own imports, one by one: the world's add_to_linker would link its WASI
        // again.
        log::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(engine_err)?;
        resources::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(engine_err)?;
        k8s_jobs::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(engine_err)?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        let deadlines = Arc::new(Deadlines::default());
        start_ticker(&engine, deadlines.clone())
            .map_err(|e| LoadError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(HostInner {
            engine,
            linker,
            cache_dir,
            engine_key,
            deadlines,
            tls: Arc::new(tls),
            external_jobs: OnceLock::new(),
        })
    }
}
