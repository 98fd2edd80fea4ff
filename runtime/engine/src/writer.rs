//! The event writer: takes events from executor threads without blocking them and writes
//! them to [`RunStorage`] in batches, one transaction per batch.
//!
//! Every `send` is a step's start, the rest of a step attempt, or a run event; batching several sends into one
//! transaction keeps each step's events atomic while paying for one commit per batch rather
//! than one per step. A batch that fails to commit is kept and tried again; `flush` reports
//! an error only after the retries, and hands back the events that could not be written so
//! the caller can save them elsewhere: nothing is lost silently.
//!
//! The writer gathers for a short [`WINDOW`] after the first event of a batch before it
//! commits. Waiting on the channel would wake the writer task for every step (a thread
//! handoff per step, and on a 2-core machine a context switch away from the executor);
//! while it waits on its timer instead, sends cost the executor almost nothing and a
//! batch holds every step that finished in the window. `flush` cuts the window short.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use weft_core::events::Event;

use weft_core::ports::RunStorage;

/// Where the executor sends events.
pub trait EventSink: Sync {
    /// Queues the events of one step attempt (or one run event); never blocks.
    fn emit(&self, events: Vec<Event>);
}

enum Message {
    Events(Vec<Event>),
    Flush(oneshot::Sender<Result<(), FlushError>>),
}

/// Events that could not be written, with the last storage error.
#[derive(Debug, thiserror::Error)]
#[error("{error} ({} events not written)", unwritten.len())]
pub struct FlushError {
    pub error: String,
    pub unwritten: Vec<Event>,
}

/// A handle to the writer task. Cheap to share between threads.
#[derive(Clone)]
pub struct EventWriter {
    tx: mpsc::UnboundedSender<Message>,
    /// Wakes the writer from its gathering window when a flush is waiting.
    flushing: Arc<Notify>,
}

/// How many times a failing batch is tried before `flush` gives up.
const ATTEMPTS: u32 = 3;

/// How long the writer gathers events after the first one of a batch before committing:
/// the most an event waits to be durable (besides the commit itself) unless a flush asks.
pub const WINDOW: Duration = Duration::from_millis(2);

impl EventWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn spawn<S: RunStorage>(storage: Arc<S>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let flushing = Arc::new(Notify::new());
        tokio::spawn(run(storage, rx, flushing.clone()));
        EventWriter { tx, flushing }
    }

    /// Waits until every event sent before this call is written (or failed for good).
    pub async fn flush(&self) -> Result<(), FlushError> {
        let (done, wait) = oneshot::channel();
        let gone = || FlushError {
            error: "the event writer stopped".into(),
            unwritten: Vec::new(),
        };
        self.tx.send(Message::Flush(done)).map_err(|_| gone())?;
        self.flushing.notify_one();
        wait.await.map_err(|_| gone())?
    }
}

impl EventSink for EventWriter {
    fn emit(&self, events: Vec<Event>) {
        // The receiver lives as long as any sender: the task ends only after every handle.
        let _ = self.tx.send(Message::Events(events));
    }
}

async fn run<S: RunStorage>(
    storage: Arc<S>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    flushing: Arc<Notify>,
) {
    let mut pending: Vec<Event> = Vec::new();
    let mut waiters = Vec::new();
    while let Some(first) = rx.recv().await {
        // Gather: what arrives meanwhile joins this batch without waking the task.
        if matches!(first, Message::Events(_)) {
            tokio::select! {
                () = tokio::time::sleep(WINDOW) => {}
                () = flushing.notified() => {}
            }
        }
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Events(mut events) => pending.append(&mut events),
                Message::Flush(done) => waiters.push(done),
            }
            next = rx.try_recv().ok();
        }
        let mut result = Ok(());
        if !pending.is_empty() {
            for attempt in 1..=ATTEMPTS {
                match storage.append(&pending).await {
                    Ok(()) => {
                        pending.clear();
                        result = Ok(());
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(
                            attempt,
                            events = pending.len(),
                            "writing events failed: {e}"
                        );
                        result = Err(e.to_string());
                        if attempt < ATTEMPTS {
                            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                        }
                    }
                }
            }
        }
        for done in waiters.drain(..) {
            let reply = match &result {
                Ok(()) => Ok(()),
                Err(error) => Err(FlushError {
                    error: error.clone(),
                    unwritten: std::mem::take(&mut pending),
                }),
            };
            let _ = done.send(reply);
        }
    }
}
