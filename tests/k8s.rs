//! The real Kubernetes control plane of the tests (`tests/k8s/cluster.sh`: etcd,
//! kube-apiserver, kube-controller-manager, kube-scheduler, and the simulated kubelet of
//! `tests/kube-double` as its one node), as a test sees it: a namespace of its own, made as
//! an operator would make one for Weft — Pod Security Admission's `restricted` level
//! enforced, a `weft-runs` service account for run and step pods, and the Role the Helm
//! chart grants Weft (read from `deploy/helm/weft/templates/rbac.yaml`) bound to the user
//! `weft` (the server's identity) and to `weft-runs` — and what the API server holds in it,
//! read with the admin's token. Dropping the namespace deletes it (and so its pods).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One test's namespace on the cluster.
pub struct Namespace {
    pub name: String,
    /// A kubeconfig of the user `weft` (whom only the chart's Role grants anything).
    pub weft_kubeconfig: PathBuf,
    url: String,
    token: String,
    http: reqwest::blocking::Client,
}

/// The rules of the Helm chart's Role for Weft.
fn chart_rules() -> Value {
    let path = crate::repo_root().join("deploy/helm/weft/templates/rbac.yaml");
    let template = std::fs::read_to_string(&path).expect("the chart's rbac.yaml");
    // The rules are plain YAML between `rules:` and the template's first directive after it.
    let rules = template
        .split_once("\nrules:\n")
        .and_then(|(_, rest)| rest.split("  {{").next())
        .expect("rules: in the chart's Role");
    serde_yaml_ng::from_str(rules).expect("the chart's rules are YAML")
}

impl Namespace {
    /// A new namespace `weft-<label>-<random>`, set up as above; None (the test skipped)
    /// when no cluster runs, outside CI.
    pub fn create(label: &str) -> Option<Namespace> {
        let (url, token, weft_kubeconfig) = match (
            std::env::var("WEFT_TEST_K8S_URL"),
            std::env::var("WEFT_TEST_K8S_ADMIN_TOKEN"),
            std::env::var("WEFT_TEST_KUBECONFIG_WEFT"),
        ) {
            (Ok(url), Ok(token), Ok(weft)) if !url.is_empty() => (url, token, PathBuf::from(weft)),
            _ if std::env::var_os("CI").is_some() => panic!(
                "WEFT_TEST_K8S_URL is not set, and CI is: `source tests/k8s/cluster.sh` first"
            ),
            _ => {
                eprintln!("skipped: WEFT_TEST_K8S_URL is not set (source tests/k8s/cluster.sh)");
                return None;
            }
        };
        let http = reqwest::blocking::Client::builder()
            // The test cluster's API server has a self-signed certificate.
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        let name = format!("weft-{label}-{}", &suffix[suffix.len() - 8..]);
        let ns = Namespace {
            name: name.clone(),
            weft_kubeconfig,
            url,
            token,
            http,
        };
        ns.create_object(
            "/api/v1/namespaces",
            json!({
                "metadata": {
                    "name": name,
                    "labels": {
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                    },
                },
            }),
        );
        ns.create_object(
            &ns.path("api/v1", "serviceaccounts"),
            json!({ "metadata": { "name": "weft-runs" } }),
        );
        let rbac = "apis/rbac.authorization.k8s.io/v1";
        ns.create_object(
            &ns.path(rbac, "roles"),
            json!({ "metadata": { "name": "weft-launcher" }, "rules": chart_rules() }),
        );
        ns.create_object(
            &ns.path(rbac, "rolebindings"),
            json!({
                "metadata": { "name": "weft-launcher" },
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "weft-launcher",
                },
                "subjects": [
                    { "kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "weft" },
                    { "kind": "ServiceAccount", "name": "weft-runs", "namespace": name },
                ],
            }),
        );
        // Pods that name no account run as `default`, which the service account controller
        // makes in every new namespace.
        ns.wait_for("the default service account", || {
            ns.get_opt(&ns.path("api/v1", "serviceaccounts/default"))
        });
        Some(ns)
    }

