//! Pre-initialization of a Go code location at build time, with wasmtime's Wizer.
//!
//! A Go component starts its runtime (heap, scheduler, garbage collector) and runs every
//! package initializer, the SDK's registry included, each time it is instantiated: about a
//! millisecond per step, spent before the op is even called (the SDK's `weft_preinit` also
//! fills the caches a first step would). [`pre_initialize`] does that
//! once, in `weft build`: it instantiates the *core module* Go wrote, runs `_initialize`
//! and the SDK's `weft_preinit` export, and writes a new module whose data segments and
//! globals are what those left behind, its data segments then merged to a few dozen
//! (`segments`: their number, not their size, costs each instance). An instance of it
//! starts where initialization ended (memory-mapped copy-on-write by the host), and its
//! `_initialize` is gone.
//!
//! The snapshot is taken of the core module, before it is made a component, so the WASI
//! preview1 adapter's state (its stdio streams are handles into the host's resource table)
//! is never baked in. What the Go program read from WASI while initializing is: the SDK's
//! `weft_preinit` marks the snapshot, and the first export call of every instance reads
//! its environment and preopened directories again and reseeds Go's random generator
//! (guest-sdk/go, `preinit_wasm.go`). Initialization here sees no environment, no
//! directories, no host imports (calling one is an error naming it), a monotonic clock
//! stopped at its start, so no timestamp kept in memory is later than the clock a restored
//! instance reads, a wall clock stopped at the Unix epoch and a fixed sequence of random
//! bytes: the same module always pre-initializes to the same bytes, so the same source
//! builds to the same digest.

mod segments;

use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use wasmtime::{Config, Engine, Instance, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtxBuilder};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

/// The export of the Weft Go SDK that marks a snapshot (it sets the flag the first call
/// of a restored instance checks). Wizer removes it, and `_initialize`, from the result.
pub const PREINIT_EXPORT: &str = "weft_preinit";

/// How long initialization may run before it is stopped.
const INIT_DEADLINE: Duration = Duration::from_secs(60);

/// How much linear memory initialization may grow to.
const INIT_MEMORY_LIMIT: usize = 2 << 30;

/// How much of what initialization printed to stderr an error quotes.
const STDERR_TAIL: usize = 2048;

/// Why a module could not be pre-initialized. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum PreinitError {
    #[error(
        "the module has no `{PREINIT_EXPORT}` export: only code locations built with the Weft Go \
         SDK can be pre-initialized (build with --no-pre-init to skip it)"
    )]
    NotWeftGo,
    #[error("the module cannot be pre-initialized: {0} (build with --no-pre-init to skip it)")]
    Unsupported(String),
    #[error(
        "the Go program failed while it initialized (its package-level variables and init \
         functions): {message}{stderr}"
    )]
    Init { message: String, stderr: String },
    #[error(
        "the Go program was still initializing after {} s; an init function that waits or \
         loops must move into an op",
        INIT_DEADLINE.as_secs()
    )]
    Deadline,
    #[error("cannot start the WebAssembly engine for pre-initialization: {0}")]
    Engine(String),
}

/// The store of the initializing instance.
struct InitState {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

/// The wall clock initialization reads: stopped at the Unix epoch, so that nothing of the
/// build's time ends up in the snapshot.
struct EpochWallClock;

impl HostWallClock for EpochWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

/// The randomness initialization reads: a fixed cycle of bytes, so that the same module
/// always snapshots to the same bytes (an instance made from the snapshot reseeds Go's
/// generators on its first call).
fn fixed_random() -> Deterministic {
    Deterministic::new((0..=u8::MAX).collect())
}

/// The monotonic clock initialization reads: stopped at 1 ns (Go refuses a clock at zero).
/// What Go records of it at start-up (the base of `time.Since`, the collector's and timers'
/// last times) is then no later than anything a restored instance, whose clock starts
/// again from zero when it is made, reads once it runs.
struct StoppedClock;

impl HostMonotonicClock for StoppedClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        1
    }
}

/// Runs the initialization of the Go core module `core` (`_initialize`, then
/// [`PREINIT_EXPORT`]) and returns the module with that state as its initial state.
///
/// It runs on a thread of its own: WASI's synchronous host functions start their own
/// async runtime, which cannot be done on a thread that is already driving one (`weft`'s
/// commands run on tokio).
pub fn pre_initialize(core: &[u8]) -> Result<Vec<u8>, PreinitError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("weft-preinit".into())
            .spawn_scoped(scope, || snapshot_of(core))
            .map_err(|e| PreinitError::Engine(format!("cannot start a thread: {e}")))?
            .join()
            .unwrap_or_else(|_| {
                Err(PreinitError::Unsupported(
                    "pre-initialization panicked".into(),
                ))
            })
    })
}

