//! What the simulated kubelet hands a container's process: the program (`command[0]`,
//! through the configured map of commands to local paths), its arguments (`command[1..]`
//! then `args`, with Kubernetes' `$(VAR)` expansion), its environment (only what the pod
//! spec gives, resolved as the kubelet resolves `env`, `valueFrom` and `envFrom`, from
//! ConfigMaps and Secrets read from the API server, plus PATH, HOME, HOSTNAME, the
//! `KUBERNETES_SERVICE_*` variables, and KUBECONFIG for a pod with a service-account token
//! volume) and its working directory.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret, ServiceAccount};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use crate::Kubelet;

/// A container ready to start as a local process.
pub(crate) struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub working_dir: PathBuf,
}

/// Why a container cannot start.
pub(crate) enum NotReady {
    /// `CreateContainerConfigError`: a ConfigMap, Secret or key it needs is missing (or
    /// cannot be read yet); the kubelet keeps the pod Pending and tries again.
    Config(String),
    /// `StartError`: the process cannot be started (no command, no working directory).
    Start(String),
}

/// The ConfigMaps and Secrets a container's environment names, as read from the API server
/// (a missing one is absent).
#[derive(Default)]
struct State {
    config_maps: HashMap<String, ConfigMap>,
    secrets: HashMap<String, Secret>,
}

/// Reads the ConfigMaps and Secrets `container`'s environment names. A missing one is
/// left out (resolution then says which); any other answer is a reason to wait.
async fn read_sources(kubelet: &Kubelet, ns: &str, container: &Container) -> Result<State, String> {
    let mut maps = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    for source in container.env_from.iter().flatten() {
        if let Some(r) = &source.config_map_ref {
            maps.insert(r.name.clone());
        }
        if let Some(r) = &source.secret_ref {
            secrets.insert(r.name.clone());
        }
    }
    for from in container
        .env
        .iter()
        .flatten()
        .filter_map(|v| v.value_from.as_ref())
    {
        if let Some(r) = &from.config_map_key_ref {
            maps.insert(r.name.clone());
        }
        if let Some(r) = &from.secret_key_ref {
            secrets.insert(r.name.clone());
        }
    }
    Ok(State {
        config_maps: fetch(kubelet, ns, maps, "configmap").await?,
        secrets: fetch(kubelet, ns, secrets, "secret").await?,
    })
}

/// The objects named `names` in `ns` that exist, by name.
async fn fetch<K>(
    kubelet: &Kubelet,
    ns: &str,
    names: BTreeSet<String>,
    kind: &str,
) -> Result<HashMap<String, K>, String>
where
    K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(kubelet.client.clone(), ns);
    let mut found = HashMap::new();
    for name in names {
        match api.get_opt(&name).await {
            Ok(Some(object)) => {
                found.insert(name, object);
            }
            Ok(None) => {}
            Err(e) => return Err(format!("reading {kind} {name:?}: {e}")),
        }
    }
    Ok(found)
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

fn config_map<'a>(state: &'a State, name: &str) -> Result<&'a ConfigMap, String> {
    state
        .config_maps
        .get(name)
        .ok_or_else(|| format!("configmap {name:?} not found"))
}

fn secret<'a>(state: &'a State, name: &str) -> Result<&'a Secret, String> {
    state
        .secrets
        .get(name)
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
                    "unsupported fieldRef fieldPath {path:?} (the simulated kubelet resolves metadata.*, spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP)"
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
            match config_map(state, &r.name) {
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
            match secret(state, &r.name) {
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
                    let found = config_map(state, &r.name).and_then(|cm| {
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
                    let found = secret(state, &r.name).and_then(|s| {
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
                        "env {:?}: resourceFieldRef is not supported by the simulated kubelet",
                        var.name
                    ));
                }
            }
        };
        set(vars, var.name.clone(), value);
    }
    Ok(())
}

/// Whether the pod has a projected service-account token volume (the ServiceAccount
/// admission plugin adds one unless `automountServiceAccountToken` is false).
fn wants_token(pod: &Pod) -> bool {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| v.projected.as_ref())
        .flat_map(|p| p.sources.iter().flatten())
        .any(|s| s.service_account_token.is_some())
}

/// A token of the pod's service account bound to the pod (TokenRequest, as the kubelet
/// asks for its projected volume), written into a kubeconfig for the pod's namespace;
/// returns the kubeconfig's path.
async fn service_account_kubeconfig(kubelet: &Kubelet, pod: &Pod) -> Result<PathBuf, String> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let account = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into());
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: Vec::new(),
            expiration_seconds: Some(3607),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                uid: Some(uid.clone()),
            }),
        },
        ..TokenRequest::default()
    };
    let accounts: Api<ServiceAccount> = Api::namespaced(kubelet.client.clone(), &ns);
    let answer = accounts
        .create_token_request(&account, &PostParams::default(), &request)
        .await
        .map_err(|e| format!("a token for service account {ns}/{account}: {e}"))?;
    let token = answer.status.map(|s| s.token).unwrap_or_default();
    let mut cluster = json!({ "server": kubelet.api_url });
    if kubelet.insecure {
        cluster["insecure-skip-tls-verify"] = json!(true);
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "cluster", "cluster": cluster }],
        "users": [{ "name": account, "user": { "token": token } }],
        "contexts": [{
            "name": "pod",
            "context": { "cluster": "cluster", "user": account, "namespace": ns },
        }],
        "current-context": "pod",
    });
    let dir = kubelet.options.state_dir.join("tokens");
    let path = dir.join(format!("{uid}.kubeconfig"));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, config.to_string()))
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}

/// The process to start for `container` of `pod`.
pub(crate) async fn prepare(
    kubelet: &Kubelet,
    pod: &Pod,
    container: &Container,
) -> Result<Launch, NotReady> {
    let options = &kubelet.options;
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let mut vars: Vec<(String, String)> = Vec::new();
    for inherited in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(inherited) {
            vars.push((inherited.to_string(), v));
        }
    }
    vars.push(("HOSTNAME".to_string(), name.clone()));
    let authority = kubelet
        .api_url
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "443"));
    vars.push(("KUBERNETES_SERVICE_HOST".into(), host.to_owned()));
    vars.push(("KUBERNETES_SERVICE_PORT".into(), port.to_owned()));
    vars.push(("KUBERNETES_PORT".into(), format!("tcp://{host}:{port}")));
    if wants_token(pod) {
        let path = service_account_kubeconfig(kubelet, pod)
            .await
            .map_err(NotReady::Config)?;
        vars.push(("KUBECONFIG".to_string(), path.display().to_string()));
    }
    let state = read_sources(kubelet, &ns, container)
        .await
        .map_err(NotReady::Config)?;
    container_env(&state, pod, container, &mut vars).map_err(NotReady::Config)?;
    let defined: HashMap<String, String> = vars.iter().cloned().collect();
    let command: Vec<String> = container
        .command
        .iter()
        .flatten()
        .map(|c| expand(c, &defined))
        .collect();
    let Some((first, rest)) = command.split_first() else {
        return Err(NotReady::Start(format!(
            "the container {:?} has no command: the simulated kubelet cannot run the entrypoint of image {:?}; set `command`",
            container.name,
            container.image.clone().unwrap_or_default()
        )));
    };
    let program = options
        .commands
        .get(first)
        .cloned()
        .unwrap_or_else(|| PathBuf::from(first));
    let mut args = rest.to_vec();
    args.extend(container.args.iter().flatten().map(|a| expand(a, &defined)));
    let working_dir = match &container.working_dir {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => options.state_dir.join("pods").join(&uid),
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
