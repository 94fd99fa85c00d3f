//! The assembly: every service of `warden-core`, built once from the configuration and shared
//! by the API behind an `Arc`. The whole host surface is on one screen here; a service gets
//! exactly the dependencies its constructor names.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use warden_core::auth::{Principal, Verifier};
use warden_core::gateway::Gateway;
use warden_core::metrics::Metrics;
use warden_core::pii::crypto::MasterKey;
use warden_core::pii::service::Pii;
use warden_core::pipelines::Pipelines;
use warden_core::pipelines::registry::PipelinePins;
use warden_core::quota::Quotas;
use warden_core::refs::Referrer;
use warden_core::registry::plugins::Plugins;
use warden_core::registry::templates::{TemplatePins, Templates};
use warden_core::sandbox::Sandbox;
use warden_core::sessions::{SessionPins, Sessions};
use warden_core::tenants::Tenants;
use warden_engine::{CallPool, Engine, EngineConfig};
use warden_storage::Store;
use warden_storage::audit::AuditEvent;

use crate::config::Config;

/// Everything a request handler can reach. Shared behind an `Arc`.
pub struct Warden {
    /// The effective configuration.
    pub config: Config,
    /// The one call path into the engine, and the loaded components.
    pub sandbox: Arc<Sandbox>,
    /// Uploaded and built-in plugins.
    pub plugins: Arc<Plugins>,
    /// Versioned prompt templates.
    pub templates: Arc<Templates>,
    /// Detection, anonymisation, vaults and dictionaries.
    pub pii: Arc<Pii>,
    /// Code-runner sessions.
    pub sessions: Arc<Sessions>,
    /// Pipeline definitions and runs.
    pub pipelines: Arc<Pipelines>,
    /// The OpenAI-compatible gateway.
    pub gateway: Arc<Gateway>,
    /// Tenants' run-time settings.
    pub tenants: Arc<Tenants>,
    /// Abuse limits (the same as the sandbox's).
    pub quotas: Arc<Quotas>,
    /// Metrics (the same as the sandbox's).
    pub metrics: Arc<Metrics>,
    /// Bearer-token verification keys.
    pub verifier: Verifier,
    /// Whether this start created the bootstrap signing secret (print an admin token once).
    pub bootstrap_created: bool,
}

