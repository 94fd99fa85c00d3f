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

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Scope, StorageError, Store, decode, encode};

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

/// The last link of a tenant's chain, stored beside it so cutting off the tail is caught.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The last record's sequence number.
    pub seq: u64,
    /// The last record's hash.
    pub hash: String,
}

/// sha256 of a record's canonical JSON with `hash` empty.
pub fn record_hash(record: &AuditRecord) -> Result<String, StorageError> {
    let mut canonical = record.clone();
    canonical.hash = String::new();
    Ok(hex::encode(Sha256::digest(encode(&canonical)?)))
}

/// The next link of a chain whose head is `head` (`None` for an empty chain): the record to
/// store for `event` and the new head. Backends call this inside the write transaction that
/// holds the tenant's head.
pub fn next_link(
    head: Option<Head>,
    event: AuditEvent,
) -> Result<(AuditRecord, Head), StorageError> {
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
    let head = Head {
        seq,
        hash: record.hash.clone(),
    };
    Ok((record, head))
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

impl AuditQuery {
    /// Whether `record` passes the query's filters (the cursor and limit are the caller's).
    pub fn matches(&self, record: &AuditRecord) -> bool {
        let e = &record.event;
        self.since_ms.is_none_or(|t| record.time_ms >= t)
            && self.until_ms.is_none_or(|t| record.time_ms < t)
            && self.actor.as_ref().is_none_or(|a| &e.actor == a)
            && self.target.as_ref().is_none_or(|t| &e.target == t)
            && self.action.as_ref().is_none_or(|a| {
                &e.action == a || (a.ends_with('.') && e.action.starts_with(a.as_str()))
            })
    }
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

impl Verification {
    /// Every chain checked is intact: `records` records.
    pub fn intact(records: u64) -> Verification {
        Verification {
            ok: true,
            records,
            first_break: None,
        }
    }
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

/// Checks one tenant's chain as a backend walks it in sequence order.
pub struct ChainCheck<'a> {
    tenant: &'a str,
    expected_seq: u64,
    prev: String,
    checked: u64,
}

impl<'a> ChainCheck<'a> {
    /// Starts checking `tenant`'s chain; `checked` counts records of chains checked before.
    pub fn new(tenant: &'a str, checked: u64) -> Self {
        ChainCheck {
            tenant,
            expected_seq: 1,
            prev: GENESIS.to_owned(),
            checked,
        }
    }

    fn broken(&self, seq: u64, reason: String) -> Verification {
        Verification {
            ok: false,
            records: self.checked,
            first_break: Some(Break {
                tenant: self.tenant.to_owned(),
                seq,
                reason,
            }),
        }
    }

    /// Checks the record stored at `seq`; the failed verification at the first broken link.
    pub fn next(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Verification> {
        let record: AuditRecord = match decode("audit", bytes) {
            Ok(r) => r,
            Err(e) => return Err(self.broken(seq, format!("record cannot be read: {e}"))),
        };
        if seq != self.expected_seq {
            return Err(self.broken(
                self.expected_seq,
                format!(
                    "record {} is missing (next present is {seq})",
                    self.expected_seq
                ),
            ));
        }
        if record.seq != seq || record.event.tenant != self.tenant {
            return Err(self.broken(seq, "record is stored under the wrong key".into()));
        }
        if record.prev_hash != self.prev {
            return Err(self.broken(
                seq,
                "prev_hash does not match the previous record's hash".into(),
            ));
        }
        match record_hash(&record) {
            Ok(h) if h == record.hash => {}
            _ => {
                return Err(self.broken(
                    seq,
                    "hash does not match the record's content (edited)".into(),
                ));
            }
        }
        self.prev = record.hash;
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Checks the stored head against the last record; the number of records checked so far
    /// (this chain's and the earlier ones') when intact.
    pub fn finish(self, head: Option<Head>) -> Result<u64, Verification> {
        let last = self.expected_seq - 1;
        match head {
            Some(h) if h.seq == last && h.hash == self.prev => Ok(self.checked),
            Some(h) if h.seq > last => Err(self.broken(
                last + 1,
                format!("records {}..={} are missing (cut off)", last + 1, h.seq),
            )),
            None if last == 0 => Ok(self.checked),
            _ => Err(self.broken(last, "the chain head does not match the last record".into())),
        }
    }
}

/// What the writer thread is sent: a record, or a caller waiting until everything queued
/// before it is committed.
#[allow(clippy::large_enum_variant)] // nearly every item is a record; boxing would cost each one
enum Queued {
    Event(AuditEvent),
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// How long the writer waits for more records after the first of a batch before committing:
/// at one request at a time every record would otherwise be a commit (an fsync) of its own.
/// Records are already written after the response; this only delays them by at most this much.
pub const AUDIT_LINGER: std::time::Duration = std::time::Duration::from_millis(2);
/// Most records in one commit.
const MAX_AUDIT_BATCH: usize = 4096;

/// Commits audit records of calls and reads in batches on a background thread.
pub struct AuditWriter {
    tx: std::sync::Mutex<Option<mpsc::SyncSender<Queued>>>,
    /// The writer thread, to wake from its linger when a caller waits for the batch.
    writer: Option<std::thread::Thread>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl AuditWriter {
    /// Starts the writer thread for `store`. Called inside a tokio runtime, the thread runs
    /// its transactions on that runtime (where a networked backend's connections live);
    /// otherwise on a runtime of its own.
    pub fn start(store: Store) -> AuditWriter {
        let (tx, rx) = mpsc::sync_channel::<Queued>(65_536);
        let handle = tokio::runtime::Handle::try_current().ok();
        let thread = std::thread::Builder::new()
            .name("warden-audit".into())
            .spawn(move || {
                let own;
                let handle = match handle {
                    Some(h) => h,
                    None => match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => {
                            own = rt;
                            own.handle().clone()
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not start the audit writer");
                            return;
                        }
                    },
                };
                while let Ok(first) = rx.recv() {
                    let mut batch = Vec::new();
                    let mut waiting = Vec::new();
                    let mut next = Some(first);
                    let linger_until = std::time::Instant::now() + AUDIT_LINGER;
                    loop {
                        while let Some(item) = next.take() {
                            match item {
                                Queued::Event(e) => batch.push(e),
                                Queued::Flush(w) => waiting.push(w),
                            }
                            if batch.len() < MAX_AUDIT_BATCH {
                                next = rx.try_recv().ok();
                            }
                        }
                        // Nothing more queued yet: wait a little for more records, unless the
                        // batch is full or someone is waiting for it to be committed. The wait
                        // is a park, not a blocking receive, so that records sent meanwhile
                        // are queued without waking this thread once per record; `flush`
                        // unparks it.
                        let left = linger_until.saturating_duration_since(std::time::Instant::now());
                        if batch.len() >= MAX_AUDIT_BATCH || !waiting.is_empty() || left.is_zero() {
                            break;
                        }
                        std::thread::park_timeout(left);
                        next = rx.try_recv().ok();
                    }
                    if !batch.is_empty() {
                        // Fixed order, so backends that lock chain heads never deadlock.
                        batch.sort_by(|a, b| a.tenant.cmp(&b.tenant));
                        let n = batch.len();
                        let batch = &batch;
                        let result = handle.block_on(store.write(Scope::Global, |tx| {
                            Box::pin(async move {
                                for event in batch {
                                    tx.audit(event.clone()).await?;
                                }
                                Ok::<_, StorageError>(())
                            })
                        }));
                        if let Err(e) = result {
                            tracing::error!(error = %e, records = n, "could not write audit records");
                        }
                    }
                    for w in waiting {
                        let _ = w.send(());
                    }
                }
            })
            .ok();
        AuditWriter {
            tx: std::sync::Mutex::new(Some(tx)),
            writer: thread.as_ref().map(|t| t.thread().clone()),
            thread: std::sync::Mutex::new(thread),
        }
    }

    /// Queues a record; blocks only if thousands are already waiting (back-pressure).
    pub fn record(&self, event: AuditEvent) {
        match self.sender() {
            Some(tx) if tx.send(Queued::Event(event)).is_ok() => {}
            _ => tracing::error!("the audit writer has stopped; a record was lost"),
        }
    }

    /// Waits until every record queued before this call is committed (or failed and logged),
    /// so that a caller reading the log sees what its own earlier requests did.
    pub async fn flush(&self) {
        let Some(tx) = self.sender() else { return };
        let (done, wait) = tokio::sync::oneshot::channel();
        let sent = match tx.try_send(Queued::Flush(done)) {
            Ok(()) => true,
            // The queue is full: wait for room on a blocking thread, not on the runtime.
            Err(mpsc::TrySendError::Full(item)) => {
                tokio::task::spawn_blocking(move || tx.send(item).is_ok())
                    .await
                    .unwrap_or(false)
            }
            Err(mpsc::TrySendError::Disconnected(_)) => false,
        };
        if sent {
            // The writer may be lingering for more records: it is waiting for none now.
            if let Some(t) = self.writer.as_ref() {
                t.unpark();
            }
            let _ = wait.await;
        }
    }

    fn sender(&self) -> Option<mpsc::SyncSender<Queued>> {
        match self.tx.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Writes everything queued and stops the thread; later records are refused (and logged).
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            *tx = None;
        }
        if let Some(t) = self.writer.as_ref() {
            t.unpark();
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
