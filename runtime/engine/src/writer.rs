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
//!
//! The queue is bounded by bytes ([`QUEUE_BYTES`]): an executor thread that sends while
//! that much waits to be written waits itself (back-pressure), so a flood of log lines or a
//! database that is slow or gone never grows the host's memory without limit. Sends from
//! async code (the control plane's own few events) are never held.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use weft_core::events::Event;

use weft_core::ports::RunStorage;

/// Where the executor sends events.
pub trait EventSink: Sync {
    /// Queues the events of one step attempt (or one run event); blocks only while the
    /// queue is full.
    fn emit(&self, events: Vec<Event>);

    /// Waits until run `run_id`'s events emitted so far are stored (or failed for good):
    /// a dynamic step's, before the steps mapped over it start, since a step run in a
    /// process of its own finds its keys in the database. Nothing to wait for by default.
    fn written(&self, run_id: &str) {
        let _ = run_id;
    }
}

enum Message {
    /// Events, and the room they hold of the queue (their [`weight`]).
    Events(Vec<Event>, usize),
    /// A flush of one run's events (`Some`) or of all.
    Flush(Option<String>, oneshot::Sender<Result<(), FlushError>>),
    /// Nothing came for a while: the writer tries its pending events again.
    Retry,
}

/// How often events that could not be written are tried again while nothing else comes.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The most event bytes (about) that wait to be written before senders wait too.
pub const QUEUE_BYTES: usize = 64 << 20;

/// The bytes queued and not yet written, shared by the senders and the writer task.
#[derive(Default)]
struct Backlog {
    bytes: Mutex<usize>,
    room: Condvar,
}

impl Backlog {
    /// Takes `bytes` of room, waiting for it while the queue is full (unless `wait` is
    /// false: a sender on the async runtime must not block it). An event batch larger
    /// than the whole queue goes through alone.
    fn take(&self, bytes: usize, wait: bool) {
        let Ok(mut queued) = self.bytes.lock() else {
            return;
        };
        while wait && *queued > 0 && *queued + bytes > QUEUE_BYTES {
            queued = match self.room.wait(queued) {
                Ok(queued) => queued,
                Err(_) => return,
            };
        }
        *queued += bytes;
    }

    /// Gives back the room of `bytes` written (or handed back).
    fn release(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        if let Ok(mut queued) = self.bytes.lock() {
            *queued = queued.saturating_sub(bytes);
            self.room.notify_all();
        }
    }
}

/// About how many bytes `events` hold: their text, plus a little for the rest.
fn weight(events: &[Event]) -> usize {
    events
        .iter()
        .map(|e| {
            128 + match &e.kind {
                weft_core::EventKind::Log {
                    message, fields, ..
                } => message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>(),
                weft_core::EventKind::StepFailure { message, .. }
                | weft_core::EventKind::StepUpForRetry { message, .. }
                | weft_core::EventKind::RunFailure { message } => message.len(),
                weft_core::EventKind::StepOutput { preview, .. } => preview.len(),
                _ => 0,
            }
        })
        .sum()
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
    backlog: Arc<Backlog>,
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
        let backlog = Arc::new(Backlog::default());
        tokio::spawn(run(storage, rx, flushing.clone(), backlog.clone()));
        EventWriter {
            tx,
            flushing,
            backlog,
        }
    }

    /// Queues `events` without waiting for room: for async code, which must not block
    /// (the control plane's own few events). Executor threads use [`EventSink::emit`].
    pub fn emit_now(&self, events: Vec<Event>) {
        self.send(events, false);
    }

    fn send(&self, events: Vec<Event>, wait: bool) {
        let bytes = weight(&events);
        self.backlog.take(bytes, wait);
        // The receiver lives as long as any sender: the task ends only after every handle.
        if self.tx.send(Message::Events(events, bytes)).is_err() {
            self.backlog.release(bytes);
        }
    }

    /// Waits until every event sent before this call is written (or failed for good); on
    /// failure, hands back every run's events still unwritten.
    pub async fn flush(&self) -> Result<(), FlushError> {
        self.flush_for(None).await
    }

    /// Waits until every event sent before this call is written (or failed for good); on
    /// failure, hands back run `run_id`'s events still unwritten, and only those.
    pub async fn flush_run(&self, run_id: &str) -> Result<(), FlushError> {
        self.flush_for(Some(run_id.to_owned())).await
    }

    async fn flush_for(&self, run_id: Option<String>) -> Result<(), FlushError> {
        let (done, wait) = oneshot::channel();
        let gone = || FlushError {
            error: "the event writer stopped".into(),
            unwritten: Vec::new(),
        };
        self.tx
            .send(Message::Flush(run_id, done))
            .map_err(|_| gone())?;
        self.flushing.notify_one();
        wait.await.map_err(|_| gone())?
    }
}

