//! `weft build DIR`: turns a guest project into a code-location component, whatever its
//! language — `Cargo.toml` (Rust: cargo for wasm32-wasip2), `go.mod` (Go: go build for
//! wasip1, then componentized in-process), `pyproject.toml` or a `defs.py`/`app.py`
//! (Python: componentize-py). Inside a Weft checkout the contract and the SDKs are the
//! checkout's; elsewhere they are the copies built into this binary, unpacked under
//! `$WEFT_HOME/sdk` (`weft_build::sdk`), so a project in any directory builds.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
#[cfg(feature = "build")]
use weft_build::{BuildConfig, build_go, build_python};

use crate::Failure;
use weft_server::Instance;

/// The languages `weft build` knows, by the file that marks a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Language {
    Rust,
    Go,
    Python,
}

fn detect(dir: &Path) -> Option<Language> {
    if dir.join("Cargo.toml").is_file() {
        Some(Language::Rust)
    } else if dir.join("go.mod").is_file() {
        Some(Language::Go)
    } else if ["pyproject.toml", "defs.py", "app.py"]
        .iter()
        .any(|f| dir.join(f).is_file())
    {
        Some(Language::Python)
    } else {
        None
    }
}

/// Builds the project in `dir` into `out`; `pre_initialize` is Go's (see
/// [`BuildConfig::pre_initialize`]).
pub fn build(
    instance: &Instance,
    dir: &Path,
    out: Option<PathBuf>,
    pre_initialize: bool,
) -> Result<(), Failure> {
    let bad = |e: anyhow::Error| Failure::BadInput(e);
    if !dir.is_dir() {
        return Err(bad(anyhow!("{} is not a directory", dir.display())));
    }
    let language = detect(dir).ok_or_else(|| {
        bad(anyhow!(
            "{} is not a guest project: expected Cargo.toml (Rust), go.mod (Go), or pyproject.toml, defs.py or app.py (Python)",
            dir.display()
        ))
    })?;
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "location".into());
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{name}.wasm")));
    let clock = Instant::now();
    match language {
        Language::Rust => build_rust(dir, &out),
        _ => build_componentized(instance, dir, &out, language, pre_initialize),
    }
    .map_err(|e| {
        Failure::Failed(Some(
            e.context(format!("building {} ({language:?})", dir.display())),
        ))
    })?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let note = if language == Language::Go && pre_initialize {
        ", pre-initialized (Go's start-up ran here, once)"
    } else {
        ""
    };
    println!(
        "{}: {size} bytes in {:.1} s{note}",
        out.display(),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Go and Python: compiled by their toolchains, then made a component against the contract.
#[cfg(feature = "build")]
fn build_componentized(
    instance: &Instance,
    dir: &Path,
    out: &Path,
    language: Language,
    pre_initialize: bool,
) -> anyhow::Result<()> {
    let mut config = contract(instance, dir)?;
    config.pre_initialize = pre_initialize;
    match language {
        Language::Go => build_go(dir, out, &config).map_err(anyhow::Error::new),
        _ => build_python(dir, out, &config).map_err(anyhow::Error::new),
    }
}

#[cfg(not(feature = "build"))]
fn build_componentized(
    _: &Instance,
    _: &Path,
    _: &Path,
    language: Language,
    _: bool,
) -> anyhow::Result<()> {
    bail!(
        "this weft was built without `weft build` for {language:?} (the `build` feature; the \
         image runs components and never builds them): build with a full weft, then upload"
    )
}

/// The checkout's contract and SDKs when `dir` (or the working directory) is inside one,
/// else the copies this binary carries, unpacked under `$WEFT_HOME/sdk`.
#[cfg(feature = "build")]
fn contract(instance: &Instance, dir: &Path) -> anyhow::Result<BuildConfig> {
    Ok(BuildConfig::for_repo(&sdk_root(instance, dir)?))
}

/// Where a build of `dir` finds the contract and the SDKs (`weft_build::sdk::root_for`).
#[cfg(feature = "build")]
pub(super) fn sdk_root(instance: &Instance, dir: &Path) -> anyhow::Result<PathBuf> {
    let sdk = instance.home.join("sdk");
    weft_build::sdk::root_for(dir, &sdk, weft_wasm::CONTRACT_VERSION).with_context(|| {
        format!(
            "unpacking the SDKs this weft carries into {}",
            sdk.display()
        )
    })
}

/// `cargo build --release --target wasm32-wasip2`, then copies the crate's cdylib.
fn build_rust(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| {
            format!(
                "cannot run {cargo}: install Rust (rustup) and `rustup target add wasm32-wasip2`"
            )
        })?;
    if !output.status.success() {
        bail!(
            "cargo build failed (see above); is the target installed? `rustup target add wasm32-wasip2`"
        );
    }
    let manifest = dir
        .join("Cargo.toml")
        .canonicalize()
        .unwrap_or_else(|_| dir.join("Cargo.toml"));
    let wasm = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| msg["manifest_path"].as_str().map(Path::new) == Some(manifest.as_path()))
        .flat_map(|msg| msg["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| {
            anyhow!("the crate built no .wasm: give it `[lib] crate-type = [\"cdylib\"]`")
        })?;
    std::fs::copy(&wasm, out)
        .with_context(|| format!("copying {} to {}", wasm.display(), out.display()))?;
    Ok(())
}
