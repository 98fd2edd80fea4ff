//! The one place the control plane meets the HTTP API: [`Control`] as `weft-api`'s
//! [`ControlPlane`] port, each method the control plane's own with its [`Error`] turned
//! into an [`ApiError`] (and so into a status).

use weft_api::{
    ApiError, CheckResult, ControlPlane, ErrorKind as Status, InstigatorStatus, LaunchRequest,
    Location, Materialization, Reexecute, Version,
};
use weft_core::defs::Definitions;
use weft_core::events::{Event, RunStatus};
use weft_core::grants::Grants;
use weft_core::instigator::{InstigatorKind, TickRecord};
use weft_core::run::{RunFilter, RunRecord};

use crate::control::Control;
use crate::error::{Error, ErrorKind};

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = match e.kind {
            ErrorKind::BadRequest => Status::BadRequest,
            ErrorKind::NotFound => Status::NotFound,
            ErrorKind::Conflict => Status::Conflict,
            ErrorKind::Unprocessable => Status::Unprocessable,
            ErrorKind::Unavailable => Status::Unavailable,
            ErrorKind::Internal => Status::Internal,
        };
        ApiError::new(status, e.message)
    }
}

type Answer<T> = Result<T, ApiError>;

impl ControlPlane for Control {
    async fn locations(&self) -> Answer<Vec<Location>> {
        Ok(Control::locations(self).await?)
    }

    async fn location(&self, name: &str) -> Answer<Location> {
        Ok(Control::location(self, name).await?)
    }

    async fn upload(&self, name: &str, bytes: Vec<u8>) -> Answer<Version> {
        Ok(Control::upload(self, name, bytes).await?)
    }

    async fn versions(&self, name: &str) -> Answer<Vec<Version>> {
        Ok(Control::versions(self, name).await?)
    }

    async fn rollback(&self, name: &str, digest: &str) -> Answer<Location> {
        Ok(Control::rollback(self, name, digest).await?)
    }

    async fn remove(&self, name: &str) -> Answer<()> {
        Ok(Control::remove(self, name).await?)
    }

    async fn set_grants(&self, name: &str, grants: Grants) -> Answer<Grants> {
        Ok(Control::set_grants(self, name, grants).await?)
    }

    async fn current_definitions(&self) -> Answer<Vec<(String, String, Definitions)>> {
        Ok(Control::current_definitions(self).await?)
    }

    async fn latest_materializations(&self) -> Answer<Vec<(String, String, i64)>> {
        Ok(Control::latest_materializations(self).await?)
    }

    async fn materializations(&self, key: &str, limit: u32) -> Answer<Vec<Materialization>> {
        let found = self
            .store()
            .asset_materializations(key, limit)
            .await
            .map_err(Error::from)?;
        Ok(found
            .into_iter()
            .map(|m| Materialization {
                run_id: m.run_id,
                step_key: m.step_key,
                timestamp_ms: m.timestamp_ms,
                metadata: m.metadata,
            })
            .collect())
    }

    async fn check_results(&self, key: &str, limit: u32) -> Answer<Vec<CheckResult>> {
        let found = self
            .store()
            .check_evaluations(key, limit)
            .await
            .map_err(Error::from)?;
        Ok(found
            .into_iter()
            .map(|r| CheckResult {
                check: r.check,
                run_id: r.run_id,
                step_key: r.step_key,
                timestamp_ms: r.timestamp_ms,
                evaluation: r.evaluation,
            })
            .collect())
    }

    async fn launch(&self, request: LaunchRequest) -> Answer<String> {
        Ok(Control::launch(self, request).await?)
    }

    async fn runs(&self, filter: RunFilter) -> Answer<Vec<RunRecord>> {
        Ok(Control::runs(self, filter).await?)
    }

    async fn run(&self, run_id: &str) -> Answer<RunRecord> {
        Ok(Control::run(self, run_id).await?)
    }

    async fn cancel(&self, run_id: &str) -> Answer<RunStatus> {
        Ok(Control::cancel(self, run_id).await?)
    }

    async fn reexecute(&self, run_id: &str, how: Reexecute) -> Answer<String> {
        Ok(Control::reexecute(self, run_id, how).await?)
    }

    async fn progress(&self, run_ids: &[String]) -> Answer<Vec<(String, RunStatus, i64)>> {
        let ids: Vec<&str> = run_ids.iter().map(String::as_str).collect();
        let all = self.store().progress(&ids).await.map_err(Error::from)?;
        Ok(all
            .into_iter()
            .map(|(id, p)| (id, p.status, p.last_event_id))
            .collect())
    }

    async fn step_events(&self, run_id: &str) -> Answer<Vec<Event>> {
        Ok(Control::step_events(self, run_id).await?)
    }

    async fn events(&self, run_id: &str, after: i64, limit: u32) -> Answer<Vec<(i64, Event)>> {
        Ok(Control::events(self, run_id, after, limit).await?)
    }

    async fn instigator_states(&self) -> Answer<Vec<InstigatorStatus>> {
        Ok(Control::instigator_states(self).await?)
    }

    async fn set_instigator(
        &self,
        kind: InstigatorKind,
        location: &str,
        name: &str,
        running: bool,
    ) -> Answer<InstigatorStatus> {
        Ok(Control::set_instigator(self, kind, location, name, running).await?)
    }

    async fn ticks(
        &self,
        location: &str,
        name: &str,
        before_ms: Option<i64>,
        limit: u32,
    ) -> Answer<Vec<TickRecord>> {
        Ok(Control::ticks(self, location, name, before_ms, limit).await?)
    }

    async fn component(&self, digest: &str) -> Answer<Vec<u8>> {
        Ok(Control::component(self, digest).await?)
    }

    async fn precompiled(&self, digest: &str, engine: &str) -> Answer<Vec<u8>> {
        Ok(Control::precompiled(self, digest, engine).await?)
    }

    async fn compute_logs(&self, run_id: &str, step_key: &str) -> Answer<(Vec<u8>, Vec<u8>)> {
        Ok(Control::compute_logs(self, run_id, step_key).await?)
    }
}
