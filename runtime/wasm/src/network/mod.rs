//! Outbound network by grant: the host side of `wasi:http/outgoing-handler` (`http.rs`)
//! and of `wasi:sockets` TCP (`tcp.rs`), under the location's `hosts` grant. Every request
//! and connection is checked against the grant before anything is opened, counted against
//! the call's network budget (requests and body bytes), and bounded by the call's deadline
//! (at which the call stops and its requests and connections are dropped with it).
//! A refused one fails in the guest with a message naming the grant that would allow it,
//! and is written to the step's log. TLS is done here (`tls.rs`), never by the guest.

mod http;
pub(crate) mod lookup;
mod tcp;
mod tls;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use weft_core::Tags;
use weft_core::events::LogLevel;
use weft_core::grants::Sandbox;
use weft_core::hosts::{HostPattern, Scheme, refusal};

use crate::imports::LogState;

pub(crate) use tcp::socket_check;
pub(crate) use tls::Tls;

/// How many refusals of one call are written to its log one by one; the rest are counted.
const REFUSALS_LOGGED: usize = 10;

/// What one call may reach and has used: the grant, the budget, the counts.
/// Cheap to clone: requests in flight (whose bodies are read after the hook returned) and
/// the socket check hold their own handle.
#[derive(Clone)]
pub(crate) struct Network {
    location: Arc<str>,
    hosts: Arc<[HostPattern]>,
    max_requests: u64,
    max_bytes: u64,
    pub(crate) tls: Arc<Tls>,
    used: Arc<Used>,
}

/// What a call's requests and connections used.
#[derive(Default)]
struct Used {
    requests: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    denied: AtomicU64,
    refusals: Mutex<Vec<String>>,
}

/// A call's network use, as its cost reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NetworkUse {
    pub(crate) requests: u64,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) denied: u64,
}

/// Which way bytes go.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    In,
    Out,
}

impl Network {
    /// A call's network: `location`'s name and `hosts` grant (shared by its calls), the
    /// budgets of `sandbox`.
    pub(crate) fn new(
        location: Arc<str>,
        hosts: Arc<[HostPattern]>,
        sandbox: &Sandbox,
        tls: Arc<Tls>,
    ) -> Self {
        Network {
            location,
            hosts,
            max_requests: sandbox.budgets.network_requests as u64,
            max_bytes: sandbox.budgets.network_bytes as u64,
            tls,
            used: Arc::default(),
        }
    }

    /// Whether anything at all is granted.
    pub(crate) fn any_granted(&self) -> bool {
        !self.hosts.is_empty()
    }

    /// Whether the grant allows `scheme://host:port`.
    fn allows(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        self.hosts.iter().any(|p| p.allows(scheme, host, port))
    }

    /// Admits one request or connection to `scheme://host:port`: granted, and within the
    /// call's count. Otherwise the refusal is recorded (for the step's log) and returned
    /// (for the guest).
    fn admit(&self, scheme: Scheme, host: &str, port: u16) -> Result<(), String> {
        if !self.allows(scheme, host, port) {
            return Err(self.refuse(refusal(&self.location, scheme, host, port)));
        }
        let n = self.used.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.max_requests {
            self.used.requests.fetch_sub(1, Ordering::Relaxed);
            return Err(self.refuse(format!(
                "{host}:{port}: over the step's network budget of {} requests and connections \
                 (limit network_requests)",
                self.max_requests
            )));
        }
        Ok(())
    }

    /// Records a refusal and gives its message back.
    fn refuse(&self, message: String) -> String {
        self.used.denied.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut refusals) = self.used.refusals.lock()
            && refusals.len() < REFUSALS_LOGGED
        {
            refusals.push(message.clone());
        }
        message
    }

    /// Counts `n` body bytes going `direction`; an error past the call's byte budget.
    pub(crate) fn count(&self, direction: Direction, n: usize) -> Result<(), String> {
        let counter = match direction {
            Direction::In => &self.used.bytes_in,
            Direction::Out => &self.used.bytes_out,
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
        let total = self.used.bytes_in.load(Ordering::Relaxed)
            + self.used.bytes_out.load(Ordering::Relaxed);
        if total > self.max_bytes {
            return Err(format!(
                "{} over the step's network budget of {} MiB sent and received (limit network_mb)",
                match direction {
                    Direction::In => "response body",
                    Direction::Out => "request body",
                },
                self.max_bytes >> 20
            ));
        }
        Ok(())
    }

    /// What the call used; its refusals are written to `log` as warnings.
    pub(crate) fn finish(&self, log: &mut LogState) -> NetworkUse {
        let used = NetworkUse {
            requests: self.used.requests.load(Ordering::Relaxed),
            bytes_in: self.used.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.used.bytes_out.load(Ordering::Relaxed),
            denied: self.used.denied.load(Ordering::Relaxed),
        };
        let refusals = self
            .used
            .refusals
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        let logged = refusals.len() as u64;
        for message in refusals {
            let fields = Tags::from([("weft.network".into(), "refused".into())]);
            log.host_line(LogLevel::Warning, format!("refused: {message}"), fields);
        }
        if used.denied > logged {
            log.host_line(
                LogLevel::Warning,
                format!(
                    "{} more requests or connections were refused",
                    used.denied - logged
                ),
                Tags::new(),
            );
        }
        used
    }
}
