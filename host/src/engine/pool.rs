//! Running engine calls from async code without blocking the runtime.
//!
//! Guest code is CPU-bound: even with cooperative yields it would occupy an async worker thread
//! for its whole budget. So calls run on tokio's blocking threads, at most `max_concurrent` at
//! once (a semaphore; callers beyond that wait their turn, which is the back-pressure a server
//! wants), and each call still stops at its own deadline through epoch interruption.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{CallError, Engine};

/// A bounded pool of blocking threads for engine calls. Cheap to clone.
#[derive(Clone)]
pub struct CallPool {
    engine: Engine,
    permits: Arc<Semaphore>,
}

impl CallPool {
    /// A pool running at most `max_concurrent` calls at once (at least one).
    pub fn new(engine: Engine, max_concurrent: usize) -> CallPool {
        CallPool {
            engine,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
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
    /// Must be called within a tokio runtime. Fails only if the runtime is shutting down or
    /// `f` panicked (a host bug: guest failures are values inside `R`).
    pub async fn run<R, F>(&self, f: F) -> Result<R, CallError>
    where
        R: Send + 'static,
        F: FnOnce(&Engine) -> R + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CallError::Host("the call pool is closed".into()))?;
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f(&engine)
        })
        .await
        .map_err(|e| CallError::Host(format!("engine call did not complete: {e}")))
    }
}
