//! The storage seam's own test-suite: what every backend must do, run against each one (redb
//! in this crate's unit tests; a networked backend in its own). Each check takes a fresh, empty
//! store and panics with the behaviour it guards when the backend breaks it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use crate::audit::{AuditEvent, AuditQuery, AuditWriter};
use crate::tables::{BLOBS, LABELS, PLUGINS, TEMPLATES};
use crate::{Change, Scope, StorageError, Store};

/// Runs every check; `fresh` makes a new, empty store for each.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Store>,
{
    writes_are_visible_after_commit(fresh().await).await;
    a_failed_write_keeps_nothing(fresh().await).await;
    a_tenant_scope_refuses_other_tenants(fresh().await).await;
    a_snapshot_does_not_see_later_commits(fresh().await).await;
    changes_are_announced_after_commit_only(fresh().await).await;
    concurrent_read_modify_writes_are_atomic(fresh().await).await;
    audit_chains_append_verify_and_page(fresh().await).await;
    queued_audit_records_are_readable_after_a_flush(fresh().await).await;
}

/// Written keys are read back, scanned in key order under a prefix, and deleted.
pub async fn writes_are_visible_after_commit(store: Store) {
    store
        .write(Scope::tenant("a"), |tx| {
            Box::pin(async move {
                tx.put_json(TEMPLATES, "a/t/0000000002", &2u64).await?;
                tx.put_json(TEMPLATES, "a/t/0000000001", &1u64).await?;
                tx.put_json(TEMPLATES, "a/u/0000000001", &9u64).await?;
                tx.put_bytes(BLOBS, "d1", b"bytes").await?;
                // The transaction sees its own writes.
                assert_eq!(
                    tx.get_json::<u64>(TEMPLATES, "a/t/0000000002").await?,
                    Some(2)
                );
                Ok::<_, StorageError>(())
            })
        })
        .await
        .unwrap();
    let all: Vec<(String, u64)> = store.scan_json(TEMPLATES, "a/t/").await.unwrap();
    assert_eq!(
        all,
        vec![
            ("a/t/0000000001".to_owned(), 1),
            ("a/t/0000000002".to_owned(), 2)
        ],
        "a prefix scan lists exactly the prefix, in key order"
    );
    assert_eq!(
        store.get_bytes(BLOBS, "d1").await.unwrap().as_deref(),
        Some(&b"bytes"[..])
    );
    let removed = store
        .write(Scope::tenant("a"), |tx| {
            Box::pin(async move { tx.delete_prefix(TEMPLATES, "a/t/").await })
        })
        .await
        .unwrap();
    assert_eq!(removed.len(), 2);
    assert!(
        store
            .scan_json::<u64>(TEMPLATES, "a/t/")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .get_json::<u64>(TEMPLATES, "a/u/0000000001")
            .await
            .unwrap(),
        Some(9)
    );
}

/// A closure that fails leaves nothing it wrote, and its audit record is gone too.
pub async fn a_failed_write_keeps_nothing(store: Store) {
    let r = store
        .write(Scope::tenant("a"), |tx| {
            Box::pin(async move {
                tx.put_json(PLUGINS, "a/p/1.0.0", &"x").await?;
                tx.audit(AuditEvent::new(
                    "a",
                    "me",
                    "plugin.upload",
                    "plugin/p/1.0.0",
                ))
                .await?;
                Err::<(), StorageError>(StorageError::Db("refused by the test".into()))
            })
        })
        .await;
    assert!(r.is_err());
    assert_eq!(
        store
            .get_json::<String>(PLUGINS, "a/p/1.0.0")
            .await
            .unwrap(),
        None
    );
    let v = store.audit_verify(Some("a")).await.unwrap();
    assert!(
        v.ok && v.records == 0,
        "a rolled-back audit record is not kept: {v:?}"
    );
}

/// A write scoped to one tenant cannot write another tenant's keys or chain.
pub async fn a_tenant_scope_refuses_other_tenants(store: Store) {
    let r = store
        .write(Scope::tenant("a"), |tx| {
            Box::pin(async move { tx.put_json(LABELS, "b/t/prod", &1u64).await })
        })
        .await;
    assert!(matches!(r, Err(StorageError::OutOfScope { .. })), "{r:?}");
    let r = store
        .write(Scope::tenant("a"), |tx| {
            Box::pin(async move { tx.audit(AuditEvent::new("b", "me", "x.y", "t")).await })
        })
        .await;
    assert!(matches!(r, Err(StorageError::OutOfScope { .. })), "{r:?}");
    assert_eq!(
        store.get_json::<u64>(LABELS, "b/t/prod").await.unwrap(),
        None
    );
    // A global write may touch every tenant.
    store
        .write(Scope::Global, |tx| {
            Box::pin(async move { tx.put_json(LABELS, "b/t/prod", &1u64).await })
        })
        .await
        .unwrap();
}

