//! What the "kubelet" of the test double of the Kubernetes API server (not a Kubernetes)
//! hands a container's process: the program (`command[0]`, through the configured map of
//! commands to local paths), its arguments (`command[1..]` then `args`, with Kubernetes'
//! `$(VAR)` expansion), its environment (only what the pod spec gives, resolved the way the
//! kubelet resolves `env`, `valueFrom` and `envFrom`, plus PATH, HOME, HOSTNAME, the
//! `KUBERNETES_SERVICE_*` variables and a KUBECONFIG that stands in for the service account)
//! and its working directory.

use std::collections::HashMap;
use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};

use crate::store::{Shared, State};

/// A container ready to start as a local process.
pub(crate) struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub working_dir: PathBuf,
}

/// Why a container cannot start.
pub(crate) enum NotReady {
    /// `CreateContainerConfigError`: a ConfigMap, Secret or key it needs is missing; the
    /// kubelet keeps the pod Pending and tries again.
    Config(String),
    /// `StartError`: the process cannot be started (no command, no such executable).
    Start(String),
}

/// Expands `$(VAR)` references to defined variables; `$$` is a literal `$`; references to
/// undefined variables stay as written, as Kubernetes does.
pub(crate) fn expand(input: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('(')
            && let Some(end) = body.find(')')
        {
            let name = &body[..end];
            match vars.get(name) {
                Some(value) => out.push_str(value),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn config_map<'a>(state: &'a State, ns: &str, name: &str) -> Result<&'a ConfigMap, String> {
    state
        .get::<ConfigMap>(ns, name)
        .ok_or_else(|| format!("configmap {name:?} not found"))
}

fn secret<'a>(state: &'a State, ns: &str, name: &str) -> Result<&'a Secret, String> {
    state
        .get::<Secret>(ns, name)
        .ok_or_else(|| format!("secret {name:?} not found"))
}

fn config_map_value(cm: &ConfigMap, key: &str) -> Option<String> {
    cm.data
        .as_ref()
        .and_then(|d| d.get(key))
        .cloned()
        .or_else(|| {
            cm.binary_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|b| String::from_utf8_lossy(&b.0).into_owned())
        })
}

fn secret_value(s: &Secret, key: &str) -> Option<String> {
    s.data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
}

/// `metadata.labels['x']` → `x`.
fn bracketed<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix)?
        .strip_prefix("['")?
        .strip_suffix("']")
}

fn field_ref(pod: &Pod, path: &str) -> Result<String, String> {
    let meta = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let value = match path {
        "metadata.name" => meta.name.clone(),
        "metadata.namespace" => meta.namespace.clone(),
        "metadata.uid" => meta.uid.clone(),
        "spec.nodeName" => spec.node_name,
        "spec.serviceAccountName" => spec.service_account_name,
        "status.hostIP" | "status.hostIPs" => status.host_ip,
        "status.podIP" | "status.podIPs" => status.pod_ip,
        _ => {
            if let Some(key) = bracketed(path, "metadata.labels") {
                meta.labels.as_ref().and_then(|l| l.get(key)).cloned()
            } else if let Some(key) = bracketed(path, "metadata.annotations") {
                meta.annotations.as_ref().and_then(|a| a.get(key)).cloned()
            } else {
                return Err(format!(
                    "unsupported fieldRef fieldPath {path:?} (the test double resolves metadata.*, spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP)"
                ));
            }
        }
    };
    Ok(value.unwrap_or_default())
}

