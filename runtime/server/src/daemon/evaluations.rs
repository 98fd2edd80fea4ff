//! The daemon's evaluations in flight. Each schedule's or sensor's evaluation runs on its
//! own task, one at a time per schedule or sensor, and may outlive the pass that started
//! it: a slow guest (bounded by `sandbox.evaluation_timeout_seconds`) holds up only its
//! own ticks, never the next passes. A pass collects the evaluations that ended.

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::mpsc;
use weft_core::instigator::TickRecord;

use crate::error::Error;

/// A schedule or sensor: its location and its name.
pub(super) type Key = (String, String);

/// What one evaluation recorded.
type Ticks = Result<Vec<TickRecord>, Error>;

pub(super) struct Evaluations {
    /// The schedules and sensors being evaluated.
    running: Arc<Mutex<BTreeSet<Key>>>,
    /// Evaluations started and not yet collected by a pass.
    pending: AtomicUsize,
    done: mpsc::UnboundedSender<Ticks>,
    collected: tokio::sync::Mutex<mpsc::UnboundedReceiver<Ticks>>,
}

impl Default for Evaluations {
    fn default() -> Self {
        let (done, collected) = mpsc::unbounded_channel();
        Evaluations {
            running: Arc::default(),
            pending: AtomicUsize::new(0),
            done,
            collected: tokio::sync::Mutex::new(collected),
        }
    }
}

impl Evaluations {
    /// Starts `work`, the evaluation of `key`, unless one of `key` is still under way.
    pub(super) fn start(&self, key: Key, work: impl Future<Output = Ticks> + Send + 'static) {
        if !lock(&self.running).insert(key.clone()) {
            tracing::debug!("{}/{}: still evaluating, skipped this pass", key.0, key.1);
            return;
        }
        self.pending.fetch_add(1, Ordering::SeqCst);
        let done = self.done.clone();
        let running = self.running.clone();
        tokio::spawn(async move {
            let ticks = AssertUnwindSafe(work)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(Error::internal(format!(
                        "evaluating {}/{} panicked in the daemon",
                        key.0, key.1
                    )))
                });
            lock(&running).remove(&key);
            // The receiver lives as long as the daemon; a daemon gone has no pass to tell.
            let _ = done.send(ticks);
        });
    }

    /// What evaluations ended, waiting for those still under way up to `patience` (else
    /// until they end).
    pub(super) async fn finished(&self, patience: Option<Duration>) -> Vec<Ticks> {
        let deadline = patience.map(|p| tokio::time::Instant::now() + p);
        let mut collected = self.collected.lock().await;
        let mut ended = Vec::new();
        while self.pending.load(Ordering::SeqCst) > 0 {
            let next = match deadline {
                None => collected.recv().await,
                Some(at) => match tokio::time::timeout_at(at, collected.recv()).await {
                    Ok(next) => next,
                    Err(_) => break,
                },
            };
            let Some(ticks) = next else { break };
            self.pending.fetch_sub(1, Ordering::SeqCst);
            ended.push(ticks);
        }
        ended
    }
}

fn lock(running: &Mutex<BTreeSet<Key>>) -> std::sync::MutexGuard<'_, BTreeSet<Key>> {
    running.lock().unwrap_or_else(PoisonError::into_inner)
}