/// A reader keeps the snapshot it started with.
pub async fn a_snapshot_does_not_see_later_commits(store: Store) {
    let put = |v: u64| {
        let store = store.clone();
        async move {
            store
                .write(Scope::tenant("a"), |tx| {
                    Box::pin(async move { tx.put_json(LABELS, "a/t/prod", &v).await })
                })
                .await
                .unwrap();
        }
    };
    put(1).await;
    let snapshot = store.read().await.unwrap();
    assert_eq!(
        snapshot.get_json::<u64>(LABELS, "a/t/prod").await.unwrap(),
        Some(1)
    );
    put(2).await;
    assert_eq!(
        snapshot.get_json::<u64>(LABELS, "a/t/prod").await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store.get_json::<u64>(LABELS, "a/t/prod").await.unwrap(),
        Some(2)
    );
}

/// Listeners hear each written key once, after the commit, and nothing of a rolled-back write.
pub async fn changes_are_announced_after_commit_only(store: Store) {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    store.on_change(Arc::new(move |c: &Change| {
        h.lock().unwrap().push(c.clone())
    }));
    let _ = store
        .write(Scope::tenant("a"), |tx| {
            Box::pin(async move {
                tx.put_json(LABELS, "a/t/prod", &1u64).await?;
                Err::<(), _>(StorageError::Db("rolled back".into()))
            })
        })
        .await;
    assert!(
        heard.lock().unwrap().is_empty(),
        "a rolled-back write is not announced"
    );
    store
        .write(Scope::tenant("a"), |tx| {
            Box::pin(async move {
                tx.put_json(LABELS, "a/t/prod", &1u64).await?;
                tx.put_json(LABELS, "a/t/prod", &2u64).await
            })
        })
        .await
        .unwrap();
    let heard = heard.lock().unwrap().clone();
    assert_eq!(
        heard,
        vec![Change::Key {
            keyspace: LABELS,
            key: "a/t/prod".into()
        }]
    );
    assert_eq!(heard[0].tenant(), Some("a"));
}

/// Eight writers incrementing one counter through read-modify-write lose no increment, and
/// the audit chain they append to stays gap-free.
pub async fn concurrent_read_modify_writes_are_atomic(store: Store) {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                store
                    .write(Scope::tenant("a"), |tx| {
                        Box::pin(async move {
                            let n: u64 = tx.get_json(LABELS, "a/n/count").await?.unwrap_or(0);
                            tokio::task::yield_now().await;
                            tx.put_json(LABELS, "a/n/count", &(n + 1)).await?;
                            tx.audit(AuditEvent::new("a", "me", "count", format!("{w}/{i}")))
                                .await?;
                            Ok::<_, StorageError>(())
                        })
                    })
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        store.get_json::<u64>(LABELS, "a/n/count").await.unwrap(),
        Some(80)
    );
    let v = store.audit_verify(Some("a")).await.unwrap();
    assert!(v.ok && v.records == 80, "{v:?}");
}

/// Records chain per tenant, verify, and page with filters.
pub async fn audit_chains_append_verify_and_page(store: Store) {
    for (tenant, n) in [("a", 7), ("b", 2)] {
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
    let v = store.audit_verify(None).await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.records, 9);
    let mut q = AuditQuery {
        limit: 3,
        ..Default::default()
    };
    let p = store.audit_query("a", &q).await.unwrap();
    assert_eq!(p.records.len(), 3);
    assert_eq!(p.records[0].seq, 1);
    q.cursor = p.next_cursor;
    let p2 = store.audit_query("a", &q).await.unwrap();
    assert_eq!(p2.records[0].seq, 4);
    q.cursor = None;
    q.target = Some("t1".into());
    let p3 = store.audit_query("b", &q).await.unwrap();
    assert_eq!(p3.records.len(), 1);
    assert!(p3.next_cursor.is_none());
}

/// Records queued on the background writer are all committed once `flush` returns, so a
/// client reading the log right after its own requests sees them.
pub async fn queued_audit_records_are_readable_after_a_flush(store: Store) {
    let writer = AuditWriter::start(store.clone());
    for i in 0..500 {
        let tenant = if i % 2 == 0 { "a" } else { "b" };
        writer.record(AuditEvent::new(tenant, "me", "x.queued", format!("t{i}")));
    }
    writer.flush().await;
    let q = AuditQuery {
        limit: 1000,
        ..Default::default()
    };
    assert_eq!(store.audit_query("a", &q).await.unwrap().records.len(), 250);
    assert_eq!(store.audit_query("b", &q).await.unwrap().records.len(), 250);
    // A flush with nothing queued returns too.
    writer.flush().await;
    writer.close();
    // After close there is no writer to wait for: flush returns at once.
    writer.flush().await;
}
