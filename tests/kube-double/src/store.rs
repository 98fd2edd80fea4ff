//! The object store of the test double of the Kubernetes API server (not a Kubernetes): typed
//! tables of Jobs, Pods, ConfigMaps and Secrets under one lock, one global resourceVersion
//! counter as etcd keeps it (every change of any object takes the next number), and per table
//! the history of changes that watches replay from a resourceVersion.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::{ListableResource, Metadata, NamespaceResourceScope, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::kubelet::PodProc;
use crate::status::ResourceName;
use crate::{Config, RequestRecord};

/// How many changes a table keeps for watches; a watch from an older resourceVersion gets
/// 410 Expired, as from a compacted etcd.
const KEPT_EVENTS: usize = 50_000;

/// The type of a change, as a watch names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One change of one object: `old` is the object before it (None for an addition).
pub(crate) struct Event<K> {
    pub rv: u64,
    pub kind: EventType,
    pub old: Option<K>,
    pub new: K,
}

/// The objects of one resource type, by (namespace, name), and their recent changes.
pub(crate) struct Table<K> {
    pub objects: BTreeMap<(String, String), K>,
    pub events: VecDeque<Event<K>>,
    /// The newest resourceVersion whose change was dropped from `events`.
    pub compacted: u64,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            objects: BTreeMap::new(),
            events: VecDeque::new(),
            compacted: 0,
        }
    }
}

/// A resource type the double serves: namespaced, with standard object metadata.
pub(crate) trait Kind:
    Resource<Scope = NamespaceResourceScope>
    + ListableResource
    + Metadata<Ty = ObjectMeta>
    + Serialize
    + DeserializeOwned
    + Clone
    + PartialEq
    + Default
    + Send
    + Sync
    + 'static
{
    /// Whether a delete answers with the object itself rather than a `Status`
    /// (`ReturnDeletedObject` of the real server's registry: true for pods only here).
    const RETURNS_DELETED_OBJECT: bool = false;

    fn table(state: &State) -> &Table<Self>;
    fn table_mut(state: &mut State) -> &mut Table<Self>;

    /// The value of a field selector label besides `metadata.name` and `metadata.namespace`,
    /// or None when the real server does not support that label for this type.
    fn field(&self, _label: &str) -> Option<String> {
        None
    }

    /// How the server names this type in messages and `details`.
    fn resource() -> ResourceName {
        ResourceName {
            plural: Self::URL_PATH_SEGMENT,
            group: Self::GROUP,
            kind: Self::KIND,
        }
    }
}

impl Kind for Job {
    fn table(state: &State) -> &Table<Self> {
        &state.jobs
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.jobs
    }
    fn field(&self, label: &str) -> Option<String> {
        match label {
            "status.successful" => Some(
                self.status
                    .as_ref()
                    .and_then(|s| s.succeeded)
                    .unwrap_or(0)
                    .to_string(),
            ),
            _ => None,
        }
    }
}

impl Kind for Pod {
    const RETURNS_DELETED_OBJECT: bool = true;

    fn table(state: &State) -> &Table<Self> {
        &state.pods
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.pods
    }
    fn field(&self, label: &str) -> Option<String> {
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().unwrap_or_default();
        let value = match label {
            "spec.nodeName" => spec.node_name,
            "spec.restartPolicy" => spec.restart_policy,
            "spec.schedulerName" => spec.scheduler_name,
            "spec.serviceAccountName" => spec.service_account_name,
            "spec.hostNetwork" => Some(spec.host_network.unwrap_or(false).to_string()),
            "status.phase" => status.phase,
            "status.podIP" => status.pod_ip,
            "status.nominatedNodeName" => status.nominated_node_name,
            _ => return None,
        };
        Some(value.unwrap_or_default())
    }
}

impl Kind for ConfigMap {
    fn table(state: &State) -> &Table<Self> {
        &state.config_maps
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.config_maps
    }
}

impl Kind for Secret {
    fn table(state: &State) -> &Table<Self> {
        &state.secrets
    }
    fn table_mut(state: &mut State) -> &mut Table<Self> {
        &mut state.secrets
    }
    fn field(&self, label: &str) -> Option<String> {
        match label {
            "type" => Some(self.type_.clone().unwrap_or_default()),
            _ => None,
        }
    }
}

fn key(ns: &str, name: &str) -> (String, String) {
    (ns.to_string(), name.to_string())
}