fn snapshot_of(core: &[u8]) -> Result<Vec<u8>, PreinitError> {
    let mut wizer = Wizer::new();
    wizer.init_func(PREINIT_EXPORT);
    let (cx, instrumented) = wizer
        .instrument(core)
        .map_err(|e| PreinitError::Unsupported(format!("{e:#}")))?;

    let mut config = Config::new();
    config.epoch_interruption(true);
    let engine = Engine::new(&config).map_err(|e| PreinitError::Engine(format!("{e:#}")))?;
    let module = Module::new(&engine, &instrumented)
        .map_err(|e| PreinitError::Unsupported(format!("{e:#}")))?;
    if module.get_export(PREINIT_EXPORT).is_none() {
        return Err(PreinitError::NotWeftGo);
    }

    let mut linker: Linker<InitState> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s| &mut s.wasi)
        .map_err(|e| PreinitError::Engine(format!("{e:#}")))?;
    // The code location's own imports (log, resources, k8s-jobs) have no host here.
    linker
        .define_unknown_imports_as_traps(&module)
        .map_err(|e| PreinitError::Engine(format!("{e:#}")))?;

    let stderr = MemoryOutputPipe::new(STDERR_TAIL * 4);
    let wasi = WasiCtxBuilder::new()
        .stderr(stderr.clone())
        .monotonic_clock(StoppedClock)
        .wall_clock(EpochWallClock)
        .secure_random(fixed_random())
        .insecure_random(fixed_random())
        .insecure_random_seed(0)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build_p1();
    let limits = StoreLimitsBuilder::new()
        .memory_size(INIT_MEMORY_LIMIT)
        .build();
    let mut store = Store::new(&engine, InitState { wasi, limits });
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(1);

    let (done, stopped) = mpsc::channel::<()>();
    let ticker = engine.clone();
    std::thread::spawn(move || {
        if stopped.recv_timeout(INIT_DEADLINE).is_err() {
            ticker.increment_epoch();
        }
    });
    let initialized = initialize(&linker, &mut store, &module);
    let _ = done.send(());
    let instance = initialized.map_err(|e| init_error(&e, &stderr))?;

    let mut access = Access {
        store: &mut store,
        instance,
    };
    let snapshot = run_ready(wizer.snapshot(&cx, &mut access))
        .ok_or_else(|| PreinitError::Unsupported("the snapshot did not complete".into()))?
        .map_err(|e| PreinitError::Unsupported(format!("{e:#}")))?;
    segments::coalesce(&snapshot, segments::MAX_GAP)
        .map_err(|e| PreinitError::Unsupported(format!("its snapshot does not parse: {e}")))
}

/// Instantiates `module` and runs `_initialize` (Go's runtime and package initializers),
/// then the SDK's [`PREINIT_EXPORT`].
fn initialize(
    linker: &Linker<InitState>,
    store: &mut Store<InitState>,
    module: &Module,
) -> wasmtime::Result<Instance> {
    let instance = linker.instantiate(&mut *store, module)?;
    if let Ok(init) = instance.get_typed_func::<(), ()>(&mut *store, "_initialize") {
        init.call(&mut *store, ())?;
    }
    instance
        .get_typed_func::<(), ()>(&mut *store, PREINIT_EXPORT)?
        .call(&mut *store, ())?;
    Ok(instance)
}

/// What initialization's failure was, with the end of what it printed to stderr (a Go
/// panic's message and stack).
fn init_error(error: &wasmtime::Error, stderr: &MemoryOutputPipe) -> PreinitError {
    if matches!(
        error.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::Interrupt)
    ) {
        return PreinitError::Deadline;
    }
    let message = match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        Some(exit) => format!("it exited with code {}", exit.0),
        // The trap itself; where in Go it happened is in what Go printed (below).
        None => error.root_cause().to_string(),
    };
    let printed = stderr.contents();
    let text = String::from_utf8_lossy(&printed);
    let tail = text.trim_end();
    let tail = match tail.char_indices().rev().nth(STDERR_TAIL) {
        Some((cut, _)) => &tail[cut..],
        None => tail,
    };
    let stderr = if tail.is_empty() {
        String::new()
    } else {
        format!("\n{tail}")
    };
    PreinitError::Init { message, stderr }
}

/// Wizer's view of the initialized instance: its exported globals and memories.
struct Access<'a> {
    store: &'a mut Store<InitState>,
    instance: Instance,
}

impl InstanceState for Access<'_> {
    fn global_get(
        &mut self,
        name: &str,
        _type_hint: ValType,
    ) -> impl Future<Output = SnapshotVal> + Send {
        // Wizer only asks for the globals its instrumentation exported; the instance is
        // the one it instrumented, so each one is there.
        let value = self
            .instance
            .get_global(&mut *self.store, name)
            .map(|g| g.get(&mut *self.store));
        std::future::ready(match value {
            Some(wasmtime::Val::I32(x)) => SnapshotVal::I32(x),
            Some(wasmtime::Val::I64(x)) => SnapshotVal::I64(x),
            Some(wasmtime::Val::F32(x)) => SnapshotVal::F32(x),
            Some(wasmtime::Val::F64(x)) => SnapshotVal::F64(x),
            Some(wasmtime::Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
            _ => SnapshotVal::I32(0),
        })
    }

    fn memory_contents(
        &mut self,
        name: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) -> impl Future<Output = ()> + Send {
        if let Some(memory) = self.instance.get_memory(&mut *self.store, name) {
            contents(memory.data(&*self.store));
        }
        std::future::ready(())
    }
}

/// Drives `future` to its end without an async runtime: Wizer's snapshot only awaits
/// [`Access`], whose futures are ready at once, so it never waits on anything.
fn run_ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    (0..1024).find_map(|_| match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    })
}
