//! The Job controller of the test double of the Kubernetes API server (not a Kubernetes):
//! one pod at a time from `spec.template` (`parallelism`/`completions` 1 only), a new pod after each
//! failure while `backoffLimit` allows (after the controller's exponential delay),
//! `activeDeadlineSeconds`, `ttlSecondsAfterFinished`, the status the real controller
//! writes (`active`, `ready`, `succeeded`, `failed`, `startTime`, `completionTime`, and the
//! `SuccessCriteriaMet`/`Complete` or `FailureTarget`/`Failed` conditions), and deletion with
//! the three propagation policies (Orphan being batch/v1's default).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::time::Instant;

use crate::admission::pod_for;
use crate::kubelet::{self, Deleted};
use crate::status::ApiError;
use crate::store::{Kind, Shared, now, owned_by};

fn condition(type_: &str, reason: &str, message: &str) -> JobCondition {
    JobCondition {
        type_: type_.to_string(),
        status: "True".to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_probe_time: Some(now()),
        last_transition_time: Some(now()),
    }
}

/// Changes the Job's status; false when the Job is gone.
fn set_status(shared: &Shared, ns: &str, name: &str, f: impl FnOnce(&mut JobStatus)) -> bool {
    shared
        .write(|s| {
            s.update::<Job>(ns, name, |job| {
                f(job.status.get_or_insert_with(JobStatus::default));
            })
        })
        .is_some()
}

/// Whether the Job (this very one, by uid) still exists and is not being deleted.
fn alive(shared: &Shared, ns: &str, name: &str, uid: &str) -> bool {
    shared.read(|s| {
        s.get::<Job>(ns, name).is_some_and(|j| {
            j.metadata.uid.as_deref() == Some(uid) && j.metadata.deletion_timestamp.is_none()
        })
    })
}

enum Outcome {
    Gone,
    Succeeded,
    Failed,
    Deadline,
}

/// Starts the controller of a new Job.
pub(crate) fn start(shared: &Arc<Shared>, job: &Job) {
    tokio::spawn(run(shared.clone(), job.clone()));
}

