//! The language toolchains: `go build` for Go (then [`componentize_core_module`]) and
//! `componentize-py` for Python. Each is run as a child process; a missing program is
//! reported by name with how to install it, a failing one with its output.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{BuildConfig, BuildError, componentize_core_module};

/// Builds the Go code location in `dir` (a Go module whose `main` package imports the Weft
/// Go SDK) into the component `out`.
///
/// Runs `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -ldflags=-checklinkname=0
/// -trimpath` (standard Go 1.25 or later; TinyGo is not needed), then componentizes the
/// core module against `config.wit_dir`. Go fetches the module's dependencies from its
/// module proxy the first time.
pub fn build_go(dir: &Path, out: &Path, config: &BuildConfig) -> Result<(), BuildError> {
    if !dir.join("go.mod").is_file() {
        return Err(BuildError::NotASource {
            dir: dir.to_path_buf(),
            language: "Go",
            reason: "no go.mod".to_owned(),
        });
    }
    let out = absolute(out)?;
    create_parent(&out)?;
    let core_path = out.with_extension("core.wasm");

    let mut go = Command::new("go");
    go.current_dir(dir)
        .env("GOOS", "wasip1")
        .env("GOARCH", "wasm")
        .args([
            "build",
            "-buildmode=c-shared",
            "-ldflags=-checklinkname=0",
            "-trimpath",
            "-buildvcs=false",
            "-o",
        ])
        .arg(&core_path)
        .arg(".");
    run(go, "go", "install Go 1.25 or later from https://go.dev/dl/")?;

    let core = std::fs::read(&core_path).map_err(|source| BuildError::Io {
        action: "cannot read Go's output",
        path: core_path.clone(),
        source,
    })?;
    // Best effort: the core module is an intermediate, the component is the product.
    let _ = std::fs::remove_file(&core_path);
    let component = componentize_core_module(&core, &config.wit_dir, &config.world)?;
    std::fs::write(&out, component).map_err(|source| BuildError::Io {
        action: "cannot write",
        path: out,
        source,
    })
}

/// Builds the Python code location in `dir` (a directory holding `config.python_module`,
/// `app.py` by default) into the component `out` with `componentize-py` (0.25.x, `pip
/// install componentize-py`). `dir` and `config.python_paths` (the Weft Python SDK) are
/// the module search path.
pub fn build_python(dir: &Path, out: &Path, config: &BuildConfig) -> Result<(), BuildError> {
    let module_file = dir.join(format!("{}.py", config.python_module));
    let package_init = dir.join(&config.python_module).join("__init__.py");
    if !module_file.is_file() && !package_init.is_file() {
        return Err(BuildError::NotASource {
            dir: dir.to_path_buf(),
            language: "Python",
            reason: format!(
                "no module `{}` ({} or {})",
                config.python_module,
                module_file.display(),
                package_init.display()
            ),
        });
    }
    let out = absolute(out)?;
    create_parent(&out)?;

    let mut py = Command::new("componentize-py");
    // componentize-py's embedded interpreter leaves __pycache__ beside the sources it
    // imports (the SDK and example directories ignore it in git).
    py.current_dir(dir)
        .arg("-d")
        .arg(absolute(&config.wit_dir)?)
        .args(["-w", &config.world, "componentize", &config.python_module])
        .arg("-p")
        .arg(absolute(dir)?);
    for path in &config.python_paths {
        py.arg("-p").arg(absolute(path)?);
    }
    py.arg("-o").arg(&out);
    run(
        py,
        "componentize-py",
        "install it with `pip install componentize-py` (0.25.x)",
    )
}

/// Runs `command`, mapping "not found" to [`BuildError::ToolMissing`] and a failure to
/// [`BuildError::ToolFailed`] with what the tool printed.
fn run(mut command: Command, tool: &'static str, hint: &'static str) -> Result<(), BuildError> {
    let line = command_line(&command);
    let output = command.output().map_err(|source| {
        if source.kind() == ErrorKind::NotFound {
            BuildError::ToolMissing { tool, hint }
        } else {
            BuildError::Io {
                action: "cannot run",
                path: PathBuf::from(tool),
                source,
            }
        }
    })?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    Err(BuildError::ToolFailed {
        command: line,
        status: output.status.to_string(),
        output: text.trim_end().to_owned(),
    })
}

