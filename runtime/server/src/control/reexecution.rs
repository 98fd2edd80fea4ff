//! Runs started again: re-execution (all steps, or from failure: the steps that did not
//! succeed, reading the others' outputs from the runs that produced them), queued runs the
//! coordinator lets through, and the versions a run is pinned to.

use std::collections::BTreeMap;
use std::sync::Arc;

use weft_api::Reexecute;
use weft_core::grants::Grants;

use crate::error::{Error, ErrorKind};
use weft_core::events::{Event, EventKind, RunStatus};
use weft_core::now_ms;
use weft_core::plan::{Succeeded, expand_succeeded, from_failure, mapped_output};
use weft_core::ports::CodeLocation;
use weft_core::run::RunRecord;

use super::{Control, FROM_FAILURE_TAG, PARENT_TAG, ROOT_TAG, grants_of, target_of};
use crate::launch::{Prepared, prepare};

impl Control {
    /// Re-executes run `run_id` (see [`ControlPlane::reexecute`]), adding `extra` tags.
    pub async fn reexecute_with(
        &self,
        run_id: &str,
        how: Reexecute,
        extra: BTreeMap<String, String>,
    ) -> Result<String, Error> {
        let parent = self.run_record(run_id).await?;
        if !parent.status.is_finished() {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "run {run_id} is still {}: re-execute it once it has ended",
                    parent.status
                ),
            ));
        }
        let succeeded = if how.from_failure {
            if parent.status == RunStatus::Success {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("run {run_id} succeeded: there is no failure to re-execute from"),
                ));
            }
            Some(self.succeeded_steps(&parent).await?)
        } else {
            None
        };
        let locations = self.pinned_locations(&parent).await?;
        let mut tags = parent.tags.clone();
        let root = parent
            .tags
            .get(ROOT_TAG)
            .cloned()
            .unwrap_or_else(|| parent.run_id.clone());
        tags.insert(PARENT_TAG.into(), parent.run_id.clone());
        tags.insert(ROOT_TAG.into(), root);
        if how.from_failure {
            tags.insert(FROM_FAILURE_TAG.into(), "true".into());
        } else {
            tags.remove(FROM_FAILURE_TAG);
        }
        tags.extend(extra);
        self.start(
            locations,
            target_of(&parent),
            Some(parent.config.to_string()),
            tags,
            succeeded.as_ref(),
        )
        .await
    }

    /// The versions `run` is pinned to, each under its location's grants of today.
    async fn pinned_locations(&self, run: &RunRecord) -> Result<Vec<Arc<dyn CodeLocation>>, Error> {
        let names: Vec<&str> = run.location.split('+').collect();
        let digests: Vec<&str> = run.digest.split('+').collect();
        if names.len() != digests.len() {
            return Err(Error::internal(format!(
                "run {} names {} locations but {} digests",
                run.run_id,
                names.len(),
                digests.len()
            )));
        }
        let mut locations = Vec::with_capacity(names.len());
        for (name, digest) in names.iter().zip(&digests) {
            let grants = match self.store.location(name).await.map_err(Error::from)? {
                Some(record) => grants_of(&record)?,
                None => Grants::default(),
            };
            locations.push(self.registry.get(name, digest, &grants).await?);
        }
        Ok(locations)
    }

    /// Starts the queued run `run` (the coordinator let it through): the same plan it was
    /// queued with, under its own id.
    pub async fn start_queued(&self, run: &RunRecord) -> Result<(), Error> {
        self.start_stored(run, true).await
    }

    /// Starts the stored run `run` on this process's launcher, recording `RUN_STARTING`
    /// first if `record_starting` (a run some launcher already marked starting is not).
    /// What `weft execute-run` does with the run it is given.
    pub async fn start_stored(&self, run: &RunRecord, record_starting: bool) -> Result<(), Error> {
        let (prepared, locations) = self.stored_plan(run).await?;
        if record_starting {
            self.launcher
                .record(vec![Event {
                    run_id: run.run_id.clone(),
                    step_key: None,
                    timestamp_ms: now_ms(),
                    kind: EventKind::RunStarting,
                }])
                .await
                .map_err(|e| Error::new(ErrorKind::Unavailable, e))?;
        }
        self.launcher.start(prepared, locations);
        Ok(())
    }

    /// The stored run `run` prepared again as it was launched — its pinned versions, its
    /// plan (from failure for such a re-execution), config and tags — with those versions.
    pub async fn stored_plan(
        &self,
        run: &RunRecord,
    ) -> Result<(Prepared, Vec<Arc<dyn CodeLocation>>), Error> {
        let locations = self.pinned_locations(run).await?;
        let refs: Vec<&dyn CodeLocation> = locations.iter().map(AsRef::as_ref).collect();
        let mut prepared = prepare(
            &refs,
            &target_of(run),
            Some(&run.config.to_string()),
            run.tags.clone(),
        )
        .map_err(|e| Error::unprocessable(e.to_string()))?;
        if run.tags.get(FROM_FAILURE_TAG).is_some_and(|v| v == "true") {
            let parent = match run.tags.get(PARENT_TAG) {
                Some(parent) => self.run_record(parent).await?,
                None => {
                    return Err(Error::unprocessable(format!(
                        "run {} re-executes from failure but names no parent run",
                        run.run_id
                    )));
                }
            };
            let succeeded = self.succeeded_steps(&parent).await?;
            prepared.plan = from_failure(&prepared.plan, &succeeded);
        }
        // The steps mapped over the dynamic steps that have succeeded in this run so far.
        if prepared.plan.steps.iter().any(|s| s.mapped_over.is_some()) {
            let succeeded = self.succeeded_steps(run).await?;
            expand_succeeded(&mut prepared.plan, &succeeded);
        }
        prepared.record = run.clone();
        Ok((prepared, locations))
    }

    /// Every step that succeeded in `run` or, for the steps it did not run (a re-execution
    /// from failure), in the runs before it: step key → the run whose stored outputs to
    /// read, and which outputs it produced there.
    async fn succeeded_steps(&self, run: &RunRecord) -> Result<BTreeMap<String, Succeeded>, Error> {
        let mut succeeded = BTreeMap::new();
        // Steps that a later run of the chain ran: what an earlier run did for them is stale.
        let mut ran_later = std::collections::BTreeSet::new();
        let mut current = Some(run.clone());
        // Each run of a chain of re-executions adds the steps it ran; the depth is bounded in
        // case tags were written by hand into a loop.
        for _ in 0..64 {
            let Some(run) = current.take() else { break };
            let mut ran_here = Vec::new();
            let mut produced: BTreeMap<String, Succeeded> = BTreeMap::new();
            let mut after = 0;
            loop {
                let page = self.events(&run.run_id, after, 1000).await?;
                let Some((last, _)) = page.last() else { break };
                after = *last;
                for (_, event) in &page {
                    let Some(key) = &event.step_key else { continue };
                    match &event.kind {
                        EventKind::StepStart { .. } => {
                            ran_here.push(key.clone());
                            produced.remove(key);
                        }
                        EventKind::StepOutput {
                            output,
                            mapping_key,
                            ..
                        } => {
                            let step = produced.entry(key.clone()).or_default();
                            // A dynamic output's values are stored by key.
                            match mapping_key {
                                Some(k) => {
                                    step.outputs.insert(mapped_output(output, k));
                                    let keys = step.mapping_keys.entry(output.clone());
                                    keys.or_default().push(k.clone());
                                }
                                None => {
                                    step.outputs.insert(output.clone());
                                }
                            }
                        }
                        EventKind::StepSuccess { .. } if !ran_later.contains(key) => {
                            let step = Succeeded {
                                run_id: run.run_id.clone(),
                                ..produced.remove(key).unwrap_or_default()
                            };
                            succeeded.insert(key.clone(), step);
                        }
                        _ => {}
                    }
                }
            }
            ran_later.extend(ran_here);
            current = match run.tags.get(PARENT_TAG) {
                Some(parent) => self.store.run(parent).await.map_err(Error::from)?,
                None => None,
            };
        }
        Ok(succeeded)
    }
}
