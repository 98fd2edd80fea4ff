//! The engine's clock: every [`TICK`] one thread raises the signal of every call whose
//! deadline passed, then advances the epoch. Guest code looks at its call's signal on each
//! epoch (see `call.rs`), and a call waiting in a host call (a WASI sleep, a Kubernetes
//! Job) awaits it, so both stop on the same tick. Watching a deadline is a map insert, not
//! a timer: a call that ends in time costs no wake-up of any other thread.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use weft_core::Cancel;

/// How often the engine's epoch advances: the granularity of step deadlines.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// The deadlines of the calls under way, each with the signal raised when it passes.
#[derive(Default)]
pub(crate) struct Deadlines {
    next: AtomicU64,
    watched: Mutex<BTreeMap<(Instant, u64), Cancel>>,
}

/// A deadline being watched; dropping it stops the watch.
pub(crate) struct Watch<'a> {
    deadlines: &'a Deadlines,
    key: (Instant, u64),
}

impl Deadlines {
    /// Raises `passed` once `at` has passed, until the returned watch is dropped.
    pub(crate) fn watch(&self, at: Instant, passed: Cancel) -> Watch<'_> {
        let key = (at, self.next.fetch_add(1, Ordering::Relaxed));
        self.lock().insert(key, passed);
        Watch {
            deadlines: self,
            key,
        }
    }

    /// Raises the signal of every deadline before `now`, and forgets them.
    fn expire(&self, now: Instant) {
        let passed = {
            let mut watched = self.lock();
            let later = watched.split_off(&(now, u64::MAX));
            std::mem::replace(&mut *watched, later)
        };
        passed.into_values().for_each(|signal| signal.cancel());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(Instant, u64), Cancel>> {
        self.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        self.deadlines.lock().remove(&self.key);
    }
}

/// Starts the thread that ticks for `engine` and `deadlines`, until the engine is dropped.
pub(crate) fn start_ticker(engine: &Engine, deadlines: Arc<Deadlines>) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("weft-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                // Deadlines first, so that guest code interrupted by this tick sees its own.
                deadlines.expire(Instant::now());
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_raises_its_signal_and_a_dropped_watch_never_does() {
        let deadlines = Deadlines::default();
        let now = Instant::now();
        let (due, later, dropped) = (Cancel::new(), Cancel::new(), Cancel::new());
        let _due = deadlines.watch(now, due.clone());
        let _later = deadlines.watch(now + Duration::from_secs(60), later.clone());
        drop(deadlines.watch(now, dropped.clone()));
        deadlines.expire(now + Duration::from_millis(1));
        assert!(due.is_canceled());
        assert!(!later.is_canceled() && !dropped.is_canceled());
        assert_eq!(
            deadlines.lock().len(),
            1,
            "only the later deadline is still watched"
        );
    }
}
