//! The value ports: the I/O manager (where step outputs and asset values live between
//! steps and runs) and the compute-log store (what steps printed).

use crate::defs::{AssetKey, Value};

/// Why an I/O manager could not load or store a value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IoError(pub String);

/// Where step outputs and asset values live between steps and runs (Dagster's I/O manager).
pub trait IoManager: Send + Sync {
    fn store_output(
        &self,
        run_id: &str,
        step_key: &str,
        output: &str,
        value: &Value,
    ) -> Result<(), IoError>;
    fn load_output(&self, run_id: &str, step_key: &str, output: &str) -> Result<Value, IoError>;
    fn store_asset(&self, key: &AssetKey, value: &Value) -> Result<(), IoError>;
    fn load_asset(&self, key: &AssetKey) -> Result<Value, IoError>;
}

/// Where a step's stdout and stderr go (Dagster's compute log manager).
pub trait ComputeLogStore: Send + Sync {
    fn store(
        &self,
        run_id: &str,
        step_key: &str,
        stdout: &[u8],
        stderr: &[u8],
    ) -> Result<(), IoError>;
    /// `(stdout, stderr)` of a step; empty when it printed nothing.
    fn load(&self, run_id: &str, step_key: &str) -> Result<(Vec<u8>, Vec<u8>), IoError>;
}
