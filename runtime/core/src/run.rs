//! A run as stored and listed (Dagster's `DagsterRun`): which job of which code-location
//! version, with what config and tags, in what status, and when.

use serde::{Deserialize, Serialize};

use crate::defs::Tags;
use crate::status::RunStatus;

/// One run of a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    /// The job (or asset job) name; `__asset_job` for an ad-hoc materialization.
    pub job: String,
    /// The code location's name.
    pub location: String,
    /// The sha256 of the component the run is pinned to.
    pub digest: String,
    pub status: RunStatus,
    #[serde(default)]
    pub tags: Tags,
    /// Run config as JSON (`{}` when none was given).
    pub config: serde_json::Value,
    /// For asset runs, the selection string; `None` for op jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_selection: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
    /// When the process executing it last said it was alive (run monitoring reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<i64>,
    /// When its last event was written: the last time it made progress (a step started or
    /// ended, an op logged or handed over an output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_ms: Option<i64>,
}

/// Filters for listing runs; `None` means any.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub job: Option<String>,
    pub location: Option<String>,
    /// Runs having this tag (key, value).
    pub tag: Option<(String, String)>,
    /// Runs listed after this one (older), for the next page.
    pub before: Option<String>,
    pub limit: Option<u32>,
}

/// A run that ended, as a run-status sensor is told of it (Dagster's `context.dagster_run`
/// with its failure event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedRun {
    pub run_id: String,
    pub job: String,
    pub location: String,
    /// `SUCCESS`, `FAILURE` or `CANCELED`.
    pub status: RunStatus,
    pub tags: Tags,
    /// Why it failed, for a failed run.
    pub error: Option<String>,
    /// When it ended, in milliseconds since the Unix epoch.
    pub ended_ms: i64,
}
