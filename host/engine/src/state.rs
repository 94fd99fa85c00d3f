//! The per-call store state: a deny-by-default WASI context, bounded log pipes, the memory
//! limiter and the tools a code-runner may call.
//!
//! One `CallState` lives in one short-lived `Store`; nothing in it is shared between calls
//! except the `Arc` of tools, which the caller chose for this call.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::limits::Limits;
use super::tools::Tools;

/// Everything a store holds for one call.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) logs: LogPipe,
    pub(crate) tools: Arc<dyn Tools>,
    pub(crate) deadline: Instant,
}

impl CallState {
    /// A state with an empty WASI context: no args, no env, no preopens, no network, empty
    /// stdin, stdout and stderr both into one bounded log. The deny-all file-system and socket
    /// interfaces (`policy::DENY_ALL_WASI`) are served from this context, so nothing may be
    /// added to it here: a preopen or an allowed socket would grant every plugin access.
    pub(crate) fn new(limits: &Limits, tools: Arc<dyn Tools>, deadline: Instant) -> CallState {
        let logs = LogPipe::new(usize::try_from(limits.log_bytes).unwrap_or(usize::MAX));
        let wasi = WasiCtxBuilder::new()
            .stdout(logs.clone())
            .stderr(logs.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter::new(limits),
            logs,
            tools,
            deadline,
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

/// `StoreLimits` plus a record of the peak memory and of whether the memory cap was hit, so a
/// trap can be reported as `MemoryLimit` without parsing messages.
pub(crate) struct Limiter {
    inner: StoreLimits,
    cap: usize,
    pub(crate) peak: usize,
    pub(crate) hit: bool,
}

impl Limiter {
    fn new(limits: &Limits) -> Limiter {
        let cap = usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX);
        Limiter {
            inner: StoreLimitsBuilder::new()
                .memory_size(cap)
                .table_elements(1 << 20)
                .instances(64)
                .tables(64)
                .memories(16)
                .trap_on_grow_failure(true)
                .build(),
            cap,
            peak: 0,
            hit: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit = true;
        }
        let allowed = self.inner.memory_growing(current, desired, maximum);
        if matches!(allowed, Ok(true)) {
            self.peak = self.peak.max(desired);
        }
        allowed
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

#[derive(Default)]
struct LogBuf {
    bytes: Vec<u8>,
    truncated: bool,
}

/// The plugin's stdout and stderr: one buffer, interleaved in write order, kept up to a cap.
/// Writes past the cap are accepted and dropped (the plugin is not punished for logging), and
/// the log is flagged truncated.
#[derive(Clone)]
pub(crate) struct LogPipe {
    buf: Arc<Mutex<LogBuf>>,
    cap: usize,
}

impl LogPipe {
    fn new(cap: usize) -> LogPipe {
        LogPipe {
            buf: Arc::default(),
            cap,
        }
    }

    fn push(&self, data: &[u8]) {
        let mut buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        let room = self.cap.saturating_sub(buf.bytes.len());
        if data.len() > room {
            buf.truncated = true;
        }
        let keep = data.len().min(room);
        buf.bytes.extend_from_slice(&data[..keep]);
    }

    /// The log as lossy UTF-8 and whether it was truncated.
    pub(crate) fn take(&self) -> (String, bool) {
        let mut buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes = std::mem::take(&mut buf.bytes);
        (String::from_utf8_lossy(&bytes).into_owned(), buf.truncated)
    }
}

impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_cut_at_the_cap_and_flagged() {
        let pipe = LogPipe::new(8);
        pipe.push(b"hello ");
        pipe.push(b"world");
        assert_eq!(pipe.take(), ("hello wo".to_owned(), true));
    }
}
