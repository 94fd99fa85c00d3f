//! Warden's state behind one seam: the keyspaces ([`tables`]), the backend contract
//! ([`backend`]), the embedded redb backend ([`redb`]), the per-tenant audit chain ([`audit`]),
//! and [`Store`], the one handle services read and write through.
//!
//! **Architecture Invariant:** every change is one write transaction that also appends its
//! audit record ([`Tx::audit`]), so a change without its record cannot exist, and a failed
//! write leaves nothing half-written. Every read-modify-write that must be atomic (a version
//! number, a label move, a cap) reads inside the same [`Store::write`] that writes. Values are
//! JSON (easy to evolve with `#[serde(default)]`); component bytes and sealed snapshots are
//! raw bytes.

pub mod audit;
pub mod backend;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod copy;
#[cfg(any(test, feature = "conformance"))]
pub mod pg_cluster;
pub mod postgres;
pub mod redb;
pub mod tables;

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::{AuditEvent, AuditPage, AuditQuery, AuditRecord, Verification};
use crate::backend::{Backend, ReadTxn, WriteTxn};
use crate::tables::{Keyspace, Owner};

/// Why the database could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database failed (I/O, a full disk, a corrupt file, a lost connection).
    #[error("database error: {0}")]
    Db(String),
    /// A stored value could not be decoded.
    #[error("corrupt record in {table}: {message}")]
    Corrupt {
        /// The keyspace.
        table: String,
        /// What failed.
        message: String,
    },
    /// The database was written by an incompatible Warden.
    #[error("the database has schema version {found}; this Warden needs {expected}")]
    Schema {
        /// Version found in the database.
        found: String,
        /// Version this build writes.
        expected: &'static str,
    },
    /// The transaction collided with a concurrent one; [`Store::write`] runs it again.
    #[error("the transaction conflicted with a concurrent one")]
    Conflict,
    /// A transaction scoped to one tenant tried to write another's data: a bug, refused.
    #[error("a write scoped to {scope} touched `{key}` in {keyspace}")]
    OutOfScope {
        /// The transaction's scope.
        scope: String,
        /// The keyspace written.
        keyspace: Keyspace,
        /// The key written.
        key: String,
    },
    /// The transaction was used after it ended.
    #[error("the transaction has already ended")]
    Ended,
}

impl From<::redb::Error> for StorageError {
    fn from(e: ::redb::Error) -> Self {
        StorageError::Db(e.to_string())
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StorageError {
            fn from(e: $t) -> Self {
                StorageError::Db(::redb::Error::from(e).to_string())
            }
        }
    )*};
}
from_redb!(
    ::redb::DatabaseError,
    ::redb::TransactionError,
    ::redb::TableError,
    ::redb::StorageError,
    ::redb::CommitError
);

/// What a write transaction may change: one tenant's data (plus content-addressed blobs), or
/// anything (sweeps, batched call records of many tenants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One tenant.
    Tenant(String),
    /// Every tenant.
    Global,
}

impl Scope {
    /// The scope of one tenant.
    pub fn tenant(tenant: &str) -> Scope {
        Scope::Tenant(tenant.to_owned())
    }

    fn allows(&self, tenant: Option<&str>) -> bool {
        match (self, tenant) {
            (Scope::Global, _) | (_, None) => true,
            (Scope::Tenant(t), Some(k)) => t == k,
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Tenant(t) => write!(f, "tenant `{t}`"),
            Scope::Global => f.write_str("every tenant"),
        }
    }
}

/// A committed change, announced to caches (in this process at commit, and by a networked
/// backend for changes other replicas made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `key` of `keyspace` was written or removed.
    Key {
        /// The keyspace.
        keyspace: Keyspace,
        /// The key.
        key: String,
    },
    /// Changes may have been missed (a lost notification connection): drop every cache.
    All,
}

impl Change {
    /// The tenant the change belongs to, if the keyspace is tenant-owned.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Change::Key { keyspace, key } => keyspace.tenant_of(key),
            Change::All => None,
        }
    }
}

/// A cache's reaction to a change; it must be quick (it runs on the committing task).
pub type Listener = Arc<dyn Fn(&Change) + Send + Sync>;

/// How often [`Store::write`] runs a transaction that keeps conflicting before it gives up.
const MAX_ATTEMPTS: u32 = 10;