impl Warden {
    /// Opens the data directory (creating it), the database, the keys and the engine, and
    /// assembles the services.
    pub async fn open(config: Config) -> anyhow::Result<Warden> {
        let dir = &config.server.data_dir;
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the data directory {}: {e}", dir.display())
        })?;
        let (store, keys) = match config.storage.postgres() {
            Some(opts) => {
                let store = Store::connect_postgres(&opts).await.map_err(|e| {
                    anyhow::anyhow!(
                        "cannot use the PostgreSQL database {} (storage.url): {e}",
                        warden_storage::postgres::redact_url(&opts.url)
                    )
                })?;
                let keys = master_key(&config, dir)?;
                check_cluster_key(&store, &keys).await?;
                (store, keys)
            }
            None => {
                let db_path = dir.join("warden.redb");
                private_file(&db_path).map_err(|e| {
                    anyhow::anyhow!("cannot restrict {} to mode 0600: {e}", db_path.display())
                })?;
                let store = Store::open_redb(&db_path).map_err(|e| {
                    anyhow::anyhow!("cannot open the database in {}: {e}", dir.display())
                })?;
                (store, master_key(&config, dir)?)
            }
        };
        let keys = Arc::new(keys);
        warden_storage::audit::set_digest_secret(keys.audit_digest_secret());
        let (verifier, bootstrap_created) = Verifier::new(&config.auth, dir)?;
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
            max_component_bytes: warden_builtins::ALL
                .iter()
                .map(|(_, b)| b.len() as u64)
                .fold(config.server.max_upload_bytes, u64::max),
            keep_resident_bytes: config.server.keep_resident_bytes,
            ..EngineConfig::default()
        })?;
        engine.prune_cache();
        let pool = CallPool::new(
            engine,
            config.server.max_concurrent_calls,
            config.server.max_queue_wait,
        );
        let tenants = Arc::new(
            Tenants::open(
                store.clone(),
                &config.quota,
                config.auth.protected_labels.clone(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot read tenant settings: {e}"))?,
        );
        let quotas = tenants.quotas().clone();
        let metrics = Arc::new(Metrics::default());
        let sandbox = Arc::new(Sandbox::new(store, pool, metrics.clone(), quotas.clone()));
        let pins: Vec<Arc<dyn Referrer>> = vec![
            Arc::new(PipelinePins),
            Arc::new(TemplatePins),
            Arc::new(SessionPins),
        ];
        let plugins = Arc::new(Plugins::new(
            sandbox.clone(),
            config.server.max_upload_bytes,
            pins,
        ));
        let templates = Arc::new(Templates::new(
            sandbox.clone(),
            plugins.clone(),
            tenants.clone(),
            vec![Arc::new(PipelinePins), Arc::new(TemplatePins)],
        ));
        let pii = Arc::new(Pii::new(
            sandbox.clone(),
            plugins.clone(),
            tenants.clone(),
            keys.clone(),
            config.pii.clone(),
        ));
        let sessions = Arc::new(Sessions::new(
            sandbox.clone(),
            plugins.clone(),
            keys,
            config.sessions.clone(),
            (config.server.max_concurrent_calls * 2).clamp(8, 128),
        ));
        let pipelines = Arc::new(Pipelines::new(
            sandbox.clone(),
            plugins.clone(),
            templates.clone(),
            pii.clone(),
            tenants.clone(),
            config.providers.clone(),
            config.pipelines.clone(),
        ));
        let gateway = Arc::new(Gateway::new(
            pii.clone(),
            sandbox.clone(),
            pipelines.clone(),
            config.providers.clone(),
            config.gateway.clone(),
            config.pipelines.default_budget,
        ));
        Ok(Warden {
            config,
            sandbox,
            plugins,
            templates,
            pii,
            sessions,
            pipelines,
            gateway,
            tenants,
            quotas,
            metrics,
            verifier,
            bootstrap_created,
        })
    }

    /// Queues an audit record for a read or a refused request.
    pub fn record(&self, who: &Principal, action: &str, target: impl Into<String>, outcome: &str) {
        self.sandbox.record(who, action, target, outcome);
    }

    /// Queues an audit record.
    pub fn audit(&self, event: AuditEvent) {
        self.sandbox.audit(event);
    }

    /// Whether start-up work (loading the built-ins and stored plugins) is done.
    pub fn is_ready(&self) -> bool {
        self.sandbox.is_ready()
    }
}

/// The vault master key: from the configuration, else a 0600 key file in the data directory
/// (created on first start).
fn master_key(config: &Config, dir: &Path) -> anyhow::Result<MasterKey> {
    if let Some(k) = &config.pii.master_key {
        return MasterKey::from_base64(k).map_err(|e| anyhow::anyhow!("pii.master_key: {e}"));
    }
    let path = dir.join("master.key");
    let (key, created) = MasterKey::load_or_create(&path)
        .map_err(|e| anyhow::anyhow!("vault master key {}: {e}", path.display()))?;
    if created {
        tracing::info!(path = %path.display(), "created the vault master key (mode 0600)");
    }
    Ok(key)
}

/// Refuses a vault master key other than the one the shared database was first used with: a
/// replica with another key would seal vaults and session snapshots the others cannot open, and
/// write audit digests that do not verify.
async fn check_cluster_key(store: &Store, keys: &MasterKey) -> anyhow::Result<()> {
    let mine = keys.fingerprint();
    let stored = store
        .claim_meta("master_key_check", &mine)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the cluster's key fingerprint: {e}"))?;
    if stored != mine {
        anyhow::bail!(
            "pii.master_key is not the key this database was created with: every replica must \
             start with the same WARDEN_PII__MASTER_KEY (refusing to start rather than seal \
             data the other replicas cannot open)"
        );
    }
    Ok(())
}

/// Creates `path` with mode 0600 if it is missing and sets 0600 if it exists: the database
/// holds sealed vaults, session snapshots and the audit log, readable by the owner only (like
/// the key files).
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

/// Where compiled components are cached inside the data directory.
pub fn cache_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("cache")
}