    /// `/{api}/namespaces/{ns}/{rest}`.
    pub fn path(&self, api: &str, rest: &str) -> String {
        format!("/{api}/namespaces/{}/{rest}", self.name)
    }

    /// A request with the admin's token: its status and JSON answer (Null when none).
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = answer.status().as_u16();
        let text = answer.text().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn create_object(&self, path: &str, body: Value) {
        let (status, answer) = self.call("POST", path, Some(body));
        assert!(
            status == 201 || status == 200,
            "POST {path}: {status} {answer}"
        );
    }

    fn get_opt(&self, path: &str) -> Option<Value> {
        match self.call("GET", path, None) {
            (200, found) => Some(found),
            (404, _) => None,
            (status, answer) => panic!("GET {path}: {status} {answer}"),
        }
    }

    /// Polls `found` every 20 ms for up to a minute.
    pub fn wait_for<T>(&self, what: &str, mut found: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(value) = found() {
                return value;
            }
            assert!(Instant::now() < deadline, "{what}: not after a minute");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn items(&self, path: &str) -> Vec<Value> {
        let (status, list) = self.call("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {list}");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// The namespace's Pods, as the API server holds them.
    pub fn pods(&self) -> Vec<Pod> {
        self.items(&self.path("api/v1", "pods"))
            .into_iter()
            .map(Pod)
            .collect()
    }

    /// Pod `name`; panics when it is not there.
    pub fn pod(&self, name: &str) -> Pod {
        let path = self.path("api/v1", &format!("pods/{name}"));
        Pod(self
            .get_opt(&path)
            .unwrap_or_else(|| panic!("no pod {name}")))
    }

    /// The namespace's Jobs.
    pub fn jobs(&self) -> Vec<Value> {
        self.items(&self.path("apis/batch/v1", "jobs"))
    }

    /// Whether Job `name` is there.
    pub fn has_job(&self, name: &str) -> bool {
        self.get_opt(&self.path("apis/batch/v1", &format!("jobs/{name}")))
            .is_some()
    }

    /// The log of pod `name`, through the API server (which asks the pod's kubelet).
    pub fn pod_log(&self, name: &str) -> String {
        let path = self.path("api/v1", &format!("pods/{name}/log"));
        match self.call("GET", &path, None) {
            (200, Value::String(text)) => text,
            (200, json) => json.to_string(),
            (status, answer) => panic!("GET {path}: {status} {answer}"),
        }
    }

    /// Deletes pod `name` with a grace period of `grace` seconds.
    pub fn delete_pod(&self, name: &str, grace: u32) {
        let path = self.path("api/v1", &format!("pods/{name}"));
        let (status, answer) = self.call(
            "DELETE",
            &path,
            Some(json!({ "gracePeriodSeconds": grace })),
        );
        assert!(
            status == 200 || status == 202,
            "DELETE {path}: {status} {answer}"
        );
    }

    /// Creates an object at `/{api}/namespaces/{ns}/{resource}`: the status and answer.
    pub fn post(&self, api: &str, resource: &str, body: Value) -> (u16, Value) {
        self.call("POST", &self.path(api, resource), Some(body))
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.call("DELETE", &format!("/api/v1/namespaces/{}", self.name), None);
    }
}

/// A Pod as the API server holds it.
#[derive(Clone, Debug)]
pub struct Pod(pub Value);

impl Pod {
    pub fn name(&self) -> &str {
        self.0["metadata"]["name"].as_str().unwrap_or_default()
    }

    pub fn phase(&self) -> &str {
        self.0["status"]["phase"].as_str().unwrap_or_default()
    }

    /// The Job that made it (its `job-name` label).
    pub fn job(&self) -> &str {
        self.0["metadata"]["labels"]["job-name"]
            .as_str()
            .unwrap_or_default()
    }

    /// Its first container.
    pub fn container(&self) -> &Value {
        &self.0["spec"]["containers"][0]
    }

    /// Its first container's arguments.
    pub fn args(&self) -> Vec<String> {
        serde_json::from_value(self.container()["args"].clone()).unwrap_or_default()
    }

    /// Its first container's exit code, once it has terminated.
    pub fn exit_code(&self) -> Option<i64> {
        self.0["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"].as_i64()
    }
}