/// The command as a person would type it, environment overrides first.
fn command_line(command: &Command) -> String {
    let env = command.get_envs().filter_map(|(key, value)| {
        let mut pair = OsString::from(key);
        pair.push("=");
        pair.push(value?);
        Some(pair)
    });
    env.chain(std::iter::once(command.get_program().to_owned()))
        .chain(command.get_args().map(ToOwned::to_owned))
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn absolute(path: &Path) -> Result<PathBuf, BuildError> {
    std::path::absolute(path).map_err(|source| BuildError::Io {
        action: "cannot resolve",
        path: path.to_path_buf(),
        source,
    })
}

fn create_parent(out: &Path) -> Result<(), BuildError> {
    match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|source| BuildError::Io {
                action: "cannot create",
                path: parent.to_path_buf(),
                source,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{WORLD, find_repo_root};

    fn repo_root() -> PathBuf {
        find_repo_root(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("inside the Weft checkout")
    }

    fn on_path(tool: &str) -> bool {
        Command::new(tool).arg("--version").output().is_ok()
            || Command::new(tool).arg("version").output().is_ok()
    }

    #[test]
    fn a_missing_tool_is_named_with_its_install_hint() {
        let error = run(
            Command::new("weft-no-such-tool"),
            "weft-no-such-tool",
            "install it",
        )
        .expect_err("missing");
        assert!(matches!(error, BuildError::ToolMissing { .. }));
        assert_eq!(
            error.to_string(),
            "`weft-no-such-tool` was not found on PATH: install it"
        );
    }

    #[test]
    fn a_failing_tool_reports_its_command_and_output() {
        let mut command = Command::new("sh");
        command
            .env("X", "1")
            .args(["-c", "echo broken >&2; exit 3"]);
        let error = run(command, "sh", "").expect_err("fails");
        let text = error.to_string();
        assert!(text.contains("X=1 sh -c"), "{text}");
        assert!(text.contains("broken"), "{text}");
    }

    #[test]
    fn a_directory_without_sources_is_rejected_before_any_tool_runs() {
        let config = BuildConfig::for_repo(&repo_root());
        let empty = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let out = std::env::temp_dir().join("weft-build-never-written.wasm");
        assert!(matches!(
            build_go(&empty, &out, &config),
            Err(BuildError::NotASource { language: "Go", .. })
        ));
        assert!(matches!(
            build_python(&empty, &out, &config),
            Err(BuildError::NotASource {
                language: "Python",
                ..
            })
        ));
    }

    fn exports_the_world(component: &[u8]) {
        let wit_component::DecodedWasm::Component(resolve, world) =
            wit_component::decode(component).expect("decodes")
        else {
            panic!("not a component");
        };
        let exports: Vec<String> = resolve.worlds[world]
            .exports
            .keys()
            .map(|key| resolve.name_world_key(key))
            .collect();
        assert!(
            exports.contains(&"weft:plugin/definitions@0.1.0".to_owned()),
            "{exports:?}"
        );
        assert!(
            exports.contains(&"weft:plugin/ops@0.1.0".to_owned()),
            "{exports:?}"
        );
    }

    /// Builds `examples/hello-go` when Go is installed (skipped, with a note, otherwise).
    #[test]
    fn builds_the_go_example() {
        if !on_path("go") {
            eprintln!("skipped: go is not installed");
            return;
        }
        let root = repo_root();
        let out = std::env::temp_dir().join(format!(
            "weft-build-test-{}/hello-go.wasm",
            std::process::id()
        ));
        build_go(
            &root.join("examples/hello-go"),
            &out,
            &BuildConfig::for_repo(&root),
        )
        .expect("builds");
        let component = std::fs::read(&out).expect("written");
        exports_the_world(&component);
        assert_eq!(WORLD, "code-location");
        let _ = std::fs::remove_dir_all(out.parent().expect("has a parent"));
    }
}
