//! The sandbox engine: one wasmtime `Engine`, one `Linker`, a cached `InstancePre` per plugin,
//! and a fresh, limited `Store` and instance for every call.
//!
//! **Ownership** (as in wasmtime's own model): [`Engine`] is created once per process and is
//! cheap to clone; [`Plugin`] is a loaded, validated, pre-initialised and compiled component
//! (load once, call many times); each call builds a `Store` with its own limits, instantiates
//! from the plugin's `InstancePre`, calls one export and drops everything. Nothing a call does
//! is visible to the next call. Code-runner sessions are the one exception by design: a
//! [`CodeSession`] keeps its instance between evals of the same session.
//!
//! **Blocking**: every call runs synchronously on the caller's thread and returns when the
//! guest returns or a limit fires. CPU-bound guest code would starve an async runtime's worker
//! threads even with yields, so async callers (the server) go through [`CallPool`]: calls on
//! tokio's blocking threads behind a semaphore sized to the cores. The deadline is enforced by
//! epoch interruption from a ticker thread, so a call never outlives its wall-clock limit.
//! Inside the pool a spent store is torn down after the caller has its answer (`pool`'s docs).

mod bindings;
mod cache;
mod limits;
mod outcome;
mod policy;
mod pool;
mod preinit;
mod state;
mod tools;
mod worlds;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

pub use self::limits::{LimitOverrides, Limits};
pub use self::outcome::{CallError, CallReport, GuestError, InvalidComponent, Outcome, Position};
pub use self::policy::{
    ALLOWED_WASI, ComponentInfo, DENY_ALL_WASI, PREINIT_EXPORT, WIT_VERSION, World, inspect,
};
pub use self::pool::{CallPool, PoolError};
pub use self::tools::{NoTools, ToolError, Tools};
#[cfg(feature = "bench")]
pub use self::worlds::{CallPhases, ReusedInstance};
pub use self::worlds::{
    ChatMessage, ChatTemplate, CodeSession, DetectOptions, DetectorInfo, Dialect, EntityInfo,
    EvalOutput, Finding, Pattern, Recognizer, RenderOptions, Rescanned, SessionOptions,
    TemplateInfo, UndefinedMode,
};

use self::cache::{Cache, Lookup};
use self::state::CallState;

/// How often the epoch ticker advances; the wall-clock deadline's resolution.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// How the engine is set up; fixed for the life of the process.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where precompiled components are cached; `None` compiles in memory every time.
    pub cache_dir: Option<PathBuf>,
    /// Limits a call gets when the caller asks for nothing else.
    pub defaults: Limits,
    /// The most any call may ask for.
    pub caps: Limits,
    /// Limits for running a component's `wizer-initialize` at load time.
    pub preinit: Limits,
    /// Largest component accepted, in bytes.
    pub max_component_bytes: u64,
    /// Try the pooling instance allocator (falls back to on-demand, logged, if the pool's
    /// virtual memory cannot be reserved).
    pub pooling: bool,
    /// Instances the pool holds at once (concurrent calls and live sessions).
    pub pool_instances: u32,
    /// Bytes of each pool slot's linear memory kept resident after a call and reset by copying
    /// the snapshot back, instead of being unmapped: the next fresh instance of the same
    /// component faults none of it in again. More is faster for bigger snapshots and costs up
    /// to this much resident memory per slot that has run a call.
    pub keep_resident_bytes: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            cache_dir: None,
            defaults: Limits::default(),
            caps: Limits::default_caps(),
            preinit: Limits {
                fuel: 50_000_000_000,
                memory_bytes: 512 << 20,
                wall_time: Duration::from_secs(60),
                output_bytes: 0,
                log_bytes: 64 << 10,
            },
            max_component_bytes: 50 << 20,
            pooling: true,
            pool_instances: 256,
            keep_resident_bytes: DEFAULT_KEEP_RESIDENT,
        }
    }
}

