//! The one path every sandbox call takes — loaded-plugin cache, pool slot, tenant quota,
//! metrics, audit record — shared by every service that runs a component.
//!
//! **Architecture Invariant:** no service calls the engine directly; they go through
//! [`Sandbox::call`], so no sandbox call escapes the concurrency bound, the quotas, the metrics
//! or the audit log.

use crate::settings::{Invalid, invalid};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use warden_engine::{CallPool, CallReport, Engine, LimitOverrides, Limits, Outcome, Plugin, World};
use warden_storage::audit::{AuditEvent, AuditWriter};
use warden_storage::{Store, tables};

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::quota::Quotas;
/// A built-in component as the registry lists it.
#[derive(Debug, Clone)]
pub struct Builtin {
    /// Its name (`template`, `pii`, `python`, `cpython`).
    pub name: &'static str,
    /// sha256 of its bytes.
    pub digest: String,
    /// Its world.
    pub world: World,
    /// Its size in bytes.
    pub size: u64,
    /// Its imports.
    pub imports: Vec<String>,
    /// Its bytes.
    pub bytes: &'static [u8],
}

/// What [`Sandbox::run`] hands back: the call's outcome, what the call kept besides it, and
/// its audit event, filled in and not yet recorded.
pub struct Ran<T, X> {
    /// The guest's result and the call's cost.
    pub outcome: Called<T>,
    /// What `f` handed back besides its outcome.
    pub extra: X,
    /// The audit record of the call.
    pub event: AuditEvent,
}

/// A finished call's outcome.
pub struct Called<T>(pub Outcome<T>);

impl<T> Called<T> {
    /// The call's cost.
    pub fn report(&self) -> CallReport {
        self.0.report.clone()
    }

    /// Whether the guest returned a value.
    pub fn is_ok(&self) -> bool {
        self.0.result.is_ok()
    }

    /// The value and the cost, or the failure as a service error carrying the cost.
    pub fn into_result(self) -> Result<(T, CallReport)> {
        match self.0.result {
            Ok(v) => Ok((v, self.0.report)),
            Err(e) => Err(Error::call(e, self.0.report)),
        }
    }
}

/// The sandbox as the services see it: the engine behind its pool, the loaded components,
/// and what every call is counted in. Shared behind an `Arc`.
pub struct Sandbox {
    store: Store,
    pool: CallPool,
    audit: AuditWriter,
    metrics: Arc<Metrics>,
    quotas: Arc<Quotas>,
    builtins: Vec<Builtin>,
    loaded: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Arc<Plugin>>>>>,
    ready: AtomicBool,
}

