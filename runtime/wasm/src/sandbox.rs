//! The sandbox of one call into a guest: what it is granted (directories, environment
//! variables), and the per-store state: its WASI context, its memory budget, each host
//! import's part (log lines, resources, Kubernetes Jobs), its captured stdout/stderr, and
//! the meter of what it spent.
//!
//! Nothing is granted by default: no preopened directory, no environment, no network
//! (HTTP and TCP only to the hosts granted, see [`crate::network`]; UDP off), stdin closed.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};
use weft_core::defs::Value;
use weft_core::grants::Sandbox;

use crate::imports::{K8sJobsState, LogState, ResourcesState, StepScope};
use crate::memory::MemoryBudget;
use crate::network::{Network, socket_check};

/// The state of one store: one call into the guest. Each host capability keeps its own
/// part (the `imports/` modules), with its budget.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) memory: MemoryBudget,
    pub(crate) log: LogState,
    pub(crate) resources: ResourcesState,
    pub(crate) k8s_jobs: K8sJobsState,
    pub(crate) network: Network,
    http: WasiHttpCtx,
    pub(crate) meter: Meter,
}

/// Where a call's time goes, from the store's call hook: time in the guest's own code, and
/// the host calls it made (WASI and Weft's imports), how many and their time.
#[derive(Default)]
pub(crate) struct Meter {
    pub(crate) guest_time: Duration,
    pub(crate) host_calls: u64,
    pub(crate) host_time: Duration,
    /// Since when the guest's code runs, or a host call runs.
    entered_guest: Option<Instant>,
    entered_host: Option<Instant>,
}

impl Meter {
    /// Counts a crossing between the guest and the host (the store's call hook). A host
    /// call may call back into the guest (to allocate what it hands over): that is guest
    /// time too, within the host call.
    pub(crate) fn cross(&mut self, hook: wasmtime::CallHook) {
        let now = Instant::now();
        let leave_guest = |meter: &mut Self| {
            if let Some(at) = meter.entered_guest.take() {
                meter.guest_time += now.saturating_duration_since(at);
            }
        };
        match hook {
            wasmtime::CallHook::CallingWasm => self.entered_guest = Some(now),
            wasmtime::CallHook::ReturningFromWasm => leave_guest(self),
            wasmtime::CallHook::CallingHost => {
                leave_guest(self);
                self.host_calls += 1;
                self.entered_host = Some(now);
            }
            wasmtime::CallHook::ReturningFromHost => {
                if let Some(at) = self.entered_host.take() {
                    self.host_time += now.saturating_duration_since(at);
                }
                self.entered_guest = Some(now);
            }
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl CallState {
    /// The WASI sockets context and the call's network, borrowed together (the network's
    /// name lookup).
    pub(crate) fn sockets_and_network(&mut self) -> (WasiSocketsCtxView<'_>, &Network) {
        let sockets = WasiSocketsCtxView {
            ctx: self.wasi.sockets(),
            table: &mut self.table,
        };
        (sockets, &self.network)
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.network,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

/// The captured stdout and stderr of a call.
pub(crate) struct Captured {
    pub(crate) stdout: CapturedOutput,
    pub(crate) stderr: CapturedOutput,
}

impl Captured {
    /// Empty stdout and stderr, each keeping up to `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Captured {
            stdout: CapturedOutput::new(limit),
            stderr: CapturedOutput::new(limit),
        }
    }
}

impl CallState {
    /// A fresh state for one call under `sandbox`. Fails if a granted directory cannot be
    /// opened (the message names it).
    pub(crate) fn new(
        sandbox: &Sandbox,
        resources: Arc<Vec<(String, Value)>>,
        captured: &Captured,
        step: Option<StepScope>,
        network: Network,
    ) -> Result<Self, String> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(captured.stdout.clone())
            .stderr(captured.stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if network.any_granted() {
            wasi.allow_tcp(true)
                .allow_ip_name_lookup(true)
                .socket_addr_check(socket_check(network.clone()));
        }
        for (name, value) in &sandbox.env {
            wasi.env(name, value);
        }
        for dir in &sandbox.dirs {
            let perms = if dir.read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            wasi.preopened_dir(&dir.host, &dir.guest, perms)
                .map_err(|e| format!("cannot grant directory {}: {e}", dir.host.display()))?;
        }
        let state = CallState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryBudget::new(sandbox.memory_limit_bytes),
            log: LogState::new(sandbox.budgets),
            resources: ResourcesState(resources),
            k8s_jobs: K8sJobsState::new(sandbox.k8s_jobs, step),
            network,
            http: WasiHttpCtx::new(),
            meter: Meter::default(),
        };
        Ok(state)
    }
}

/// A bounded in-memory stdout or stderr. Writes past the limit are dropped, never a trap:
/// a chatty guest loses its tail, not its step.
#[derive(Clone)]
pub(crate) struct CapturedOutput {
    buffer: Arc<Mutex<Vec<u8>>>,
    limit: usize,
}

impl CapturedOutput {
    fn new(limit: usize) -> Self {
        CapturedOutput {
            buffer: Arc::default(),
            limit,
        }
    }

    pub(crate) fn push(&self, bytes: &[u8]) {
        if let Ok(mut buf) = self.buffer.lock() {
            let room = self.limit.saturating_sub(buf.len());
            buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// What the guest wrote.
    pub(crate) fn take(&self) -> Vec<u8> {
        self.buffer
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
