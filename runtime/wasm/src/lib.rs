//! # weft-wasm
//!
//! The only Weft crate that knows wasmtime. It loads a code location (a WebAssembly
//! component of the `weft:plugin/code-location` world), compiles it once per digest into a
//! precompiled form cached on disk, and runs its steps, sensors and schedules in a sandbox:
//! a fresh store per call from a pre-instance, nothing of WASI granted unless the location's
//! grants say so, a deadline per call (epoch interruption), a memory limit per store, and
//! stdout/stderr captured as compute logs. The guest's host imports are one module each
//! (`imports/`); what a location may use is `weft_core`'s [`Sandbox`].
//!
//! ```no_run
//! use weft_core::ports::CodeLocation;
//! use weft_wasm::{Sandbox, WasmHost};
//! # fn main() -> Result<(), weft_wasm::LoadError> {
//! let host = WasmHost::new("/tmp/weft-cache".into())?;
//! let bytes = std::fs::read("numbers.wasm").expect("read");
//! let location = host.load("numbers", &bytes, Sandbox::default())?;
//! println!("{} jobs", location.definitions().jobs.len());
//! # Ok(()) }
//! ```

mod bindings;
mod call;
mod convert;
mod deadlines;
mod engine;
mod error;
mod exports;
mod host;
mod imports;
mod location;
mod memory;
mod network;
#[cfg(feature = "preinit")]
pub mod preinit;
mod sandbox;

pub use engine::Allocation;
pub use error::{CONTRACT_VERSION, LoadError};
pub use host::WasmHost;
pub use location::WasmLocation;
pub use weft_core::grants::{DirGrant, Sandbox};
pub use weft_core::ports::digest_of;
