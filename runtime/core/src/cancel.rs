//! [`Cancel`]: the signal that stops work in flight (Dagster's terminate). The launcher
//! raises a run's; the executor stops starting steps, and every step runner watches it while
//! its step runs: the wasm host interrupts the guest, the process runner kills the step's
//! process, the Kubernetes runner deletes the step's Job, and the Jobs an op started are
//! deleted with it. Cheap to clone: every clone is the same signal. Threads wait on it
//! with [`Cancel::wait_timeout`], async code awaits [`Cancel::canceled`]; no runtime is
//! needed for either.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A cancel signal: raised once, never lowered.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    raised: AtomicBool,
    /// The tasks awaiting the signal.
    lock: Mutex<Vec<Waker>>,
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
        let wakers = match self.0.lock.lock() {
            Ok(mut wakers) => std::mem::take(&mut *wakers),
            Err(_) => Vec::new(),
        };
        self.0.wake.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Resolves when the signal is raised.
    pub fn canceled(&self) -> Canceled<'_> {
        Canceled {
            cancel: self,
            waker: None,
        }
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

/// The future of [`Cancel::canceled`]. Dropped before the signal, it takes its waker back,
/// so a signal awaited by many short-lived calls does not gather their wakers.
#[derive(Debug)]
pub struct Canceled<'a> {
    cancel: &'a Cancel,
    /// The waker this future left with the signal.
    waker: Option<Waker>,
}

impl Future for Canceled<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.cancel.is_canceled() {
            return Poll::Ready(());
        }
        if self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        let Ok(mut wakers) = self.cancel.0.lock.lock() else {
            return Poll::Pending;
        };
        // Looked at again under the lock `cancel` takes the wakers under: no wake lost.
        if self.cancel.is_canceled() {
            return Poll::Ready(());
        }
        if let Some(old) = self.waker.take() {
            forget(&mut wakers, &old);
        }
        wakers.push(cx.waker().clone());
        drop(wakers);
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Canceled<'_> {
    fn drop(&mut self) {
        if let Some(waker) = self.waker.take()
            && let Ok(mut wakers) = self.cancel.0.lock.lock()
        {
            forget(&mut wakers, &waker);
        }
    }
}

/// Removes one waker that wakes as `waker` does.
fn forget(wakers: &mut Vec<Waker>, waker: &Waker) {
    if let Some(i) = wakers.iter().position(|w| w.will_wake(waker)) {
        wakers.swap_remove(i);
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

    #[test]
    fn a_raised_signal_wakes_the_task_awaiting_it() {
        struct Flag(std::sync::atomic::AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let cancel = Cancel::new();
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut canceled = std::pin::pin!(cancel.canceled());
        assert!(canceled.as_mut().poll(&mut cx).is_pending());
        cancel.cancel();
        assert!(flag.0.load(Ordering::SeqCst), "woken");
        assert!(canceled.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn a_dropped_waiter_leaves_no_waker_behind() {
        let cancel = Cancel::new();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        for _ in 0..3 {
            let mut canceled = std::pin::pin!(cancel.canceled());
            assert!(canceled.as_mut().poll(&mut cx).is_pending());
            assert!(canceled.as_mut().poll(&mut cx).is_pending());
            assert_eq!(cancel.0.lock.lock().unwrap().len(), 1);
        }
        assert!(cancel.0.lock.lock().unwrap().is_empty());
    }
}
