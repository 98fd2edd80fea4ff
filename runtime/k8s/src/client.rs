//! [`Kube`]: the one Kubernetes client of Weft. It creates a Job, watches it (kube-runtime's
//! watcher on the Job's name, as `kubectl wait` does) until its `Complete` or `Failed`
//! condition, reads the logs of its pod, and deletes it with its pods. It is the code path
//! a real cluster takes; the tests run it against a test double of the API server.

use std::collections::BTreeMap;

use futures_util::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use kube::runtime::watcher;
use weft_core::Cancel;

use crate::K8sError;

/// A connected client, working in one namespace.
#[derive(Clone)]
pub struct Kube {
    client: kube::Client,
    namespace: String,
}

/// How a Job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    /// Whether it completed (its pod exited 0).
    pub succeeded: bool,
    /// Why, as Kubernetes said it: the Job's condition, and its pod's container state.
    pub reason: String,
    /// Its container's exit code, when it ran to an exit.
    pub exit_code: Option<i32>,
}

/// How long the log of a Job that ended may take to arrive in full.
const LOG_DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

impl Kube {
    /// Connects with the kubeconfig file `kubeconfig` (its current context) when given,
    /// else as kube does by default: `KUBECONFIG` (or `~/.kube/config`), else the pod's
    /// service account. Works in `namespace`, else the configuration's.
    pub async fn connect(
        namespace: Option<&str>,
        kubeconfig: Option<&std::path::Path>,
    ) -> Result<Kube, K8sError> {
        let config = match kubeconfig {
            Some(path) => {
                let file = kube::config::Kubeconfig::read_from(path)
                    .map_err(|e| K8sError::Config(format!("kubeconfig {}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(file, &Default::default())
                    .await
                    .map_err(|e| K8sError::Config(format!("kubeconfig {}: {e}", path.display())))?
            }
            None => kube::Config::infer()
                .await
                .map_err(|e| K8sError::Config(e.to_string()))?,
        };
        let namespace = namespace.map_or_else(|| config.default_namespace.clone(), str::to_owned);
        let client = kube::Client::try_from(config).map_err(|e| K8sError::Config(e.to_string()))?;
        Ok(Kube { client, namespace })
    }

    /// The namespace Jobs are created in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn jobs(&self) -> Api<Job> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Creates `secret` unless a Secret of its name is there: the Secrets Weft makes are
    /// named by their content ([`crate::spec::env_secret`]), so one of the same name holds
    /// the same values.
    pub async fn ensure_secret(&self, secret: &Secret) -> Result<(), K8sError> {
        let name = secret.metadata.name.clone().unwrap_or_default();
        match self.secrets().create(&PostParams::default(), secret).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(e) => Err(api(
                format!("creating Secret {name} in {}", self.namespace),
                e,
            )),
        }
    }

    /// Creates `job`; returns its name.
    pub async fn create(&self, job: &Job) -> Result<String, K8sError> {
        let name = job.metadata.name.clone().unwrap_or_default();
        self.jobs()
            .create(&PostParams::default(), job)
            .await
            .map_err(|e| api(format!("creating Job {name} in {}", self.namespace), e))?;
        Ok(name)
    }

    /// Waits until `job` (created) completes or fails, or is deleted. A Job of one pod
    /// whose pod succeeded has completed: that is taken as its end at once, rather than
    /// when the Job controller writes its `Complete` condition (it batches a Job's syncs
    /// after a pod changes: a second later).
    pub async fn wait(&self, job: &Job) -> Result<Finished, K8sError> {
        let name = job.metadata.name.as_deref().unwrap_or_default();
        let spec = job.spec.as_ref();
        let one_pod = spec.and_then(|s| s.completions).unwrap_or(1) == 1
            && spec.and_then(|s| s.parallelism).unwrap_or(1) == 1;
        if !one_pod {
            return self.wait_condition(name).await;
        }
        tokio::select! {
            finished = self.wait_condition(name) => finished,
            Ok(pod) = self.pod_succeeded(name) => {
                Ok(finished(Some(&pod), true, "the Job's pod completed".to_owned()))
            }
        }
    }

    /// Resolves with the pod of Job `name` once it has succeeded; fails (so that only the
    /// Job's condition counts) when the pods cannot be watched.
    async fn pod_succeeded(&self, name: &str) -> Result<Pod, K8sError> {
        let config = watcher::Config::default().labels(&format!("job-name={name}"));
        let mut pods = std::pin::pin!(watcher::watcher(self.pods(), config));
        while let Some(event) = pods.try_next().await.map_err(|e| K8sError::Api {
            doing: format!("watching the pods of Job {name}"),
            message: e.to_string(),
        })? {
            if let watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) = event
                && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded")
            {
                return Ok(pod);
            }
        }
        Err(K8sError::Api {
            doing: format!("watching the pods of Job {name}"),
            message: "the watch ended".into(),
        })
    }

    /// Waits until Job `name` has its `Complete` or `Failed` condition, or is deleted.
    async fn wait_condition(&self, name: &str) -> Result<Finished, K8sError> {
        let doing = || format!("watching Job {name} in {}", self.namespace);
        let mut stream = std::pin::pin!(watcher::watch_object(self.jobs(), name));
        let mut seen = false;
        while let Some(event) = stream.try_next().await.map_err(|e| K8sError::Api {
            doing: doing(),
            message: e.to_string(),
        })? {
            match event {
                Some(job) => {
                    seen = true;
                    if let Some(ended) = ended(&job) {
                        return Ok(self.explain(name, ended).await);
                    }
                }
                None if seen => {
                    return Ok(Finished {
                        succeeded: false,
                        reason: format!("Job {name} was deleted before it ended"),
                        exit_code: None,
                    });
                }
                None => {}
            }
        }
        Err(K8sError::Api {
            doing: doing(),
            message: "the watch ended".into(),
        })
    }

    /// Creates `job` and waits for it; deletes it (with its pod) if `cancel` is raised
    /// while it runs.
    pub async fn run(&self, job: &Job, cancel: &Cancel) -> Result<Finished, K8sError> {
        let name = self.create(job).await?;
        let finished = tokio::select! {
            finished = self.wait(job) => Some(finished),
            () = cancel.canceled() => None,
        };
        match finished {
            // Canceled, even if the Job's pod ended first on seeing it.
            Some(finished) if !cancel.is_canceled() => finished,
            _ => self.delete_canceled(&name).await,
        }
    }

    /// Deletes Job `name`, canceled while it ran.
    async fn delete_canceled(&self, name: &str) -> Result<Finished, K8sError> {
        self.delete(name).await?;
        Ok(Finished {
            succeeded: false,
            reason: "canceled while it ran, and deleted".into(),
            exit_code: None,
        })
    }

    /// Creates `job`, hands each line of its pod's log to `line` while it runs, and waits
    /// for it to end, for at most `timeout`: a Job still running then, or when `cancel` is
    /// raised, is deleted (with its pod) and counts as failed.
    pub async fn run_following(
        &self,
        job: &Job,
        timeout: std::time::Duration,
        cancel: &Cancel,
        mut line: impl FnMut(&str) + Send,
    ) -> Result<Finished, K8sError> {
        let name = self.create(job).await?;
        let work = async {
            let follow = self.follow(&name, &mut line);
            let wait = self.wait(job);
            tokio::pin!(follow, wait);
            tokio::select! {
                finished = &mut wait => {
                    // The end of the log may still be on its way.
                    let _ = tokio::time::timeout(LOG_DRAIN, &mut follow).await;
                    finished
                }
                followed = &mut follow => {
                    if let Err(e) = followed {
                        tracing::warn!("the log of Job {name} could not be followed: {e}");
                    }
                    wait.await
                }
            }
        };
        let work = async {
            tokio::select! {
                finished = work => Some(finished),
                () = cancel.canceled() => None,
            }
        };
        match tokio::time::timeout(timeout, work).await {
            // Canceled, even if the Job's pod ended first on seeing it.
            Ok(Some(finished)) if !cancel.is_canceled() => finished,
            Ok(_) => self.delete_canceled(&name).await,
            Err(_) => {
                self.delete(&name).await?;
                Ok(Finished {
                    succeeded: false,
                    reason: format!(
                        "still running after {}s, and was deleted",
                        timeout.as_secs()
                    ),
                    exit_code: None,
                })
            }
        }
    }

    /// Adds what the Job's pod says (its container's exit) to how the Job ended.
    async fn explain(&self, name: &str, (succeeded, condition): (bool, String)) -> Finished {
        let pod = self.newest_pod(name).await.ok().flatten();
        finished(pod.as_ref(), succeeded, condition)
    }

    /// The newest pod of Job `name`, if any.
    pub async fn newest_pod(&self, name: &str) -> Result<Option<Pod>, K8sError> {
        let pods = self
            .pods()
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .map_err(|e| api(format!("listing the pods of Job {name}"), e))?;
        Ok(pods
            .items
            .into_iter()
            .max_by_key(|p| p.metadata.creation_timestamp.clone()))
    }

    /// The last `lines` lines of the log of Job `name`'s newest pod ("" without a pod).
    pub async fn tail(&self, name: &str, lines: i64) -> Result<String, K8sError> {
        let Some(pod) = self.newest_pod(name).await? else {
            return Ok(String::new());
        };
        let pod_name = pod.metadata.name.unwrap_or_default();
        let params = LogParams {
            tail_lines: Some(lines),
            ..LogParams::default()
        };
        self.pods()
            .logs(&pod_name, &params)
            .await
            .map_err(|e| api(format!("reading the log of pod {pod_name}"), e))
    }

    /// Streams the log of Job `name`'s pod to `line` as it is written, until the container
    /// exits. Waits for the pod to start first.
    pub async fn follow(
        &self,
        name: &str,
        mut line: impl FnMut(&str) + Send,
    ) -> Result<(), K8sError> {
        let pod_name = loop {
            match self.newest_pod(name).await? {
                Some(pod) if started(&pod) => break pod.metadata.name.unwrap_or_default(),
                _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        };
        let params = LogParams {
            follow: true,
            ..LogParams::default()
        };
        let stream = self
            .pods()
            .log_stream(&pod_name, &params)
            .await
            .map_err(|e| api(format!("following the log of pod {pod_name}"), e))?;
        let mut lines = stream.lines();
        while let Some(next) = lines.next().await {
            let text = next.map_err(|e| K8sError::Api {
                doing: format!("following the log of pod {pod_name}"),
                message: e.to_string(),
            })?;
            line(&text);
        }
        Ok(())
    }

    /// Deletes Job `name` and its pods (which stops them).
    pub async fn delete(&self, name: &str) -> Result<(), K8sError> {
        match self.jobs().delete(name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(api(format!("deleting Job {name}"), e)),
        }
    }

    /// The Jobs carrying every label of `labels`, by name.
    pub async fn jobs_labelled(
        &self,
        labels: &BTreeMap<String, String>,
    ) -> Result<Vec<Job>, K8sError> {
        let selector = labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let list = self
            .jobs()
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| api(format!("listing Jobs labelled {selector}"), e))?;
        Ok(list.items)
    }
}

/// Whether the Job ended, and its condition as text, once it has.
fn ended(job: &Job) -> Option<(bool, String)> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .filter(|c| c.status == "True")
        .find_map(|c| match c.type_.as_str() {
            "Complete" => Some((true, "the Job completed".to_owned())),
            "Failed" => Some((
                false,
                format!(
                    "the Job failed ({}{})",
                    c.reason.as_deref().unwrap_or("no reason given"),
                    c.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            )),
            _ => None,
        })
}

/// How a Job ended: `condition`, with its pod's container exit when there is one.
fn finished(pod: Option<&Pod>, succeeded: bool, condition: String) -> Finished {
    match pod.and_then(container_exit) {
        Some((code, exit)) => Finished {
            succeeded,
            reason: format!("{condition}; {exit}"),
            exit_code: Some(code),
        },
        None => Finished {
            succeeded,
            reason: condition,
            exit_code: None,
        },
    }
}

fn started(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|phase| phase != "Pending")
}

/// How the pod's container ended: its exit code, and "its container exited with code 137
/// (OOMKilled)".
fn container_exit(pod: &Pod) -> Option<(i32, String)> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let terminated = statuses.first()?.state.as_ref()?.terminated.as_ref()?;
    let reason = terminated
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    Some((
        terminated.exit_code,
        format!(
            "pod {}: its container exited with code {}{reason}",
            pod.metadata.name.as_deref().unwrap_or("?"),
            terminated.exit_code
        ),
    ))
}

fn api(doing: String, e: kube::Error) -> K8sError {
    let message = match &e {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    };
    K8sError::Api { doing, message }
}
