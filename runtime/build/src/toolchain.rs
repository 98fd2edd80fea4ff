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
/// -trimpath` (standard Go 1.25 or later; TinyGo is not needed), pre-initializes the core
/// module unless `config.pre_initialize` is off (Go's runtime and the package initializers
/// run here, once, rather than in every instance), then componentizes it against
/// `config.wit_dir`. Go fetches the module's dependencies from its module proxy the first
/// time.
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
        ]);
    let modfile = match &config.go_sdk {
        Some(sdk) => with_sdk(dir, sdk, &out)?,
        None => None,
    };
    if let Some(modfile) = &modfile {
        go.arg(format!("-modfile={}", modfile.display()));
    }
    go.arg("-o").arg(&core_path).arg(".");
    let built = run(go, "go", "install Go 1.25 or later from https://go.dev/dl/");
    if let Some(modfile) = &modfile
        && let Some(scratch) = modfile.parent()
    {
        let _ = std::fs::remove_dir_all(scratch);
    }
    built?;

    let core = std::fs::read(&core_path).map_err(|source| BuildError::Io {
        action: "cannot read Go's output",
        path: core_path.clone(),
        source,
    })?;
    // Best effort: the core module is an intermediate, the component is the product.
    let _ = std::fs::remove_file(&core_path);
    let core = if config.pre_initialize {
        weft_wasm::preinit::pre_initialize(&core)?
    } else {
        core
    };
    let component = componentize_core_module(&core, &config.wit_dir, &config.world)?;
    std::fs::write(&out, component).map_err(|source| BuildError::Io {
        action: "cannot write",
        path: out,
        source,
    })
}

/// When the location's `go.mod` requires the Go SDK without a `replace` saying where it
/// is, a copy of that `go.mod` (and `go.sum`) that points it at `sdk`, beside the output,
/// for `go build -modfile`: the author's files stay as they are.
fn with_sdk(dir: &Path, sdk: &Path, out: &Path) -> Result<Option<PathBuf>, BuildError> {
    let go_mod = dir.join("go.mod");
    let text = std::fs::read_to_string(&go_mod).map_err(|source| BuildError::Io {
        action: "cannot read",
        path: go_mod.clone(),
        source,
    })?;
    let names_sdk = |line: &str| line.split_whitespace().any(|w| w == crate::sdk::GO_MODULE);
    let replace = |line: &&str| line.trim_start().starts_with("replace");
    let required = text.lines().filter(|l| !replace(l)).any(names_sdk);
    let replaced = text.lines().filter(replace).any(names_sdk);
    if !required || replaced {
        return Ok(None);
    }
    let scratch = out.with_extension("gomod");
    let io = BuildError::io;
    std::fs::create_dir_all(&scratch).map_err(io("cannot create", &scratch))?;
    let sdk = absolute(sdk)?;
    let modfile = scratch.join("go.mod");
    let patched = format!(
        "{text}\nreplace {} => {}\n",
        crate::sdk::GO_MODULE,
        sdk.display()
    );
    std::fs::write(&modfile, patched).map_err(io("cannot write", &modfile))?;
    let sum = dir.join("go.sum");
    if sum.is_file() {
        let to = scratch.join("go.sum");
        std::fs::copy(&sum, &to).map_err(io("cannot copy", &to))?;
    }
    Ok(Some(modfile))
}

/// The module `componentize-py` is given: it imports the author's module and re-exports
/// the SDK's export classes, which componentize-py looks up by name.
const PYTHON_ENTRY: &str = "weft_entry";