/// Everything the API server holds, under one lock.
#[derive(Default)]
pub(crate) struct State {
    /// The newest resourceVersion handed out.
    pub rv: u64,
    pub jobs: Table<Job>,
    pub pods: Table<Pod>,
    pub config_maps: Table<ConfigMap>,
    pub secrets: Table<Secret>,
    /// The local processes of pods, by pod uid (kept after the pod is deleted, for `pods()`).
    pub procs: HashMap<String, Arc<PodProc>>,
}

impl State {
    fn record<K: Kind>(&mut self, kind: EventType, old: Option<K>, new: K) {
        let rv = self.rv;
        let table = K::table_mut(self);
        table.events.push_back(Event { rv, kind, old, new });
        while table.events.len() > KEPT_EVENTS {
            if let Some(dropped) = table.events.pop_front() {
                table.compacted = dropped.rv;
            }
        }
    }

    pub fn get<K: Kind>(&self, ns: &str, name: &str) -> Option<&K> {
        K::table(self).objects.get(&key(ns, name))
    }

    /// Adds an object under a name known to be free: stamps the next resourceVersion.
    pub fn insert<K: Kind>(&mut self, mut obj: K) -> K {
        self.rv += 1;
        let meta = obj.metadata_mut();
        meta.resource_version = Some(self.rv.to_string());
        let k = key(
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default(),
        );
        K::table_mut(self).objects.insert(k, obj.clone());
        self.record(EventType::Added, None, obj.clone());
        obj
    }

    /// Changes an object in place; a change that changes nothing makes no event and keeps the
    /// resourceVersion, as the real server does for a no-op update.
    pub fn update<K: Kind>(&mut self, ns: &str, name: &str, f: impl FnOnce(&mut K)) -> Option<K> {
        let old = self.get::<K>(ns, name)?.clone();
        let mut new = old.clone();
        f(&mut new);
        if new == old {
            return Some(old);
        }
        self.rv += 1;
        new.metadata_mut().resource_version = Some(self.rv.to_string());
        K::table_mut(self)
            .objects
            .insert(key(ns, name), new.clone());
        self.record(EventType::Modified, Some(old), new.clone());
        Some(new)
    }

    /// Removes an object; its DELETED event carries the deletion's resourceVersion.
    pub fn remove<K: Kind>(&mut self, ns: &str, name: &str) -> Option<K> {
        let mut obj = K::table_mut(self).objects.remove(&key(ns, name))?;
        self.rv += 1;
        let old = obj.clone();
        obj.metadata_mut().resource_version = Some(self.rv.to_string());
        self.record(EventType::Deleted, Some(old), obj.clone());
        Some(obj)
    }

    /// The pods a Job owns (by controller ownerReference uid).
    pub fn pods_of(&self, job_uid: &str) -> Vec<Pod> {
        self.pods
            .objects
            .values()
            .filter(|p| owned_by(&p.metadata, job_uid))
            .cloned()
            .collect()
    }
}

/// Whether the object's controller ownerReference points at `uid`.
pub(crate) fn owned_by(meta: &ObjectMeta, uid: &str) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == uid && r.controller == Some(true))
}

/// The state shared by the HTTP handlers, the Job controller and the kubelet.
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
    requests: Mutex<Vec<RequestRecord>>,
    pub config: Config,
}

impl Shared {
    pub fn new(config: Config) -> Arc<Self> {
        Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: watch::Sender::new(0),
            requests: Mutex::new(Vec::new()),
            config,
        })
    }

    /// Notes one HTTP request, for `KubeDouble::requests`.
    pub fn record(&self, request: RequestRecord) {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request);
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent tables (every change is one insert);
        // go on rather than fail every later request.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Runs a change under the lock, then wakes the watches if it made any.
    pub fn write<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let (result, changed) = {
            let mut state = self.lock();
            let before = state.rv;
            let result = f(&mut state);
            (result, (state.rv != before).then_some(state.rv))
        };
        if let Some(rv) = changed {
            self.changed.send_replace(rv);
        }
        result
    }

    /// A receiver that wakes on every change of any object.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// Now, as the server stamps it (whole seconds on the wire).
pub(crate) fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// A time `secs` seconds from now.
pub(crate) fn in_secs(secs: i64) -> Time {
    let now = k8s_openapi::jiff::Timestamp::now();
    let later = now
        .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(secs))
        .unwrap_or(now);
    Time(later)
}

/// Five characters from the alphabet the real server uses for generated names
/// (no vowels, no look-alike digits).
pub(crate) fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(5)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// A fresh object uid.
pub(crate) fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}
