//! The guests that several tests share, built with `weft build` once and kept between runs
//! of the tests, as cargo keeps the Rust guests: a build is reused only while everything it
//! was made from is the same (the `weft` binary that built it, the project's files, the
//! guest SDKs, the WIT contract and the Go and componentize-py toolchains), else it is
//! built again. The tests of `weft build` itself build every time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::{repo_root, weft_bin};

/// Directories never part of a project's sources.
const SKIPPED: [&str; 5] = ["target", "__pycache__", "node_modules", ".git", ".venv"];

/// The digest of everything a `weft build` of `project` is made from.
pub(crate) fn key(project: &Path) -> Result<String, String> {
    let mut input = Vec::new();
    let mut add = |label: &Path, bytes: &[u8]| {
        input.extend_from_slice(label.as_os_str().as_encoded_bytes());
        input.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        input.extend_from_slice(bytes);
    };
    add(Path::new("tools"), tools()?.as_bytes());
    let root = repo_root();
    for dir in [
        project.to_path_buf(),
        root.join("guest-sdk"),
        root.join("wit"),
    ] {
        for file in files_under(&dir)? {
            add(&file, &read(&file)?);
        }
    }
    Ok(weft_core::ports::digest_of(&input))
}

/// The digest of the `weft` binary (70 MB: read once per test process) and the versions of
/// the Go and componentize-py toolchains.
fn tools() -> Result<&'static str, String> {
    static TOOLS: OnceLock<Result<String, String>> = OnceLock::new();
    let tools = TOOLS.get_or_init(|| {
        let mut text = weft_core::ports::digest_of(&read(&weft_bin())?);
        for (tool, args) in [
            ("go", ["env", "GOVERSION"]),
            ("componentize-py", ["--version", ""]),
        ] {
            let args = args.iter().filter(|a| !a.is_empty());
            let version = Command::new(tool).args(args).output().map(|o| o.stdout);
            text.push('\n');
            text.push_str(&String::from_utf8_lossy(&version.unwrap_or_default()));
        }
        Ok(text)
    });
    tools.as_deref().map_err(Clone::clone)
}

/// The file beside `out` that holds the key of the build `out` is.
pub(crate) fn key_file(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// The files under `dir`, in a stable order, without the [`SKIPPED`] directories.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("listing {}: {e}", dir.display()))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if kind.is_dir() {
                if !SKIPPED.iter().any(|s| entry.file_name() == *s) {
                    pending.push(path);
                }
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
