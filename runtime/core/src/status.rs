//! The status of a run (Dagster's `DagsterRunStatus`), as stored and shown. How an event
//! changes it is [`RunStatus::after`], beside the events.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The status of a run (Dagster's `DagsterRunStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Queued,
    NotStarted,
    Starting,
    Started,
    Success,
    Failure,
    Canceling,
    Canceled,
}

impl RunStatus {
    /// The status name as stored and shown (`SUCCESS`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "QUEUED",
            RunStatus::NotStarted => "NOT_STARTED",
            RunStatus::Starting => "STARTING",
            RunStatus::Started => "STARTED",
            RunStatus::Success => "SUCCESS",
            RunStatus::Failure => "FAILURE",
            RunStatus::Canceling => "CANCELING",
            RunStatus::Canceled => "CANCELED",
        }
    }

    /// Parses a stored status name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "QUEUED" => RunStatus::Queued,
            "NOT_STARTED" => RunStatus::NotStarted,
            "STARTING" => RunStatus::Starting,
            "STARTED" => RunStatus::Started,
            "SUCCESS" => RunStatus::Success,
            "FAILURE" => RunStatus::Failure,
            "CANCELING" => RunStatus::Canceling,
            "CANCELED" => RunStatus::Canceled,
            _ => return None,
        })
    }

    /// Whether the run is over.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Success | RunStatus::Failure | RunStatus::Canceled
        )
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
