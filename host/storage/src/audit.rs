//! The tamper-evident audit log: one hash chain per tenant, in the same database as the data.
//!
//! A record holds who did what to which object, the outcome, and for sandbox calls the plugin
//! digest, fuel, duration and the sizes and keyed digests of input and output — never the
//! content (prompts, personal data, code). The digests are HMAC-SHA256 under a per-tenant key
//! derived from the vault master key, so an auditor can tell two equal inputs apart from
//! different ones but cannot confirm a guessed value (an e-mail address) by hashing it. Each record's `hash` is the sha256 of its own canonical JSON
//! (with `hash` empty), and each record carries the previous record's hash, so editing,
//! deleting or reordering any record breaks the chain at that point; the head table records
//! the last sequence number and hash, so cutting off the tail is caught too.
//!
//! Mutations append their record inside their own write transaction ([`append`]). Sandbox
//! calls and reads change nothing, so their records go through the [`AuditWriter`], which
//! commits them in batches: one fsync for many calls. A crash can lose at most the batch in
//! flight (records not yet committed), never produce a broken chain.

use std::sync::mpsc;
use std::thread::JoinHandle;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Db, StorageError, decode, encode, tables};

/// The secret behind the audit log's keyed digests, set once at start from the master key.
static DIGEST_SECRET: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();

/// Sets the secret the keyed input/output digests derive per-tenant keys from. The server
/// calls this once at start with a key derived from the vault master key, so digests stay
/// comparable across restarts; a process that never calls it (a benchmark, a unit test) gets
/// a random secret, never an unkeyed hash. Returns false if a secret was already set.
pub fn set_digest_secret(secret: [u8; 32]) -> bool {
    DIGEST_SECRET.set(secret).is_ok()
}

/// HMAC-SHA256 of `bytes` under the key of `tenant`, in hex.
pub fn keyed_digest(tenant: &str, bytes: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let secret = DIGEST_SECRET.get_or_init(rand::random::<[u8; 32]>);
    let tenant_key = {
        // Infallible: HMAC takes keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(b"warden/v1/audit-digest/");
        mac.update(tenant.as_bytes());
        mac.finalize().into_bytes()
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&tenant_key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(bytes);
    hex::encode(mac.finalize().into_bytes())
}

/// What happened, as the code that did it describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The tenant the action belongs to.
    pub tenant: String,
    /// Who did it (the token's subject).
    pub actor: String,
    /// What was done, such as `plugin.upload` or `template.render`.
    pub action: String,
    /// The object acted on, such as `plugin/acme/1.0.0`.
    pub target: String,
    /// `ok`, or the error's outcome name (`out_of_fuel`, `not_found`, ...).
    pub outcome: String,
    /// Non-content detail, such as `production: 2 -> 3` for a label move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The component that ran, for sandbox calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_digest: Option<String>,
    /// Fuel the call burned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// How long the call took, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
    /// Size of the call's input, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<u64>,
    /// HMAC-SHA256 of the call's input under the tenant's audit digest key (the field keeps
    /// its first name so records written before the key existed still verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_sha256: Option<String>,
    /// Size of the call's output, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
    /// HMAC-SHA256 of the call's output under the tenant's audit digest key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
}

impl AuditEvent {
    /// An event with the basic fields set and outcome `ok`.
    pub fn new(tenant: &str, actor: &str, action: &str, target: impl Into<String>) -> Self {
        AuditEvent {
            tenant: tenant.to_owned(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.into(),
            outcome: "ok".into(),
            ..Default::default()
        }
    }

    /// Records the size and digest of the call's input.
    pub fn input(mut self, bytes: &[u8]) -> Self {
        self.input_bytes = Some(bytes.len() as u64);
        self.input_sha256 = Some(keyed_digest(&self.tenant, bytes));
        self
    }

    /// Records the size and digest of the call's output.
    pub fn output(mut self, bytes: &[u8]) -> Self {
        self.output_bytes = Some(bytes.len() as u64);
        self.output_sha256 = Some(keyed_digest(&self.tenant, bytes));
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = outcome.into();
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// A stored audit record: the event plus its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Position in the tenant's chain, from 1.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The event.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub event: AuditEvent,
    /// Hash of the previous record (64 zeros for the first).
    pub prev_hash: String,
    /// sha256 of this record's canonical JSON with `hash` empty.
    pub hash: String,
}

/// The start of every chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

fn record_hash(record: &AuditRecord) -> Result<String, StorageError> {
    let mut canonical = record.clone();
    canonical.hash = String::new();
    Ok(hex::encode(Sha256::digest(encode(&canonical)?)))
}

/// Appends `event` to its tenant's chain inside `txn`; returns the stored record.
pub fn append(
    txn: &redb::WriteTransaction,
    event: AuditEvent,
) -> Result<AuditRecord, StorageError> {
    let mut heads = txn.open_table(tables::AUDIT_HEADS)?;
    let head: Option<Head> = match heads.get(event.tenant.as_str())? {
        Some(v) => Some(decode("audit_heads", v.value())?),
        None => None,
    };
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (1, GENESIS.to_owned()),
    };
    let mut record = AuditRecord {
        seq,
        time_ms: super::now_ms(),
        event,
        prev_hash,
        hash: String::new(),
    };
    record.hash = record_hash(&record)?;
    let tenant = record.event.tenant.clone();
    let mut log = txn.open_table(tables::AUDIT)?;
    log.insert((tenant.as_str(), seq), encode(&record)?.as_slice())?;
    let head = encode(&Head {
        seq,
        hash: record.hash.clone(),
    })?;
    heads.insert(tenant.as_str(), head.as_slice())?;
    Ok(record)
}

/// Which records a query wants.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Records at or after this time (ms).
    pub since_ms: Option<u64>,
    /// Records before this time (ms).
    pub until_ms: Option<u64>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action (exact, or a prefix ending in `.` such as `template.`).
    pub action: Option<String>,
    /// Only this target (exact).
    pub target: Option<String>,
    /// Start at this sequence number (the previous page's `next_cursor`).
    pub cursor: Option<u64>,
    /// At most this many records.
    pub limit: usize,
}

