//! [`Cancel`]: the signal that stops work in flight (Dagster's terminate). The launcher
//! raises a run's; the executor stops starting steps, and every step runner watches it while
//! its step runs: the wasm host interrupts the guest, the process runner kills the step's
//! process, the Kubernetes runner deletes the step's Job, and the Jobs an op started are
//! deleted with it. Cheap to clone: every clone is the same signal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A cancel signal: raised once, never lowered.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    raised: AtomicBool,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Cancel {
    /// A signal not raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the signal and wakes whoever waits on it.
    pub fn cancel(&self) {
        self.0.raised.store(true, Ordering::SeqCst);
        let _guard = self.0.lock.lock();
        self.0.wake.notify_all();
    }

    /// Whether the signal was raised.
    pub fn is_canceled(&self) -> bool {
        self.0.raised.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` for the signal; says whether it was raised. What polls
    /// something else (a process, a Job) sleeps here between looks, and so wakes at once
    /// when the run is canceled.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let Ok(mut guard) = self.0.lock.lock() else {
            return self.is_canceled();
        };
        while !self.is_canceled() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            guard = match self.0.wake.wait_timeout(guard, left) {
                Ok((guard, _)) => guard,
                Err(_) => return self.is_canceled(),
            };
        }
        self.is_canceled()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_signal_wakes_its_waiter_at_once() {
        let cancel = Cancel::new();
        assert!(!cancel.wait_timeout(Duration::from_millis(1)));
        let other = cancel.clone();
        let waiter = std::thread::spawn(move || {
            let start = Instant::now();
            (other.wait_timeout(Duration::from_secs(30)), start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(20));
        cancel.cancel();
        let (raised, waited) = waiter.join().unwrap();
        assert!(raised && cancel.is_canceled());
        assert!(waited < Duration::from_secs(30), "{waited:?}");
    }
}
