//! Pre-initialisation: run a component's `wizer-initialize` once and snapshot its memory into
//! a new component, so that set-up work (compiling regexes, building an interpreter's heap)
//! happens at load time instead of on every call.
//!
//! The initialiser is untrusted code like any other: it runs in a store with fuel, memory and
//! deadline limits and the same deny-by-default WASI.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;
use wasmtime::component::Linker;
use wasmtime_wizer::Wizer;

use super::limits::Limits;
use super::outcome::InvalidComponent;
use super::state::CallState;
use super::tools::NoTools;

/// Runs `wizer-initialize` in `bytes` under `limits` and returns the snapshotted component.
pub(crate) fn preinitialize(
    engine: &wasmtime::Engine,
    linker: &Linker<CallState>,
    bytes: &[u8],
    limits: &Limits,
    ticks: u64,
) -> Result<Vec<u8>, InvalidComponent> {
    let deadline = Instant::now() + limits.wall_time;
    let mut store = Store::new(engine, CallState::new(limits, Arc::new(NoTools), deadline));
    store.limiter(|s| &mut s.limiter);
    let failed = |detail: String| InvalidComponent::PreinitFailed { detail };
    store
        .set_fuel(limits.fuel)
        .map_err(|e| failed(e.to_string()))?;
    store.set_epoch_deadline(ticks);
    store.epoch_deadline_trap();
    let mut wizer = Wizer::new();
    // Removing the init function breaks the component-level lift that refers to it (wasmtime-wizer
    // 50 rewrites the core module but not the component wrapper), so keep it; Warden never calls it.
    wizer.keep_init_func(true);
    let run = wizer.run_component(&mut store, bytes, async |store, component| {
        linker.instantiate_async(store, component).await
    });
    match pollster::block_on(run) {
        Ok((snapshot, _)) => Ok(snapshot),
        Err(e) => {
            let (logs, _) = store.data().logs.take();
            let why = super::classify(&e, store.data(), limits).to_string();
            let last_log = logs
                .lines()
                .last()
                .map(|l| format!(" (last log line: {l})"))
                .unwrap_or_default();
            Err(failed(format!("{why}{last_log}")))
        }
    }
}
