//! # weft-engine
//!
//! Orchestration: runs an [`ExecutionPlan`](weft_core::ExecutionPlan) step by step through
//! an executor (in-process, sequential; or parallel, bounded), with op retry policies and
//! backoff, skipping the steps downstream of a failure or of an optional output left out,
//! calls the hooks of a step's node after it ends, and turns every step attempt into
//! events written through a batching [`EventWriter`](writer::EventWriter).
//!
//! The engine talks to the outside through the ports of `weft_core::ports`: a
//! `StepRunner` runs guest code (a loaded location, a process, a Job, a worker), a
//! `HookRunner` runs hooks (the loaded locations),
//! `RunStorage` keeps runs and events, an `IoManager` keeps values, and a
//! `ComputeLogStore` keeps what steps printed. It never sees wasmtime or sqlx. The
//! filesystem and in-memory I/O managers and compute logs are here ([`io`]).

mod attempt;
mod board;
mod checks;
pub mod executor;
mod hooks;
mod inputs;
pub mod io;
pub mod router;
pub mod writer;

pub use inputs::stored_step_request;
