//! The running server's state — configuration, database, engine, loaded components, sessions,
//! metrics — and the one path every sandbox call takes (pool slot, metrics, audit record).
//!
//! **Architecture Invariant:** handlers never call the engine directly; they go through
//! [`Warden::call`], so no sandbox call escapes the concurrency bound, the metrics or the
//! audit log.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::auth::Principal;
use crate::config::Config;
use crate::engine::{CallPool, CallReport, Engine, EngineConfig, Outcome, Plugin, World};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::pii::crypto::{MasterKey, TenantKey};
use crate::storage::audit::{AuditEvent, AuditWriter};
use crate::storage::{Db, tables};

/// A built-in component as the registry lists it.
#[derive(Debug, Clone)]
pub struct Builtin {
    /// Its name (`template`, `pii`, `python`).
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

/// Everything a request handler can reach. Shared behind an `Arc`.
pub struct Warden {
    /// The effective configuration.
    pub config: Config,
    /// The database.
    pub db: Arc<Db>,
    /// The engine behind its concurrency bound.
    pub pool: CallPool,
    /// Batched audit records of calls and reads.
    pub audit: AuditWriter,
    /// Metrics.
    pub metrics: Metrics,
    /// The built-in components.
    pub builtins: Vec<Builtin>,
    /// Live code-runner sessions.
    pub sessions: crate::sessions::Sessions,
    /// Abuse limits.
    pub quotas: crate::quota::Quotas,
    /// Settings tenants' admins changed (quotas, protected labels).
    pub tenants: crate::tenants::TenantCache,
    /// Bearer-token verification keys.
    pub verifier: crate::auth::Verifier,
    /// Whether this start created the bootstrap signing secret (print an admin token once).
    pub bootstrap_created: bool,
    /// Dictionary matchers per tenant, rebuilt when a dictionary changes.
    pub dictionaries: crate::pii::service::MatcherCache,
    master: MasterKey,
    loaded: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Arc<Plugin>>>>>,
    ready: AtomicBool,
}

impl Warden {
    /// Opens the data directory (creating it), the database and the engine.
    pub fn open(config: Config) -> anyhow::Result<Warden> {
        let dir = &config.server.data_dir;
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the data directory {}: {e}", dir.display())
        })?;
        let db_path = dir.join("warden.redb");
        private_file(&db_path).map_err(|e| {
            anyhow::anyhow!("cannot restrict {} to mode 0600: {e}", db_path.display())
        })?;
        let db =
            Arc::new(Db::open(&db_path).map_err(|e| {
                anyhow::anyhow!("cannot open the database in {}: {e}", dir.display())
            })?);
        let master = match &config.pii.master_key {
            Some(k) => {
                MasterKey::from_base64(k).map_err(|e| anyhow::anyhow!("pii.master_key: {e}"))?
            }
            None => {
                let path = dir.join("master.key");
                let (key, created) = MasterKey::load_or_create(&path)
                    .map_err(|e| anyhow::anyhow!("vault master key {}: {e}", path.display()))?;
                if created {
                    tracing::info!(path = %path.display(), "created the vault master key (mode 0600)");
                }
                key
            }
        };
        crate::storage::audit::set_digest_secret(master.audit_digest_secret());
        let (verifier, bootstrap_created) = crate::auth::Verifier::new(&config.auth, dir)?;
        let engine = Engine::new(EngineConfig {
            cache_dir: Some(
                config
                    .server
                    .cache_dir
                    .clone()
                    .unwrap_or_else(|| cache_dir(dir)),
            ),
            defaults: config.limits.defaults,
            caps: config.limits.caps,
            // Uploads are capped by `server.max_upload_bytes` before they reach the engine; the
            // engine's own cap must also admit the embedded built-ins, whatever that setting.
            max_component_bytes: crate::builtins::ALL
                .iter()
                .map(|(_, b)| b.len() as u64)
                .fold(config.server.max_upload_bytes, u64::max),
            ..EngineConfig::default()
        })?;
        engine.prune_cache();
        let pool = CallPool::new(
            engine,
            config.server.max_concurrent_calls,
            config.server.max_queue_wait,
        );
        let builtins = crate::builtins::ALL
            .iter()
            .filter_map(|(name, bytes)| {
                let info = crate::engine::inspect(bytes);
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
        let audit = AuditWriter::start(db.clone());
        let tenants = crate::tenants::TenantCache::load(&db)
            .map_err(|e| anyhow::anyhow!("cannot read tenant settings: {e}"))?;
        Ok(Warden {
            quotas: crate::quota::Quotas::new(&config.quota, tenants.quotas()),
            tenants,
            verifier,
            bootstrap_created,
            sessions: crate::sessions::Sessions::new(&config),
            config,
            db,
            pool,
            audit,
            metrics: Metrics::default(),
            builtins,
            dictionaries: Default::default(),
            master,
            loaded: Mutex::new(HashMap::new()),
            ready: AtomicBool::new(false),
        })
    }

    /// Whether start-up work (loading the built-ins and stored plugins) is done.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Loads every built-in and every stored component so the first request finds them
    /// compiled; components already in the compiled cache are not recompiled.
    pub async fn warm_up(self: &Arc<Self>) {
        let mut digests: Vec<String> = self.builtins.iter().map(|b| b.digest.clone()).collect();
        match self.stored_digests() {
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

    fn stored_digests(&self) -> Result<Vec<String>> {
        use redb::ReadableTable;
        let txn = self.db.read()?;
        let blobs = txn
            .open_table(tables::BLOBS)
            .map_err(crate::storage::StorageError::from)?;
        let mut out = Vec::new();
        for entry in blobs.iter().map_err(crate::storage::StorageError::from)? {
            let (k, _) = entry.map_err(crate::storage::StorageError::from)?;
            out.push(k.value().to_owned());
        }
        Ok(out)
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
            let bytes: Vec<u8> = match self.builtins.iter().find(|b| b.digest == digest) {
                Some(b) => b.bytes.to_vec(),
                None => {
                    let txn = self.db.read()?;
                    let blobs = txn
                        .open_table(tables::BLOBS)
                        .map_err(crate::storage::StorageError::from)?;
                    let found = blobs
                        .get(digest)
                        .map_err(crate::storage::StorageError::from)?
                        .map(|v| v.value().to_vec());
                    found.ok_or_else(|| Error::not_found("component", digest))?
                }
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

    /// The encryption key of `tenant`.
    pub fn tenant_key(&self, tenant: &str) -> TenantKey {
        self.master.tenant_key(tenant)
    }

    /// Runs one sandbox call: waits for a pool slot, runs `f`, counts it in the metrics and
    /// queues its audit record (`event` with outcome, cost and output digest filled in).
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
        let world = plugin.world();
        let digest = plugin.digest().to_owned();
        let _slot = self.quotas.start_call(&event.tenant)?;
        let outcome = self.pool.run(move |engine| f(engine, &plugin)).await?;
        let report = outcome.report;
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
        self.audit.record(event);
        match outcome.result {
            Ok(v) => Ok((v, report)),
            Err(e) => Err(Error::call(e, report)),
        }
    }

    /// Queues an audit record for a read or a refused request.
    pub fn record(&self, who: &Principal, action: &str, target: impl Into<String>, outcome: &str) {
        self.audit
            .record(AuditEvent::new(&who.tenant, &who.actor, action, target).outcome(outcome));
    }
}

/// Creates `path` with mode 0600 if it is missing and sets 0600 if it exists: the database
/// holds sealed vaults, session snapshots and the audit log, readable by the owner only (like
/// the key files).
fn private_file(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Where compiled components are cached inside the data directory.
pub fn cache_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("cache")
}
