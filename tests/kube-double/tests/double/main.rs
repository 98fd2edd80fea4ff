//! The test double of the Kubernetes API server, driven by the real kube client: one test
//! binary (one link of kube and the double) for its HTTP API and for its Jobs and pods.

mod api;
mod jobs;
mod support;