fn container_env(
    state: &State,
    pod: &Pod,
    container: &Container,
    vars: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let set = |vars: &mut Vec<(String, String)>, name: String, value: String| {
        vars.retain(|(n, _)| *n != name);
        vars.push((name, value));
    };
    for source in container.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        if let Some(r) = &source.config_map_ref {
            match config_map(state, &ns, &r.name) {
                Ok(cm) => {
                    for key in cm.data.iter().flat_map(|d| d.keys()) {
                        if let Some(v) = config_map_value(cm, key) {
                            set(vars, format!("{prefix}{key}"), v);
                        }
                    }
                }
                Err(_) if r.optional == Some(true) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(r) = &source.secret_ref {
            match secret(state, &ns, &r.name) {
                Ok(s) => {
                    for key in s.data.iter().flat_map(|d| d.keys()) {
                        if let Some(v) = secret_value(s, key) {
                            set(vars, format!("{prefix}{key}"), v);
                        }
                    }
                }
                Err(_) if r.optional == Some(true) => {}
                Err(e) => return Err(e),
            }
        }
    }
    for var in container.env.iter().flatten() {
        let defined: HashMap<String, String> = vars.iter().cloned().collect();
        let value = match &var.value_from {
            None => expand(var.value.as_deref().unwrap_or_default(), &defined),
            Some(from) => {
                if let Some(r) = &from.config_map_key_ref {
                    let found = config_map(state, &ns, &r.name).and_then(|cm| {
                        config_map_value(cm, &r.key).ok_or_else(|| {
                            format!("couldn't find key {} in ConfigMap {ns}/{}", r.key, r.name)
                        })
                    });
                    match found {
                        Ok(v) => v,
                        Err(_) if r.optional == Some(true) => continue,
                        Err(e) => return Err(e),
                    }
                } else if let Some(r) = &from.secret_key_ref {
                    let found = secret(state, &ns, &r.name).and_then(|s| {
                        secret_value(s, &r.key).ok_or_else(|| {
                            format!("couldn't find key {} in Secret {ns}/{}", r.key, r.name)
                        })
                    });
                    match found {
                        Ok(v) => v,
                        Err(_) if r.optional == Some(true) => continue,
                        Err(e) => return Err(e),
                    }
                } else if let Some(f) = &from.field_ref {
                    field_ref(pod, &f.field_path)?
                } else {
                    return Err(format!(
                        "env {:?}: resourceFieldRef is not supported by the test double",
                        var.name
                    ));
                }
            }
        };
        set(vars, var.name.clone(), value);
    }
    Ok(())
}

/// The process to start for the pod's first container.
pub(crate) fn prepare(shared: &Shared, pod: &Pod) -> Result<Launch, NotReady> {
    let config = &shared.config;
    let spec = pod.spec.clone().unwrap_or_default();
    let Some(container) = spec.containers.first() else {
        return Err(NotReady::Start("the pod has no containers".to_string()));
    };
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut vars: Vec<(String, String)> = Vec::new();
    for inherited in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(inherited) {
            vars.push((inherited.to_string(), v));
        }
    }
    vars.push(("HOSTNAME".to_string(), name.clone()));
    let port = config.port.to_string();
    vars.push((
        "KUBERNETES_SERVICE_HOST".to_string(),
        "127.0.0.1".to_string(),
    ));
    vars.push(("KUBERNETES_SERVICE_PORT".to_string(), port.clone()));
    vars.push((
        "KUBERNETES_PORT".to_string(),
        format!("tcp://127.0.0.1:{port}"),
    ));
    if config.pod_kubeconfig {
        let path = config.state_dir.join(format!("kubeconfig-{ns}.yaml"));
        if !path.exists() {
            crate::kubeconfig::write(&path, &config.url, &config.token, &ns)
                .map_err(|e| NotReady::Start(format!("writing the pod's kubeconfig: {e}")))?;
        }
        vars.push(("KUBECONFIG".to_string(), path.display().to_string()));
    }
    shared
        .read(|state| container_env(state, pod, container, &mut vars))
        .map_err(NotReady::Config)?;
    let defined: HashMap<String, String> = vars.iter().cloned().collect();
    let command: Vec<String> = container
        .command
        .iter()
        .flatten()
        .map(|c| expand(c, &defined))
        .collect();
    let Some((first, rest)) = command.split_first() else {
        return Err(NotReady::Start(format!(
            "the container {:?} has no command: the test double of the Kubernetes API server cannot run the entrypoint of image {:?}; set `command`",
            container.name,
            container.image.clone().unwrap_or_default()
        )));
    };
    let program = config
        .commands
        .get(first)
        .cloned()
        .unwrap_or_else(|| PathBuf::from(first));
    let mut args = rest.to_vec();
    args.extend(container.args.iter().flatten().map(|a| expand(a, &defined)));
    let working_dir = match &container.working_dir {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => config.state_dir.join("pods").join(&ns).join(&name),
    };
    std::fs::create_dir_all(&working_dir).map_err(|e| {
        NotReady::Start(format!(
            "creating the working directory {}: {e}",
            working_dir.display()
        ))
    })?;
    Ok(Launch {
        program,
        args,
        env: vars,
        working_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_follows_kubernetes() {
        let vars: HashMap<String, String> = [("A".to_string(), "x".to_string())].into();
        assert_eq!(expand("$(A)-$(B)", &vars), "x-$(B)");
        assert_eq!(expand("$$(A) $$ $", &vars), "$(A) $ $");
        assert_eq!(expand("a$(A", &vars), "a$(A");
    }
}