async fn run(shared: Arc<Shared>, job: Job) {
    let ns = job.metadata.namespace.clone().unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let spec = job.spec.clone().unwrap_or_default();
    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let deadline = spec
        .active_deadline_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map(|s| Instant::now() + Duration::from_secs(s));
    let mut changes = shared.subscribe();
    let mut failed = 0;
    loop {
        if !alive(&shared, &ns, &name, &uid) {
            return;
        }
        let pod = kubelet::start_pod(&shared, pod_for(&job), Some(name.clone()));
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        set_status(&shared, &ns, &name, |st| {
            st.start_time.get_or_insert_with(now);
            st.active = Some(1);
            st.ready = Some(0);
            st.terminating = Some(0);
            st.uncounted_terminated_pods = Some(UncountedTerminatedPods::default());
        });
        let outcome = loop {
            changes.borrow_and_update();
            if !alive(&shared, &ns, &name, &uid) {
                break Outcome::Gone;
            }
            let pod = shared.read(|s| s.get::<Pod>(&ns, &pod_name).cloned());
            let status = pod.and_then(|p| p.status).unwrap_or_default();
            match status.phase.as_deref() {
                None => break Outcome::Failed,
                Some("Succeeded") => break Outcome::Succeeded,
                Some("Failed") => break Outcome::Failed,
                _ => {}
            }
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            set_status(&shared, &ns, &name, |st| st.ready = Some(i32::from(ready)));
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break Outcome::Deadline;
            }
            tokio::select! {
                _ = changes.changed() => {}
                () = sleep_until(deadline) => {}
            }
        };
        match outcome {
            Outcome::Gone => return,
            Outcome::Succeeded => {
                let (reason, message) = (
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                );
                set_status(&shared, &ns, &name, |st| {
                    st.succeeded = Some(1);
                    st.active = Some(0);
                    st.ready = Some(0);
                    st.conditions.get_or_insert_with(Vec::new).push(condition(
                        "SuccessCriteriaMet",
                        reason,
                        message,
                    ));
                });
                set_status(&shared, &ns, &name, |st| {
                    st.completion_time = Some(now());
                    st.conditions
                        .get_or_insert_with(Vec::new)
                        .push(condition("Complete", reason, message));
                });
                return finished(&shared, &job);
            }
            Outcome::Deadline => {
                return fail_deadline(&shared, &job, &pod_name, failed, &mut changes).await;
            }
            Outcome::Failed => {
                failed += 1;
                set_status(&shared, &ns, &name, |st| {
                    st.failed = Some(failed);
                    st.active = Some(0);
                    st.ready = Some(0);
                });
            }
        }
        if failed > backoff_limit {
            let (reason, message) = (
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            );
            fail(&shared, &ns, &name, reason, message);
            return finished(&shared, &job);
        }
        // The controller's delay before the next pod: base × 2^(failures-1), at most 6 min.
        let base = shared.config.pod_retry_backoff;
        let delay = base
            .saturating_mul(1u32 << u32::try_from(failed - 1).unwrap_or(0).min(16))
            .min(Duration::from_secs(360));
        let until = Instant::now() + delay;
        loop {
            changes.borrow_and_update();
            if !alive(&shared, &ns, &name, &uid) {
                return;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return fail_deadline(&shared, &job, "", failed, &mut changes).await;
            }
            if Instant::now() >= until {
                break;
            }
            tokio::select! {
                _ = changes.changed() => {}
                () = tokio::time::sleep_until(until) => {}
                () = sleep_until(deadline) => {}
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn fail(shared: &Shared, ns: &str, name: &str, reason: &str, message: &str) {
    set_status(shared, ns, name, |st| {
        st.active = Some(0);
        st.ready = Some(0);
        st.conditions.get_or_insert_with(Vec::new).push(condition(
            "FailureTarget",
            reason,
            message,
        ));
    });
    set_status(shared, ns, name, |st| {
        st.conditions
            .get_or_insert_with(Vec::new)
            .push(condition("Failed", reason, message));
    });
}

/// `activeDeadlineSeconds` passed: terminate the active pod, then fail the Job.
async fn fail_deadline(
    shared: &Arc<Shared>,
    job: &Job,
    pod_name: &str,
    mut failed: i32,
    changes: &mut tokio::sync::watch::Receiver<u64>,
) {
    let ns = job.metadata.namespace.clone().unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    let (reason, message) = (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    );
    set_status(shared, &ns, &name, |st| {
        st.conditions.get_or_insert_with(Vec::new).push(condition(
            "FailureTarget",
            reason,
            message,
        ));
    });
    if !pod_name.is_empty() && kubelet::delete_pod(shared, &ns, pod_name, None).is_ok() {
        failed += 1;
        loop {
            changes.borrow_and_update();
            if shared.read(|s| s.get::<Pod>(&ns, pod_name).is_none()) {
                break;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
    set_status(shared, &ns, &name, |st| {
        st.failed = Some(failed);
        st.active = Some(0);
        st.ready = Some(0);
        st.terminating = Some(0);
        st.conditions
            .get_or_insert_with(Vec::new)
            .push(condition("Failed", reason, message));
    });
    finished(shared, job);
}

/// A finished Job with `ttlSecondsAfterFinished` is deleted (Background) after that time.
fn finished(shared: &Arc<Shared>, job: &Job) {
    let Some(ttl) = job
        .spec
        .as_ref()
        .and_then(|s| s.ttl_seconds_after_finished)
        .and_then(|t| u64::try_from(t).ok())
    else {
        return;
    };
    let shared = shared.clone();
    let meta = job.metadata.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(ttl)).await;
        let ns = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        if alive(&shared, &ns, &name, meta.uid.as_deref().unwrap_or_default()) {
            let _ = delete_job(&shared, &ns, &name, Propagation::Background);
        }
    });
}

/// How a delete treats the objects the deleted one owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Propagation {
    Orphan,
    Background,
    Foreground,
}

fn mark_deleting(meta: &mut ObjectMeta, finalizer: &str) {
    meta.deletion_timestamp.get_or_insert_with(now);
    meta.deletion_grace_period_seconds.get_or_insert(0);
    let finalizers = meta.finalizers.get_or_insert_with(Vec::new);
    if !finalizers.iter().any(|f| f == finalizer) {
        finalizers.push(finalizer.to_string());
    }
}

/// Deletes a Job: Background removes it at once and then its pods (whose processes are
/// terminated); Foreground marks it, removes its pods, then it; Orphan (batch/v1's default)
/// removes it and leaves its pods running, without their ownerReference.
pub(crate) fn delete_job(
    shared: &Arc<Shared>,
    ns: &str,
    name: &str,
    propagation: Propagation,
) -> Result<Deleted<Job>, ApiError> {
    let job = shared
        .read(|s| s.get::<Job>(ns, name).cloned())
        .ok_or_else(|| ApiError::not_found(Job::resource(), name))?;
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let (ns, name) = (ns.to_string(), name.to_string());
    match propagation {
        Propagation::Background => {
            let removed = shared.write(|s| s.remove::<Job>(&ns, &name)).unwrap_or(job);
            let shared = shared.clone();
            tokio::spawn(async move {
                for pod in shared.read(|s| s.pods_of(&uid)) {
                    let pod_name = pod.metadata.name.unwrap_or_default();
                    let _ = kubelet::delete_pod(&shared, &ns, &pod_name, None);
                }
            });
            Ok(Deleted::Gone(removed))
        }
        Propagation::Orphan => {
            let marked = shared
                .write(|s| {
                    s.update::<Job>(&ns, &name, |j| mark_deleting(&mut j.metadata, "orphan"))
                })
                .unwrap_or(job);
            let shared = shared.clone();
            tokio::spawn(async move {
                shared.write(|s| {
                    for pod in s.pods_of(&uid) {
                        let pod_name = pod.metadata.name.unwrap_or_default();
                        s.update::<Pod>(&ns, &pod_name, |p| {
                            if let Some(refs) = p.metadata.owner_references.as_mut() {
                                refs.retain(|r| r.uid != uid);
                            }
                            if p.metadata
                                .owner_references
                                .as_ref()
                                .is_some_and(Vec::is_empty)
                            {
                                p.metadata.owner_references = None;
                            }
                        });
                    }
                    s.remove::<Job>(&ns, &name);
                });
            });
            Ok(Deleted::Pending(marked))
        }
        Propagation::Foreground => {
            let marked = shared
                .write(|s| {
                    s.update::<Job>(&ns, &name, |j| {
                        mark_deleting(&mut j.metadata, "foregroundDeletion");
                    })
                })
                .unwrap_or(job);
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut changes = shared.subscribe();
                for pod in shared.read(|s| s.pods_of(&uid)) {
                    let pod_name = pod.metadata.name.unwrap_or_default();
                    let _ = kubelet::delete_pod(&shared, &ns, &pod_name, None);
                }
                loop {
                    changes.borrow_and_update();
                    if shared.read(|s| {
                        s.pods
                            .objects
                            .values()
                            .all(|p| !owned_by(&p.metadata, &uid))
                    }) {
                        break;
                    }
                    if changes.changed().await.is_err() {
                        return;
                    }
                }
                shared.write(|s| s.remove::<Job>(&ns, &name));
            });
            Ok(Deleted::Pending(marked))
        }
    }
}