/// The one handle to the state: cheap to clone, shared by every service.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Box<dyn Backend>,
    listeners: RwLock<Vec<Listener>>,
}

impl Store {
    /// A store over `backend`; changes the backend hears of from other replicas reach the
    /// store's listeners.
    pub fn new(backend: impl Backend) -> Store {
        let store = Store {
            inner: Arc::new(Inner {
                backend: Box::new(backend),
                listeners: RwLock::new(Vec::new()),
            }),
        };
        let weak = Arc::downgrade(&store.inner);
        store.inner.backend.watch(Arc::new(move |change: &Change| {
            if let Some(inner) = weak.upgrade() {
                Store { inner }.announce(change);
            }
        }));
        store
    }

    /// Opens (creating and migrating) the redb file at `path`.
    pub fn open_redb(path: &std::path::Path) -> Result<Store, StorageError> {
        Ok(Store::new(redb::Redb::open(path)?))
    }

    /// Connects to PostgreSQL (creating or upgrading the schema).
    pub async fn connect_postgres(opts: &postgres::PgOptions) -> Result<Store, StorageError> {
        Ok(Store::new(postgres::Postgres::connect(opts).await?))
    }

    /// Whether other replicas may write the same database (see [`Backend::shared`]).
    pub fn shared(&self) -> bool {
        self.inner.backend.shared()
    }

    /// Live replicas on this database, this one included.
    pub fn replicas(&self) -> u32 {
        self.inner.backend.replicas()
    }

    /// Adds fuel to a tenant's cluster-wide total for one minute; the new total.
    pub async fn add_fuel(
        &self,
        tenant: &str,
        window_start_ms: u64,
        fuel: u64,
    ) -> Result<u64, StorageError> {
        self.inner
            .backend
            .add_fuel(tenant, window_start_ms, fuel)
            .await
    }

    /// Stores the database-wide fact `name` unless it is set; the stored value.
    pub async fn claim_meta(&self, name: &str, value: &str) -> Result<String, StorageError> {
        self.inner.backend.claim_meta(name, value).await
    }

    /// Every tenant with an audit chain.
    pub async fn audit_tenants(&self) -> Result<Vec<String>, StorageError> {
        self.inner.backend.audit_tenants().await
    }