/// [`EngineConfig::keep_resident_bytes`] by default: 1 MiB. With `PAGEMAP_SCAN` it is a budget
/// of *dirty* pages reset by copying the snapshot back (pages beyond it are unmapped and fault
/// in again next call): one PII-detector call on 1 KB writes about 520 KiB, a render less, so
/// 1 MiB resets every page a built-in call dirties with no page fault on the next call.
/// Measured (Linux 6.18, `probe` bench, 2026-12-05, with the reset fix in `vendor/wasmtime`):
/// a fresh 1 KB PII call took ~231 µs with 1 MiB and with 16 MiB alike, 0 faults per call; a
/// larger budget only helps plugins that write more, at up to that much memory per pool slot.
pub const DEFAULT_KEEP_RESIDENT: u64 = 1 << 20;

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// wasmtime refused the configuration.
    #[error("could not configure the wasm engine: {0}")]
    Config(String),
    /// The precompiled cache directory could not be created.
    #[error("could not open the compiled-component cache at {path}: {source}")]
    Cache {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// How loading a component went, for logs and benchmarks.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    /// Whether the precompiled artifact came from the disk cache.
    pub cache_hit: bool,
    /// Time spent pre-initialising (zero on a cache hit or without `wizer-initialize`).
    pub preinit: Duration,
    /// Time spent compiling with Cranelift (zero on a cache hit).
    pub compile: Duration,
    /// Time spent loading the precompiled artifact (zero on a miss).
    pub deserialize: Duration,
    /// Time spent linking (building the `InstancePre`).
    pub link: Duration,
}

/// The sandbox engine. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: wasmtime::Engine,
    linker: Linker<CallState>,
    /// Built on first use: only a cache miss on a pre-initialisable component needs it.
    preinit: std::sync::OnceLock<Result<(wasmtime::Engine, Linker<CallState>), String>>,
    config: EngineConfig,
    cache: Option<Cache>,
    pooling: bool,
    _ticker: Ticker,
}

struct Ticker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The settings every engine here shares: fuel, epochs, the component model, a 1 MiB stack.
fn base_config(opt: wasmtime::OptLevel) -> Config {
    let mut config = Config::new();
    config.consume_fuel(true);
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    config.cranelift_opt_level(opt);
    config.max_wasm_stack(1 << 20);
    config
}

fn wasm_config(pooling: Option<&EngineConfig>) -> Config {
    let mut config = base_config(wasmtime::OptLevel::Speed);
    if let Some(c) = pooling {
        pooled(&mut config, c);
    }
    config
}

/// The engine that runs `wizer-initialize`: the code it compiles runs once and is thrown away,
/// so it skips Cranelift's optimisations (about 20% less compile time on the Python built-in).
fn preinit_config() -> Config {
    base_config(wasmtime::OptLevel::None)
}

