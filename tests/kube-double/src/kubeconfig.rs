//! Kubeconfig files pointing at the test double of the Kubernetes API server (not a
//! Kubernetes): one cluster (the double's plain-HTTP URL), one user with a bearer token, one
//! context with a namespace, current. kube's `Client::try_default()` (and kubectl) read it
//! through `KUBECONFIG`; kube 5 accepts an `http://` server (its TLS connector is
//! `https_or_http`), so no certificate is needed.

use std::path::Path;

use serde_json::json;

/// The kubeconfig text.
pub(crate) fn render(url: &str, token: &str, namespace: &str) -> String {
    let name = "weft-kube-double";
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": name, "cluster": { "server": url } }],
        "users": [{ "name": name, "user": { "token": token } }],
        "contexts": [{
            "name": name,
            "context": { "cluster": name, "user": name, "namespace": namespace },
        }],
        "current-context": name,
        "preferences": {},
    });
    // A JSON value of strings, arrays and maps always serializes.
    serde_yaml_ng::to_string(&config).unwrap_or_default()
}

/// Writes the kubeconfig to `path` (through a temporary file, so a reader never sees half).
pub(crate) fn write(path: &Path, url: &str, token: &str, namespace: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, render(url, token, namespace))?;
    std::fs::rename(&tmp, path)
}
