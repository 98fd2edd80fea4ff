//! Why a component could not be loaded, each message saying what to do, and the contract
//! version this host speaks.

use std::path::PathBuf;

use weft_core::validate::DefinitionError;

/// The version of `wit/` this host implements (the package `weft:plugin`).
pub const CONTRACT_VERSION: &str = "0.10.0";

/// Why a component could not be loaded as a code location. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a WebAssembly file (it does not start with the \\0asm header)")]
    NotWasm,
    #[error(
        "this is a core WebAssembly module, not a component: build the location for wasm32-wasip2 \
         (Rust), or build it with `weft build DIR` (Go, Python)"
    )]
    CoreModule,
    #[error("not a valid WebAssembly component: {0}")]
    Invalid(String),
    #[error("not a Weft code location (world weft:plugin/code-location@{CONTRACT_VERSION}): {0}")]
    WrongWorld(String),
    #[error(
        "this location was built against the Weft contract weft:plugin@{found}; this host speaks \
         weft:plugin@{CONTRACT_VERSION}: rebuild it with the current SDK"
    )]
    ContractVersion { found: String },
    #[error("the location failed to return its definitions: {0}")]
    Definitions(String),
    /// (Not the error's source: its text is already in this one's, said once.)
    #[error("the location's definitions are invalid: {0}")]
    InvalidDefinitions(DefinitionError),
    #[error("precompile cache {path}: {message}")]
    Cache { path: PathBuf, message: String },
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    /// The host's TLS settings (weft.yaml's `http.ca_file`) cannot be used.
    #[error("{0}")]
    Tls(String),
}

impl From<DefinitionError> for LoadError {
    fn from(e: DefinitionError) -> Self {
        LoadError::InvalidDefinitions(e)
    }
}

impl From<LoadError> for weft_core::ports::LoadError {
    /// A cache or engine failure is the host's; anything else is the component's.
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Cache { .. } | LoadError::Engine(_) | LoadError::Tls(_) => {
                Self::Host(e.to_string())
            }
            _ => Self::Component(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_definitions_say_why_once() {
        let e = LoadError::from(DefinitionError::BadName {
            kind: "op",
            name: "bad-name".into(),
        });
        // A chain printer (anyhow's `{:#}`) adds each source: there is none to repeat.
        assert!(std::error::Error::source(&e).is_none());
        assert_eq!(e.to_string().matches("bad-name").count(), 1, "{e}");
    }
}
