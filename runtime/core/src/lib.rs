//! # weft-core
//!
//! Weft's pure logic: the model of what a code location defines (ops, jobs, assets, asset
//! jobs, schedules, sensors), its validation, execution planning from a job graph or an
//! asset selection, run config, the events a run produces, what a location is granted, and
//! the [`ports`] every adapter implements. No I/O, no async runtime, no wasmtime:
//! everything here is plain data, functions over it and traits, so it is tested in
//! isolation and shared by every other crate.
//!
//! ```
//! use weft_core::selection::AssetSelection;
//! let sel: AssetSelection = "group:numbers, summed_two_sums+".parse().unwrap();
//! assert_eq!(sel.to_string(), "group:numbers,summed_two_sums+");
//! ```

pub mod cancel;
pub mod checks;
pub mod clock;
pub mod config;
pub mod coordinator;
pub mod defs;
pub mod events;
pub mod grants;
pub mod hosts;
pub mod instigator;
pub mod metadata;
pub mod plan;
pub mod ports;
pub mod run;
pub mod schedule;
pub mod selection;
pub mod status;
pub mod tags;
pub mod validate;
pub mod workspace;

pub use cancel::Cancel;
pub use clock::now_ms;
pub use defs::{AssetKey, Definitions, Tags};
pub use events::{Event, EventKind, RunStatus};
pub use grants::{Grants, Limits, Sandbox};
pub use metadata::{Metadata, MetadataValue};
pub use plan::{ExecutionPlan, Step};
pub use run::{RunFilter, RunRecord};
