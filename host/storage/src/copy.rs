//! Copies a whole installation from one store to another (`warden storage copy`): every
//! keyspace and every tenant's audit chain, record for record, so the chains verify in the
//! target exactly as in the source.

use std::collections::BTreeMap;

use crate::audit::{AuditQuery, Verification, record_hash};
use crate::tables::{self, Keyspace};
use crate::{Scope, StorageError, Store};

/// Rows written per transaction (blobs go one per transaction: they may be megabytes).
const BATCH: usize = 500;

/// What a copy moved, and the target's verification afterwards.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// Rows copied per keyspace.
    pub rows: BTreeMap<&'static str, u64>,
    /// Audit records copied, over all tenants.
    pub audit_records: u64,
    /// The target's audit verification after the copy.
    pub verification: Verification,
}

/// Whether `store` holds nothing yet (no keyspace row, no audit chain).
pub async fn is_empty(store: &Store) -> Result<bool, StorageError> {
    let r = store.read().await?;
    for ks in tables::ALL {
        if !r.keys(ks, "").await?.is_empty() {
            return Ok(false);
        }
    }
    Ok(store.audit_tenants().await?.is_empty())
}

/// Copies everything in `from` into `to`, which must be empty; `progress` hears each
/// keyspace's (or `audit`'s) running count. The copy is checked: every audit record's hash is
/// recomputed before it is written, and the target's chains are verified at the end.
pub async fn copy(
    from: &Store,
    to: &Store,
    progress: &(dyn Fn(&str, u64) + Send + Sync),
) -> Result<CopyReport, StorageError> {
    if !is_empty(to).await? {
        return Err(StorageError::Db(
            "the target database is not empty; copy only into a new database".into(),
        ));
    }
    let mut rows = BTreeMap::new();
    for ks in tables::ALL {
        let n = copy_keyspace(from, to, ks, progress).await?;
        rows.insert(ks.name(), n);
    }
    let mut audit_records = 0u64;
    for tenant in from.audit_tenants().await? {
        let mut cursor = None;
        loop {
            let page = from
                .audit_query(
                    &tenant,
                    &AuditQuery {
                        cursor,
                        limit: BATCH,
                        ..AuditQuery::default()
                    },
                )
                .await?;
            for r in &page.records {
                if record_hash(r)? != r.hash {
                    return Err(StorageError::Corrupt {
                        table: tables::AUDIT_LOG.name().into(),
                        message: format!(
                            "record {} of `{tenant}` in the source does not match its hash; \
                             run `warden audit verify` on the source",
                            r.seq
                        ),
                    });
                }
            }
            let records = &page.records;
            to.write(Scope::tenant(&tenant), |tx| {
                Box::pin(async move {
                    for r in records {
                        tx.import_audit(r.clone()).await?;
                    }
                    Ok::<_, StorageError>(())
                })
            })
            .await?;
            audit_records += page.records.len() as u64;
            progress("audit", audit_records);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let verification = to.audit_verify(None).await?;
    Ok(CopyReport {
        rows,
        audit_records,
        verification,
    })
}

async fn copy_keyspace(
    from: &Store,
    to: &Store,
    ks: Keyspace,
    progress: &(dyn Fn(&str, u64) + Send + Sync),
) -> Result<u64, StorageError> {
    let snapshot = from.read().await?;
    let keys = snapshot.keys(ks, "").await?;
    let per_txn = if ks == tables::BLOBS { 1 } else { BATCH };
    let mut done = 0u64;
    for chunk in keys.chunks(per_txn) {
        let mut batch = Vec::with_capacity(chunk.len());
        for k in chunk {
            if let Some(v) = snapshot.get_bytes(ks, k).await? {
                batch.push((k.clone(), v));
            }
        }
        let batch = &batch;
        to.write(Scope::Global, |tx| {
            Box::pin(async move {
                for (k, v) in batch {
                    tx.put_bytes(ks, k, v).await?;
                }
                Ok::<_, StorageError>(())
            })
        })
        .await?;
        done += batch.len() as u64;
        progress(ks.name(), done);
    }
    Ok(done)
}