/// One page of records.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// The records, oldest first.
    pub records: Vec<AuditRecord>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<u64>,
}

/// Reads one tenant's records matching `q`.
pub fn query(db: &Db, tenant: &str, q: &AuditQuery) -> Result<AuditPage, StorageError> {
    let txn = db.read()?;
    let log = txn.open_table(tables::AUDIT)?;
    let start = q.cursor.unwrap_or(1);
    let mut records = Vec::new();
    let mut next_cursor = None;
    for entry in log.range((tenant, start)..=(tenant, u64::MAX))? {
        let (k, v) = entry?;
        let record: AuditRecord = decode("audit", v.value())?;
        let e = &record.event;
        let keep = q.since_ms.is_none_or(|t| record.time_ms >= t)
            && q.until_ms.is_none_or(|t| record.time_ms < t)
            && q.actor.as_ref().is_none_or(|a| &e.actor == a)
            && q.target.as_ref().is_none_or(|t| &e.target == t)
            && q.action.as_ref().is_none_or(|a| {
                &e.action == a || (a.ends_with('.') && e.action.starts_with(a.as_str()))
            });
        if !keep {
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

/// The result of walking a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// Whether every chain checked is intact.
    pub ok: bool,
    /// Records checked.
    pub records: u64,
    /// The first broken link, if any.
    pub first_break: Option<Break>,
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Break {
    /// The tenant whose chain is broken.
    pub tenant: String,
    /// The sequence number of the first bad record (or where one is missing).
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// Walks the chain of `tenant` (or every tenant's chain) and reports the first broken link.
pub fn verify(db: &Db, tenant: Option<&str>) -> Result<Verification, StorageError> {
    let txn = db.read()?;
    let heads = txn.open_table(tables::AUDIT_HEADS)?;
    let log = txn.open_table(tables::AUDIT)?;
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
        let broken = |records: u64, seq: u64, reason: String| Verification {
            ok: false,
            records,
            first_break: Some(Break {
                tenant: t.clone(),
                seq,
                reason,
            }),
        };
        let mut expected_seq = 1u64;
        let mut prev = GENESIS.to_owned();
        for entry in log.range((t.as_str(), 0)..=(t.as_str(), u64::MAX))? {
            let (k, v) = entry?;
            let seq = k.value().1;
            let record: AuditRecord = match decode("audit", v.value()) {
                Ok(r) => r,
                Err(e) => return Ok(broken(checked, seq, format!("record cannot be read: {e}"))),
            };
            if seq != expected_seq {
                return Ok(broken(
                    checked,
                    expected_seq,
                    format!("record {expected_seq} is missing (next present is {seq})"),
                ));
            }
            if record.seq != seq || record.event.tenant != *t {
                return Ok(broken(
                    checked,
                    seq,
                    "record is stored under the wrong key".into(),
                ));
            }
            if record.prev_hash != prev {
                return Ok(broken(
                    checked,
                    seq,
                    "prev_hash does not match the previous record's hash".into(),
                ));
            }
            if record_hash(&record)? != record.hash {
                return Ok(broken(
                    checked,
                    seq,
                    "hash does not match the record's content (edited)".into(),
                ));
            }
            prev = record.hash;
            expected_seq += 1;
            checked += 1;
        }
        let head: Option<Head> = match heads.get(t.as_str())? {
            Some(v) => Some(decode("audit_heads", v.value())?),
            None => None,
        };
        let last = expected_seq - 1;
        match head {
            Some(h) if h.seq == last && h.hash == prev => {}
            Some(h) if h.seq > last => {
                return Ok(broken(
                    checked,
                    last + 1,
                    format!("records {}..={} are missing (cut off)", last + 1, h.seq),
                ));
            }
            None if last == 0 => {}
            _ => {
                return Ok(broken(
                    checked,
                    last,
                    "the chain head does not match the last record".into(),
                ));
            }
        }
    }
    Ok(Verification {
        ok: true,
        records: checked,
        first_break: None,
    })
}

/// Verifies a database file without a running server (`warden audit verify`).
pub fn verify_file(path: &std::path::Path) -> Result<Verification, StorageError> {
    let db = Db {
        db: redb::Database::open(path)?,
    };
    verify(&db, None)
}

/// Commits audit records of calls and reads in batches on a background thread.
pub struct AuditWriter {
    tx: std::sync::Mutex<Option<mpsc::SyncSender<AuditEvent>>>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl AuditWriter {
    /// Starts the writer thread for `db`.
    pub fn start(db: std::sync::Arc<Db>) -> AuditWriter {
        let (tx, rx) = mpsc::sync_channel::<AuditEvent>(65_536);
        let thread = std::thread::Builder::new()
            .name("warden-audit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < 4096 {
                        match rx.try_recv() {
                            Ok(e) => batch.push(e),
                            Err(_) => break,
                        }
                    }
                    let n = batch.len();
                    let result = db.write(|txn| {
                        for event in batch {
                            append(txn, event)?;
                        }
                        Ok::<_, StorageError>(())
                    });
                    if let Err(e) = result {
                        tracing::error!(error = %e, records = n, "could not write audit records");
                    }
                }
            })
            .ok();
        AuditWriter {
            tx: std::sync::Mutex::new(Some(tx)),
            thread: std::sync::Mutex::new(thread),
        }
    }

    /// Queues a record; blocks only if thousands are already waiting (back-pressure).
    pub fn record(&self, event: AuditEvent) {
        let tx = match self.tx.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        match tx {
            Some(tx) if tx.send(event).is_ok() => {}
            _ => tracing::error!("the audit writer has stopped; a record was lost"),
        }
    }

    /// Writes everything queued and stops the thread; later records are refused (and logged).
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            *tx = None;
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for AuditWriter {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("w.redb")).unwrap();
        (dir, db)
    }

    fn add(db: &Db, tenant: &str, n: usize) {
        for i in 0..n {
            db.write(|txn| append(txn, AuditEvent::new(tenant, "me", "x.y", format!("t{i}"))))
                .unwrap();
        }
    }

    #[test]
    fn intact_chains_verify() {
        let (_d, db) = db();
        add(&db, "a", 5);
        add(&db, "b", 3);
        let v = verify(&db, None).unwrap();
        assert!(v.ok, "{v:?}");
        assert_eq!(v.records, 8);
    }

    #[test]
    fn an_edited_record_is_found() {
        let (_d, db) = db();
        add(&db, "a", 5);
        db.write(|txn| {
            let mut log = txn.open_table(tables::AUDIT)?;
            let bytes = log.get(("a", 3))?.unwrap().value().to_vec();
            let mut r: AuditRecord = decode("audit", &bytes)?;
            r.event.actor = "someone-else".into();
            log.insert(("a", 3), encode(&r)?.as_slice())?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
        let v = verify(&db, None).unwrap();
        assert_eq!(v.first_break.unwrap().seq, 3);
    }

    #[test]
    fn deleted_and_cut_records_are_found() {
        let (_d, db) = db();
        add(&db, "a", 5);
        db.write(|txn| {
            txn.open_table(tables::AUDIT)?.remove(("a", 2))?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
        assert_eq!(verify(&db, None).unwrap().first_break.unwrap().seq, 2);
        let (_d2, db) = self::db();
        add(&db, "a", 5);
        db.write(|txn| {
            txn.open_table(tables::AUDIT)?.remove(("a", 5))?;
            Ok::<_, StorageError>(())
        })
        .unwrap();
        assert_eq!(verify(&db, None).unwrap().first_break.unwrap().seq, 5);
    }

    #[test]
    fn query_filters_and_pages() {
        let (_d, db) = db();
        add(&db, "a", 7);
        add(&db, "b", 2);
        let mut q = AuditQuery {
            limit: 3,
            ..Default::default()
        };
        let p = query(&db, "a", &q).unwrap();
        assert_eq!(p.records.len(), 3);
        q.cursor = p.next_cursor;
        let p2 = query(&db, "a", &q).unwrap();
        assert_eq!(p2.records[0].seq, 4);
        q.cursor = None;
        q.target = Some("t1".into());
        let p3 = query(&db, "b", &q).unwrap();
        assert_eq!(p3.records.len(), 1);
        assert!(p3.next_cursor.is_none());
    }
}
