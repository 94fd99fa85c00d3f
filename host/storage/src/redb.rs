//! The embedded backend: one redb file, for one machine (the default).
//!
//! redb has one writer at a time; writers queue on an async gate rather than blocking a
//! runtime thread in `begin_write`, and the commit (an fsync) runs on the blocking pool. A
//! write transaction never conflicts, so [`crate::Store::write`] never retries here. Each
//! keyspace is a redb table of the same name; the audit chains live in two tables of their own.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use crate::audit::{self, AuditEvent, AuditPage, AuditQuery, AuditRecord, ChainCheck, Head};
use crate::backend::{Backend, ReadTxn, WriteTxn};
use crate::tables::{self, Keyspace};
use crate::{Scope, StorageError, decode, encode};

/// The current layout; stored in [`META`] and checked (and migrated) at open.
pub const SCHEMA_VERSION: &str = "2";

/// Database-wide facts: the schema version.
const META: TableDefinition<&str, &str> = TableDefinition::new("meta_v1");
/// The audit log: (tenant, sequence number) → JSON record; one hash chain per tenant.
const AUDIT: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("audit_v1");
/// Each tenant's audit chain head: tenant → JSON [`Head`].
const AUDIT_HEADS: TableDefinition<&str, &[u8]> = TableDefinition::new("audit_heads_v1");
/// Schema 1 stored label versions as redb integers; schema 2 stores JSON like every keyspace.
const LABELS_V1: [(&str, Keyspace); 2] = [
    ("template_labels_v1", tables::LABELS),
    ("pipeline_labels_v1", tables::PIPELINE_LABELS),
];

fn table(ks: Keyspace) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(ks.name())
}

