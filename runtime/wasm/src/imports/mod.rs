//! The host side of every `weft:plugin` import, one module per capability (as spin's
//! factors): each keeps its own per-call state in the store's
//! [`CallState`](crate::sandbox::CallState) with its budget, implements its generated
//! `Host` trait there, checks the location's grant where the capability needs one, and is
//! linked for every location by the engine's one `add_to_linker`.

mod k8s_jobs;
mod log;
mod resources;

pub(crate) use k8s_jobs::{K8sJobsState, StepScope};
pub(crate) use log::LogState;
pub(crate) use resources::ResourcesState;
