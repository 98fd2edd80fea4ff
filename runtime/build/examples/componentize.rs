//! Builds one code location into a component, as `weft build` will.
//!
//! Run it from anywhere inside a Weft checkout:
//!
//! ```text
//! cargo run --release -p weft-build --example componentize -- go examples/hello-go target/wasm/hello-go.wasm
//! cargo run --release -p weft-build --example componentize -- python examples/hello-python target/wasm/hello-python.wasm
//! cargo run --release -p weft-build --example componentize -- core some-core-module.wasm out.wasm
//! ```
//!
//! `core` componentizes a WASI preview1 core module that was built some other way.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use weft_build::{BuildConfig, build_go, build_python, componentize_core_module, find_repo_root};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, input, out] = args.as_slice() else {
        eprintln!("usage: componentize <go|python|core> <DIR|CORE.wasm> <OUT.wasm>");
        return ExitCode::from(2);
    };
    let Some(root) = std::env::current_dir()
        .ok()
        .and_then(|cwd| find_repo_root(&cwd))
    else {
        eprintln!("error: run this inside a Weft checkout (no wit/world.wit above here)");
        return ExitCode::FAILURE;
    };
    let config = BuildConfig::for_repo(&root);
    let (input, out) = (PathBuf::from(input), PathBuf::from(out));
    let started = Instant::now();
    let result = match kind.as_str() {
        "go" => build_go(&input, &out, &config),
        "python" => build_python(&input, &out, &config),
        "core" => core(&input, &out, &config),
        other => {
            eprintln!("error: unknown kind `{other}` (go, python or core)");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!(
                "{}: {} bytes in {:.1} s",
                out.display(),
                size,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn core(input: &Path, out: &Path, config: &BuildConfig) -> Result<(), weft_build::BuildError> {
    let io = |action, path: &Path| {
        let path = path.to_path_buf();
        move |source| weft_build::BuildError::Io {
            action,
            path,
            source,
        }
    };
    let bytes = std::fs::read(input).map_err(io("cannot read", input))?;
    let component = componentize_core_module(&bytes, &config.wit_dir, &config.world)?;
    std::fs::write(out, component).map_err(io("cannot write", out))
}
