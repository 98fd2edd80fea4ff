//! What an asset check (Dagster's `@asset_check`) evaluates to: passed or not, at a
//! severity, with metadata ([`CheckEvaluation`]), and whether that stops what follows its
//! asset ([`CheckEvaluation::blocks`]).

use serde::{Deserialize, Serialize};

use crate::metadata::Metadata;

/// How serious a failed check is (Dagster's `AssetCheckSeverity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckSeverity {
    /// A failure fails a blocking check's step.
    #[default]
    Error,
    /// A failure is reported, and nothing stops.
    Warn,
}

/// One evaluation of an asset check (Dagster's `AssetCheckResult`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckEvaluation {
    pub passed: bool,
    #[serde(default)]
    pub severity: CheckSeverity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

impl CheckEvaluation {
    /// Whether it stops the assets downstream of its asset: a failure at severity `ERROR`
    /// of a `blocking` check (Dagster's blocking checks).
    pub fn blocks(&self, blocking: bool) -> bool {
        blocking && !self.passed && self.severity == CheckSeverity::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_failed_error_of_a_blocking_check_blocks() {
        let failed = |severity| CheckEvaluation {
            passed: false,
            severity,
            description: None,
            metadata: Metadata::default(),
        };
        assert!(failed(CheckSeverity::Error).blocks(true));
        assert!(!failed(CheckSeverity::Error).blocks(false));
        assert!(!failed(CheckSeverity::Warn).blocks(true));
        let passed = CheckEvaluation {
            passed: true,
            ..failed(CheckSeverity::Error)
        };
        assert!(!passed.blocks(true));
        let json = serde_json::json!({"passed": false, "severity": "WARN"});
        let read: CheckEvaluation = serde_json::from_value(json).unwrap();
        assert_eq!(read, failed(CheckSeverity::Warn));
    }
}
