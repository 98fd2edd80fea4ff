//! [`Control`]: the control plane of one process — what the HTTP API serves (through
//! `api.rs`), over the store (the only state), the registry of loaded versions and the
//! launcher. An upload is validated, precompiled and its definitions read before anything
//! is stored; then the version and the new current digest are written in one transaction.

mod reexecution;
mod workspace;

use std::collections::BTreeMap;
use std::sync::Arc;

use weft_api::{Counts, InstigatorStatus, LaunchRequest, Location, Reexecute, Version};
use weft_core::defs::Definitions;
use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::grants::Grants;
use weft_core::instigator::{self, InstigatorKind, TickRecord};
use weft_core::now_ms;
use weft_core::plan::{Succeeded, from_failure};
use weft_core::ports::{CodeLocation, ComputeLogStore};
use weft_core::run::{RunFilter, RunRecord};
use weft_store::{LocationRecord, Store, VersionRecord};

use crate::error::{Error, ErrorKind};
use crate::launch::{PrepareError, Target, prepare};
use crate::launcher::Launcher;
use crate::registry::Registry;

/// The tag a re-executed run carries: the run it repeats.
const PARENT_TAG: &str = "weft/parent_run_id";
/// The tag a re-executed run carries: the first run of the chain.
const ROOT_TAG: &str = "weft/root_run_id";
/// The tag of a re-execution from failure (which a queued run needs to plan again).
const FROM_FAILURE_TAG: &str = "weft/from_failure";

/// What `run` runs: its asset selection, or its job.
fn target_of(run: &RunRecord) -> Target {
    match &run.asset_selection {
        Some(selection) => Target::Assets(selection.clone()),
        None => Target::Job(run.job.clone()),
    }
}

/// The control plane of one `weft serve` process.
pub struct Control {
    store: Arc<Store>,
    registry: Arc<Registry>,
    launcher: Arc<Launcher>,
    compute_logs: Arc<dyn ComputeLogStore>,
    /// Runs queue (a run coordinator is configured) rather than start at once.
    queued: bool,
}

impl Control {
    pub fn new(
        store: Arc<Store>,
        registry: Arc<Registry>,
        launcher: Arc<Launcher>,
        compute_logs: Arc<dyn ComputeLogStore>,
        queued: bool,
    ) -> Self {
        Control {
            store,
            registry,
            launcher,
            compute_logs,
            queued,
        }
    }

    /// The live location `name`, or a 404.
    async fn record(&self, name: &str) -> Result<LocationRecord, Error> {
        self.store
            .location(name)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::not_found(format!("there is no code location {name:?}")))
    }

    /// The current version of `record`, loaded.
    async fn current(&self, record: &LocationRecord) -> Result<Arc<dyn CodeLocation>, Error> {
        let grants = grants_of(record)?;
        self.registry
            .get(&record.name, &record.current_digest, &grants)
            .await
    }

    async fn detail(&self, record: LocationRecord) -> Result<Location, Error> {
        let current = self
            .store
            .version_of(&record.name, &record.current_digest)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| {
                Error::internal(format!(
                    "code location {} points at version {}, which is not stored",
                    record.name, record.current_digest
                ))
            })?;
        let definitions = definitions_of(&current)?;
        Ok(Location {
            grants: self
                .registry
                .shown_grants(&record.name, &grants_of(&record)?),
            counts: Counts::of(&definitions),
            wasm_size: current.wasm_size,
            name: record.name,
            digest: record.current_digest,
            updated_ms: record.updated_ms,
            definitions,
        })
    }

    async fn run_record(&self, run_id: &str) -> Result<RunRecord, Error> {
        self.store
            .run(run_id)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::not_found(format!("there is no run {run_id:?}")))
    }

    /// Prepares, records and starts a run over `locations`.
    async fn start(
        &self,
        locations: Vec<Arc<dyn CodeLocation>>,
        target: Target,
        config: Option<String>,
        tags: BTreeMap<String, String>,
        succeeded: Option<&BTreeMap<String, Succeeded>>,
    ) -> Result<String, Error> {
        let refs: Vec<&dyn CodeLocation> = locations.iter().map(AsRef::as_ref).collect();
        let mut prepared =
            prepare(&refs, &target, config.as_deref(), tags).map_err(|e| match e {
                PrepareError::UnknownJob(e) => Error::not_found(e.to_string()),
                PrepareError::Invalid(message) => Error::unprocessable(message),
            })?;
        // The config was checked against the whole job; a re-execution from failure runs
        // only the steps that did not succeed.
        if let Some(succeeded) = succeeded {
            prepared.plan = from_failure(&prepared.plan, succeeded);
        }
        let run_id = prepared.record.run_id.clone();
        if self.queued {
            // The daemon's coordinator starts it when the limits allow.
            prepared.record.status = RunStatus::Queued;
        }
        self.store
            .create_run(&prepared.record)
            .await
            .map_err(Error::from)?;
        if !self.queued {
            self.launcher.start(prepared, locations);
        }
        Ok(run_id)
    }
}

