//! The one error type of this crate: what went wrong, where, and what to install or fix.

use std::path::PathBuf;

/// Why a build or a componentization failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The WIT package could not be read or parsed.
    #[error("cannot read the WIT package in {dir}: {detail}")]
    Wit {
        /// The directory given as the contract.
        dir: PathBuf,
        /// The parser's message, with its causes.
        detail: String,
    },
    /// The WIT package has no world of that name.
    #[error("no world `{world}` in the WIT package in {dir}: {detail}")]
    World {
        /// The world asked for.
        world: String,
        /// The directory given as the contract.
        dir: PathBuf,
        /// The parser's message.
        detail: String,
    },
    /// The input is not a WebAssembly core module, or its embedded metadata is broken.
    #[error("not a WebAssembly core module we can componentize: {detail}")]
    NotACoreModule {
        /// wit-component's message, with its causes.
        detail: String,
    },
    /// The core module does not implement the world (a missing export, a wrong signature,
    /// an import the world and WASI preview1 do not have), or the result does not validate.
    #[error("the core module does not fit the world `{world}`: {detail}")]
    DoesNotFit {
        /// The world asked for.
        world: String,
        /// wit-component's message, with its causes.
        detail: String,
    },
    /// A toolchain program is not installed (not on `PATH`).
    #[error("`{tool}` was not found on PATH: {hint}")]
    ToolMissing {
        /// The program, e.g. `go`.
        tool: &'static str,
        /// How to install it.
        hint: &'static str,
    },
    /// A toolchain program ran and failed.
    #[error("`{command}` failed ({status}):\n{output}")]
    ToolFailed {
        /// The command line, for a person to re-run.
        command: String,
        /// The exit status.
        status: String,
        /// What it wrote to stderr and stdout.
        output: String,
    },
    /// The SDKs this binary carries could not be prepared for a build.
    #[error("the embedded SDK is broken: {detail}")]
    Sdk {
        /// What is wrong with it.
        detail: String,
    },
    /// The source directory is not what the builder expects.
    #[error("{dir} is not a {language} code location: {reason}")]
    NotASource {
        /// The directory given.
        dir: PathBuf,
        /// `Go` or `Python`.
        language: &'static str,
        /// What is missing.
        reason: String,
    },
    /// The Go program could not be pre-initialized (see `weft_wasm::preinit`).
    #[error("pre-initializing the Go program: {0}")]
    PreInit(weft_wasm::preinit::PreinitError),
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. `cannot write`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl From<weft_wasm::preinit::PreinitError> for BuildError {
    /// Not a `source`: the message already says it all, and error chains would repeat it.
    fn from(error: weft_wasm::preinit::PreinitError) -> Self {
        BuildError::PreInit(error)
    }
}

impl BuildError {
    /// What an I/O error on `path` while doing `action` (`cannot write`) becomes: for
    /// `map_err`.
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| BuildError::Io {
            action,
            path,
            source,
        }
    }
}
