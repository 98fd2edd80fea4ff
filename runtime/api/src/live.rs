//! The live streams of runs' events (`/runs/{id}/events/stream`), bounded and polled
//! together: at most [`Options::max_live_streams`](crate::Options) are open at once (one
//! more is a 503 saying so), and one poller task asks the control plane, every
//! [`POLL`], how far every followed run has come, in one call whatever the number of
//! streams; each stream reads its run's new events only when there are some, and ends once
//! its run is finished and it sent the last one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use weft_core::events::RunStatus;

use crate::error::{ApiError, ErrorKind};
use crate::service::ControlPlane;

/// How often the poller asks how far the followed runs have come.
const POLL: Duration = Duration::from_millis(100);

/// How far a run has come, as the poller last read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Progress {
    /// The id of its last stored event.
    pub(crate) last_event_id: i64,
    /// Its status, once it is finished.
    pub(crate) finished: Option<RunStatus>,
}

/// The streams open and the runs they follow.
pub(crate) struct Live {
    permits: Arc<Semaphore>,
    max: usize,
    runs: Mutex<HashMap<String, watch::Sender<Option<Progress>>>>,
    polling: std::sync::atomic::AtomicBool,
}

/// One open stream's hold: its run's progress, and its place among the streams.
pub(crate) struct Subscription {
    pub(crate) progress: watch::Receiver<Option<Progress>>,
    _permit: OwnedSemaphorePermit,
}

impl Live {
    /// Room for `max` streams at once.
    pub(crate) fn new(max: usize) -> Arc<Live> {
        Arc::new(Live {
            permits: Arc::new(Semaphore::new(max)),
            max,
            runs: Mutex::new(HashMap::new()),
            polling: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// A stream of run `run_id`'s progress, if there is room for one more; starts the
    /// poller with the first.
    pub(crate) fn follow<S: ControlPlane>(
        self: &Arc<Self>,
        service: &Arc<S>,
        run_id: &str,
    ) -> Result<Subscription, ApiError> {
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                ErrorKind::Unavailable,
                format!(
                    "{} live event streams are open, the most this server serves: try again \
                     later, or page through /api/runs/{run_id}/events",
                    self.max
                ),
            )
        })?;
        let progress = {
            let mut runs = self
                .runs
                .lock()
                .map_err(|_| ApiError::internal("the live streams' table is poisoned"))?;
            runs.entry(run_id.to_owned())
                .or_insert_with(|| watch::channel(None).0)
                .subscribe()
        };
        if !self.polling.swap(true, std::sync::atomic::Ordering::SeqCst) {
            tokio::spawn(poll(Arc::downgrade(self), service.clone()));
        }
        Ok(Subscription {
            progress,
            _permit: permit,
        })
    }

    /// The runs someone follows; forgets those nobody does any more.
    fn followed(&self) -> Vec<String> {
        let Ok(mut runs) = self.runs.lock() else {
            return Vec::new();
        };
        runs.retain(|_, sender| sender.receiver_count() > 0);
        runs.keys().cloned().collect()
    }

    fn publish(&self, run_id: &str, progress: Progress) {
        if let Ok(runs) = self.runs.lock()
            && let Some(sender) = runs.get(run_id)
        {
            sender.send_if_modified(|old| {
                let changed = *old != Some(progress);
                *old = Some(progress);
                changed
            });
        }
    }
}

/// The one poller: while the server serves, reads how far every followed run has come.
async fn poll<S: ControlPlane>(live: Weak<Live>, service: Arc<S>) {
    loop {
        tokio::time::sleep(POLL).await;
        let Some(live) = live.upgrade() else {
            return;
        };
        let followed = live.followed();
        if followed.is_empty() {
            continue;
        }
        match service.progress(&followed).await {
            Ok(all) => {
                for (run_id, status, last_event_id) in all {
                    let finished = status.is_finished().then_some(status);
                    live.publish(
                        &run_id,
                        Progress {
                            last_event_id,
                            finished,
                        },
                    );
                }
            }
            Err(e) => tracing::warn!("reading the progress of followed runs: {e}"),
        }
    }
}