fn grants_of(record: &LocationRecord) -> Result<Grants, Error> {
    serde_json::from_str(&record.grants).map_err(|e| {
        Error::internal(format!(
            "the stored grants of code location {} are unreadable: {e}",
            record.name
        ))
    })
}

fn definitions_of(version: &VersionRecord) -> Result<Definitions, Error> {
    serde_json::from_str(&version.definitions).map_err(|e| {
        Error::internal(format!(
            "the stored definitions of version {} are unreadable: {e}",
            version.digest
        ))
    })
}

/// What the HTTP API serves (`api.rs` turns each into the API's port).
impl Control {
    pub async fn locations(&self) -> Result<Vec<Location>, Error> {
        let records = self.store.location_records().await.map_err(Error::from)?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            out.push(self.detail(record).await?);
        }
        Ok(out)
    }

    pub async fn location(&self, name: &str) -> Result<Location, Error> {
        let record = self.record(name).await?;
        self.detail(record).await
    }

    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> Result<Version, Error> {
        let grants = match self.store.location(name).await.map_err(Error::from)? {
            Some(record) => grants_of(&record)?,
            None => Grants::default(),
        };
        let bytes = Arc::new(bytes);
        let location = self.registry.compile(name, bytes.clone(), &grants).await?;
        let definitions = serde_json::to_string(location.definitions())
            .map_err(|e| Error::internal(format!("encoding the definitions: {e}")))?;
        let digest = location.digest().to_owned();
        let counts = Counts::of(location.definitions());
        // Pods check a precompiled form they fetch against this digest before running it.
        self.registry.record_own_precompiled(&digest).await?;
        self.registry.publish(&digest, bytes.clone()).await?;
        self.store
            .put_location_version(name, &digest, &definitions, &bytes)
            .await
            .map_err(Error::from)?;
        self.registry.keep(location, grants, bytes.len());
        tracing::info!("code location {name} is now at {digest}");
        let created_ms = self
            .store
            .location_versions(name)
            .await
            .map_err(Error::from)?
            .iter()
            .find(|v| v.digest == digest)
            .map_or_else(now_ms, |v| v.created_ms);
        Ok(Version {
            digest,
            created_ms,
            wasm_size: bytes.len() as i64,
            current: true,
            counts,
        })
    }

    pub async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        let record = self.record(name).await?;
        let versions = self
            .store
            .location_versions(name)
            .await
            .map_err(Error::from)?;
        versions
            .iter()
            .map(|v| {
                Ok(Version {
                    current: v.digest == record.current_digest,
                    counts: Counts::of(&definitions_of(v)?),
                    digest: v.digest.clone(),
                    created_ms: v.created_ms,
                    wasm_size: v.wasm_size,
                })
            })
            .collect()
    }

    pub async fn rollback(&self, name: &str, digest: &str) -> Result<Location, Error> {
        self.record(name).await?;
        if !self
            .store
            .set_current_version(name, digest)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::not_found(format!(
                "code location {name} has no version {digest:?} (see its versions)"
            )));
        }
        tracing::info!("code location {name} rolled back to {digest}");
        self.location(name).await
    }

    pub async fn remove(&self, name: &str) -> Result<(), Error> {
        if self
            .store
            .remove_location(name)
            .await
            .map_err(Error::from)?
        {
            tracing::info!("code location {name} removed");
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "there is no code location {name:?}"
            )))
        }
    }

    /// Sets the grants of location `name` and answers them as shown (environment values
    /// masked). An environment value sent as the mask keeps the value granted before.
    pub async fn set_grants(&self, name: &str, grants: Grants) -> Result<Grants, Error> {
        let record = self.record(name).await?;
        let grants = grants
            .unmasked(&grants_of(&record)?)
            .map_err(Error::unprocessable)?;
        // Grants that cannot make a sandbox (a missing directory, an unset variable) are
        // refused now rather than failing the next run.
        self.registry.sandbox(name, &grants)?;
        let shown = grants.masked();
        let encode = |grants: &Grants| {
            serde_json::to_string(grants)
                .map_err(|e| Error::internal(format!("encoding the grants: {e}")))
        };
        if !self
            .store
            .set_location_grants(name, &encode(&grants)?, &encode(&shown)?)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::not_found(format!(
                "there is no code location {name:?}"
            )));
        }
        Ok(shown)
    }

    pub async fn current_definitions(&self) -> Result<Vec<(String, String, Definitions)>, Error> {
        let records = self.store.location_records().await.map_err(Error::from)?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            if let Some(definitions) = self.stored_definitions(&record).await? {
                out.push((record.name, record.current_digest, definitions));
            }
        }
        Ok(out)
    }

    pub async fn latest_materializations(&self) -> Result<Vec<(String, String, i64)>, Error> {
        self.store
            .latest_materializations()
            .await
            .map_err(Error::from)
    }

    pub async fn launch(&self, request: LaunchRequest) -> Result<String, Error> {
        let config = request.config.as_ref().map(|json| json.to_string());
        match (&request.job, &request.selection) {
            (Some(job), None) => {
                let name = match &request.location {
                    Some(name) => name.clone(),
                    None => self.only_location_with_job(job).await?,
                };
                let record = self.record(&name).await?;
                let location = self.current(&record).await?;
                self.start(
                    vec![location],
                    Target::Job(job.clone()),
                    config,
                    request.tags,
                    None,
                )
                .await
            }
            (None, Some(selection)) => {
                let records = match &request.location {
                    Some(name) => vec![self.record(name).await?],
                    None => self.store.location_records().await.map_err(Error::from)?,
                };
                let mut locations = Vec::with_capacity(records.len());
                for record in &records {
                    locations.push(self.current(record).await?);
                }
                self.start(
                    locations,
                    Target::Assets(selection.clone()),
                    config,
                    request.tags,
                    None,
                )
                .await
            }
            _ => Err(Error::bad_request(
                "give either `job` (with `location`) or `selection`, not both",
            )),
        }
    }

    pub async fn runs(&self, filter: RunFilter) -> Result<Vec<RunRecord>, Error> {
        self.store.runs(&filter).await.map_err(Error::from)
    }

    pub async fn run(&self, run_id: &str) -> Result<RunRecord, Error> {
        self.run_record(run_id).await
    }

    /// The instance's database.
    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub async fn cancel(&self, run_id: &str) -> Result<RunStatus, Error> {
        let run = self.run_record(run_id).await?;
        if run.status.is_finished() {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("run {run_id} has already ended {}", run.status),
            ));
        }
        // A run that never started (no launcher took it) ends here; one under way is asked
        // to stop, wherever it runs.
        let never_started = matches!(run.status, RunStatus::Queued | RunStatus::NotStarted)
            && !self.launcher.runs_here(run_id);
        let kind = if never_started {
            EventKind::RunCanceled
        } else {
            EventKind::RunCanceling
        };
        self.launcher
            .record(vec![Event {
                run_id: run_id.to_owned(),
                step_key: None,
                timestamp_ms: now_ms(),
                kind,
            }])
            .await
            .map_err(|e| Error::new(ErrorKind::Unavailable, e))?;
        // The status the request left, read before a run here is stopped (it then ends
        // `CANCELED` at once).
        let status = self.run_record(run_id).await?.status;
        self.launcher.cancel_here(run_id);
        Ok(status)
    }

    pub async fn reexecute(&self, run_id: &str, how: Reexecute) -> Result<String, Error> {
        self.reexecute_with(run_id, how, BTreeMap::new()).await
    }

    pub async fn step_events(&self, run_id: &str) -> Result<Vec<Event>, Error> {
        self.store.step_events(run_id).await.map_err(Error::from)
    }

    pub async fn events(
        &self,
        run_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Event)>, Error> {
        self.store
            .events(run_id, after, limit)
            .await
            .map_err(Error::from)
    }

    pub async fn instigator_states(&self) -> Result<Vec<InstigatorStatus>, Error> {
        Ok(self
            .store
            .instigator_states()
            .await
            .map_err(Error::from)?
            .into_iter()
            .map(|s| InstigatorStatus {
                location: s.location,
                name: s.name,
                status: s.status,
                last_tick_ms: s.last_tick_ms,
                cursor: s.cursor,
            })
            .collect())
    }

    pub async fn set_instigator(
        &self,
        kind: InstigatorKind,
        location: &str,
        name: &str,
        running: bool,
    ) -> Result<InstigatorStatus, Error> {
        let current = self.current_definitions().await?;
        let Some((_, _, defs)) = current.iter().find(|(l, _, _)| l == location) else {
            return Err(Error::not_found(format!(
                "there is no code location {location:?}"
            )));
        };
        let (known, noun) = match kind {
            InstigatorKind::Schedule => (defs.schedules.iter().any(|s| s.name == name), "schedule"),
            InstigatorKind::Sensor => (defs.sensors.iter().any(|s| s.name == name), "sensor"),
        };
        if !known {
            return Err(Error::not_found(format!(
                "code location {location} has no {noun} {name:?}"
            )));
        }
        let status = match running {
            true => instigator::InstigatorStatus::Running,
            false => instigator::InstigatorStatus::Stopped,
        };
        self.store
            .set_instigator_status(location, name, kind, status, now_ms())
            .await
            .map_err(Error::from)?;
        tracing::info!("{noun} {location}/{name} is now {status}");
        let state = self
            .store
            .instigator_state(location, name)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| Error::internal("the state just stored is missing"))?;
        Ok(InstigatorStatus {
            location: state.location,
            name: state.name,
            status: state.status,
            last_tick_ms: state.last_tick_ms,
            cursor: state.cursor,
        })
    }

    pub async fn ticks(
        &self,
        location: &str,
        name: &str,
        before_ms: Option<i64>,
        limit: u32,
    ) -> Result<Vec<TickRecord>, Error> {
        let ticks = self
            .store
            .ticks(location, name, before_ms, limit)
            .await
            .map_err(Error::from)?;
        // No ticks of a name no live location defines: a 404, not an empty list.
        if ticks.is_empty() {
            let defined = self.current_definitions().await?.iter().any(|(l, _, d)| {
                l == location
                    && (d.schedules.iter().any(|s| s.name == name)
                        || d.sensors.iter().any(|s| s.name == name))
            });
            if !defined {
                return Err(Error::not_found(format!(
                    "code location {location:?} has no schedule or sensor {name:?}"
                )));
            }
        }
        Ok(ticks)
    }

    pub async fn component(&self, digest: &str) -> Result<Vec<u8>, Error> {
        self.registry.component_bytes(digest).await
    }

    pub async fn precompiled(&self, digest: &str, engine: &str) -> Result<Vec<u8>, Error> {
        self.registry.precompiled_bytes(digest, engine).await
    }

    pub async fn compute_logs(
        &self,
        run_id: &str,
        step_key: &str,
    ) -> Result<(Vec<u8>, Vec<u8>), Error> {
        self.run_record(run_id).await?;
        // Reading an object store blocks: not on the async runtime's threads.
        let (logs, run, step) = (
            self.compute_logs.clone(),
            run_id.to_owned(),
            step_key.to_owned(),
        );
        tokio::task::spawn_blocking(move || logs.load(&run, &step))
            .await
            .map_err(|e| Error::internal(e.to_string()))?
            .map_err(|e| Error::internal(e.to_string()))
    }
}

impl Control {
    /// What the current version of `record` defines, as stored with the version.
    pub async fn stored_definitions(
        &self,
        record: &LocationRecord,
    ) -> Result<Option<Definitions>, Error> {
        let Some((_, json)) = self
            .store
            .location_version(&record.current_digest)
            .await
            .map_err(Error::from)?
        else {
            return Ok(None);
        };
        serde_json::from_str(&json).map(Some).map_err(|e| {
            Error::internal(format!(
                "the stored definitions of {} are unreadable: {e}",
                record.name
            ))
        })
    }

    /// The one live location that defines `job`, for a launch that names no location.
    async fn only_location_with_job(&self, job: &str) -> Result<String, Error> {
        let defining: Vec<String> = self
            .current_definitions()
            .await?
            .into_iter()
            .filter(|(_, _, d)| d.job(job).is_some() || d.asset_job(job).is_some())
            .map(|(name, _, _)| name)
            .collect();
        match defining.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::not_found(format!(
                "no code location defines a job {job:?}"
            ))),
            many => Err(Error::bad_request(format!(
                "job {job:?} is defined by several code locations ({}): give `location`",
                many.join(", ")
            ))),
        }
    }
}