impl Sandbox {
    /// The sandbox over `pool`, recording calls in `store`'s audit log through a batching
    /// writer.
    pub fn new(
        store: Store,
        pool: CallPool,
        metrics: Arc<Metrics>,
        quotas: Arc<Quotas>,
    ) -> Sandbox {
        let builtins = warden_builtins::ALL
            .iter()
            .filter_map(|(name, bytes)| {
                let info = warden_engine::inspect(bytes);
                let world = info.accepted().ok()?;
                Some(Builtin {
                    name,
                    digest: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)),
                    world,
                    size: bytes.len() as u64,
                    imports: info.imports.clone(),
                    bytes,
                })
            })
            .collect();
        Sandbox {
            audit: AuditWriter::start(store.clone()),
            store,
            pool,
            metrics,
            quotas,
            builtins,
            loaded: Mutex::new(HashMap::new()),
            ready: AtomicBool::new(false),
        }
    }

    /// The store the sandbox's audit writer appends to and components are read from.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The built-in components.
    pub fn builtins(&self) -> &[Builtin] {
        &self.builtins
    }

    /// The built-in with sha256 `digest`, if it is one.
    pub fn builtin(&self, digest: &str) -> Option<&Builtin> {
        self.builtins.iter().find(|b| b.digest == digest)
    }

    /// The metrics every call is counted in.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The per-tenant abuse limits every call is charged against.
    pub fn quotas(&self) -> &Quotas {
        &self.quotas
    }

    /// The limits a call gets with `overrides` applied (within the host's caps).
    pub fn limits(&self, overrides: &LimitOverrides) -> Limits {
        self.pool.engine().limits(overrides)
    }

    /// Calls waiting for or holding a pool slot, for the metrics.
    pub fn pool(&self) -> &CallPool {
        &self.pool
    }

    /// Queues an audit record (of a call, a read or a refused request).
    pub fn audit(&self, event: AuditEvent) {
        self.audit.record(event);
    }

    /// Waits until the audit records queued so far are committed, so a read of the log shows
    /// what the caller's earlier requests did.
    pub async fn audit_flush(&self) {
        self.audit.flush().await;
    }

    /// Writes every queued audit record before shutdown.
    pub fn close(&self) {
        self.audit.close();
    }

    /// Whether start-up work (loading the built-ins and stored plugins) is done.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Loads every built-in and every stored component so the first request finds them
    /// compiled; components already in the compiled cache are not recompiled.
    pub async fn warm_up(self: &Arc<Self>) {
        let mut digests: Vec<String> = self.builtins.iter().map(|b| b.digest.clone()).collect();
        match self.stored_digests().await {
            Ok(d) => digests.extend(d),
            Err(e) => tracing::error!(error = %e, "cannot list stored plugins"),
        }
        tracing::info!(
            components = digests.len(),
            "loading components; those not in the compiled cache are compiled first (about a \
             minute on a first start of a debug build on 2 cores), /readyz answers 200 when done"
        );
        for digest in digests {
            let started = std::time::Instant::now();
            match self.plugin(&digest).await {
                Ok(p) => tracing::info!(
                    digest = &digest[..12],
                    world = %p.world(),
                    cache_hit = p.load_report().cache_hit,
                    took_ms = started.elapsed().as_millis() as u64,
                    "component ready"
                ),
                Err(e) => {
                    tracing::error!(digest = &digest[..12], error = %e, "component failed to load")
                }
            }
        }
        self.ready.store(true, Ordering::Release);
    }

    async fn stored_digests(&self) -> Result<Vec<String>> {
        Ok(self.store.read().await?.keys(tables::BLOBS, "").await?)
    }

    /// The loaded component with sha256 `digest` (a built-in or a stored upload), loading it on
    /// first use.
    pub async fn plugin(&self, digest: &str) -> Result<Arc<Plugin>> {
        // One load per digest even when many requests ask at once.
        let cell = match self.loaded.lock() {
            Ok(mut map) => map.entry(digest.to_owned()).or_default().clone(),
            Err(p) => p.into_inner().entry(digest.to_owned()).or_default().clone(),
        };
        cell.get_or_try_init(|| async {
            let bytes: Vec<u8> = match self.builtin(digest) {
                Some(b) => b.bytes.to_vec(),
                None => self
                    .store
                    .get_bytes(tables::BLOBS, digest)
                    .await?
                    .ok_or_else(|| Error::not_found("component", digest))?,
            };
            self.load_bytes(bytes).await
        })
        .await
        .cloned()
    }

    /// Validates and compiles component bytes off the async threads.
    pub async fn load_bytes(&self, bytes: Vec<u8>) -> Result<Arc<Plugin>> {
        let engine = self.pool.engine().clone();
        let plugin = tokio::task::spawn_blocking(move || engine.load(&bytes))
            .await
            .map_err(|e| Error::Internal(format!("component load did not complete: {e}")))??;
        self.metrics.cache(plugin.load_report().cache_hit);
        Ok(Arc::new(plugin))
    }

    /// Keeps a just-uploaded component loaded so its first call does not load it again.
    pub fn remember(&self, plugin: Arc<Plugin>) {
        if let Ok(mut map) = self.loaded.lock() {
            let cell = map.entry(plugin.digest().to_owned()).or_default();
            let _ = cell.set(plugin);
        }
    }

    /// Forgets a loaded component (after its last stored copy is deleted).
    pub fn unload(&self, digest: &str) {
        if let Ok(mut map) = self.loaded.lock() {
            map.remove(digest);
        }
    }

    /// The built-in of `world`.
    pub fn builtin_for(&self, world: World) -> Result<&Builtin> {
        self.builtins
            .iter()
            .find(|b| b.world == world)
            .ok_or_else(|| Error::Internal(format!("no built-in for {world}")))
    }

    /// Runs one sandbox call and queues its audit record: `event` with the outcome, cost and
    /// output digest filled in. The one path for calls that store nothing.
    pub async fn call<T, F>(
        &self,
        event: AuditEvent,
        plugin: Arc<Plugin>,
        f: F,
        output_bytes: fn(&T) -> Vec<u8>,
    ) -> Result<(T, CallReport)>
    where
        T: Send + 'static,
        F: FnOnce(&Engine, &Plugin) -> Outcome<T> + Send + 'static,
    {
        let (world, digest) = (plugin.world(), plugin.digest().to_owned());
        let ran = self
            .run(
                event,
                world,
                digest,
                move |engine| (f(engine, &plugin), ()),
                output_bytes,
            )
            .await?;
        self.audit.record(ran.event);
        ran.outcome.into_result()
    }

    /// Runs one sandbox call of a component of `world` with sha256 `digest`: takes the
    /// tenant's call slot and a pool slot, runs `f` (which may hand back a value besides its
    /// outcome, such as a live session), charges the fuel and counts the call in the metrics.
    /// The filled-in audit event comes back unrecorded, for a caller that appends it in the
    /// same transaction as what the call changed; [`Sandbox::call`] records it at once.
    pub async fn run<T, X, F>(
        &self,
        event: AuditEvent,
        world: World,
        digest: String,
        f: F,
        output_bytes: fn(&T) -> Vec<u8>,
    ) -> Result<Ran<T, X>>
    where
        T: Send + 'static,
        X: Send + 'static,
        F: FnOnce(&Engine) -> (Outcome<T>, X) + Send + 'static,
    {
        let _slot = self.quotas.start_call(&event.tenant)?;
        let (outcome, extra) = self.pool.run(f).await?;
        let report = outcome.report.clone();
        self.quotas.burned(&event.tenant, report.fuel_used);
        let name = match &outcome.result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        self.metrics.call(
            &event.tenant,
            world.name(),
            name,
            report.fuel_used,
            report.duration,
        );
        let mut event = event.outcome(name);
        event.plugin_digest = Some(digest);
        event.fuel = Some(report.fuel_used);
        event.duration_us = Some(u64::try_from(report.duration.as_micros()).unwrap_or(u64::MAX));
        if let Ok(v) = &outcome.result {
            event = event.output(&output_bytes(v));
        }
        Ok(Ran {
            outcome: Called(outcome),
            extra,
            event,
        })
    }

    /// Queues an audit record for a read or a refused request.
    pub fn record(&self, who: &Principal, action: &str, target: impl Into<String>, outcome: &str) {
        self.audit
            .record(AuditEvent::new(&who.tenant, &who.actor, action, target).outcome(outcome));
    }
}

