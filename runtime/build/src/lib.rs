//! # weft-build
//!
//! Turns Go and Python sources into Weft code locations: WebAssembly components of the
//! `code-location` world of the `weft:plugin` package (`wit/` at the repository root).
//! Rust guests build straight to components with `cargo build --target wasm32-wasip2`;
//! Go's compiler only writes a WASI preview1 *core* module, so [`componentize_core_module`]
//! embeds the WIT world into it and wraps it with wasmtime 48's preview1 reactor adapter,
//! all in-process (no `wasm-tools` to install). [`build_go`] and [`build_python`] run the
//! toolchains (`go build`, `componentize-py`) and report a missing tool by name.
//!
//! ```no_run
//! use std::path::Path;
//! use weft_build::{BuildConfig, build_go, find_repo_root};
//!
//! let root = find_repo_root(Path::new(".")).expect("inside a Weft checkout");
//! let config = BuildConfig::for_repo(&root);
//! build_go(&root.join("examples/hello-go"), Path::new("hello-go.wasm"), &config)?;
//! # Ok::<(), weft_build::BuildError>(())
//! ```

mod componentize;
mod error;
mod manifest;
pub mod sdk;
mod toolchain;

use std::path::{Path, PathBuf};

pub use componentize::componentize_core_module;
pub use error::BuildError;
pub use toolchain::{build_go, build_python};

/// The world every code location implements.
pub const WORLD: &str = "code-location";

/// Where the contract and the SDKs are, and which world to build for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConfig {
    /// The directory holding the `weft:plugin` WIT package (the repository's `wit/`).
    pub wit_dir: PathBuf,
    /// The world the component implements, [`WORLD`] unless testing.
    pub world: String,
    /// Directories added to Python's module path (the Weft Python SDK, `guest-sdk/python`).
    pub python_paths: Vec<PathBuf>,
    /// The Python module that makes the location's `Definitions`. `None` (the default)
    /// finds it in the project: `[tool.weft] module = "..."` in `pyproject.toml`, else
    /// `defs` (`defs.py`), else `app` (`app.py`).
    pub python_module: Option<String>,
    /// The Go SDK module to build against when a location's `go.mod` requires it
    /// ([`sdk::GO_MODULE`]) without saying where it is (no `replace`): the checkout's
    /// `guest-sdk/go`, or the copy this binary carries ([`sdk::unpack`]).
    pub go_sdk: Option<PathBuf>,
    /// Whether a Go location is pre-initialized (true by default): its runtime and package
    /// initializers run once, at build time, instead of in every instance
    /// (`weft_wasm::preinit`). `weft build --no-pre-init` turns it off.
    pub pre_initialize: bool,
}

impl BuildConfig {
    /// A configuration reading the contract from `wit_dir`, with no extra Python paths.
    pub fn new(wit_dir: impl Into<PathBuf>) -> Self {
        Self {
            wit_dir: wit_dir.into(),
            world: WORLD.to_owned(),
            python_paths: Vec::new(),
            python_module: None,
            go_sdk: None,
            pre_initialize: true,
        }
    }

    /// The configuration of a Weft checkout at `root`: `root/wit` and `root/guest-sdk/python`.
    pub fn for_repo(root: &Path) -> Self {
        let mut config = Self::new(root.join("wit"));
        config
            .python_paths
            .push(root.join("guest-sdk").join("python"));
        config.go_sdk = Some(root.join("guest-sdk").join("go"));
        config
    }
}

/// The nearest ancestor of `start` (itself included) holding `wit/world.wit`: the root of
/// a Weft checkout. `None` outside one.
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .find(|dir| dir.join("wit").join("world.wit").is_file())
        .map(Path::to_path_buf)
}