/// The open redb file.
pub struct Redb {
    db: Arc<redb::Database>,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl Redb {
    /// Opens (creating) the file, creates missing tables, and migrates an older layout.
    pub fn open(path: &Path) -> Result<Redb, StorageError> {
        let db = redb::Database::create(path)?;
        let txn = db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let found = meta.get("schema_version")?.map(|v| v.value().to_owned());
            match found.as_deref() {
                None => {}
                Some("1") => migrate_labels(&txn)?,
                Some(v) if v == SCHEMA_VERSION => {}
                Some(_) => {
                    return Err(StorageError::Schema {
                        found: found.unwrap_or_default(),
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            meta.insert("schema_version", SCHEMA_VERSION)?;
            for ks in tables::ALL {
                txn.open_table(table(ks))?;
            }
            txn.open_table(AUDIT)?;
            txn.open_table(AUDIT_HEADS)?;
        }
        txn.commit()?;
        Ok(Redb {
            db: Arc::new(db),
            gate: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Opens an existing file without creating or migrating anything (`warden audit verify`
    /// on a copy).
    pub fn open_existing(path: &Path) -> Result<Redb, StorageError> {
        Ok(Redb {
            db: Arc::new(redb::Database::open(path)?),
            gate: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Another handle on the same file (for work on the blocking pool).
    fn handle(&self) -> Redb {
        Redb {
            db: self.db.clone(),
            gate: self.gate.clone(),
        }
    }

    fn verify_now(&self, tenant: Option<&str>) -> Result<audit::Verification, StorageError> {
        let txn = self.db.begin_read()?;
        let heads = txn.open_table(AUDIT_HEADS)?;
        let log = txn.open_table(AUDIT)?;
        let mut tenants: Vec<String> = Vec::new();
        match tenant {
            Some(t) => tenants.push(t.to_owned()),
            None => {
                for entry in heads.iter()? {
                    tenants.push(entry?.0.value().to_owned());
                }
                // A chain whose head was deleted still has records: check those tenants too.
                let mut last: Option<String> = None;
                for entry in log.iter()? {
                    let (k, _) = entry?;
                    let t = k.value().0;
                    if last.as_deref() != Some(t) {
                        last = Some(t.to_owned());
                        if !tenants.iter().any(|x| x == t) {
                            tenants.push(t.to_owned());
                        }
                    }
                }
            }
        }
        let mut checked = 0u64;
        for t in &tenants {
            let mut chain = ChainCheck::new(t, checked);
            for entry in log.range((t.as_str(), 0)..=(t.as_str(), u64::MAX))? {
                let (k, v) = entry?;
                if let Err(broken) = chain.next(k.value().1, v.value()) {
                    return Ok(broken);
                }
            }
            let head: Option<Head> = match heads.get(t.as_str())? {
                Some(v) => Some(decode("audit_heads", v.value())?),
                None => None,
            };
            match chain.finish(head) {
                Ok(n) => checked = n,
                Err(broken) => return Ok(broken),
            }
        }
        Ok(audit::Verification::intact(checked))
    }

    fn query_now(&self, tenant: &str, q: &AuditQuery) -> Result<AuditPage, StorageError> {
        let txn = self.db.begin_read()?;
        let log = txn.open_table(AUDIT)?;
        let start = q.cursor.unwrap_or(1);
        let mut records = Vec::new();
        let mut next_cursor = None;
        for entry in log.range((tenant, start)..=(tenant, u64::MAX))? {
            let (k, v) = entry?;
            let record: AuditRecord = decode("audit", v.value())?;
            if !q.matches(&record) {
                continue;
            }
            if records.len() == q.limit {
                next_cursor = Some(k.value().1);
                break;
            }
            records.push(record);
        }
        Ok(AuditPage {
            records,
            next_cursor,
        })
    }
}

/// Copies schema 1's integer label tables into schema 2's JSON ones and drops the old tables.
fn migrate_labels(txn: &redb::WriteTransaction) -> Result<(), StorageError> {
    for (old, new) in LABELS_V1 {
        let def: TableDefinition<&str, u64> = TableDefinition::new(old);
        let rows: Vec<(String, u64)> = {
            let t = txn.open_table(def)?;
            let mut rows = Vec::new();
            for entry in t.iter()? {
                let (k, v) = entry?;
                rows.push((k.value().to_owned(), v.value()));
            }
            rows
        };
        let mut t = txn.open_table(table(new))?;
        for (k, v) in &rows {
            t.insert(k.as_str(), encode(v)?.as_slice())?;
        }
        drop(t);
        txn.delete_table(def)?;
        tracing::info!(
            table = old,
            rows = rows.len(),
            "migrated labels to schema 2"
        );
    }
    Ok(())
}

fn scan<T>(t: &T, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StorageError>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut out = Vec::new();
    for entry in t.range(prefix..)? {
        let (k, v) = entry?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push((key.to_owned(), v.value().to_vec()));
    }
    Ok(out)
}

fn keys<T>(t: &T, prefix: &str) -> Result<Vec<String>, StorageError>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let mut out = Vec::new();
    for entry in t.range(prefix..)? {
        let (k, _) = entry?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        out.push(key.to_owned());
    }
    Ok(out)
}

#[async_trait]
impl Backend for Redb {
    fn kind(&self) -> &'static str {
        "redb"
    }

    async fn read(&self) -> Result<Box<dyn ReadTxn>, StorageError> {
        Ok(Box::new(RedbRead(self.db.begin_read()?)))
    }

    async fn write(&self, _scope: &Scope) -> Result<Box<dyn WriteTxn>, StorageError> {
        let gate = self.gate.clone().lock_owned().await;
        // The gate is held, so no other writer exists and this returns at once.
        let txn = self.db.begin_write()?;
        Ok(Box::new(RedbWrite { txn, _gate: gate }))
    }

    async fn audit_query(&self, tenant: &str, q: &AuditQuery) -> Result<AuditPage, StorageError> {
        let (me, tenant, q) = (self.handle(), tenant.to_owned(), q.clone());
        tokio::task::spawn_blocking(move || me.query_now(&tenant, &q))
            .await
            .map_err(|e| StorageError::Db(e.to_string()))?
    }

    // A chain of millions of records takes a while to walk: off the async workers.
    async fn audit_verify(
        &self,
        tenant: Option<&str>,
    ) -> Result<audit::Verification, StorageError> {
        let (me, tenant) = (self.handle(), tenant.map(str::to_owned));
        tokio::task::spawn_blocking(move || me.verify_now(tenant.as_deref()))
            .await
            .map_err(|e| StorageError::Db(e.to_string()))?
    }

    async fn ping(&self) -> Result<(), StorageError> {
        self.db.begin_read()?;
        Ok(())
    }

    async fn claim_meta(&self, name: &str, value: &str) -> Result<String, StorageError> {
        let _gate = self.gate.lock().await;
        let txn = self.db.begin_write()?;
        let stored = {
            let mut meta = txn.open_table(META)?;
            let found = meta.get(name)?.map(|v| v.value().to_owned());
            match found {
                Some(v) => v,
                None => {
                    meta.insert(name, value)?;
                    value.to_owned()
                }
            }
        };
        txn.commit()?;
        Ok(stored)
    }

    async fn audit_tenants(&self) -> Result<Vec<String>, StorageError> {
        let txn = self.db.begin_read()?;
        let heads = txn.open_table(AUDIT_HEADS)?;
        let mut out = std::collections::BTreeSet::new();
        for entry in heads.iter()? {
            out.insert(entry?.0.value().to_owned());
        }
        for entry in txn.open_table(AUDIT)?.iter()? {
            out.insert(entry?.0.value().0.to_owned());
        }
        Ok(out.into_iter().collect())
    }
}

/// Verifies a database file without a running server (`warden audit verify`).
pub fn verify_file(path: &Path) -> Result<audit::Verification, StorageError> {
    Redb::open_existing(path)?.verify_now(None)
}

struct RedbRead(redb::ReadTransaction);

#[async_trait]
impl ReadTxn for RedbRead {
    async fn get(&self, ks: Keyspace, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let t = self.0.open_table(table(ks))?;
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    async fn scan(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        scan(&self.0.open_table(table(ks))?, prefix)
    }

    async fn keys(&self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError> {
        keys(&self.0.open_table(table(ks))?, prefix)
    }
}

struct RedbWrite {
    txn: redb::WriteTransaction,
    _gate: tokio::sync::OwnedMutexGuard<()>,
}

#[async_trait]
impl WriteTxn for RedbWrite {
    async fn get(&mut self, ks: Keyspace, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let t = self.txn.open_table(table(ks))?;
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    async fn scan(
        &mut self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        scan(&self.txn.open_table(table(ks))?, prefix)
    }

    async fn keys(&mut self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError> {
        keys(&self.txn.open_table(table(ks))?, prefix)
    }

    async fn put(&mut self, ks: Keyspace, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.txn.open_table(table(ks))?.insert(key, value)?;
        Ok(())
    }

    async fn delete(&mut self, ks: Keyspace, key: &str) -> Result<bool, StorageError> {
        Ok(self.txn.open_table(table(ks))?.remove(key)?.is_some())
    }

    async fn exists(&mut self, ks: Keyspace, key: &str) -> Result<bool, StorageError> {
        Ok(self.txn.open_table(table(ks))?.get(key)?.is_some())
    }

    async fn import_audit(&mut self, record: AuditRecord) -> Result<(), StorageError> {
        let mut heads = self.txn.open_table(AUDIT_HEADS)?;
        let tenant = record.event.tenant.clone();
        let head: Option<Head> = match heads.get(tenant.as_str())? {
            Some(v) => Some(decode("audit_heads", v.value())?),
            None => None,
        };
        let (seq, prev) = match head {
            Some(h) => (h.seq + 1, h.hash),
            None => (1, audit::GENESIS.to_owned()),
        };
        if record.seq != seq || record.prev_hash != prev {
            return Err(StorageError::Corrupt {
                table: tables::AUDIT_LOG.name().into(),
                message: format!(
                    "record {} of `{tenant}` does not follow the chain's head (expected {seq})",
                    record.seq
                ),
            });
        }
        self.txn
            .open_table(AUDIT)?
            .insert((tenant.as_str(), seq), encode(&record)?.as_slice())?;
        let head = Head {
            seq,
            hash: record.hash.clone(),
        };
        heads.insert(tenant.as_str(), encode(&head)?.as_slice())?;
        Ok(())
    }

    async fn append_audit(&mut self, event: AuditEvent) -> Result<AuditRecord, StorageError> {
        let mut heads = self.txn.open_table(AUDIT_HEADS)?;
        let head: Option<Head> = match heads.get(event.tenant.as_str())? {
            Some(v) => Some(decode("audit_heads", v.value())?),
            None => None,
        };
        let (record, head) = audit::next_link(head, event)?;
        let tenant = record.event.tenant.as_str();
        self.txn
            .open_table(AUDIT)?
            .insert((tenant, record.seq), encode(&record)?.as_slice())?;
        heads.insert(tenant, encode(&head)?.as_slice())?;
        Ok(record)
    }

    async fn commit(self: Box<Self>) -> Result<(), StorageError> {
        let RedbWrite { txn, _gate } = *self;
        tokio::task::spawn_blocking(move || txn.commit())
            .await
            .map_err(|e| StorageError::Db(e.to_string()))??;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn open() -> (tempfile::TempDir, Redb) {
        let dir = tempfile::tempdir().unwrap();
        let db = Redb::open(&dir.path().join("w.redb")).unwrap();
        (dir, db)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_seam_suite_passes() {
        let dirs = std::sync::Mutex::new(Vec::new());
        crate::conformance::run_all(|| {
            let (dir, db) = open();
            dirs.lock().unwrap().push(dir);
            async move { Store::new(db) }
        })
        .await;
    }

    async fn add(store: &Store, tenant: &str, n: usize) {
        for i in 0..n {
            store
                .write(Scope::tenant(tenant), |tx| {
                    Box::pin(async move {
                        tx.audit(AuditEvent::new(tenant, "me", "x.y", format!("t{i}")))
                            .await
                    })
                })
                .await
                .unwrap();
        }
    }

    fn edit(db: &Redb, f: impl FnOnce(&mut redb::Table<(&str, u64), &[u8]>)) {
        let txn = db.db.begin_write().unwrap();
        f(&mut txn.open_table(AUDIT).unwrap());
        txn.commit().unwrap();
    }

    #[tokio::test]
    async fn an_edited_record_is_found() {
        let (_d, db) = open();
        let store = Store::new(Redb {
            db: db.db.clone(),
            gate: db.gate.clone(),
        });
        add(&store, "a", 5).await;
        edit(&db, |log| {
            let bytes = log.get(("a", 3)).unwrap().unwrap().value().to_vec();
            let mut r: AuditRecord = decode("audit", &bytes).unwrap();
            r.event.actor = "someone-else".into();
            log.insert(("a", 3), encode(&r).unwrap().as_slice())
                .unwrap();
        });
        let v = store.audit_verify(None).await.unwrap();
        assert_eq!(v.first_break.unwrap().seq, 3);
    }

    #[tokio::test]
    async fn deleted_and_cut_records_are_found() {
        for (removed, first_break) in [(2, 2), (5, 5)] {
            let (_d, db) = open();
            let store = Store::new(Redb {
                db: db.db.clone(),
                gate: db.gate.clone(),
            });
            add(&store, "a", 5).await;
            edit(&db, |log| {
                log.remove(("a", removed)).unwrap();
            });
            let v = store.audit_verify(None).await.unwrap();
            assert_eq!(v.first_break.unwrap().seq, first_break);
        }
    }

    /// A database file that says it has schema `version`, with whatever `fill` writes.
    fn file_with_schema(
        dir: &tempfile::TempDir,
        version: &str,
        fill: impl FnOnce(&redb::WriteTransaction),
    ) -> std::path::PathBuf {
        let path = dir.path().join("w.redb");
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", version)
            .unwrap();
        fill(&txn);
        txn.commit().unwrap();
        path
    }

    #[test]
    fn schema_1_labels_are_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_with_schema(&dir, "1", |txn| {
            let def: TableDefinition<&str, u64> = TableDefinition::new("template_labels_v1");
            txn.open_table(def).unwrap().insert("a/t/prod", 3).unwrap();
        });
        let db = Redb::open(&path).unwrap();
        let txn = db.db.begin_read().unwrap();
        let t = txn.open_table(table(tables::LABELS)).unwrap();
        let v: u64 = decode("labels", t.get("a/t/prod").unwrap().unwrap().value()).unwrap();
        assert_eq!(v, 3);
        let meta = txn.open_table(META).unwrap();
        assert_eq!(meta.get("schema_version").unwrap().unwrap().value(), "2");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_with_schema(&dir, "9", |_| {});
        assert!(matches!(
            Redb::open(&path),
            Err(StorageError::Schema { .. })
        ));
    }
}
