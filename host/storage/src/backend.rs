//! The storage seam: what a database must offer to hold Warden's state.
//!
//! It is shaped for a networked database (PostgreSQL) as much as for the embedded redb file:
//! every operation is async, a write transaction may fail with [`StorageError::Conflict`] and be
//! run again from the start, and a write transaction is opened for a [`Scope`] (one tenant, or
//! global for sweeps and batched call records) so a backend can serialise writers per tenant
//! (a row lock on the tenant's audit chain head) instead of globally. Services never see a
//! backend: they use [`crate::Store`], which checks scopes, retries and announces changes.

use async_trait::async_trait;

use crate::audit::{AuditEvent, AuditPage, AuditQuery, AuditRecord, Verification};
use crate::tables::Keyspace;
use crate::{Listener, Scope, StorageError};

/// A database Warden can keep its state in.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The backend's name, for logs and `/readyz` (`redb`, `postgres`).
    fn kind(&self) -> &'static str;

    /// Starts a read transaction: one consistent snapshot.
    async fn read(&self) -> Result<Box<dyn ReadTxn>, StorageError>;

    /// Starts a write transaction for `scope`; nothing it writes is visible before
    /// [`WriteTxn::commit`], and dropping it without committing discards everything.
    async fn write(&self, scope: &Scope) -> Result<Box<dyn WriteTxn>, StorageError>;

    /// One page of `tenant`'s audit records matching `q`.
    async fn audit_query(&self, tenant: &str, q: &AuditQuery) -> Result<AuditPage, StorageError>;

    /// Walks `tenant`'s audit chain (or every tenant's) in one snapshot and reports the first
    /// broken link.
    async fn audit_verify(&self, tenant: Option<&str>) -> Result<Verification, StorageError>;

    /// Checks that the database answers, for readiness.
    async fn ping(&self) -> Result<(), StorageError>;

    /// Whether other processes (replicas) may write this database at the same time, so work
    /// that one process serialises in memory (evals on one session) must also be serialised
    /// in the database.
    fn shared(&self) -> bool {
        false
    }

    /// Starts telling `sink` about changes other replicas commit (a backend only one process
    /// can open has none to tell).
    fn watch(&self, sink: Listener) {
        let _ = sink;
    }

    /// How many replicas are live on this database (including this one), for quotas that
    /// hold for the cluster as a whole.
    fn replicas(&self) -> u32 {
        1
    }

    /// Adds `fuel` to `tenant`'s cluster-wide total for the minute starting at
    /// `window_start_ms` and returns the new total.
    async fn add_fuel(
        &self,
        tenant: &str,
        window_start_ms: u64,
        fuel: u64,
    ) -> Result<u64, StorageError> {
        let _ = (tenant, window_start_ms);
        Ok(fuel)
    }

    /// Stores `value` under the database-wide fact `name` unless one is stored, and returns
    /// the stored one (how a cluster remembers, for instance, which master key created it).
    async fn claim_meta(&self, name: &str, value: &str) -> Result<String, StorageError>;

    /// Every tenant that has an audit chain, in order (for copies between backends).
    async fn audit_tenants(&self) -> Result<Vec<String>, StorageError>;
}

/// A consistent snapshot to read from.
#[async_trait]
pub trait ReadTxn: Send + Sync {
    /// The value at `key`, if any.
    async fn get(&self, ks: Keyspace, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Every `(key, value)` whose key starts with `prefix`, in key order.
    async fn scan(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError>;

    /// Every key that starts with `prefix`, in order, without reading the values.
    async fn keys(&self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError>;
}

/// An open write transaction. It sees its own writes.
#[async_trait]
pub trait WriteTxn: Send {
    /// The value at `key`, if any.
    async fn get(&mut self, ks: Keyspace, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Every `(key, value)` whose key starts with `prefix`, in key order.
    async fn scan(
        &mut self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError>;

    /// Every key that starts with `prefix`, in order, without reading the values.
    async fn keys(&mut self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError>;

    /// Stores `value` at `key`, replacing what was there.
    async fn put(&mut self, ks: Keyspace, key: &str, value: &[u8]) -> Result<(), StorageError>;

    /// Removes `key`; whether it was there.
    async fn delete(&mut self, ks: Keyspace, key: &str) -> Result<bool, StorageError>;

    /// Whether `key` is present; a backend with row locks also locks it until the transaction
    /// ends, so a concurrent transaction that tests or removes the same shared row (a blob two
    /// tenants use) waits for this one.
    async fn exists(&mut self, ks: Keyspace, key: &str) -> Result<bool, StorageError> {
        Ok(self.keys(ks, key).await?.iter().any(|k| k == key))
    }

    /// Appends `record`, taken verbatim from another database's chain, to its tenant's chain:
    /// it must follow the current head exactly (copies between backends keep chains intact).
    async fn import_audit(&mut self, record: AuditRecord) -> Result<(), StorageError>;

    /// Appends `event` to its tenant's audit chain, in this transaction.
    async fn append_audit(&mut self, event: AuditEvent) -> Result<AuditRecord, StorageError>;

    /// Makes every write durable and visible, or fails and keeps none of them.
    async fn commit(self: Box<Self>) -> Result<(), StorageError>;
}
