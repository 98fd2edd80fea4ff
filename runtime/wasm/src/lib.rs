//! # weft-wasm
//!
//! The only Weft crate that knows wasmtime. It loads a code location (a WebAssembly
//! component of the `weft:plugin/code-location` world), compiles it once per digest into a
//! precompiled form cached on disk, and runs its steps, sensors and schedules in a sandbox:
//! a fresh store per call from a pre-instance, nothing of WASI granted unless the location's
//! grants say so, a deadline per call (epoch interruption), a memory limit per store, and
//! stdout/stderr captured as compute logs.
//!
//! ```no_run
//! use weft_wasm::{WasmHost, Sandbox};
//! # fn main() -> Result<(), weft_wasm::LoadError> {
//! let host = WasmHost::new("/tmp/weft-cache".into())?;
//! let bytes = std::fs::read("numbers.wasm").expect("read");
//! let location = host.load("numbers", &bytes, Sandbox::default())?;
//! println!("{} jobs", location.definitions().jobs.len());
//! # Ok(()) }
//! ```

mod bindings;
mod convert;
mod host;
mod k8s_jobs;
mod location;
#[cfg(feature = "preinit")]
pub mod preinit;
mod sandbox;

pub use host::{Allocation, CONTRACT_VERSION, LoadError, WasmHost, digest_of};
pub use location::{CodeLocation, RunRequest, ScheduleTick, SensorTick};
pub use sandbox::{DirGrant, Sandbox};