    /// The backend's name (`redb`, `postgres`).
    pub fn kind(&self) -> &'static str {
        self.inner.backend.kind()
    }

    /// Starts a read transaction: one consistent snapshot for several reads.
    pub async fn read(&self) -> Result<Reader, StorageError> {
        Ok(Reader(self.inner.backend.read().await?))
    }

    /// One JSON value, read in its own snapshot.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        ks: Keyspace,
        key: &str,
    ) -> Result<Option<T>, StorageError> {
        self.read().await?.get_json(ks, key).await
    }

    /// Raw bytes, read in their own snapshot.
    pub async fn get_bytes(
        &self,
        ks: Keyspace,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        self.read().await?.get_bytes(ks, key).await
    }

    /// Every JSON value under `prefix`, in key order, read in one snapshot.
    pub async fn scan_json<T: DeserializeOwned>(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StorageError> {
        self.read().await?.scan_json(ks, prefix).await
    }

    /// Runs `f` in a write transaction for `scope` and commits if it returns `Ok`; on `Err`
    /// nothing it wrote is kept. When the backend reports a conflict (in an operation or at
    /// commit), `f` runs again on a fresh transaction, so `f` must do all its reading through
    /// the [`Tx`] and have no effects outside it. After the commit every listener hears of the
    /// keys written.
    pub async fn write<'a, T, E, F>(&self, scope: Scope, mut f: F) -> Result<T, E>
    where
        F: FnMut(Tx) -> BoxFuture<'a, Result<T, E>>,
        E: From<StorageError>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let txn = self.inner.backend.write(&scope).await?;
            let tx = Tx {
                state: Arc::new(tokio::sync::Mutex::new(TxState {
                    txn: Some(txn),
                    scope: scope.clone(),
                    changed: BTreeSet::new(),
                    conflicted: false,
                })),
            };
            let result = f(tx.clone()).await;
            let mut state = tx.state.lock().await;
            let txn = state.txn.take();
            let value = match result {
                Ok(v) => v,
                Err(_) if state.conflicted && attempt < MAX_ATTEMPTS => {
                    drop(state);
                    backoff(attempt).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let txn = txn.ok_or(StorageError::Ended)?;
            match txn.commit().await {
                Ok(()) => {}
                Err(StorageError::Conflict) if attempt < MAX_ATTEMPTS => {
                    drop(state);
                    backoff(attempt).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            let changed = std::mem::take(&mut state.changed);
            drop(state);
            for (keyspace, key) in changed {
                self.announce(&Change::Key { keyspace, key });
            }
            return Ok(value);
        }
    }

    /// Registers a cache's listener for committed changes.
    pub fn on_change(&self, listener: Listener) {
        match self.inner.listeners.write() {
            Ok(mut l) => l.push(listener),
            Err(p) => p.into_inner().push(listener),
        }
    }

    /// Tells every listener about `change` (backends call this for other replicas' changes).
    pub fn announce(&self, change: &Change) {
        let listeners = match self.inner.listeners.read() {
            Ok(l) => l.clone(),
            Err(p) => p.into_inner().clone(),
        };
        for l in listeners {
            l(change);
        }
    }

    /// One page of `tenant`'s audit records.
    pub async fn audit_query(
        &self,
        tenant: &str,
        q: &AuditQuery,
    ) -> Result<AuditPage, StorageError> {
        self.inner.backend.audit_query(tenant, q).await
    }

    /// Verifies `tenant`'s audit chain (or every tenant's).
    pub async fn audit_verify(&self, tenant: Option<&str>) -> Result<Verification, StorageError> {
        self.inner.backend.audit_verify(tenant).await
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.inner.backend.ping().await
    }
}

async fn backoff(attempt: u32) {
    let base = 2u64.saturating_pow(attempt.min(7));
    let jitter = rand::random::<u64>() % (base + 1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// A read snapshot.
pub struct Reader(Box<dyn ReadTxn>);

impl Reader {
    /// Raw bytes at `key`.
    pub async fn get_bytes(
        &self,
        ks: Keyspace,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.get(ks, key).await
    }

    /// The JSON value at `key`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        ks: Keyspace,
        key: &str,
    ) -> Result<Option<T>, StorageError> {
        self.0
            .get(ks, key)
            .await?
            .map(|b| decode(ks.name(), &b))
            .transpose()
    }

    /// Every JSON value under `prefix`, in key order.
    pub async fn scan_json<T: DeserializeOwned>(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StorageError> {
        decode_all(ks, self.0.scan(ks, prefix).await?)
    }

    /// Every key under `prefix`, in order.
    pub async fn keys(&self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.0.keys(ks, prefix).await
    }
}

/// An open write transaction, handed to the closure of [`Store::write`]. Clones share the one
/// transaction; it ends when the closure returns.
#[derive(Clone)]
pub struct Tx {
    state: Arc<tokio::sync::Mutex<TxState>>,
}

struct TxState {
    txn: Option<Box<dyn WriteTxn>>,
    scope: Scope,
    changed: BTreeSet<(Keyspace, String)>,
    conflicted: bool,
}

impl TxState {
    fn txn(&mut self) -> Result<&mut Box<dyn WriteTxn>, StorageError> {
        self.txn.as_mut().ok_or(StorageError::Ended)
    }

    fn note<T>(&mut self, r: Result<T, StorageError>) -> Result<T, StorageError> {
        if matches!(r, Err(StorageError::Conflict)) {
            self.conflicted = true;
        }
        r
    }

    fn check(&self, ks: Keyspace, key: &str) -> Result<(), StorageError> {
        if ks.owner() == Owner::Tenant && !self.scope.allows(ks.tenant_of(key)) {
            return Err(StorageError::OutOfScope {
                scope: self.scope.to_string(),
                keyspace: ks,
                key: key.to_owned(),
            });
        }
        Ok(())
    }
}

impl Tx {
    /// Raw bytes at `key`.
    pub async fn get_bytes(
        &self,
        ks: Keyspace,
        key: &str,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let mut s = self.state.lock().await;
        let r = s.txn()?.get(ks, key).await;
        s.note(r)
    }

    /// The JSON value at `key`.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        ks: Keyspace,
        key: &str,
    ) -> Result<Option<T>, StorageError> {
        self.get_bytes(ks, key)
            .await?
            .map(|b| decode(ks.name(), &b))
            .transpose()
    }

    /// Every `(key, bytes)` under `prefix`, in key order.
    pub async fn scan_bytes(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let mut s = self.state.lock().await;
        let r = s.txn()?.scan(ks, prefix).await;
        s.note(r)
    }

    /// Every JSON value under `prefix`, in key order.
    pub async fn scan_json<T: DeserializeOwned>(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StorageError> {
        decode_all(ks, self.scan_bytes(ks, prefix).await?)
    }

    /// Every key under `prefix`, in order.
    pub async fn keys(&self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut s = self.state.lock().await;
        let r = s.txn()?.keys(ks, prefix).await;
        s.note(r)
    }

    /// Stores raw bytes at `key`.
    pub async fn put_bytes(
        &self,
        ks: Keyspace,
        key: &str,
        value: &[u8],
    ) -> Result<(), StorageError> {
        let mut s = self.state.lock().await;
        s.check(ks, key)?;
        let r = s.txn()?.put(ks, key, value).await;
        s.note(r)?;
        s.changed.insert((ks, key.to_owned()));
        Ok(())
    }

    /// Stores a JSON value at `key`.
    pub async fn put_json<T: Serialize + ?Sized>(
        &self,
        ks: Keyspace,
        key: &str,
        value: &T,
    ) -> Result<(), StorageError> {
        self.put_bytes(ks, key, &encode(value)?).await
    }

    /// Removes `key`; whether it was there.
    pub async fn delete(&self, ks: Keyspace, key: &str) -> Result<bool, StorageError> {
        let mut s = self.state.lock().await;
        s.check(ks, key)?;
        let r = s.txn()?.delete(ks, key).await;
        let found = s.note(r)?;
        if found {
            s.changed.insert((ks, key.to_owned()));
        }
        Ok(found)
    }

    /// Removes every key under `prefix`; the keys removed, in order.
    pub async fn delete_prefix(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<String>, StorageError> {
        let keys = self.keys(ks, prefix).await?;
        for k in &keys {
            self.delete(ks, k).await?;
        }
        Ok(keys)
    }

    /// Whether `key` is present, locking it until the transaction ends on backends with row
    /// locks: test a shared blob this way before relying on it or removing it.
    pub async fn exists(&self, ks: Keyspace, key: &str) -> Result<bool, StorageError> {
        let mut s = self.state.lock().await;
        let r = s.txn()?.exists(ks, key).await;
        s.note(r)
    }

    /// Appends a record copied verbatim from another database's chain (it must follow the head).
    pub async fn import_audit(&self, record: AuditRecord) -> Result<(), StorageError> {
        let mut s = self.state.lock().await;
        if !s.scope.allows(Some(&record.event.tenant)) {
            return Err(StorageError::OutOfScope {
                scope: s.scope.to_string(),
                keyspace: tables::AUDIT_LOG,
                key: record.event.tenant,
            });
        }
        let r = s.txn()?.import_audit(record).await;
        s.note(r)
    }

    /// Appends `event` to its tenant's audit chain in this transaction.
    pub async fn audit(&self, event: AuditEvent) -> Result<AuditRecord, StorageError> {
        let mut s = self.state.lock().await;
        if !s.scope.allows(Some(&event.tenant)) {
            return Err(StorageError::OutOfScope {
                scope: s.scope.to_string(),
                keyspace: tables::AUDIT_LOG,
                key: event.tenant,
            });
        }
        let r = s.txn()?.append_audit(event).await;
        s.note(r)
    }
}

fn decode_all<T: DeserializeOwned>(
    ks: Keyspace,
    rows: Vec<(String, Vec<u8>)>,
) -> Result<Vec<(String, T)>, StorageError> {
    rows.into_iter()
        .map(|(k, v)| Ok((k, decode(ks.name(), &v)?)))
        .collect()
}

/// Decodes a JSON value read from `table`.
pub fn decode<T: DeserializeOwned>(table: &str, bytes: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::Corrupt {
        table: table.to_owned(),
        message: e.to_string(),
    })
}

/// Encodes a value for storage.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(value).map_err(|e| StorageError::Corrupt {
        table: "(encode)".into(),
        message: e.to_string(),
    })
}

/// Milliseconds since the Unix epoch: how records store time.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// RFC 3339 text for a stored millisecond timestamp.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
        .to_string()
}
