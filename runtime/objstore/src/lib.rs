//! Weft's I/O manager and compute-log store over S3-compatible object stores (AWS S3,
//! MinIO, Cloudflare R2, moto), for steps that run in separate pods and so need one place
//! every pod reaches. This is the only crate that knows `object_store`.
//!
//! - [`S3IoManager`] implements the engine's `IoManager` port: step outputs at
//!   `<prefix>/<run id>/<step key>.<output>` (a `/` in a step key written `__`), assets at
//!   `<prefix>/assets/<key path>`, each object holding the codec tag on its first line and
//!   the value's bytes after it: the layout and encoding of the engine's `FsIoManager`,
//!   under a bucket and prefix instead of a directory.
//! - [`S3ComputeLogs`] implements `ComputeLogStore`: `<prefix>/<run id>/<step key>.out` and
//!   `.err`, as `FsComputeLogs` does.
//! - [`S3Components`] keeps code-location components and their precompiled forms by
//!   digest (`<prefix>/<digest>.wasm`, `<prefix>/<digest>/<engine>.cwasm`), for pods to
//!   fetch.
//! - [`S3Config`] is what a user writes in `weft.yaml`.
//!
//! Give the two stores different prefixes (or buckets), as `$WEFT_HOME/storage` and
//! `$WEFT_HOME/logs` are different directories: an output named `out` would otherwise be
//! the stdout of its step. [`S3Config::under`] derives such prefixes from one config.
//!
//! Both ports are synchronous and are called from executor threads. Each call runs its
//! requests on a small tokio runtime that this crate owns (two worker threads, shared by
//! every store in the process, never dropped) and waits for the answer on a channel, so a
//! call is correct from a plain std thread, from several at once, and even from a thread of
//! another tokio runtime (where it blocks that thread for the length of the request: use
//! `spawn_blocking` there).
//!
//! Errors become the engine's `IoError`, with a message that names the bucket and the
//! object's key: a missing value ("no stored value for output X of step Y in run Z"), a
//! bucket that does not exist, credentials refused, an endpoint that cannot be reached.

mod bucket;
mod components;
mod config;
mod io;
mod logs;

pub use components::S3Components;
pub use config::{S3Config, S3Credentials};
pub use io::S3IoManager;
pub use logs::S3ComputeLogs;

/// Why an S3 store could not be made (or, from `check`, reached).
#[derive(Debug, thiserror::Error)]
pub enum ObjStoreError {
    /// The configuration cannot work: no bucket, a bad prefix, a credentials variable that
    /// is not set, a plain-HTTP endpoint without `allow_http`.
    #[error("S3 configuration: {0}")]
    Config(String),
    /// `object_store` refused to build the client.
    #[error("S3 bucket {bucket}: {message}")]
    Client { bucket: String, message: String },
    /// The runtime that carries the requests could not start.
    #[error("starting the S3 client's runtime: {0}")]
    Runtime(String),
    /// The bucket could not be used (see [`S3IoManager::check`]).
    #[error(transparent)]
    Unavailable(#[from] weft_core::ports::IoError),
}
