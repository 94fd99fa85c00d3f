//! Unit-test fixtures: services over a temporary database and a real engine, with no server.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use warden_engine::{CallPool, Engine, EngineConfig};

use crate::auth::{Principal, Role};
use crate::metrics::Metrics;
use crate::quota::{QuotaConfig, Quotas};
use crate::sandbox::Sandbox;

/// A temporary directory holding a fresh database (removed when dropped).
pub struct TempStore {
    /// Keeps the directory alive.
    _dir: tempfile::TempDir,
    /// The store over the database in it.
    pub store: warden_storage::Store,
}

/// A fresh database in a temporary directory.
pub fn store() -> TempStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = warden_storage::Store::open_redb(&dir.path().join("warden.redb"))
        .expect("open the database");
    TempStore { _dir: dir, store }
}

/// A sandbox over `store`: a real engine (no pooling, no disk cache) behind a small pool.
pub fn sandbox(store: &warden_storage::Store) -> Arc<Sandbox> {
    let engine = Engine::new(EngineConfig {
        pooling: false,
        ..EngineConfig::default()
    })
    .expect("engine");
    let pool = CallPool::new(engine, 2, Duration::from_secs(5));
    let quotas = Arc::new(Quotas::new(&QuotaConfig::default(), []));
    Arc::new(Sandbox::new(
        store.clone(),
        pool,
        Arc::new(Metrics::default()),
        quotas,
    ))
}

/// A caller of `tenant` holding `roles`.
pub fn who(tenant: &str, roles: &[Role]) -> Principal {
    Principal {
        tenant: tenant.to_owned(),
        actor: format!("{tenant}-actor"),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
    }
}