/// Sandbox limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// What a call gets when neither the plugin's metadata nor the request says otherwise.
    pub defaults: Limits,
    /// The most any call may ask for; requests are clamped to these.
    pub caps: Limits,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            defaults: Limits::default(),
            caps: Limits::default_caps(),
        }
    }
}

impl LimitsConfig {
    /// Checks that every limit is positive and every default within its cap.
    pub fn validate(&self) -> Result<(), Invalid> {
        let (d, c) = (&self.defaults, &self.caps);
        for (key, value) in [
            ("limits.defaults.fuel", d.fuel),
            ("limits.defaults.memory_bytes", d.memory_bytes),
            ("limits.defaults.output_bytes", d.output_bytes),
            ("limits.caps.fuel", c.fuel),
            ("limits.caps.memory_bytes", c.memory_bytes),
            ("limits.caps.output_bytes", c.output_bytes),
        ] {
            if value == 0 {
                return invalid(key, "must be greater than 0");
            }
        }
        if d.wall_time.is_zero() || c.wall_time.is_zero() {
            return invalid("limits.defaults.wall_time", "must be greater than 0");
        }
        for (key, default, cap) in [
            ("limits.defaults.fuel", d.fuel, c.fuel),
            (
                "limits.defaults.memory_bytes",
                d.memory_bytes,
                c.memory_bytes,
            ),
            (
                "limits.defaults.output_bytes",
                d.output_bytes,
                c.output_bytes,
            ),
            ("limits.defaults.log_bytes", d.log_bytes, c.log_bytes),
        ] {
            if default > cap {
                return invalid(key, format!("({default}) is above its cap ({cap})"));
            }
        }
        if d.wall_time > c.wall_time {
            return invalid("limits.defaults.wall_time", "is above its cap");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use warden_engine::CallError;

    use super::*;
    use crate::testing::{sandbox, store};

    fn ok(fuel: u64) -> Outcome<u32> {
        Outcome {
            result: Ok(7),
            report: CallReport {
                fuel_used: fuel,
                ..CallReport::default()
            },
        }
    }

    #[test]
    fn every_world_has_its_builtin() {
        let s = store();
        let sandbox = sandbox(&s.store);
        for world in [World::TemplateEngine, World::PiiDetector, World::CodeRunner] {
            let b = sandbox.builtin_for(world).unwrap();
            assert_eq!(sandbox.builtin(&b.digest).map(|b| b.world), Some(world));
        }
        assert_eq!(sandbox.builtins().len(), 4);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_call_fills_in_its_audit_event_and_charges_the_tenant() {
        let s = store();
        let sandbox = sandbox(&s.store);
        let event = AuditEvent::new("acme", "ada", "template.render", "template/t/1");
        let ran = sandbox
            .run(
                event,
                World::TemplateEngine,
                "d1".into(),
                |_| (ok(1234), "kept"),
                |v: &u32| v.to_string().into_bytes(),
            )
            .await
            .unwrap();
        assert_eq!(ran.extra, "kept");
        assert_eq!(ran.event.outcome, "ok");
        assert_eq!(ran.event.plugin_digest.as_deref(), Some("d1"));
        assert_eq!(ran.event.fuel, Some(1234));
        assert!(ran.event.output_sha256.is_some());
        assert_eq!(ran.outcome.into_result().unwrap().0, 7);
        assert!(sandbox.metrics().render_tenant("acme").contains("acme"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_failed_call_is_an_error_carrying_its_cost_and_outcome() {
        let s = store();
        let sandbox = sandbox(&s.store);
        let event = AuditEvent::new("acme", "ada", "pii.detect", "plugin/pii/1");
        let ran = sandbox
            .run(
                event,
                World::PiiDetector,
                "d2".into(),
                |_| {
                    let failed: Outcome<u32> = Outcome {
                        result: Err(CallError::OutOfFuel { limit: 99 }),
                        report: CallReport {
                            fuel_used: 99,
                            ..CallReport::default()
                        },
                    };
                    (failed, ())
                },
                |v: &u32| v.to_string().into_bytes(),
            )
            .await
            .unwrap();
        assert_eq!(ran.event.outcome, "out_of_fuel");
        assert!(ran.event.output_sha256.is_none());
        match ran.outcome.into_result() {
            Err(Error::Call { report, .. }) => assert_eq!(report.fuel_used, 99),
            other => panic!("expected a call error, got {:?}", other.map(|(v, _)| v)),
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_unknown_component_is_not_found() {
        let s = store();
        let sandbox = sandbox(&s.store);
        assert!(matches!(
            sandbox.plugin(&"0".repeat(64)).await,
            Err(Error::NotFound { .. })
        ));
    }
}
