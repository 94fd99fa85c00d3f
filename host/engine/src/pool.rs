//! Running engine calls from async code without blocking the runtime.
//!
//! Guest code is CPU-bound: even with cooperative yields it would occupy an async worker thread
//! for its whole budget. So calls run on tokio's blocking threads, at most `max_concurrent` at
//! once (a semaphore; callers beyond that wait their turn, which is the back-pressure a server
//! wants), and each call still stops at its own deadline through epoch interruption.
//!
//! Waiting for a slot counts against the call: the moment a caller asked is handed to the
//! engine on the blocking thread ([`asked_at`]), so a call that queued for 3 s of a 10 s
//! deadline runs for at most 7 s; and no caller waits longer than the pool's `max_wait` for a
//! slot (then [`PoolError::Busy`], which the server answers 503 with `Retry-After`).
//!
//! Teardown comes after the answer: resetting a slot's dirtied memory when a one-shot call's
//! store drops is most of a fresh call's fixed cost (about 75 µs for the PII detector), and the
//! caller does not need it. So inside the pool the engine hands the spent store to [`retire`],
//! the caller gets its result first, and the blocking thread then drops the store while the
//! caller answers its client. The call's slot stays taken until the reset is done, so the
//! number of live instances is still bounded by the pool, and no later call can see the memory
//! before it is reset (wasmtime reuses a slot only after resetting it).

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use wasmtime::Store;

use super::Engine;
use super::state::CallState;

thread_local! {
    /// When the call running on this blocking thread was asked for, before it queued.
    static ASKED_AT: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Stores of finished calls on this blocking thread, dropped once the caller has its
    /// result (`None` outside the pool: stores are then dropped at once).
    static RETIRED: RefCell<Option<Vec<Store<CallState>>>> = const { RefCell::new(None) };
}

/// Drops a finished call's store: at once outside the pool, after the caller has its result
/// inside it (see the module docs).
pub(crate) fn retire(store: Store<CallState>) {
    let now = RETIRED.with(|r| match r.borrow_mut().as_mut() {
        Some(later) => {
            later.push(store);
            None
        }
        None => Some(store),
    });
    drop(now);
}

/// When the caller of the call now running on this thread asked for it (`None` outside the
/// pool): the engine measures the wall-clock deadline from here, not from when a slot freed.
pub(crate) fn asked_at() -> Option<Instant> {
    ASKED_AT.with(Cell::get)
}

/// Why the pool did not run a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// No slot freed within the pool's longest wait: the host is saturated right now.
    #[error("every sandbox slot stayed busy for {waited:?}; retry shortly")]
    Busy {
        /// How long the caller waited.
        waited: Duration,
    },
    /// The runtime is shutting down, or the call panicked (a host bug).
    #[error("{0}")]
    Host(String),
}

/// A bounded pool of blocking threads for engine calls. Cheap to clone.
#[derive(Clone)]
pub struct CallPool {
    engine: Engine,
    permits: Arc<Semaphore>,
    max_wait: Duration,
}

impl CallPool {
    /// A pool running at most `max_concurrent` calls at once (at least one), whose callers wait
    /// at most `max_wait` for a slot.
    pub fn new(engine: Engine, max_concurrent: usize, max_wait: Duration) -> CallPool {
        CallPool {
            engine,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            max_wait,
        }
    }

    /// The engine the pool runs calls on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Calls currently allowed to start without waiting.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Runs `f` with the engine on a blocking thread once a slot is free.
    ///
    /// Must be called within a tokio runtime. Fails when no slot frees within the pool's
    /// longest wait, when the runtime is shutting down, or when `f` panicked (a host bug: guest
    /// failures are values inside `R`).
    pub async fn run<R, F>(&self, f: F) -> Result<R, PoolError>
    where
        R: Send + 'static,
        F: FnOnce(&Engine) -> R + Send + 'static,
    {
        let asked = Instant::now();
        let permit =
            match tokio::time::timeout(self.max_wait, self.permits.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => return Err(PoolError::Host("the call pool is closed".into())),
                Err(_) => {
                    return Err(PoolError::Busy {
                        waited: asked.elapsed(),
                    });
                }
            };
        let engine = self.engine.clone();
        let (answer, result) = tokio::sync::oneshot::channel();
        let started = tokio::task::spawn_blocking(move || {
            ASKED_AT.with(|a| a.set(Some(asked)));
            RETIRED.with(|r| *r.borrow_mut() = Some(Vec::new()));
            let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(&engine)));
            ASKED_AT.with(|a| a.set(None));
            let _ = answer.send(out.map_err(|p| {
                PoolError::Host(format!("engine call panicked: {}", panic_message(&*p)))
            }));
            // The caller is answering its client by now; reset the spent slots meanwhile, and
            // only then give the permit back.
            drop(RETIRED.with(|r| r.borrow_mut().take()));
            drop(permit);
        });
        match result.await {
            Ok(out) => out,
            Err(_) => Err(PoolError::Host(match started.await {
                Err(e) => format!("engine call did not complete: {e}"),
                Ok(()) => "engine call did not complete".into(),
            })),
        }
    }
}

/// The text a panic was raised with, for the host error it becomes.
fn panic_message(p: &(dyn std::any::Any + Send)) -> &str {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
