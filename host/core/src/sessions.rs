//! REPL-style code sessions that survive restarts: each eval runs in a live instance, and the
//! interpreter's snapshot is stored (sealed with the tenant's key) after every eval, so any
//! request — after a restart, on another worker — can resume the session.
//!
//! Evals on one session are serialised by a per-session lock. Live instances are a cache:
//! at most a bounded number are kept, the least recently used is dropped (its state is already
//! stored), and an eval on a session without a live instance restores it from its snapshot.
//! After a limit or a trap the instance is discarded and the session rolls back to its state
//! after its last successful eval.

use crate::settings::{Invalid, invalid};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use warden_engine::{
    CallError, CallReport, CodeSession, Engine, EvalOutput, LimitOverrides, Limits, NoTools,
    Outcome, Plugin, SessionOptions, World,
};
use warden_storage::audit::AuditEvent;
use warden_storage::{Scope, StorageError, Store, Tx, now_ms, rfc3339, tables};

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::pii::crypto::MasterKey;
use crate::refs::{Referrer, Usage};
use crate::registry::plugins::{PluginRef, Plugins};
use crate::sandbox::Sandbox;

/// A stored session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionRecord {
    /// Its id.
    pub id: String,
    /// The code-runner component it runs on.
    pub runner: PluginRef,
    /// Interpreter options.
    #[schema(value_type = Object)]
    pub options: SessionOptions,
    /// Limits for each eval.
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
    /// Who created it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Last eval or creation, ms since the epoch.
    pub last_used_ms: u64,
    /// Successful evals so far.
    pub evals: u64,
    /// Forked from this session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<String>,
    /// Size of its stored state (the sealed snapshot), bytes: what the per-session and
    /// per-tenant snapshot caps count.
    #[serde(default)]
    pub snapshot_bytes: u64,
    /// How many times its stored state was replaced: a replica reuses its live instance only
    /// at the stored generation, and restores the snapshot otherwise.
    #[serde(default)]
    pub generation: u64,
}

/// A request to create a session.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// The code-runner: `python` (built-in monty, default), `cpython` (built-in CPython: the
    /// whole language and standard library, a slower start) or an uploaded plugin
    /// (`name[@version]`).
    pub runner: Option<String>,
    /// Interpreter options.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: SessionOptions,
    /// Limits for each eval (within host caps).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
}

/// Code to evaluate.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvalRequest {
    /// The code.
    pub code: String,
}

/// A one-shot evaluation.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OneShot {
    /// The code.
    pub code: String,
    /// The code-runner: `python` (default), `cpython` or an uploaded plugin.
    pub runner: Option<String>,
    /// Interpreter options.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: SessionOptions,
    /// Limits (within host caps).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
}

/// An eval's result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvalResponse {
    /// Everything printed.
    pub stdout: String,
    /// `repr()` of the last expression, if any.
    pub repr: Option<String>,
    /// The last expression as JSON, when representable.
    pub json: Option<serde_json::Value>,
    /// Fuel burned.
    pub fuel: u64,
    /// Call duration, microseconds.
    pub duration_us: u64,
}

impl EvalResponse {
    fn new(out: EvalOutput, report: &CallReport) -> Self {
        EvalResponse {
            stdout: out.stdout,
            repr: out.repr,
            json: out.json.and_then(|j| serde_json::from_str(&j).ok()),
            fuel: report.fuel_used,
            duration_us: u64::try_from(report.duration.as_micros()).unwrap_or(u64::MAX),
        }
    }
}

struct Slot {
    live: Option<CodeSession>,
    /// The stored generation `live` holds.
    generation: u64,
    used: Instant,
}

/// Who holds a session's eval lease, and until when.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct LeaseRecord {
    token: u64,
    until_ms: u64,
}

/// One eval's hold on a session across replicas: taken before the eval reads the stored state,
/// checked and released in the transaction that stores the new state, released on any other
/// way out. A replica that dies holding it delays the session's next eval until it expires.
struct Lease {
    store: Store,
    tenant: String,
    key: String,
    token: u64,
    released: bool,
}

