//! The Rust SDK's `Cargo.toml`s made standalone for an unpacked SDK (`sdk::unpack`): in
//! the checkout they inherit their version, edition and dependencies from the workspace's
//! manifest; unpacked, they carry them, and `weft-sdk` finds `weft-sdk-macros` beside it.

use toml::{Table, Value};

/// `crate_manifest` (a crate of `guest-sdk/rust`) with what it inherits from
/// `workspace_manifest` written in, its dev-dependencies and lints left out (its tests are
/// not unpacked), and a `[workspace]` of its own so that it builds wherever it is.
pub(crate) fn standalone(crate_manifest: &str, workspace_manifest: &str) -> Result<String, String> {
    let mut manifest: Table = crate_manifest.parse().map_err(|e| format!("{e}"))?;
    let root: Table = workspace_manifest.parse().map_err(|e| format!("{e}"))?;
    let workspace = root.get("workspace").and_then(Value::as_table);
    let package_defaults = workspace
        .and_then(|w| w.get("package"))
        .and_then(Value::as_table);
    let dependency_defaults = workspace
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table);
    if let Some(Value::Table(package)) = manifest.get_mut("package") {
        for (key, value) in package.iter_mut() {
            if inherits(value) {
                *value = package_defaults
                    .and_then(|p| p.get(key.as_str()))
                    .cloned()
                    .ok_or_else(|| format!("the workspace gives no package.{key}"))?;
            }
        }
    }
    manifest.remove("dev-dependencies");
    manifest.remove("lints");
    resolve_dependencies(manifest.get_mut("dependencies"), dependency_defaults)?;
    if let Some(Value::Table(targets)) = manifest.get_mut("target") {
        for (_, target) in targets.iter_mut() {
            if let Value::Table(target) = target {
                resolve_dependencies(target.get_mut("dependencies"), dependency_defaults)?;
            }
        }
    }
    manifest.insert("workspace".into(), Value::Table(Table::new()));
    toml::to_string(&manifest).map_err(|e| format!("{e}"))
}

fn inherits(value: &Value) -> bool {
    value
        .as_table()
        .and_then(|t| t.get("workspace"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// Each `name.workspace = true` as the workspace declares it, with the crate's own keys
/// (its `features` added to the workspace's); a dependency on another SDK crate by path
/// points at its sibling.
fn resolve_dependencies(deps: Option<&mut Value>, defaults: Option<&Table>) -> Result<(), String> {
    let Some(Value::Table(deps)) = deps else {
        return Ok(());
    };
    for (name, value) in deps.iter_mut() {
        if !inherits(value) {
            continue;
        }
        let mut resolved = match defaults.and_then(|d| d.get(name.as_str())) {
            Some(Value::String(version)) => {
                let mut t = Table::new();
                t.insert("version".into(), Value::String(version.clone()));
                t
            }
            Some(Value::Table(t)) => t.clone(),
            _ => return Err(format!("the workspace does not declare dependency {name}")),
        };
        if resolved.contains_key("path") {
            resolved.insert("path".into(), Value::String(format!("../{name}")));
        }
        // The crate's own keys (`optional`, ...) stay; its features add to the workspace's.
        for (key, own) in value.as_table().into_iter().flatten() {
            match (key.as_str(), own, resolved.get_mut(key.as_str())) {
                ("workspace", _, _) => {}
                ("features", Value::Array(extra), Some(Value::Array(features))) => {
                    features.extend(extra.iter().cloned());
                }
                _ => {
                    resolved.insert(key.clone(), own.clone());
                }
            }
        }
        *value = Value::Table(resolved);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_fields_are_written_in() {
        let root = r#"
            [workspace.package]
            version = "0.1.0"
            edition = "2024"
            [workspace.dependencies]
            serde = { version = "1", features = ["derive"] }
            hex = "0.4"
            weft-sdk-macros = { path = "guest-sdk/rust/weft-sdk-macros" }
        "#;
        let krate = r#"
            [package]
            name = "weft-sdk"
            version.workspace = true
            edition.workspace = true
            [dependencies]
            serde = { workspace = true, features = ["rc"] }
            hex.workspace = true
            weft-sdk-macros.workspace = true
            [dev-dependencies]
            trybuild = "1"
            [lints]
            workspace = true
        "#;
        let out: Table = standalone(krate, root).unwrap().parse().unwrap();
        assert_eq!(out["package"]["version"].as_str(), Some("0.1.0"));
        assert_eq!(out["package"]["edition"].as_str(), Some("2024"));
        let deps = &out["dependencies"];
        assert_eq!(deps["hex"]["version"].as_str(), Some("0.4"));
        assert_eq!(
            deps["serde"]["features"].as_array().map(Vec::len),
            Some(2),
            "the workspace's features and the crate's"
        );
        assert_eq!(
            deps["weft-sdk-macros"]["path"].as_str(),
            Some("../weft-sdk-macros")
        );
        assert!(!out.contains_key("dev-dependencies") && !out.contains_key("lints"));
        assert!(out["workspace"].as_table().is_some_and(Table::is_empty));
        assert!(standalone("[dependencies]\nnope.workspace = true", root).is_err());
    }
}