impl EventSink for EventWriter {
    fn emit(&self, events: Vec<Event>) {
        self.send(events, true);
    }

    fn written(&self, run_id: &str) {
        let (done, wait) = oneshot::channel();
        if self
            .tx
            .send(Message::Flush(Some(run_id.to_owned()), done))
            .is_ok()
        {
            self.flushing.notify_one();
            // Called from executor threads, never from the runtime's own: blocking is
            // allowed. A failure to write is the writer's to report at the run's end.
            let _ = wait.blocking_recv();
        }
    }
}

async fn run<S: RunStorage>(
    storage: Arc<S>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    flushing: Arc<Notify>,
    backlog: Arc<Backlog>,
) {
    let mut pending = Pending::default();
    let mut waiters = Vec::new();
    loop {
        // Events that could not be written are tried again, even if nothing else comes:
        // their senders may be waiting for the room they hold.
        let first = if pending.events.is_empty() {
            rx.recv().await
        } else {
            // Err: nothing came in time; Ok(None): every sender is gone.
            tokio::time::timeout(RETRY_EVERY, rx.recv())
                .await
                .unwrap_or(Some(Message::Retry))
        };
        let Some(first) = first else {
            break;
        };
        // Gather: what arrives meanwhile joins this batch without waking the task.
        if matches!(first, Message::Events(..)) {
            tokio::select! {
                () = tokio::time::sleep(WINDOW) => {}
                () = flushing.notified() => {}
            }
        }
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Events(mut events, bytes) => {
                    pending.events.append(&mut events);
                    pending.bytes += bytes;
                }
                Message::Flush(run, done) => waiters.push((run, done)),
                Message::Retry => {}
            }
            next = rx.try_recv().ok();
        }
        let error = write(storage.as_ref(), &mut pending, &backlog).await;
        for (run, done) in waiters.drain(..) {
            let reply = match &error {
                None => Ok(()),
                Some(error) => {
                    let unwritten =
                        pending.take(&backlog, |e| run.as_ref().is_none_or(|r| *r == e.run_id));
                    if unwritten.is_empty() {
                        Ok(())
                    } else {
                        Err(FlushError {
                            error: error.clone(),
                            unwritten,
                        })
                    }
                }
            };
            let _ = done.send(reply);
        }
    }
}

/// The events waiting to be written, and the room of the queue they hold.
#[derive(Default)]
struct Pending {
    events: Vec<Event>,
    bytes: usize,
}

impl Pending {
    /// All written: the events go, their room is given back.
    fn written(&mut self, backlog: &Backlog) {
        self.events.clear();
        backlog.release(std::mem::take(&mut self.bytes));
    }

    /// Takes the events that match `which` out, in order, giving back the room they held.
    fn take(&mut self, backlog: &Backlog, which: impl Fn(&Event) -> bool) -> Vec<Event> {
        let (taken, kept): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.events)
            .into_iter()
            .partition(which);
        self.events = kept;
        let bytes = if self.events.is_empty() {
            self.bytes
        } else {
            weight(&taken).min(self.bytes)
        };
        self.bytes -= bytes;
        backlog.release(bytes);
        taken
    }
}

/// Writes `pending`, trying again a few times; a batch of several runs that still fails is
/// tried run by run. What was written leaves `pending` (its room given back); returns the
/// last error if anything is left.
async fn write<S: RunStorage>(
    storage: &S,
    pending: &mut Pending,
    backlog: &Backlog,
) -> Option<String> {
    if pending.events.is_empty() {
        return None;
    }
    let mut error = String::new();
    for attempt in 1..=ATTEMPTS {
        match storage.append(&pending.events).await {
            Ok(()) => {
                pending.written(backlog);
                return None;
            }
            Err(e) => {
                tracing::warn!(
                    attempt,
                    events = pending.events.len(),
                    "writing events failed: {e}"
                );
                error = e.to_string();
                if attempt < ATTEMPTS {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
            }
        }
    }
    let mut runs: Vec<String> = pending.events.iter().map(|e| e.run_id.clone()).collect();
    runs.sort();
    runs.dedup();
    if runs.len() > 1 {
        for run in runs {
            let own: Vec<Event> = pending
                .events
                .iter()
                .filter(|e| e.run_id == run)
                .cloned()
                .collect();
            match storage.append(&own).await {
                Ok(()) => {
                    pending.take(backlog, |e| e.run_id == run);
                }
                Err(e) => error = e.to_string(),
            }
        }
    }
    (!pending.events.is_empty()).then_some(error)
}