impl Lease {
    /// Waits for the session's lease (held elsewhere at most `hold`, the longest an eval runs,
    /// plus a margin) and takes it for `hold`.
    async fn acquire(store: &Store, tenant: &str, id: &str, hold: Duration) -> Result<Lease> {
        let k = key(tenant, id);
        let token = rand::random::<u64>();
        let hold_ms = u64::try_from(hold.as_millis()).unwrap_or(u64::MAX / 4);
        let deadline = Instant::now() + hold + LEASE_MARGIN;
        let mut pause = Duration::from_millis(10);
        loop {
            let k = k.as_str();
            let held = store
                .write(Scope::tenant(tenant), |tx| {
                    Box::pin(async move {
                        let now = now_ms();
                        if let Some(h) = tx
                            .get_json::<LeaseRecord>(tables::SESSION_LEASES, k)
                            .await?
                            && h.until_ms > now
                            && h.token != token
                        {
                            return Ok(true);
                        }
                        let until_ms = now.saturating_add(hold_ms);
                        tx.put_json(tables::SESSION_LEASES, k, &LeaseRecord { token, until_ms })
                            .await?;
                        Ok::<_, Error>(false)
                    })
                })
                .await?;
            if !held {
                return Ok(Lease {
                    store: store.clone(),
                    tenant: tenant.to_owned(),
                    key: k.to_owned(),
                    token,
                    released: false,
                });
            }
            if Instant::now() >= deadline {
                return Err(Error::Conflict(format!(
                    "session {id} is busy: another eval on it is still running on another replica"
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Inside the transaction that stores the eval's result: whether the lease is still this
    /// eval's (nobody took it over after it expired), and if so releases it.
    async fn settle(&self, tx: &Tx) -> Result<bool> {
        let held = tx
            .get_json::<LeaseRecord>(tables::SESSION_LEASES, &self.key)
            .await?;
        if held.is_some_and(|h| h.token == self.token) {
            tx.delete(tables::SESSION_LEASES, &self.key).await?;
            return Ok(true);
        }
        Ok(false)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, tenant, k, token) = (
            self.store.clone(),
            std::mem::take(&mut self.tenant),
            std::mem::take(&mut self.key),
            self.token,
        );
        rt.spawn(async move {
            let k = k.as_str();
            let released = store
                .write(Scope::tenant(&tenant), |tx| {
                    Box::pin(async move {
                        let held = tx.get_json::<LeaseRecord>(tables::SESSION_LEASES, k).await?;
                        if held.is_some_and(|h| h.token == token) {
                            tx.delete(tables::SESSION_LEASES, k).await?;
                        }
                        Ok::<_, StorageError>(())
                    })
                })
                .await;
            if let Err(e) = released {
                tracing::warn!(error = %e, session = k, "cannot release a session lease; it expires");
            }
        });
    }
}

/// Added to the longest eval when waiting for another replica's lease.
const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// Live session instances and the per-session locks.
struct LiveSessions {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    max_live: usize,
}

impl LiveSessions {
    fn slot(&self, key: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut map = match self.slots.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        map.entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(Slot {
                    live: None,
                    generation: 0,
                    used: Instant::now(),
                }))
            })
            .clone()
    }

    fn forget(&self, key: &str) {
        if let Ok(mut map) = self.slots.lock() {
            map.remove(key);
        }
    }

    /// Drops the least recently used live instances beyond the bound (their state is stored).
    fn evict(&self, keep: &str) {
        let slots: Vec<(String, Arc<tokio::sync::Mutex<Slot>>)> = match self.slots.lock() {
            Ok(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Err(_) => return,
        };
        let mut live: Vec<(Instant, String, Arc<tokio::sync::Mutex<Slot>>)> = slots
            .into_iter()
            .filter_map(|(k, s)| {
                let g = s.try_lock().ok()?;
                g.live.as_ref()?;
                Some((g.used, k, s.clone()))
            })
            .collect();
        if live.len() <= self.max_live {
            return;
        }
        live.sort_by_key(|(t, _, _)| *t);
        let excess = live.len() - self.max_live;
        for (_, k, s) in live.into_iter().filter(|(_, k, _)| k != keep).take(excess) {
            if let Ok(mut g) = s.try_lock() {
                g.live = None;
            }
            tracing::debug!(session = %k, "dropped an idle live session instance");
        }
    }
}

fn key(tenant: &str, id: &str) -> String {
    format!("{tenant}/{id}")
}

fn aad(tenant: &str, id: &str) -> Vec<u8> {
    format!("warden/session/{tenant}/{id}").into_bytes()
}

fn new_id() -> String {
    format!("s_{}", hex::encode(rand::random::<[u8; 16]>()))
}

fn check_id(id: &str) -> Result<()> {
    if id.len() == 34 && id.starts_with("s_") && id[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::not_found(
            "session",
            id.chars().take(64).collect::<String>(),
        ))
    }
}

/// Code-runner sessions: stored records and sealed snapshots, live instances kept between
/// evals, and the per-session lock that serialises evals of one session.
pub struct Sessions {
    store: Store,
    sandbox: Arc<Sandbox>,
    plugins: Arc<Plugins>,
    keys: Arc<MasterKey>,
    config: SessionsConfig,
    live: LiveSessions,
}

impl Sessions {
    /// The sessions stored in `sandbox`'s database, sealed with `keys`; at most `max_live`
    /// instances are kept live between evals (the rest restore from their snapshot).
    pub fn new(
        sandbox: Arc<Sandbox>,
        plugins: Arc<Plugins>,
        keys: Arc<MasterKey>,
        config: SessionsConfig,
        max_live: usize,
    ) -> Sessions {
        Sessions {
            store: sandbox.store().clone(),
            sandbox,
            plugins,
            keys,
            config,
            live: LiveSessions {
                slots: Mutex::new(HashMap::new()),
                max_live,
            },
        }
    }

    /// One stored session.
    pub async fn get(&self, who: &Principal, id: &str) -> Result<SessionRecord> {
        check_id(id)?;
        self.store
            .get_json(tables::SESSIONS, &key(&who.tenant, id))
            .await?
            .ok_or_else(|| Error::not_found("session", id))
    }

    /// Every session of the tenant.
    pub async fn list(&self, who: &Principal) -> Result<Vec<SessionRecord>> {
        Ok(self
            .store
            .scan_json::<SessionRecord>(tables::SESSIONS, &format!("{}/", who.tenant))
            .await?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    /// Creates a session (its instance starts on first eval).
    pub async fn create(&self, who: &Principal, req: CreateSession) -> Result<SessionRecord> {
        check_tools(&req.options.tools)?;
        let runner = req.runner.as_deref().unwrap_or("python");
        let (pref, _plugin) = self.plugins.resolve(who, runner, World::CodeRunner).await?;
        let record = SessionRecord {
            id: new_id(),
            runner: pref,
            options: req.options,
            limits: req.limits,
            created_by: who.actor.clone(),
            created_at: rfc3339(now_ms()),
            last_used_ms: now_ms(),
            evals: 0,
            forked_from: None,
            snapshot_bytes: 0,
            generation: 0,
        };
        let max = self.config.max_per_tenant;
        let record_ref = &record;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let record = record_ref;
                    check_session_cap(&tx, &who.tenant, max).await?;
                    tx.put_json(tables::SESSIONS, &key(&who.tenant, &record.id), record)
                        .await?;
                    self.plugins.pin_builtin(&tx, &record.runner.digest).await?;
                    let mut event = AuditEvent::new(
                        &who.tenant,
                        &who.actor,
                        "session.create",
                        format!("session/{}", record.id),
                    );
                    event.plugin_digest = Some(record.runner.digest.clone());
                    tx.audit(event).await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        Ok(record)
    }

    /// Reads and opens a session's stored state on the blocking pool: a snapshot can be tens of
    /// megabytes, and decrypting it must not hold an async worker other tenants need.
    async fn load_snapshot(&self, who: &Principal, id: &str) -> Result<Option<Vec<u8>>> {
        let tenant_key = self.keys.tenant_key(&who.tenant);
        let (k, aad, id) = (key(&who.tenant, id), aad(&who.tenant, id), id.to_owned());
        let Some(sealed) = self.store.get_bytes(tables::SNAPSHOTS, &k).await? else {
            return Ok(None);
        };
        tokio::task::spawn_blocking(move || {
            tenant_key.open(&aad, &sealed).map(Some).map_err(|e| {
                Error::Internal(format!("session {id} snapshot cannot be opened: {e}"))
            })
        })
        .await
        .map_err(|e| Error::Internal(format!("snapshot read did not complete: {e}")))?
    }

    fn check_snapshot_size(&self, size: u64, others: u64) -> Result<()> {
        let per_session = self.config.max_snapshot_bytes;
        if size > per_session {
            return Err(Error::TooLarge {
                what: "the session's state after this cell (its effects were discarded)",
                size,
                limit: per_session,
            });
        }
        let per_tenant = self.config.max_tenant_snapshot_bytes;
        if others.saturating_add(size) > per_tenant {
            return Err(Error::TooLarge {
                what: "the state of all this tenant's sessions (this cell's effects were discarded)",
                size: others.saturating_add(size),
                limit: per_tenant,
            });
        }
        Ok(())
    }

    /// Evaluates code in a session; the new state is stored before the response.
    pub async fn eval(&self, who: &Principal, id: &str, code: String) -> Result<EvalResponse> {
        let record = self.get(who, id).await?;
        let slot_key = key(&who.tenant, id);
        let slot = self.live.slot(&slot_key);
        let mut guard = slot.lock().await;
        let (plugin, limits) = self
            .plugins
            .prepare(who, &record.runner, &record.limits)
            .await?;
        // With replicas, evals on one session are serialised wherever they were sent.
        let mut lease = match self.store.shared() {
            true => Some(Lease::acquire(&self.store, &who.tenant, id, limits.wall_time).await?),
            false => None,
        };
        // The record may have changed while we waited (another eval, here or on another
        // replica); re-read it, and use the live instance only if it holds the stored state.
        let mut record = self.get(who, id).await.unwrap_or(record);
        let live = guard
            .live
            .take()
            .filter(|_| guard.generation == record.generation);
        let snapshot = if live.is_none() {
            self.load_snapshot(who, id).await?
        } else {
            None
        };
        let options = record.options.clone();
        let event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "session.eval",
            format!("session/{id}"),
        )
        .input(code.as_bytes());
        let (world, digest) = (plugin.world(), plugin.digest().to_owned());
        // A live instance the call could not use is dropped: its state is the stored snapshot's.
        let ran = self
            .sandbox
            .run(
                event,
                world,
                digest,
                move |engine| eval_in(engine, &plugin, live, snapshot, &options, limits, &code),
                |out: &EvalOutput| serde_json::to_vec(out).unwrap_or_default(),
            )
            .await?;
        let (session, new_snapshot) = ran.extra;
        let (outcome, event) = (ran.outcome.0, ran.event);
        match new_snapshot {
            Some(snap) => {
                // Refused before anything else is spent on it: the live instance (which holds the
                // too-large state) is dropped, the stored state stays as it was.
                if let Err(e) = self.check_snapshot_size(snap.len() as u64, 0) {
                    guard.live = None;
                    self.sandbox.audit(event.outcome("too_large"));
                    return Err(e);
                }
                record.last_used_ms = now_ms();
                if outcome.result.is_ok() {
                    record.evals += 1;
                }
                let tenant_key = self.keys.tenant_key(&who.tenant);
                let (aad, max_tenant) =
                    (aad(&who.tenant, id), self.config.max_tenant_snapshot_bytes);
                let max_session = self.config.max_snapshot_bytes;
                // Sealing tens of megabytes happens on the blocking pool, so no async worker (and
                // no other tenant's request) waits for it.
                let sealed = tokio::task::spawn_blocking(move || {
                    tenant_key
                        .seal(&aad, &snap)
                        .map_err(|e| Error::Internal(format!("cannot seal snapshot: {e}")))
                })
                .await
                .map_err(|e| Error::Internal(format!("snapshot write did not complete: {e}")))?;
                let stored = match sealed {
                    Err(e) => Err(e),
                    Ok(sealed) => {
                        record.snapshot_bytes = sealed.len() as u64;
                        record.generation += 1;
                        let (tenant, write_key) = (who.tenant.as_str(), slot_key.as_str());
                        let (record, sealed, event) = (&record, &sealed, &event);
                        let lease = lease.as_ref();
                        self.store
                            .write(Scope::tenant(tenant), |tx| {
                                Box::pin(async move {
                                    // Deleted while running: do not resurrect it.
                                    if tx
                                        .get_json::<SessionRecord>(tables::SESSIONS, write_key)
                                        .await?
                                        .is_none()
                                    {
                                        return Ok(false);
                                    }
                                    if let Some(lease) = lease
                                        && !lease.settle(&tx).await?
                                    {
                                        return Err(Error::Conflict(
                                            "the session's lease expired while this cell ran, \
                                             and another eval took it: this cell's effects were \
                                             discarded"
                                                .into(),
                                        ));
                                    }
                                    let others =
                                        tenant_snapshot_bytes(&tx, tenant, &record.id).await?;
                                    if others.saturating_add(record.snapshot_bytes) > max_tenant {
                                        return Err(Error::TooLarge {
                                            what: "the state of all this tenant's sessions (this \
                                                   cell's effects were discarded)",
                                            size: others.saturating_add(record.snapshot_bytes),
                                            limit: max_tenant,
                                        });
                                    }
                                    if record.snapshot_bytes > max_session.saturating_add(4096) {
                                        return Err(Error::TooLarge {
                                            what: "the session's state after this cell (its \
                                                   effects were discarded)",
                                            size: record.snapshot_bytes,
                                            limit: max_session,
                                        });
                                    }
                                    tx.put_json(tables::SESSIONS, write_key, record).await?;
                                    tx.put_bytes(tables::SNAPSHOTS, write_key, sealed).await?;
                                    tx.audit(event.clone()).await?;
                                    Ok::<_, Error>(true)
                                })
                            })
                            .await
                    }
                };
                match stored {
                    Ok(true) => {
                        if let Some(l) = lease.as_mut() {
                            l.released = true;
                        }
                        guard.live = session;
                        guard.generation = record.generation;
                        guard.used = Instant::now();
                    }
                    Ok(false) => {}
                    Err(e) => {
                        guard.live = None;
                        return Err(e);
                    }
                }
            }
            None => {
                guard.live = None;
                self.sandbox.audit(event);
            }
        }
        drop(guard);
        self.live.evict(&slot_key);
        match outcome.result {
            Ok(out) => Ok(EvalResponse::new(out, &outcome.report)),
            Err(e) => Err(Error::call(e, outcome.report)),
        }
    }

    /// Copies a session (its stored state) under a new id.
    pub async fn fork(&self, who: &Principal, id: &str) -> Result<SessionRecord> {
        let source = self.get(who, id).await?;
        let slot = self.live.slot(&key(&who.tenant, id));
        let _guard = slot.lock().await;
        let snapshot = self.load_snapshot(who, id).await?;
        let mut record = source.clone();
        record.id = new_id();
        record.created_by = who.actor.clone();
        record.created_at = rfc3339(now_ms());
        record.last_used_ms = now_ms();
        record.forked_from = Some(id.to_owned());
        let sealed = match snapshot {
            Some(s) => {
                let (tenant_key, aad) = (
                    self.keys.tenant_key(&who.tenant),
                    aad(&who.tenant, &record.id),
                );
                Some(
                    tokio::task::spawn_blocking(move || tenant_key.seal(&aad, &s))
                        .await
                        .map_err(|e| {
                            Error::Internal(format!("snapshot copy did not complete: {e}"))
                        })?
                        .map_err(|e| Error::Internal(format!("cannot seal snapshot: {e}")))?,
                )
            }
            None => None,
        };
        record.snapshot_bytes = sealed.as_ref().map_or(0, |s| s.len() as u64);
        let max = self.config.max_per_tenant;
        let max_tenant = self.config.max_tenant_snapshot_bytes;
        let (record_ref, sealed) = (&record, &sealed);
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let record = record_ref;
                    check_session_cap(&tx, &who.tenant, max).await?;
                    let others = tenant_snapshot_bytes(&tx, &who.tenant, &record.id).await?;
                    if others.saturating_add(record.snapshot_bytes) > max_tenant {
                        return Err(Error::TooLarge {
                            what: "the state of all this tenant's sessions with this copy",
                            size: others.saturating_add(record.snapshot_bytes),
                            limit: max_tenant,
                        });
                    }
                    let k = key(&who.tenant, &record.id);
                    tx.put_json(tables::SESSIONS, &k, record).await?;
                    if let Some(s) = sealed {
                        tx.put_bytes(tables::SNAPSHOTS, &k, s).await?;
                    }
                    tx.audit(
                        AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            "session.fork",
                            format!("session/{}", record.id),
                        )
                        .detail(format!("from session/{id}")),
                    )
                    .await?;
                    Ok::<_, Error>(())
                })
            })
            .await?;
        Ok(record)
    }

    /// Deletes a session and its state.
    pub async fn delete(&self, who: &Principal, id: &str) -> Result<()> {
        check_id(id)?;
        let k = key(&who.tenant, id);
        let slot = self.live.slot(&k);
        let mut guard = slot.lock().await;
        let result = self
            .remove(&who.tenant, &who.actor, id, "session.delete")
            .await;
        guard.live = None;
        drop(guard);
        self.live.forget(&k);
        result
    }

    async fn remove(&self, tenant: &str, actor: &str, id: &str, action: &str) -> Result<()> {
        let k = &key(tenant, id);
        self.store
            .write(Scope::tenant(tenant), |tx| {
                Box::pin(async move {
                    if !tx.delete(tables::SESSIONS, k).await? {
                        return Err(Error::not_found("session", id));
                    }
                    tx.delete(tables::SNAPSHOTS, k).await?;
                    tx.delete(tables::SESSION_LEASES, k).await?;
                    tx.audit(AuditEvent::new(
                        tenant,
                        actor,
                        action,
                        format!("session/{id}"),
                    ))
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Deletes sessions idle for longer than the configured TTL; returns how many (only the
    /// ones this call removed: another replica's sweep may race it, and each removal is audited
    /// once).
    pub async fn expire_idle(&self) -> Result<usize> {
        let ttl = u64::try_from(self.config.idle_ttl.as_millis()).unwrap_or(u64::MAX);
        let now = now_ms();
        let idle: Vec<(String, SessionRecord)> = self
            .store
            .scan_json::<SessionRecord>(tables::SESSIONS, "")
            .await?
            .into_iter()
            .filter(|(_, s)| s.last_used_ms.saturating_add(ttl) <= now)
            .collect();
        let mut n = 0;
        for (k, s) in idle {
            let tenant = k.split('/').next().unwrap_or_default().to_owned();
            if let Ok(mut map) = self.live.slots.lock()
                && let Some(slot) = map.get(&k)
            {
                // Busy right now: not idle after all.
                if slot.try_lock().is_err() {
                    continue;
                }
                map.remove(&k);
            }
            // Running on another replica right now: not idle either.
            if let Ok(Some(lease)) = self
                .store
                .get_json::<LeaseRecord>(tables::SESSION_LEASES, &k)
                .await
                && lease.until_ms > now_ms()
            {
                continue;
            }
            if self
                .remove(&tenant, "warden", &s.id, "session.expire")
                .await
                .is_ok()
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Runs code once in a fresh instance; nothing is stored but the audit record.
    pub async fn one_shot(&self, who: &Principal, req: OneShot) -> Result<EvalResponse> {
        let runner = req.runner.as_deref().unwrap_or("python");
        let (pref, plugin, limits) = self
            .plugins
            .resolve_limited(who, runner, World::CodeRunner, &req.limits)
            .await?;
        let event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "code.eval",
            format!("plugin/{}/{}", pref.name, pref.version),
        )
        .input(req.code.as_bytes());
        let options = req.options;
        let code = req.code;
        let (out, report) = self
            .sandbox
            .call(
                event,
                plugin,
                move |engine, plugin| {
                    let opened = engine.start_session(plugin, &options, limits, Arc::new(NoTools));
                    match opened.result {
                        Ok(mut s) => {
                            let mut out = s.eval(&code);
                            s.close();
                            out.report.fuel_used += opened.report.fuel_used;
                            out.report.duration += opened.report.duration;
                            out
                        }
                        Err(e) => Outcome {
                            result: Err(e),
                            report: opened.report,
                        },
                    }
                },
                |o: &EvalOutput| serde_json::to_vec(o).unwrap_or_default(),
            )
            .await?;
        Ok(EvalResponse::new(out, &report))
    }
}

/// Refuses `options.tools` at creation rather than at the first tool call: a standalone
/// session runs with no host tools (only pipeline code steps are granted them), and a name that
/// is no tool at all is a typo the caller must hear about.
fn check_tools(tools: &[String]) -> Result<()> {
    let known = crate::pipelines::registry::TOOLS;
    if let Some(unknown) = tools.iter().find(|t| !known.contains(&t.as_str())) {
        return Err(Error::BadRequest(format!(
            "options.tools: unknown tool \"{}\"; the tools are {}",
            unknown.escape_default(),
            known.join(", ")
        )));
    }
    if let Some(tool) = tools.first() {
        return Err(Error::BadRequest(format!(
            "options.tools: \"{tool}\" is granted only to pipeline code steps; a session created \
             through the API has no host tools, so leave options.tools empty"
        )));
    }
    Ok(())
}

/// The stored state of every session of `tenant` but `except`, bytes, read in `tx`.
async fn tenant_snapshot_bytes(tx: &Tx, tenant: &str, except: &str) -> Result<u64> {
    Ok(tx
        .scan_json::<SessionRecord>(tables::SESSIONS, &format!("{tenant}/"))
        .await?
        .into_iter()
        .filter(|(_, r)| r.id != except)
        .map(|(_, r)| r.snapshot_bytes)
        .sum())
}

/// Refuses a new session when `tenant` already has `max`, counted inside `tx` (so two
/// concurrent creates cannot both pass).
async fn check_session_cap(tx: &Tx, tenant: &str, max: usize) -> Result<()> {
    let count = tx
        .keys(tables::SESSIONS, &format!("{tenant}/"))
        .await?
        .len();
    if count >= max {
        return Err(Error::Conflict(format!(
            "this tenant already has {count} sessions, the most allowed; delete some first"
        )));
    }
    Ok(())
}

/// What an eval keeps besides its outcome: the live instance worth keeping and the state to
/// store (both none when the instance broke).
type Kept = (Option<CodeSession>, Option<Vec<u8>>);

/// Opens the session (the live instance, else its snapshot, else a fresh one), runs one cell
/// and snapshots the state; on the blocking pool. Hands back the instance worth keeping and
/// the state to store (none when the instance broke).
fn eval_in(
    engine: &Engine,
    plugin: &Plugin,
    live: Option<CodeSession>,
    snapshot: Option<Vec<u8>>,
    options: &SessionOptions,
    limits: Limits,
    code: &str,
) -> (Outcome<EvalOutput>, Kept) {
    let opened = match (live, snapshot) {
        (Some(s), _) => Outcome {
            result: Ok(s),
            report: CallReport::default(),
        },
        (None, Some(snap)) => {
            engine.restore_session(plugin, &snap, options, limits, Arc::new(NoTools))
        }
        (None, None) => engine.start_session(plugin, options, limits, Arc::new(NoTools)),
    };
    let mut session = match opened.result {
        Ok(s) => s,
        Err(e) => {
            let failed = Outcome {
                result: Err(e),
                report: opened.report,
            };
            return (failed, (None, None));
        }
    };
    let mut out = session.eval(code);
    out.report.fuel_used += opened.report.fuel_used;
    out.report.duration += opened.report.duration;
    let alive = matches!(&out.result, Ok(_) | Err(CallError::Guest(_)));
    if !alive {
        return (out, (None, None));
    }
    let snap = session.snapshot();
    // Sealing the state is part of the call: its time is charged and reported.
    out.report.duration += snap.report.duration;
    match snap.result {
        Ok(bytes) => (out, (Some(session), Some(bytes))),
        Err(e) => {
            let failed = Outcome {
                result: Err(e),
                report: out.report,
            };
            (failed, (None, None))
        }
    }
}

/// Code-runner sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// A session unused for this long is deleted.
    #[serde(with = "humantime_serde")]
    pub idle_ttl: Duration,
    /// Sessions one tenant may hold at once.
    pub max_per_tenant: usize,
    /// Largest state one session may store after an eval, bytes; a cell that grows it past
    /// this is answered 413 and its effects are discarded.
    pub max_snapshot_bytes: u64,
    /// Largest state all of one tenant's sessions may store together, bytes.
    pub max_tenant_snapshot_bytes: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            idle_ttl: Duration::from_secs(3600),
            max_per_tenant: 256,
            max_snapshot_bytes: 32 << 20,
            max_tenant_snapshot_bytes: 256 << 20,
        }
    }
}

impl SessionsConfig {
    /// Checks the TTL and the snapshot caps.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.idle_ttl < Duration::from_secs(1) {
            return invalid("sessions.idle_ttl", "must be at least 1s");
        }
        if self.max_snapshot_bytes == 0 || self.max_snapshot_bytes > self.max_tenant_snapshot_bytes
        {
            return invalid(
                "sessions.max_snapshot_bytes",
                "must be more than zero and at most sessions.max_tenant_snapshot_bytes",
            );
        }
        if self.max_per_tenant == 0 {
            return invalid("sessions.max_per_tenant", "must be at least 1");
        }
        Ok(())
    }
}

/// Sessions pin the code runner they started with.
pub struct SessionPins;

#[async_trait::async_trait]
impl Referrer for SessionPins {
    async fn digest_user(&self, tx: &Tx, tenant: &str, digest: &str) -> Result<Option<Usage>> {
        let live: Vec<(String, SessionRecord)> = tx
            .scan_json(tables::SESSIONS, &format!("{tenant}/"))
            .await?;
        Ok(live
            .into_iter()
            .find(|(_, s)| s.runner.digest == digest)
            .map(|(_, s)| Usage {
                by: format!("session {}", s.id),
                remedy: "delete the session first",
            }))
    }

    async fn pinned_digests(
        &self,
        tx: &Tx,
        out: &mut std::collections::HashSet<String>,
    ) -> Result<()> {
        for (_, s) in tx.scan_json::<SessionRecord>(tables::SESSIONS, "").await? {
            out.insert(s.runner.digest);
        }
        Ok(())
    }
}

#[cfg(test)]
mod service_tests {
    use super::*;
    use crate::auth::Role;
    use crate::testing::{sandbox, store, who};

    fn sessions(store: &Store, config: SessionsConfig) -> Sessions {
        let sandbox = sandbox(store);
        let plugins = Arc::new(Plugins::new(sandbox.clone(), 1 << 20, Vec::new()));
        Sessions::new(sandbox, plugins, Arc::new(MasterKey::generate()), config, 8)
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn unknown_or_malformed_ids_are_not_found_in_every_operation() {
        let s = store();
        let sessions = sessions(&s.store, SessionsConfig::default());
        let op = who("acme", &[Role::Operator]);
        assert!(sessions.list(&op).await.unwrap().is_empty());
        for id in ["s_0123456789abcdef0123456789abcdef", "../etc", ""] {
            assert!(
                matches!(sessions.get(&op, id).await, Err(Error::NotFound { .. })),
                "{id}"
            );
            assert!(
                matches!(sessions.delete(&op, id).await, Err(Error::NotFound { .. })),
                "{id}"
            );
        }
    }

    #[test]
    fn an_api_session_gets_no_host_tools() {
        assert!(check_tools(&[]).is_ok());
        assert!(matches!(
            check_tools(&["render".into()]),
            Err(Error::BadRequest(m)) if m.contains("only to pipeline code steps")
        ));
        assert!(matches!(
            check_tools(&["shell".into()]),
            Err(Error::BadRequest(m)) if m.contains("unknown tool")
        ));
    }

    #[test]
    fn a_snapshot_over_either_cap_is_refused() {
        let s = store();
        let sessions = sessions(
            &s.store,
            SessionsConfig {
                max_snapshot_bytes: 100,
                max_tenant_snapshot_bytes: 150,
                ..SessionsConfig::default()
            },
        );
        assert!(sessions.check_snapshot_size(100, 50).is_ok());
        assert!(matches!(
            sessions.check_snapshot_size(101, 0),
            Err(Error::TooLarge { .. })
        ));
        assert!(matches!(
            sessions.check_snapshot_size(100, 51),
            Err(Error::TooLarge { .. })
        ));
    }
}
