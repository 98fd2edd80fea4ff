//! `weft init --lang rust|go|python DIR`: a starter code location (one op, one job) that
//! `weft build DIR` turns into a component at once, in any directory. Go and Python start
//! from the hello examples (`examples/hello-go`, `examples/hello-python`); their `go.mod`
//! requires the Go SDK by module path, and `weft build` supplies it. Rust's `Cargo.toml`
//! names the Rust SDK by path: the checkout's when `DIR` (or the working directory) is
//! inside one, else the copy this binary carries, unpacked under `$WEFT_HOME/sdk`.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use weft_server::Instance;

use crate::{Failure, InitLanguage};

/// The starters of Go and Python: the hello examples, as they are.
const GO_MAIN: &str = include_str!("../../../../examples/hello-go/main.go");
const PYTHON: &str = include_str!("../../../../examples/hello-python/app.py");

const RUST_LIB: &str = r#"//! A Weft code location: one op and a job that runs it.
//!
//!     weft build . -o location.wasm
//!     weft run location.wasm --job hello_job

use weft_sdk::prelude::*;

#[op(description = "Say hello.")]
fn hello() -> String {
    "hello from rust".into()
}

#[job(description = "Run hello.")]
fn hello_job() {
    hello();
}

weft_sdk::definitions! { jobs: [hello_job] }
"#;

/// A name Go and Cargo accept for the project: the directory's, in lower case, with
/// anything but letters, digits, `-` and `_` made `_`.
fn project_name(dir: &Path) -> String {
    let base = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => name,
        _ => format!("location_{name}"),
    }
}

/// The Rust SDK to depend on: the checkout's, or the unpacked copy.
fn rust_sdk(instance: &Instance, dir: &Path) -> anyhow::Result<PathBuf> {
    let path = super::build::sdk_root(instance, dir)?
        .join("guest-sdk")
        .join("rust")
        .join("weft-sdk");
    Ok(path.canonicalize().unwrap_or(path))
}

pub fn init(instance: &Instance, dir: &Path, lang: InitLanguage) -> Result<(), Failure> {
    let bad = Failure::BadInput;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating {}", dir.display()))
        .map_err(bad)?;
    let name = project_name(dir);
    let files: Vec<(&str, String)> = match lang {
        InitLanguage::Python => vec![("defs.py", PYTHON.to_owned())],
        InitLanguage::Go => vec![
            (
                "go.mod",
                format!(
                    "module {name}\n\ngo 1.25\n\nrequire {} v0.0.0\n",
                    weft_build::sdk::GO_MODULE
                ),
            ),
            ("main.go", GO_MAIN.to_owned()),
        ],
        InitLanguage::Rust => {
            let sdk = rust_sdk(instance, dir).map_err(|e| Failure::Failed(Some(e)))?;
            let manifest = format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [lib]\ncrate-type = [\"cdylib\"]\n\n\
                 [dependencies]\nweft-sdk = {{ path = {} }}\n\n\
                 # Its own workspace, wherever it is.\n[workspace]\n",
                toml_string(&sdk.display().to_string())
            );
            vec![
                ("Cargo.toml", manifest),
                ("src/lib.rs", RUST_LIB.to_owned()),
            ]
        }
    };
    for (file, _) in &files {
        let path = dir.join(file);
        if path.exists() {
            return Err(bad(anyhow!(
                "{} exists: weft init writes a new project and overwrites nothing",
                path.display()
            )));
        }
    }
    for (file, text) in &files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))
                .map_err(bad)?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(bad)?;
    }
    println!(
        "wrote a {lang:?} code location in {}: build it with `weft build {} -o {name}.wasm`, \
         then `weft run {name}.wasm --job hello_job`",
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}