/// Builds the Python code location in `dir` into the component `out` with
/// `componentize-py` (0.25.x, `pip install componentize-py`).
///
/// The author's module (see [`BuildConfig::python_module`]: `defs.py` or `app.py` unless
/// `pyproject.toml` names another under `[tool.weft] module`) stays plain Dagster-style
/// code: what is componentized is a generated module, `weft_entry`, that imports it
/// through `weft.component.load` and re-exports the SDK's exports (`Definitions`, `Ops`,
/// `Checks`, `Hooks`, `Sensors`, `Schedules`: one per exported interface of the world). `dir`, the generated module's directory and
/// `config.python_paths` (the Weft Python SDK) are the module search path.
pub fn build_python(dir: &Path, out: &Path, config: &BuildConfig) -> Result<(), BuildError> {
    let module = python_module(dir, config)?;
    let out = absolute(out)?;
    create_parent(&out)?;

    let entry_dir = std::env::temp_dir().join(format!(
        "weft-build-python-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    let io = BuildError::io;
    std::fs::create_dir_all(&entry_dir).map_err(io("cannot create", &entry_dir))?;
    let entry_file = entry_dir.join(format!("{PYTHON_ENTRY}.py"));
    std::fs::write(&entry_file, python_entry(&module)).map_err(io("cannot write", &entry_file))?;

    let mut py = Command::new("componentize-py");
    // componentize-py's embedded interpreter leaves __pycache__ beside the sources it
    // imports (the SDK and example directories ignore it in git).
    py.current_dir(dir)
        .arg("-d")
        .arg(absolute(&config.wit_dir)?)
        .args(["-w", &config.world, "componentize", PYTHON_ENTRY])
        .arg("-p")
        .arg(&entry_dir)
        .arg("-p")
        .arg(absolute(dir)?);
    for path in &config.python_paths {
        py.arg("-p").arg(absolute(path)?);
    }
    py.arg("-o").arg(&out);
    let result = run(
        py,
        "componentize-py",
        "install it with `pip install componentize-py` (0.25.x)",
    );
    // Best effort: the entry module is an intermediate, the component is the product.
    let _ = std::fs::remove_dir_all(&entry_dir);
    result
}

/// The generated entry module serving the definitions of `module`.
fn python_entry(module: &str) -> String {
    format!(
        "\"\"\"Generated by weft-build: the component's exports, serving `{module}`.\"\"\"\n\
         \n\
         from weft.component import Checks, Definitions, Hooks, Ops, Schedules, Sensors, load\n\
         \n\
         __all__ = [\"Checks\", \"Definitions\", \"Hooks\", \"Ops\", \"Schedules\", \"Sensors\"]\n\
         \n\
         load({module:?})\n"
    )
}

/// The author's module in `dir`: `config.python_module`, else `[tool.weft] module` in
/// `pyproject.toml`, else `defs`, else `app`. It must exist as `NAME.py` or
/// `NAME/__init__.py`.
fn python_module(dir: &Path, config: &BuildConfig) -> Result<String, BuildError> {
    let exists = |name: &str| {
        dir.join(format!("{name}.py")).is_file() || dir.join(name).join("__init__.py").is_file()
    };
    let named = config
        .python_module
        .clone()
        .or_else(|| pyproject_module(&dir.join("pyproject.toml")));
    if let Some(name) = named {
        let valid = !name.is_empty()
            && name.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
        let top = name.split('.').next().unwrap_or_default();
        if valid && exists(top) {
            return Ok(name);
        }
        return Err(BuildError::NotASource {
            dir: dir.to_path_buf(),
            language: "Python",
            reason: format!("no module `{name}` ({top}.py or {top}/__init__.py)"),
        });
    }
    ["defs", "app"]
        .into_iter()
        .find(|name| exists(name))
        .map(str::to_owned)
        .ok_or_else(|| BuildError::NotASource {
            dir: dir.to_path_buf(),
            language: "Python",
            reason: "no defs.py or app.py (or `[tool.weft] module = \"...\"` in pyproject.toml)"
                .to_owned(),
        })
}

/// `module = "..."` under `[tool.weft]` in a `pyproject.toml`, read line by line (no TOML
/// parser for one key).
fn pyproject_module(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut in_table = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[tool.weft]";
        } else if let Some((key, value)) = line.split_once('=')
            && in_table
            && key.trim() == "module"
        {
            let value = value.split('#').next().unwrap_or_default().trim();
            return Some(value.trim_matches(|c| c == '"' || c == '\'').to_owned());
        }
    }
    None
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

    #[test]
    fn the_python_module_is_found_in_the_project() {
        let root = repo_root();
        let config = BuildConfig::for_repo(&root);
        let module = |dir: &str| python_module(&root.join(dir), &config).expect("found");
        assert_eq!(module("examples/numbers-python"), "defs");
        assert_eq!(module("examples/hello-python"), "app");

        let dir = std::env::temp_dir().join(format!("weft-build-pyproject-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("location")).expect("created");
        std::fs::write(dir.join("location/__init__.py"), "").expect("written");
        std::fs::write(
            dir.join("pyproject.toml"),
            "[project]\nname = \"x\"\n\n[tool.weft]\nmodule = \"location\" # the package\n",
        )
        .expect("written");
        assert_eq!(python_module(&dir, &config).expect("found"), "location");
        std::fs::write(
            dir.join("pyproject.toml"),
            "[tool.weft]\nmodule = 'missing'\n",
        )
        .expect("written");
        let error = python_module(&dir, &config).expect_err("missing");
        assert!(error.to_string().contains("no module `missing`"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_python_entry_loads_the_module_and_names_the_exports() {
        let entry = python_entry("defs");
        assert!(entry.contains(
            "from weft.component import Checks, Definitions, Hooks, Ops, Schedules, Sensors, load\n"
        ));
        assert!(entry.ends_with("load(\"defs\")\n"), "{entry}");
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
            exports.contains(&"weft:plugin/definitions@0.10.0".to_owned()),
            "{exports:?}"
        );
        assert!(
            exports.contains(&"weft:plugin/ops@0.10.0".to_owned()),
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
