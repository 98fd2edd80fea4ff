//! [`DatabaseIoManager`]: the engine's `IoManager` port over the store's `io_values` table
//! (`io_manager: database` in weft.yaml), for small values that must cross processes, pods
//! or workers on one database without a shared disk or an object store. A value over the
//! limit (1 MiB unless configured) is refused, naming the step or asset, its size, the limit
//! and where large values belong (the filesystem or S3 I/O managers).
//!
//! The port is synchronous; the store is async. The executor calls the port from its own
//! threads (plain std threads, outside any runtime: `weft run`, the launcher's run threads),
//! but a step's own process (`weft step`, a queue worker) reads its inputs from inside the
//! runtime. Each call therefore runs its query on the runtime the store was opened on,
//! through the handle given to [`DatabaseIoManager::new`]:
//!
//! - off any runtime, the calling thread waits with `Handle::block_on`;
//! - on a thread of a multi-threaded runtime (a worker, or a blocking thread inside
//!   `block_on`), it first hands the worker's other tasks off with
//!   `tokio::task::block_in_place`, then waits the same way;
//! - on a blocking thread of a single-threaded runtime (`spawn_blocking`), it waits on a
//!   thread of its own, outside that runtime's context.
//!
//! The one thread it must not be called on is a single-threaded runtime's own (inside its
//! `block_on`, in a task): like any blocking call there, it would stop the runtime that may
//! have to drive the query. Weft's binary runs a multi-threaded runtime; tests on
//! `#[tokio::test]`'s single-threaded one call it from `spawn_blocking`.

use std::future::Future;

use tokio::runtime::{Handle, RuntimeFlavor};
use weft_core::defs::{AssetKey, Value};
use weft_core::ports::{IoError, IoManager};

use crate::Store;
use crate::values::IoKey;

/// Keeps step outputs and asset values in the database.
pub struct DatabaseIoManager {
    store: Store,
    runtime: Handle,
    max_bytes: u64,
}

impl DatabaseIoManager {
    /// The size limit when none is configured: 1 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 1 << 20;

    /// The largest limit that can be configured: both databases take values up to about a
    /// gigabyte (SQLite's default `SQLITE_MAX_LENGTH`, PostgreSQL's `bytea`).
    pub const LARGEST_MAX_BYTES: u64 = 1_000_000_000;

    /// An I/O manager over `store`, whose queries run on `runtime` (the runtime the store was
    /// opened on), refusing values of more than `max_bytes` bytes.
    pub fn new(store: Store, runtime: Handle, max_bytes: u64) -> Self {
        DatabaseIoManager {
            store,
            runtime,
            max_bytes,
        }
    }

    /// The limit on one value, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Runs `future` (a query of the store) to its end and returns its output, from whatever
    /// thread calls it (see the module's documentation).
    fn wait<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let Ok(current) = Handle::try_current() else {
            // A plain thread: the executor's, the usual case.
            return self.runtime.block_on(future);
        };
        match current.runtime_flavor() {
            // The runtime goes on with this thread's other tasks on another thread meanwhile,
            // and this thread leaves the runtime's context, so it may wait.
            RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.runtime.block_on(future))
            }
            // A blocking thread of a single-threaded runtime (or a thread inside its
            // `block_on`): wait on a thread outside the runtime's context.
            _ => std::thread::scope(|scope| {
                match scope.spawn(|| self.runtime.block_on(future)).join() {
                    Ok(output) => output,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }),
        }
    }

    fn store(&self, key: IoKey<'_>, value: &Value) -> Result<(), IoError> {
        let size = value.data.len() as u64;
        if size > self.max_bytes {
            return Err(IoError(format!(
                "{key} is {size} bytes, over the database I/O manager's limit of {} bytes \
                 (io_manager: database keeps small values only): keep large values in files \
                 or an object store (io_manager: filesystem, or {{s3: {{bucket: ...}}}}), or \
                 raise the limit (io_manager: {{database: {{max_bytes: N}}}})",
                self.max_bytes
            )));
        }
        self.wait(self.store.put_io_value(key, value, weft_core::now_ms()))
            .map_err(|e| IoError(e.to_string()))
    }

    fn load(&self, key: IoKey<'_>) -> Result<Value, IoError> {
        match self.wait(self.store.io_value(key)) {
            Ok(Some(stored)) => Ok(stored.value),
            Ok(None) => Err(IoError(format!(
                "{key} has no stored value (looked in table io_values of database {})",
                self.store.database_name()
            ))),
            Err(e) => Err(IoError(e.to_string())),
        }
    }
}

impl IoManager for DatabaseIoManager {
    fn store_output(
        &self,
        run_id: &str,
        step_key: &str,
        output: &str,
        value: &Value,
    ) -> Result<(), IoError> {
        self.store(
            IoKey::Output {
                run_id,
                step_key,
                output,
            },
            value,
        )
    }

    fn load_output(&self, run_id: &str, step_key: &str, output: &str) -> Result<Value, IoError> {
        self.load(IoKey::Output {
            run_id,
            step_key,
            output,
        })
    }

    fn store_asset(&self, key: &AssetKey, value: &Value) -> Result<(), IoError> {
        self.store(IoKey::Asset(key), value)
    }

    fn load_asset(&self, key: &AssetKey) -> Result<Value, IoError> {
        self.load(IoKey::Asset(key))
    }
}
