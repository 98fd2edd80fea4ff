//! The host side of every `weft:plugin` import, one module per capability (as spin's
//! factors): each implements its generated `Host` trait on the per-call [`CallState`]
//! (crate::sandbox::CallState), checks the location's grant where the capability needs
//! one, and is linked for every location by the engine's one `add_to_linker`.

mod k8s_jobs;
mod log;
mod resources;
