//! The contract (`wit/`) and the Python, Go and Rust SDKs this binary was built with,
//! embedded, for builds outside a Weft checkout: [`unpack`] writes them once, laid out as a
//! checkout is (`wit/`, `guest-sdk/python/weft`, `guest-sdk/go`, `guest-sdk/rust/*`), under a directory keyed by the
//! contract's version and their contents (so a new binary never reads an older copy); a
//! build then treats that directory as it treats a checkout ([`BuildConfig::for_repo`]).
//!
//! [`BuildConfig::for_repo`]: crate::BuildConfig::for_repo

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use include_dir::{Dir, DirEntry, include_dir};
use sha2::{Digest, Sha256};

use crate::BuildError;

static WIT: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../wit");
static PYTHON: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../guest-sdk/python/weft");
static GO: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../guest-sdk/go");
static RUST_SDK: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../guest-sdk/rust/weft-sdk");
static RUST_MACROS: Dir<'_> =
    include_dir!("$CARGO_MANIFEST_DIR/../../guest-sdk/rust/weft-sdk-macros");
/// The workspace's manifest, which the Rust SDK's inherit from.
const WORKSPACE_MANIFEST: &str = include_str!("../../../Cargo.toml");

/// The Go SDK's module path, which a Go location's `go.mod` requires.
pub const GO_MODULE: &str = "example.invalid/weft/guest-sdk/go";

/// Whether an embedded file belongs in the unpacked SDK: sources, not tests, caches or
/// the bindings generator.
fn wanted(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let skipped_dir = path
        .components()
        .any(|c| c.as_os_str() == "__pycache__" || c.as_os_str() == "tests");
    !skipped_dir && !name.ends_with("_test.go") && !name.ends_with(".pyc") && name != "generate.sh"
}

/// One file of the unpacked tree: its path under the root, and its contents.
type File = (PathBuf, Cow<'static, [u8]>);

fn files<'a>(dir: &'a Dir<'a>, out: &mut Vec<(&'a Path, &'a [u8])>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => files(d, out),
            DirEntry::File(f) if wanted(f.path()) => out.push((f.path(), f.contents())),
            DirEntry::File(_) => {}
        }
    }
}

/// The embedded contract and SDKs, file by file, in a stable order; the Rust SDK's
/// manifests made standalone.
fn all_files() -> Result<Vec<File>, BuildError> {
    let mut out: Vec<File> = Vec::new();
    for (name, dir) in [
        ("wit", &WIT),
        ("guest-sdk/python/weft", &PYTHON),
        ("guest-sdk/go", &GO),
        ("guest-sdk/rust/weft-sdk", &RUST_SDK),
        ("guest-sdk/rust/weft-sdk-macros", &RUST_MACROS),
    ] {
        let mut list = Vec::new();
        files(dir, &mut list);
        list.sort();
        for (path, contents) in list {
            let contents =
                if name.starts_with("guest-sdk/rust") && path == Path::new("Cargo.toml") {
                    let text = String::from_utf8_lossy(contents);
                    let standalone = crate::manifest::standalone(&text, WORKSPACE_MANIFEST)
                        .map_err(|detail| BuildError::Sdk {
                            detail: format!("{name}/Cargo.toml: {detail}"),
                        })?;
                    Cow::Owned(standalone.into_bytes())
                } else {
                    Cow::Borrowed(contents)
                };
            out.push((Path::new(name).join(path), contents));
        }
    }
    Ok(out)
}

/// Writes the embedded contract and SDKs under `root` (unless an earlier call did) and
/// returns the checkout-shaped directory they are in. Written into a fresh directory and
/// renamed into place, so that a reader never sees a half-written SDK.
pub fn unpack(root: &Path, contract_version: &str) -> Result<PathBuf, BuildError> {
    let files = all_files()?;
    let mut hash = Sha256::new();
    for (path, contents) in &files {
        hash.update(path.to_string_lossy().as_bytes());
        hash.update((contents.len() as u64).to_le_bytes());
        hash.update(contents);
    }
    let digest = hex::encode(hash.finalize());
    let target = root.join(format!("{contract_version}-{}", &digest[..16]));
    if target.is_dir() {
        return Ok(target);
    }
    let io = BuildError::io;
    let staging = root.join(format!(
        ".unpacking-{}-{}",
        &digest[..16],
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    for (path, contents) in &files {
        let file = staging.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
        }
        std::fs::write(&file, contents).map_err(io("cannot write", &file))?;
    }
    match std::fs::rename(&staging, &target) {
        Ok(()) => Ok(target),
        // Another build unpacked the same SDKs first: theirs is as good.
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(target)
        }
        Err(source) => Err(BuildError::Io {
            action: "cannot move into place",
            path: target,
            source,
        }),
    }
}

/// The checkout-shaped directory a build of `dir` takes its contract and SDKs from: the
/// Weft checkout holding `dir` (or the working directory), else the copies this binary
/// carries, unpacked under `sdk_dir`.
pub fn root_for(dir: &Path, sdk_dir: &Path, contract_version: &str) -> Result<PathBuf, BuildError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    match crate::find_repo_root(dir).or_else(|| crate::find_repo_root(&cwd)) {
        Some(root) => Ok(root),
        None => unpack(sdk_dir, contract_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_the_sources_once_without_tests_or_caches() {
        let root = std::env::temp_dir().join(format!("weft-sdk-unpack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = unpack(&root, "9.9.9").expect("unpacks");
        let python = dir.join("guest-sdk/python/weft");
        assert!(python.join("__init__.py").is_file());
        assert!(python.join("http").join("__init__.py").is_file());
        let go = dir.join("guest-sdk/go");
        assert!(go.join("go.mod").is_file());
        assert!(go.join("wit").is_dir());
        assert!(!go.join("weft_test.go").exists());
        assert!(!go.join("generate.sh").exists());
        assert!(dir.join("wit/world.wit").is_file());
        assert!(dir.join("wit/deps/http.wit").is_file());
        let manifest = std::fs::read_to_string(dir.join("guest-sdk/rust/weft-sdk/Cargo.toml"))
            .expect("the Rust SDK's manifest");
        assert!(!manifest.contains("workspace = true"), "{manifest}");
        assert!(!dir.join("guest-sdk/rust/weft-sdk/tests").exists());
        assert_eq!(
            crate::find_repo_root(&go),
            Some(dir.canonicalize().expect("dir"))
        );
        assert_eq!(
            unpack(&root, "9.9.9").expect("again"),
            dir,
            "the same place"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
