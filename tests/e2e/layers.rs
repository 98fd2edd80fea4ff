//! The architecture's rules, checked on the workspace as it is: which Weft crate may
//! depend on which (ARCHITECTURE.md), read from `cargo metadata`, and that no source file
//! outgrows 600 lines (the host's, the SDKs', the plugins', the examples' and the test
//! guests' sources).

use std::collections::{BTreeMap, BTreeSet};

use weft_tests::repo_root;

/// Each host crate and the Weft crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("weft-core", &[]),
    ("weft-engine", &["weft-core"]),
    ("weft-wasm", &["weft-core"]),
    ("weft-store", &["weft-core"]),
    ("weft-objstore", &["weft-core"]),
    ("weft-k8s", &["weft-core"]),
    ("weft-api", &["weft-core"]),
    ("weft-build", &["weft-core", "weft-wasm"]),
    (
        "weft-server",
        &[
            "weft-core",
            "weft-engine",
            "weft-wasm",
            "weft-store",
            "weft-objstore",
            "weft-k8s",
            "weft-api",
        ],
    ),
    (
        "weft-cli",
        &[
            "weft-core",
            "weft-engine",
            "weft-wasm",
            "weft-store",
            "weft-api",
            "weft-server",
            "weft-build",
        ],
    ),
];

#[test]
fn crates_depend_only_on_the_layers_below_them() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(name, deps)| (*name, deps.iter().copied().collect()))
        .collect();
    let mut seen = BTreeSet::new();
    let mut broken = Vec::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("name");
        let Some(may) = allowed.get(name) else {
            continue;
        };
        seen.insert(name);
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().expect("dependency name");
            let normal = dep["kind"].is_null();
            if normal && dep_name.starts_with("weft-") && !may.contains(dep_name) {
                broken.push(format!("{name} depends on {dep_name}"));
            }
        }
    }
    assert_eq!(
        seen.len(),
        ALLOWED.len(),
        "every host crate is in the workspace: {seen:?}"
    );
    assert!(
        broken.is_empty(),
        "dependencies against the layers: {broken:?}"
    );
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut long = Vec::new();
    let root = repo_root();
    let mut stack: Vec<_> = [
        "runtime",
        "guest-sdk",
        "plugins",
        "examples",
        "tests/guests",
        "tests/compat",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                // Tests are exempt, and so is what is generated (the Go SDK's bindings
                // under `wit/`).
                let exempt = ["tests", "target", "node_modules", "wit", "__pycache__"];
                if !exempt.contains(&name) {
                    stack.push(path);
                }
                continue;
            }
            let source = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "js" | "go" | "py")
            );
            if source && name != "tests.rs" {
                let lines = std::fs::read_to_string(&path).map_or(0, |t| t.lines().count());
                if lines > 600 {
                    long.push(format!("{} ({lines} lines)", path.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "split these by responsibility: {long:?}");
}