fn pooled(config: &mut Config, c: &EngineConfig) {
    {
        let mut pool = PoolingAllocationConfig::default();
        let max_memory =
            usize::try_from(c.caps.memory_bytes.max(c.preinit.memory_bytes)).unwrap_or(usize::MAX);
        pool.total_component_instances(c.pool_instances)
            .total_core_instances(c.pool_instances * 4)
            .total_memories(c.pool_instances * 2)
            .total_tables(c.pool_instances * 4)
            .total_stacks(c.pool_instances)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(16)
            .max_memory_size(max_memory)
            .table_elements(1 << 16)
            // See `DEFAULT_KEEP_RESIDENT` for what this buys and costs.
            .linear_memory_keep_resident(
                usize::try_from(c.keep_resident_bytes).unwrap_or(usize::MAX),
            )
            .table_keep_resident(64 << 10)
            // With PAGEMAP_SCAN (Linux 6.7+) only the pages a call dirtied are reset, instead
            // of memsetting the whole resident prefix: a fresh PII-detector instance went from
            // ~134 µs to ~90 µs per call, a fresh Python session ~15% faster. Older kernels
            // fall back to the memset above.
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
}

impl Engine {
    /// Builds the engine, its linker, its epoch ticker and (if configured) its disk cache.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        let (engine, pooling) = if config.pooling {
            match wasmtime::Engine::new(&wasm_config(Some(&config))) {
                Ok(e) => (e, true),
                Err(e) => {
                    tracing::warn!(error = %e, "pooling allocator unavailable; falling back to on-demand allocation");
                    let e = wasmtime::Engine::new(&wasm_config(None))
                        .map_err(|e| EngineError::Config(e.to_string()))?;
                    (e, false)
                }
            }
        } else {
            let e = wasmtime::Engine::new(&wasm_config(None))
                .map_err(|e| EngineError::Config(e.to_string()))?;
            (e, false)
        };
        let linker = bindings::linker(&engine).map_err(|e| EngineError::Config(e.to_string()))?;
        let cache = match &config.cache_dir {
            Some(dir) => Some(
                Cache::open(dir, &engine).map_err(|source| EngineError::Cache {
                    path: dir.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("warden-epoch".into())
                .spawn(move || tick(&engine, &stop))
                .map_err(|e| {
                    EngineError::Config(format!("could not start the epoch ticker: {e}"))
                })?
        };
        Ok(Engine {
            inner: Arc::new(Inner {
                engine,
                linker,
                preinit: std::sync::OnceLock::new(),
                config,
                cache,
                pooling,
                _ticker: Ticker {
                    stop,
                    handle: Some(handle),
                },
            }),
        })
    }

    /// Whether the pooling allocator is in use (false after a fallback).
    pub fn pooling(&self) -> bool {
        self.inner.pooling
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Limits for a call that asked for `overrides`: defaults, then overrides, then caps.
    pub fn limits(&self, overrides: &LimitOverrides) -> Limits {
        self.inner
            .config
            .defaults
            .with(overrides)
            .clamp_to(&self.inner.config.caps)
    }

    /// Deletes cached artifacts compiled by a different engine (after an upgrade or a change
    /// of configuration). Only for a cache directory owned by one configuration, such as a
    /// server's data directory.
    pub fn prune_cache(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.prune_stale();
        }
    }

    /// Validates, pre-initialises, compiles (or loads from cache) and links a component.
    ///
    /// Cost: on a cache miss, pre-initialisation plus a Cranelift compile (seconds for a large
    /// interpreter); on a hit, a checksum and a `deserialize_file` (milliseconds).
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, InvalidComponent> {
        let inner = &self.inner;
        if bytes.len() as u64 > inner.config.max_component_bytes {
            return Err(InvalidComponent::TooLarge {
                size: bytes.len() as u64,
                limit: inner.config.max_component_bytes,
            });
        }
        let info = inspect(bytes);
        let world = info.accepted()?;
        let digest = hex::encode(Sha256::digest(bytes));
        let mut report = LoadReport::default();
        let cached = match &inner.cache {
            Some(cache) => {
                let t = Instant::now();
                let hit = cache.load(&inner.engine, &digest);
                report.deserialize = t.elapsed();
                hit
            }
            None => Lookup::Miss,
        };
        let component = match cached {
            Lookup::Hit(c) => {
                report.cache_hit = true;
                c
            }
            Lookup::Miss => {
                report.deserialize = Duration::ZERO;
                let t = Instant::now();
                let prepared = if info.preinit {
                    let limits = inner.config.preinit;
                    let (engine, linker) = inner
                        .preinit
                        .get_or_init(|| {
                            let engine = wasmtime::Engine::new(&preinit_config())
                                .map_err(|e| e.to_string())?;
                            let linker = bindings::linker(&engine).map_err(|e| e.to_string())?;
                            Ok((engine, linker))
                        })
                        .as_ref()
                        .map_err(|e| InvalidComponent::PreinitFailed {
                            detail: format!("engine: {e}"),
                        })?;
                    let _tick = PreinitTicker::start(engine.clone());
                    Some(preinit::preinitialize(
                        engine,
                        linker,
                        bytes,
                        &limits,
                        ticks(limits.wall_time),
                    )?)
                } else {
                    None
                };
                report.preinit = t.elapsed();
                let t = Instant::now();
                let component = Component::new(&inner.engine, prepared.as_deref().unwrap_or(bytes))
                    .map_err(|e| InvalidComponent::Compile {
                        detail: format!("{e:#}"),
                    })?;
                report.compile = t.elapsed();
                if let Some(cache) = &inner.cache
                    && let Err(e) = cache.store(&digest, &component)
                {
                    tracing::warn!(error = %e, %digest, "could not cache the compiled component");
                }
                component
            }
        };
        let t = Instant::now();
        let pre =
            inner
                .linker
                .instantiate_pre(&component)
                .map_err(|e| InvalidComponent::Compile {
                    detail: format!("{e:#}"),
                })?;
        let exports =
            worlds::Exports::new(world, &info, &pre).map_err(|e| InvalidComponent::WrongWorld {
                detail: format!("the component does not match the {world} world: {e:#}"),
            })?;
        report.link = t.elapsed();
        tracing::info!(%digest, %world, cache_hit = report.cache_hit, preinit = ?report.preinit, compile = ?report.compile,
            deserialize = ?report.deserialize, link = ?report.link, "component loaded");
        Ok(Plugin {
            world,
            digest,
            info,
            pre,
            exports,
            load_report: report,
        })
    }

    /// Runs `f` against a fresh instance of `plugin` under `limits`, and reports the cost.
    /// One-shot calls get no tools: only code-runner sessions may import them.
    fn call<R>(
        &self,
        plugin: &Plugin,
        limits: Limits,
        output_size: impl FnOnce(&R) -> usize,
        f: impl FnOnce(
            &mut Store<CallState>,
            &wasmtime::component::Instance,
        ) -> wasmtime::Result<Result<R, GuestError>>,
    ) -> Outcome<R> {
        let limits = limits.clamp_to(&self.inner.config.caps);
        let start = Instant::now();
        let mut store = self.store(&limits, Arc::new(NoTools), start);
        let result = match plugin.pre.instantiate(&mut store) {
            Ok(instance) => f(&mut store, &instance),
            Err(e) => Err(e),
        };
        let result = match result {
            Ok(Ok(value)) => {
                let size = output_size(&value) as u64;
                if size > limits.output_bytes {
                    Err(CallError::OutputTooLarge {
                        size,
                        limit: limits.output_bytes,
                    })
                } else {
                    Ok(value)
                }
            }
            Ok(Err(guest)) => Err(CallError::Guest(guest)),
            Err(e) => Err(classify(&e, store.data(), &limits)),
        };
        let report = report(&store, &limits, start);
        pool::retire(store);
        Outcome {
            result: result.map_err(|e| with_panic_message(e, &report.logs)),
            report,
        }
    }

    fn store(&self, limits: &Limits, tools: Arc<dyn Tools>, start: Instant) -> Store<CallState> {
        let (deadline, left) = deadline(start, limits.wall_time);
        let mut store = Store::new(&self.inner.engine, CallState::new(limits, tools, deadline));
        store.limiter(|s| &mut s.limiter);
        // Fuel is always enabled on this engine, so this cannot fail.
        let _ = store.set_fuel(limits.fuel);
        store.set_epoch_deadline(ticks(left));
        store.epoch_deadline_trap();
        store
    }
}

/// Advances the pre-initialisation engine's epoch while a pre-initialisation runs.
struct PreinitTicker(#[allow(dead_code)] Ticker);

impl PreinitTicker {
    fn start(engine: wasmtime::Engine) -> PreinitTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("warden-preinit-epoch".into())
            .spawn(move || tick(&engine, &flag))
            .ok();
        PreinitTicker(Ticker { stop, handle })
    }
}

/// The deadline of a call starting at `start` with `wall` of wall-clock time, and the time left
/// until it: measured from when the caller asked for a pool slot when the call runs in the pool
/// (queueing counts against the call), else from `start`.
pub(crate) fn deadline(start: Instant, wall: Duration) -> (Instant, Duration) {
    let from = pool::asked_at().filter(|a| *a <= start).unwrap_or(start);
    let deadline = from + wall;
    (deadline, deadline.saturating_duration_since(start))
}

/// Advances `engine`'s epoch until `stop` is set, by the ticks that wall-clock time says have
/// passed: a ticker that only counts its own wake-ups falls behind when busy guests starve it
/// of CPU, and every deadline then overruns.
fn tick(engine: &wasmtime::Engine, stop: &AtomicBool) {
    let started = Instant::now();
    let mut done: u128 = 0;
    let tick = EPOCH_TICK.as_nanos().max(1);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(EPOCH_TICK);
        let due = started.elapsed().as_nanos() / tick;
        while done < due {
            engine.increment_epoch();
            done += 1;
        }
    }
}

fn ticks(wall: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    u64::try_from(wall.as_nanos().div_ceil(tick))
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

fn report(store: &Store<CallState>, limits: &Limits, start: Instant) -> CallReport {
    let (logs, logs_truncated) = store.data().logs.take();
    CallReport {
        fuel_used: limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0)),
        peak_memory_bytes: store.data().limiter.peak as u64,
        duration: start.elapsed(),
        logs,
        logs_truncated,
    }
}

