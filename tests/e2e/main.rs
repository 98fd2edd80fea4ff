//! Weft's end-to-end tests, one module per subject, in ONE test binary: linked once (not
//! once per file, each link carrying wasmtime and the rest), its tests scheduled together on
//! every core, and each guest that several modules use built once per run.
//! `cargo test --test e2e MODULE::` runs one subject (`cargo test --test e2e daemon::`).

mod api;
mod bad_input;
mod budgets;
mod checks;
mod conformance;
mod conformance_errors;
mod daemon;
mod database_io;
mod fanout;
mod hooks;
mod init;
mod kubernetes;
mod layers;
mod multi;
mod network;
mod numbers;
mod outage;
mod outputs;
mod polyglot;
mod processes;
mod run_status;
mod sandbox;
