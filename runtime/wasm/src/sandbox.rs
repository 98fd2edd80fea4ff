//! The sandbox of one call into a guest: what it is granted (directories, environment
//! variables), how much memory and time it may use, and the per-store state that holds its
//! WASI context, its captured stdout/stderr and the log lines it wrote.
//!
//! Nothing is granted by default: no preopened directory, no environment, no network
//! (TCP, UDP and name lookup are off), stdin closed.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use weft_core::defs::Tags;
use weft_core::defs::Value;
use weft_core::grants::Sandbox;
use weft_core::ports::{ExternalJobs, LogLine};

/// The step a call serves, for the imports that act on its behalf (the Jobs it starts
/// inherit its run, tags and environment, and its deadline bounds them).
pub(crate) struct StepScope {
    pub(crate) run_id: String,
    pub(crate) step_key: String,
    pub(crate) attempt: u32,
    pub(crate) tags: Tags,
    pub(crate) step_tags: Tags,
    pub(crate) env: Arc<Vec<(String, String)>>,
    pub(crate) deadline: Instant,
    /// How many Jobs this call has started.
    pub(crate) started: u32,
    /// Where Jobs run; `None` when this process has no way to start them.
    pub(crate) jobs: Option<Arc<dyn ExternalJobs>>,
    pub(crate) stdout: CapturedOutput,
}

/// The state of one store: one call into the guest.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: MemoryLimit,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) resources: Arc<Vec<(String, Value)>>,
    pub(crate) k8s_jobs_granted: bool,
    /// Set for a step's call: what the Jobs it starts inherit.
    pub(crate) step: Option<StepScope>,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The captured stdout and stderr of a call.
pub(crate) struct Captured {
    pub(crate) stdout: CapturedOutput,
    pub(crate) stderr: CapturedOutput,
}

impl CallState {
    /// A fresh state for one call under `sandbox`. Fails if a granted directory cannot be
    /// opened (the message names it).
    pub(crate) fn new(
        sandbox: &Sandbox,
        resources: Arc<Vec<(String, Value)>>,
    ) -> Result<(Self, Captured), String> {
        let captured = Captured {
            stdout: CapturedOutput::new(sandbox.output_limit_bytes),
            stderr: CapturedOutput::new(sandbox.output_limit_bytes),
        };
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(captured.stdout.clone())
            .stderr(captured.stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
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
            limits: MemoryLimit {
                limit: sandbox.memory_limit_bytes,
                exceeded: None,
            },
            logs: Vec::new(),
            resources,
            k8s_jobs_granted: sandbox.k8s_jobs,
            step: None,
        };
        Ok((state, captured))
    }
}

/// The memory limit of a store; remembers whether the guest hit it.
pub(crate) struct MemoryLimit {
    limit: usize,
    /// The size the guest asked for when it went past the limit.
    pub(crate) exceeded: Option<usize>,
}

impl MemoryLimit {
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = Some(desired);
            wasmtime::bail!(
                "memory limit of {} MiB exceeded (the guest asked for {} MiB)",
                self.limit >> 20,
                desired >> 20
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
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