/// Adds a Rust guest's panic message (which it writes to stderr before trapping) to a trap, so
/// the caller sees why without digging through the logs.
fn with_panic_message(err: CallError, logs: &str) -> CallError {
    let CallError::Trap { message } = err else {
        return err;
    };
    let mut lines = logs.lines().skip_while(|l| !l.contains("panicked at"));
    let message = match (lines.next(), lines.next()) {
        (Some(at), Some(what)) => format!("{message} ({} {what})", at.trim_end_matches(':').trim()),
        (Some(at), None) => format!("{message} ({})", at.trim()),
        _ => message,
    };
    CallError::Trap { message }
}

/// Turns a wasmtime error into the typed outcome a caller can act on.
fn classify(err: &wasmtime::Error, state: &CallState, limits: &Limits) -> CallError {
    if let Some(trap) = err.downcast_ref::<Trap>() {
        match trap {
            Trap::OutOfFuel => return CallError::OutOfFuel { limit: limits.fuel },
            Trap::Interrupt => {
                return CallError::DeadlineExceeded {
                    limit: limits.wall_time,
                };
            }
            _ => {}
        }
    }
    if state.limiter.hit {
        return CallError::MemoryLimit {
            limit: limits.memory_bytes,
        };
    }
    if err
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        return CallError::Host("too many concurrent plugin instances; retry later".into());
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return CallError::Trap {
            message: format!("plugin called exit({})", exit.0),
        };
    }
    let message = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{err:#}"),
    };
    CallError::Trap { message }
}

/// A loaded component: validated, pre-initialised, compiled and linked. Cheap to share
/// (`Arc` it); every call on it gets a fresh instance.
pub struct Plugin {
    world: World,
    digest: String,
    info: ComponentInfo,
    pre: InstancePre<CallState>,
    exports: worlds::Exports,
    load_report: LoadReport,
}

impl Plugin {
    /// The world it implements.
    pub fn world(&self) -> World {
        self.world
    }

    /// The sha256 of the component as given to [`Engine::load`], hex.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// What inspection found (imports, exports, size).
    pub fn info(&self) -> &ComponentInfo {
        &self.info
    }

    /// How loading went.
    pub fn load_report(&self) -> &LoadReport {
        &self.load_report
    }

    fn expect_world(&self, world: World) -> Result<(), CallError> {
        if self.world == world {
            Ok(())
        } else {
            Err(CallError::Invalid(InvalidComponent::WorldMismatch {
                expected: world.name().into(),
                actual: self.world.name().into(),
            }))
        }
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("world", &self.world)
            .field("digest", &self.digest)
            .finish()
    }
}
