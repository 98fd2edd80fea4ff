//! # weft-engine
//!
//! Orchestration: runs an [`ExecutionPlan`](weft_core::ExecutionPlan) step by step through
//! an executor (in-process, sequential; or parallel, bounded), with op retry policies and
//! backoff, skipping the steps downstream of a failure, and turns every step attempt into
//! events written through a batching [`EventWriter`](writer::EventWriter).
//!
//! The engine talks to the outside through the [`ports`]: a [`StepRunner`](ports::StepRunner)
//! runs guest code (the wasm crate implements it), [`RunStorage`](ports::RunStorage) keeps
//! runs and events (the store crate), an [`IoManager`](ports::IoManager) keeps values, and
//! a [`ComputeLogStore`](ports::ComputeLogStore) keeps what steps printed. It never sees
//! wasmtime or sqlx.

pub mod executor;
pub mod io;
pub mod ports;
pub mod router;
pub mod writer;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
