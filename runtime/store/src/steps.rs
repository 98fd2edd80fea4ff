//! Step attempts that run away from their run: the queue of the `queue` executor and the
//! answers of step processes and pods. The run's executor enqueues an attempt (`QUEUED`);
//! a worker claims some (`CLAIMED`, on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so that
//! workers never take the same one), says it is alive while it works, and answers (`DONE`,
//! the attempt as JSON). A step's own pod answers the same way without a queue. The
//! executor reads the answer, or gives the attempt up (`LOST`) when its worker went silent.

use crate::Store;
use crate::db::{Dialect, Row};
use crate::error::StoreError;

/// One attempt of a step, as the queue holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepTask {
    /// Its place in the queue.
    pub id: i64,
    /// The run.
    pub run_id: String,
    /// The step.
    pub step_key: String,
    /// Which attempt (1 for the first).
    pub attempt: u32,
    /// `QUEUED`, `CLAIMED`, `DONE` or `LOST`.
    pub state: String,
    /// The worker that claimed it.
    pub worker: Option<String>,
    /// When that worker last said it was alive.
    pub heartbeat_ms: Option<i64>,
    /// The attempt as JSON, once answered.
    pub answer: Option<String>,
}

impl Store {
    /// Puts attempt `attempt` of step `step_key` of run `run_id` in the queue. Queuing it
    /// again does nothing.
    pub async fn enqueue_step(
        &self,
        run_id: &str,
        step_key: &str,
        attempt: u32,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let doing = || format!("queuing step {step_key} of run {run_id}");
        let statement = self
            .db
            .statement(
                "INSERT INTO step_tasks (run_id, step_key, attempt, state, created_ms) \
                 VALUES ($1, $2, $3, 'QUEUED', $4) \
                 ON CONFLICT (run_id, step_key, attempt) DO NOTHING",
            )
            .bind(run_id)
            .bind(step_key)
            .bind(i64::from(attempt))
            .bind(now_ms);
        self.db.transaction(vec![statement], doing).await
    }

    /// Claims up to `limit` queued attempts, oldest first, for `worker`. Two workers never
    /// claim the same attempt.
    pub async fn claim_steps(
        &self,
        worker: &str,
        limit: u32,
        now_ms: i64,
    ) -> Result<Vec<StepTask>, StoreError> {
        let doing = || format!("taking steps from the queue for worker {worker}");
        let sql = match self.db.dialect() {
            Dialect::Sqlite => {
                "UPDATE step_tasks SET state = 'CLAIMED', worker = $1, heartbeat_ms = $2 \
                 WHERE id IN (SELECT id FROM step_tasks WHERE state = 'QUEUED' \
                 ORDER BY id LIMIT $3) \
                 RETURNING id, run_id, step_key, attempt, state, worker, heartbeat_ms, answer"
            }
            Dialect::Postgres => {
                "UPDATE step_tasks SET state = 'CLAIMED', worker = $1, heartbeat_ms = $2 \
                 WHERE id IN (SELECT id FROM step_tasks WHERE state = 'QUEUED' \
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, run_id, step_key, attempt, state, worker, heartbeat_ms, answer"
            }
        };
        let statement = self
            .db
            .statement(sql)
            .bind(worker)
            .bind(now_ms)
            .bind(i64::from(limit));
        let rows = self.db.write_returning(statement, doing).await?;
        let mut tasks = rows
            .iter()
            .map(task_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::new(doing(), e))?;
        tasks.sort_by_key(|t| t.id);
        Ok(tasks)
    }

    /// Records that `worker` is alive: the heartbeat of every attempt it holds.
    pub async fn renew_step_claims(&self, worker: &str, now_ms: i64) -> Result<(), StoreError> {
        let doing = || format!("recording the heartbeat of worker {worker}");
        let statement = self
            .db
            .statement(
                "UPDATE step_tasks SET heartbeat_ms = $1 WHERE worker = $2 AND state = 'CLAIMED'",
            )
            .bind(now_ms)
            .bind(worker);
        self.db.transaction(vec![statement], doing).await
    }

    /// Stores `answer` (the attempt as JSON) for an attempt, queued or not (a step's pod
    /// answers an attempt nobody queued). An attempt given up (`LOST`) stays so.
    pub async fn answer_step(
        &self,
        run_id: &str,
        step_key: &str,
        attempt: u32,
        answer: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let doing = || format!("storing the answer of step {step_key} of run {run_id}");
        let statement = self
            .db
            .statement(
                "INSERT INTO step_tasks (run_id, step_key, attempt, state, created_ms, answer) \
                 VALUES ($1, $2, $3, 'DONE', $4, $5) \
                 ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET state = 'DONE', \
                 answer = excluded.answer WHERE step_tasks.state <> 'LOST'",
            )
            .bind(run_id)
            .bind(step_key)
            .bind(i64::from(attempt))
            .bind(now_ms)
            .bind(answer);
        self.db.transaction(vec![statement], doing).await
    }

    /// The queued or answered attempt, if any.
    pub async fn step_task(
        &self,
        run_id: &str,
        step_key: &str,
        attempt: u32,
    ) -> Result<Option<StepTask>, StoreError> {
        let doing = || format!("reading step {step_key} of run {run_id} from the queue");
        let statement = self
            .db
            .statement(
                "SELECT id, run_id, step_key, attempt, state, worker, heartbeat_ms, answer \
                 FROM step_tasks WHERE run_id = $1 AND step_key = $2 AND attempt = $3",
            )
            .bind(run_id)
            .bind(step_key)
            .bind(i64::from(attempt));
        let row = self.db.fetch_optional(statement, doing).await?;
        row.as_ref()
            .map(task_from_row)
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))
    }

    /// Gives an attempt up (`LOST`) unless it was answered; returns whether it was. A
    /// worker that answers it later changes nothing.
    pub async fn give_up_step(
        &self,
        run_id: &str,
        step_key: &str,
        attempt: u32,
    ) -> Result<bool, StoreError> {
        let doing = || format!("giving up step {step_key} of run {run_id}");
        let statement = self
            .db
            .statement(
                "UPDATE step_tasks SET state = 'LOST' \
                 WHERE run_id = $1 AND step_key = $2 AND attempt = $3 AND state <> 'DONE' \
                 RETURNING id",
            )
            .bind(run_id)
            .bind(step_key)
            .bind(i64::from(attempt));
        Ok(!self.db.write_returning(statement, doing).await?.is_empty())
    }
}

/// A task from the columns `id, run_id, step_key, attempt, state, worker, heartbeat_ms,
/// answer`, in that order.
fn task_from_row(row: &Row) -> Result<StepTask, sqlx::Error> {
    let attempt: i64 = row.get(3)?;
    Ok(StepTask {
        id: row.get(0)?,
        run_id: row.get(1)?,
        step_key: row.get(2)?,
        attempt: u32::try_from(attempt).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        state: row.get(4)?,
        worker: row.get(5)?,
        heartbeat_ms: row.get(6)?,
        answer: row.get(7)?,
    })
}
