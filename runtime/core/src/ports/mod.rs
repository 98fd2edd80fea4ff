//! The ports: the traits every adapter implements and the data they exchange. The engine,
//! the control plane and the daemon talk to the outside only through these; each adapter
//! crate (wasm, store, objstore, k8s) implements some of them and depends on nothing but
//! this crate and its one heavy library.
//!
//! | port | implemented by |
//! |---|---|
//! | [`StepRunner`] | `weft-wasm` (a loaded location), the server's process and queue runners, `weft-k8s` (a Job per step) |
//! | [`CodeLocation`], [`LocationLoader`], [`HookRunner`] | `weft-wasm` |
//! | [`RunStorage`] | `weft-store` |
//! | [`IoManager`], [`ComputeLogStore`] | `weft-engine` (filesystem, in memory), `weft-store` (database), `weft-objstore` (S3) |
//! | [`ExternalJobs`] | `weft-k8s` |
//! | [`RunLauncher`] | the server (a process per run), `weft-k8s` (a Job per run) |
//! | [`StepAnswers`] | the server, over the store |
//! | [`Clock`](crate::clock::Clock) | the system clock; a manual one in tests |

mod external_jobs;
mod hooks;
mod io;
mod launcher;
mod location;
mod step;
mod storage;

pub use external_jobs::{ExternalJob, ExternalJobError, ExternalJobStep, ExternalJobs};
pub use hooks::{HookAttempt, HookRequest, HookRunner};
pub use io::{ComputeLogStore, IoError, IoManager};
pub use launcher::RunLauncher;
pub use location::{
    CodeLocation, LoadError, LocationLoader, RunRequest, ScheduleTick, SensorTick, digest_of,
};
pub use step::{
    InputArg, LogLine, StepAnswers, StepAttempt, StepCost, StepFailure, StepOutput, StepRequest,
    StepRunner,
};
pub use storage::{RunStorage, StorageError};
