//! The networked backend: PostgreSQL (and Postgres-compatible services), for replicas.
//!
//! Every keyspace is rows of one table (`warden_kv`, keys in byte order: `COLLATE "C"`);
//! component bytes sit in `warden_blobs`, content-addressed and shared by every tenant; the
//! audit chains in `warden_audit` with each tenant's head in `warden_audit_heads`.
//!
//! Concurrency: write transactions run at READ COMMITTED and serialise per tenant on a row lock
//! of the tenant's chain head (`SELECT … FOR UPDATE`), taken when a tenant-scoped transaction
//! begins (so everything it reads is the latest committed state of its tenant, and no other
//! writer of that tenant can commit before it ends) or, for a global transaction, when it first
//! touches a tenant. A shared blob is locked by [`WriteTxn::exists`] before it is tested or
//! removed, so a plugin deleted in one tenant while another uploads the same bytes cannot drop
//! them from under the upload. Deadlocks and serialisation failures come back as
//! [`StorageError::Conflict`], which [`crate::Store::write`] retries.
//!
//! Caches of other replicas hear of every commit through `NOTIFY warden_changes`; a replica that
//! lost its listening connection (and so may have missed some) is told [`Change::All`]. Each
//! replica beats in `warden_replicas`, which is how quotas learn how many replicas share them.
//! Migrations run at connect under an advisory lock, so replicas starting together are safe.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;

use crate::audit::{self, AuditEvent, AuditPage, AuditQuery, AuditRecord, ChainCheck, Head};
use crate::backend::{Backend, ReadTxn, WriteTxn};
use crate::tables::{self, Keyspace, Owner};
use crate::{Change, Listener, Scope, StorageError, decode, encode};

/// The schema this build writes; stored in `warden_meta` and checked at connect.
pub const SCHEMA_VERSION: i64 = 1;

/// The advisory lock migrations hold (any fixed number no other application uses).
const MIGRATION_LOCK: i64 = 0x5741_5244_454e_0001;

/// The channel commits are announced on.
const CHANNEL: &str = "warden_changes";

/// NOTIFY payloads are capped at 8000 bytes; above this a commit announces "everything".
const MAX_PAYLOAD: usize = 7000;

/// How often a replica beats, and how long a silent one still counts as live.
const HEARTBEAT: Duration = Duration::from_secs(2);
const LIVE_FOR_MS: i64 = 10_000;

/// Audit rows fetched per round trip when walking or paging a chain.
const CHUNK: i64 = 2000;

/// The schema, one statement per entry; each is idempotent so a half-applied start is finished
/// by the next.
const MIGRATION_1: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS warden_meta (name text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS warden_kv (
        keyspace text NOT NULL,
        key text COLLATE \"C\" NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (keyspace, key))",
    "CREATE TABLE IF NOT EXISTS warden_blobs (
        digest text PRIMARY KEY,
        bytes bytea NOT NULL,
        stored_ms bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS warden_audit (
        tenant text COLLATE \"C\" NOT NULL,
        seq bigint NOT NULL,
        record bytea NOT NULL,
        PRIMARY KEY (tenant, seq))",
    "CREATE TABLE IF NOT EXISTS warden_audit_heads (
        tenant text COLLATE \"C\" PRIMARY KEY,
        seq bigint NOT NULL,
        hash text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS warden_replicas (id text PRIMARY KEY, seen_ms bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS warden_usage (
        tenant text NOT NULL,
        window_start_ms bigint NOT NULL,
        fuel bigint NOT NULL,
        PRIMARY KEY (tenant, window_start_ms))",
];

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// A `postgres://` URL. `sslmode=disable` (or none) connects in plain text;
    /// `prefer`/`require` use TLS, and `verify-ca`/`verify-full` do too: Warden always verifies
    /// the server's certificate (against the system roots, or `sslrootcert=PATH`).
    pub url: String,
    /// Connections in the pool.
    pub pool_size: usize,
    /// Longest a statement may run (lock waits included) before the database cancels it.
    pub statement_timeout: Duration,
    /// Longest a connection attempt or a wait for a pooled connection may take.
    pub connect_timeout: Duration,
}

impl PgOptions {
    /// Options for `url` with the defaults (pool 16, statement timeout 10 s, connect 5 s).
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            pool_size: 16,
            statement_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The URL with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparsable URL)".into(),
    }
}

/// What the URL asks of TLS, and the driver configuration without the parts the driver does
/// not parse itself.
fn parse(opts: &PgOptions) -> Result<(tokio_postgres::Config, Option<String>), StorageError> {
    let bad = |m: String| StorageError::Db(format!("storage.url {}: {m}", redact_url(&opts.url)));
    let mut u = url::Url::parse(&opts.url).map_err(|e| bad(e.to_string()))?;
    if !matches!(u.scheme(), "postgres" | "postgresql") {
        return Err(bad("the scheme must be postgres:// or postgresql://".into()));
    }
    let mut tls = false;
    let mut root = None;
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter_map(|(k, v)| match k.as_ref() {
            "sslmode" => {
                tls = !matches!(v.as_ref(), "disable");
                None
            }
            "sslrootcert" => {
                root = Some(v.into_owned());
                None
            }
            _ => Some((k.into_owned(), v.into_owned())),
        })
        .collect();
    u.set_query(None);
    if !kept.is_empty() {
        u.query_pairs_mut().extend_pairs(kept);
    }
    let mut config: tokio_postgres::Config = u
        .as_str()
        .parse()
        .map_err(|e: tokio_postgres::Error| bad(e.to_string()))?;
    let timeout_ms = opts.statement_timeout.as_millis();
    config
        .options(format!(
            "-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}"
        ))
        .connect_timeout(opts.connect_timeout)
        .keepalives(true)
        .application_name("warden");
    if tls {
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
        Ok((config, Some(root.unwrap_or_default())))
    } else {
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
        Ok((config, None))
    }
}

/// A rustls connector trusting `root` (a PEM file), or the system's roots when empty.
fn rustls_connector(root: &str) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StorageError> {
    let mut roots = rustls::RootCertStore::empty();
    if root.is_empty() {
        let found = rustls_native_certs::load_native_certs();
        for c in found.certs {
            let _ = roots.add(c);
        }
    } else {
        let pem = std::fs::read(root)
            .map_err(|e| StorageError::Db(format!("sslrootcert {root}: {e}")))?;
        for c in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
            let c: rustls::pki_types::CertificateDer<'static> =
                c.map_err(|e| StorageError::Db(format!("sslrootcert {root}: {e}")))?;
            roots
                .add(c)
                .map_err(|e| StorageError::Db(format!("sslrootcert {root}: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StorageError::Db(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// A driver error in Warden's terms: lock cycles and serialisation failures are conflicts (the
/// transaction runs again); everything else says what the database said.
fn db(e: tokio_postgres::Error) -> StorageError {
    match e.code() {
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::UNIQUE_VIOLATION =>
        {
            StorageError::Conflict
        }
        _ => match e.as_db_error() {
            Some(d) => StorageError::Db(format!("postgres: {} ({})", d.message(), d.code().code())),
            None => StorageError::Db(format!("postgres: {e}")),
        },
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StorageError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db(e),
        e => StorageError::Db(format!("postgres connection pool: {e}")),
    }
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The first key after every key that starts with `prefix` (byte order), when there is one that
/// is easy to name: keys are short ASCII paths, so bumping the last byte is enough.
fn prefix_end(prefix: &str) -> Option<String> {
    let last = *prefix.as_bytes().last()?;
    if !prefix.is_ascii() || last >= 0x7e {
        return None;
    }
    let mut s = prefix[..prefix.len() - 1].to_owned();
    s.push(char::from(last + 1));
    Some(s)
}

/// A pooled connection with a transaction open on it. Dropped before it ends, it rolls back
/// before the connection goes back to the pool.
struct Conn {
    obj: Option<Object>,
    open: bool,
}

impl Conn {
    fn client(&self) -> Result<&Object, StorageError> {
        self.obj.as_ref().ok_or(StorageError::Ended)
    }

    async fn finish(&mut self, sql: &str) -> Result<(), StorageError> {
        let r = self.client()?.batch_execute(sql).await.map_err(db);
        self.open = false;
        r
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(obj) = self.obj.take() else { return };
        if !self.open {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    if obj.batch_execute("ROLLBACK").await.is_err() {
                        // Never hand a connection in an unknown state back to the pool.
                        let _ = Object::take(obj);
                    }
                });
            }
            Err(_) => {
                let _ = Object::take(obj);
            }
        }
    }
}

/// Statements shared by read and write transactions.
async fn get(c: &Object, ks: Keyspace, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
    let row = if ks == tables::BLOBS {
        let st = c
            .prepare_cached("SELECT bytes FROM warden_blobs WHERE digest = $1")
            .await
            .map_err(db)?;
        c.query_opt(&st, &[&key]).await.map_err(db)?
    } else {
        let st = c
            .prepare_cached("SELECT value FROM warden_kv WHERE keyspace = $1 AND key = $2")
            .await
            .map_err(db)?;
        c.query_opt(&st, &[&ks.name(), &key]).await.map_err(db)?
    };
    row.map(|r| r.try_get::<_, Vec<u8>>(0).map_err(db))
        .transpose()
}

async fn scan(
    c: &Object,
    ks: Keyspace,
    prefix: &str,
    with_values: bool,
) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
    let (table, kcol, vcol, filter) = if ks == tables::BLOBS {
        ("warden_blobs", "digest", "bytes", "TRUE")
    } else {
        ("warden_kv", "key", "value", "keyspace = $1")
    };
    let value = if with_values { vcol } else { "''::bytea" };
    let end = prefix_end(prefix);
    let range = match &end {
        Some(_) => format!("{kcol} >= $2 AND {kcol} < $3"),
        None => format!("starts_with({kcol}, $2)"),
    };
    let sql = format!(
        "SELECT {kcol}, {value} FROM {table} WHERE ($1::text IS NOT NULL) AND {filter} AND {range} \
         ORDER BY {kcol} COLLATE \"C\""
    );
    let st = c.prepare_cached(&sql).await.map_err(db)?;
    let name = ks.name();
    let rows = match &end {
        Some(e) => c.query(&st, &[&name, &prefix, e]).await,
        None => c.query(&st, &[&name, &prefix]).await,
    }
    .map_err(db)?;
    rows.iter()
        .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
        .collect()
}

/// The PostgreSQL backend.
pub struct Postgres {
    pool: Pool,
    shared: Arc<Shared>,
}

/// What the background tasks (listener, heartbeat) share with the backend.
struct Shared {
    /// This replica's id: its own notifications are not announced twice.
    replica: String,
    /// Live replicas, from the last heartbeat (at least 1).
    replicas: AtomicU32,
    /// Where other replicas' changes go, once the [`crate::Store`] is built.
    sink: std::sync::Mutex<Option<Listener>>,
    config: tokio_postgres::Config,
    tls: Option<String>,
}

impl Postgres {
    /// Connects, runs migrations under an advisory lock, and starts the change listener and
    /// the heartbeat. Fails with a clear message when the database cannot be reached, has a
    /// newer schema, or the URL is malformed.
    pub async fn connect(opts: &PgOptions) -> Result<Postgres, StorageError> {
        let (config, tls) = parse(opts)?;
        let mgr_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &tls {
            Some(root) => Manager::from_config(config.clone(), rustls_connector(root)?, mgr_config),
            None => Manager::from_config(config.clone(), tokio_postgres::NoTls, mgr_config),
        };
        let pool = Pool::builder(manager)
            .max_size(opts.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(opts.connect_timeout))
            .create_timeout(Some(opts.connect_timeout))
            .recycle_timeout(Some(opts.connect_timeout))
            .build()
            .map_err(|e| StorageError::Db(format!("postgres connection pool: {e}")))?;
        let replica = hex::encode(rand::random::<[u8; 8]>());
        let shared = Arc::new(Shared {
            replica,
            replicas: AtomicU32::new(1),
            sink: std::sync::Mutex::new(None),
            config,
            tls,
        });
        let pg = Postgres { pool, shared };
        pg.migrate().await?;
        pg.start_heartbeat();
        Ok(pg)
    }

    async fn conn(&self) -> Result<Object, StorageError> {
        self.pool.get().await.map_err(|e| {
            let e = pool_error(e);
            match e {
                StorageError::Db(m) => StorageError::Db(format!(
                    "{m} (is PostgreSQL reachable? storage.url = {})",
                    redact_url(&format!("{:?}", self.shared.config.get_hosts()))
                )),
                e => e,
            }
        })
    }

    /// Creates or upgrades the schema; replicas starting together wait for each other on an
    /// advisory lock, and a database with a newer schema is refused.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let c = self.conn().await?;
        c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db)?;
        let result = migrate_locked(&c).await;
        let unlock = c
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db);
        result?;
        unlock?;
        Ok(())
    }

    fn start_heartbeat(&self) {
        let pool = self.pool.clone();
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                // The backend was dropped: stop beating so this replica stops counting.
                if Arc::strong_count(&shared) == 1 {
                    break;
                }
                match beat(&pool, &shared.replica).await {
                    Ok(n) => shared.replicas.store(n.max(1), Ordering::Relaxed),
                    Err(e) => tracing::warn!(error = %e, "replica heartbeat failed"),
                }
            }
        });
    }

    fn start_listener(&self) {
        let shared = self.shared.clone();
        tokio::spawn(async move { listen(shared).await });
    }
}

async fn migrate_locked(c: &Object) -> Result<(), StorageError> {
    c.batch_execute(MIGRATION_1[0]).await.map_err(db)?;
    let found: Option<String> = c
        .query_opt(
            "SELECT value FROM warden_meta WHERE name = 'schema_version'",
            &[],
        )
        .await
        .map_err(db)?
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(db)?;
    let found: i64 = match found {
        None => 0,
        Some(v) => v.parse().map_err(|_| StorageError::Schema {
            found: v.clone(),
            expected: "1",
        })?,
    };
    if found > SCHEMA_VERSION {
        return Err(StorageError::Schema {
            found: found.to_string(),
            expected: "1",
        });
    }
    if found < 1 {
        for stmt in MIGRATION_1 {
            c.batch_execute(stmt).await.map_err(db)?;
        }
        c.execute(
            "INSERT INTO warden_meta (name, value) VALUES ('schema_version', $1)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            &[&SCHEMA_VERSION.to_string()],
        )
        .await
        .map_err(db)?;
        tracing::info!(schema = SCHEMA_VERSION, "postgres schema created");
    }
    Ok(())
}

async fn beat(pool: &Pool, replica: &str) -> Result<u32, StorageError> {
    let c = pool.get().await.map_err(pool_error)?;
    let now = i64_of(crate::now_ms());
    c.execute(
        "INSERT INTO warden_replicas (id, seen_ms) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET seen_ms = EXCLUDED.seen_ms",
        &[&replica, &now],
    )
    .await
    .map_err(db)?;
    c.execute(
        "DELETE FROM warden_replicas WHERE seen_ms < $1",
        &[&(now - 6 * LIVE_FOR_MS)],
    )
    .await
    .map_err(db)?;
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM warden_replicas WHERE seen_ms >= $1",
            &[&(now - LIVE_FOR_MS)],
        )
        .await
        .map_err(db)?
        .try_get(0)
        .map_err(db)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Holds a `LISTEN` connection and announces other replicas' commits; after any loss of the
/// connection, announces [`Change::All`] (notifications may have been missed) and reconnects.
async fn listen(shared: Arc<Shared>) {
    use futures_util::StreamExt as _;
    let mut delay = Duration::from_millis(100);
    let mut lost = false;
    loop {
        if Arc::strong_count(&shared) == 1 {
            return;
        }
        let connected = match &shared.tls {
            Some(root) => match rustls_connector(root) {
                Ok(tls) => shared
                    .config
                    .connect(tls)
                    .await
                    .map(|(c, conn)| (c, conn.boxed_stream())),
                Err(e) => {
                    tracing::error!(error = %e, "change listener cannot set up TLS");
                    return;
                }
            },
            None => shared
                .config
                .connect(tokio_postgres::NoTls)
                .await
                .map(|(c, conn)| (c, conn.boxed_stream())),
        };
        let (client, mut messages) = match connected {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "change listener cannot connect; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        // The connection's messages must be polled for the LISTEN to complete.
        let ok = {
            let sql = format!("LISTEN {CHANNEL}");
            let listening = client.batch_execute(&sql);
            let mut listening = std::pin::pin!(listening);
            loop {
                tokio::select! {
                    r = &mut listening => break r.is_ok(),
                    m = messages.next() => if m.is_none() { break false },
                }
            }
        };
        if !ok {
            tokio::time::sleep(delay).await;
            continue;
        }
        delay = Duration::from_millis(100);
        if lost {
            // Changes committed while this replica was not listening were not heard.
            announce(&shared, &Change::All);
        }
        lost = true;
        while let Some(m) = messages.next().await {
            if Arc::strong_count(&shared) == 1 {
                return;
            }
            if let Ok(tokio_postgres::AsyncMessage::Notification(n)) = m {
                on_notification(&shared, n.payload());
            }
        }
        tracing::warn!("change listener lost its connection; reconnecting");
        drop(client);
    }
}

/// A stream of a connection's asynchronous messages, whatever its TLS.
trait BoxedMessages {
    fn boxed_stream(
        self,
    ) -> futures_util::stream::BoxStream<
        'static,
        Result<tokio_postgres::AsyncMessage, tokio_postgres::Error>,
    >;
}

impl<S, T> BoxedMessages for tokio_postgres::Connection<S, T>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    fn boxed_stream(
        mut self,
    ) -> futures_util::stream::BoxStream<
        'static,
        Result<tokio_postgres::AsyncMessage, tokio_postgres::Error>,
    > {
        Box::pin(futures_util::stream::poll_fn(move |cx| {
            self.poll_message(cx)
        }))
    }
}

/// What a commit tells other replicas: who committed, and the keys (or everything).
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    r: String,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    k: Vec<(String, String)>,
}

fn on_notification(shared: &Shared, payload: &str) {
    let Ok(p) = serde_json::from_str::<Payload>(payload) else {
        announce(shared, &Change::All);
        return;
    };
    if p.r == shared.replica {
        return;
    }
    if p.all {
        announce(shared, &Change::All);
        return;
    }
    for (ks, key) in p.k {
        match tables::ALL.iter().find(|k| k.name() == ks) {
            Some(&keyspace) => announce(shared, &Change::Key { keyspace, key }),
            None => announce(shared, &Change::All),
        }
    }
}

fn announce(shared: &Shared, change: &Change) {
    let sink = match shared.sink.lock() {
        Ok(s) => s.clone(),
        Err(p) => p.into_inner().clone(),
    };
    if let Some(sink) = sink {
        sink(change);
    }
}

#[async_trait]
impl Backend for Postgres {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn shared(&self) -> bool {
        true
    }

    async fn read(&self) -> Result<Box<dyn ReadTxn>, StorageError> {
        let c = self.conn().await?;
        c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db)?;
        Ok(Box::new(PgRead(Conn {
            obj: Some(c),
            open: true,
        })))
    }

    async fn write(&self, scope: &Scope) -> Result<Box<dyn WriteTxn>, StorageError> {
        let c = self.conn().await?;
        c.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
            .map_err(db)?;
        let mut w = PgWrite {
            conn: Conn {
                obj: Some(c),
                open: true,
            },
            heads: BTreeMap::new(),
            changed: BTreeSet::new(),
            replica: self.shared.replica.clone(),
        };
        if let Scope::Tenant(t) = scope {
            w.lock_tenant(t).await?;
        }
        Ok(Box::new(w))
    }

    async fn audit_query(&self, tenant: &str, q: &AuditQuery) -> Result<AuditPage, StorageError> {
        let c = self.conn().await?;
        let mut from = i64_of(q.cursor.unwrap_or(1));
        let mut records = Vec::new();
        let st = c
            .prepare_cached(
                "SELECT seq, record FROM warden_audit WHERE tenant = $1 AND seq >= $2
                 ORDER BY seq LIMIT $3",
            )
            .await
            .map_err(db)?;
        loop {
            let rows = c.query(&st, &[&tenant, &from, &CHUNK]).await.map_err(db)?;
            let n = rows.len();
            for r in rows {
                let seq: i64 = r.try_get(0).map_err(db)?;
                from = seq + 1;
                let bytes: Vec<u8> = r.try_get(1).map_err(db)?;
                let record: AuditRecord = decode("audit", &bytes)?;
                if !q.matches(&record) {
                    continue;
                }
                if records.len() == q.limit {
                    return Ok(AuditPage {
                        records,
                        next_cursor: Some(u64_of(seq)),
                    });
                }
                records.push(record);
            }
            if i64::try_from(n).unwrap_or(0) < CHUNK {
                return Ok(AuditPage {
                    records,
                    next_cursor: None,
                });
            }
        }
    }

    async fn audit_verify(
        &self,
        tenant: Option<&str>,
    ) -> Result<audit::Verification, StorageError> {
        let mut c = Conn {
            obj: Some(self.conn().await?),
            open: false,
        };
        c.client()?
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db)?;
        c.open = true;
        let v = verify_in(c.client()?, tenant).await;
        c.finish("COMMIT").await?;
        v
    }

    async fn ping(&self) -> Result<(), StorageError> {
        let c = self.conn().await?;
        c.simple_query("SELECT 1").await.map_err(db)?;
        Ok(())
    }

    fn watch(&self, sink: Listener) {
        match self.shared.sink.lock() {
            Ok(mut s) => *s = Some(sink),
            Err(p) => *p.into_inner() = Some(sink),
        }
        self.start_listener();
    }

    fn replicas(&self) -> u32 {
        self.shared.replicas.load(Ordering::Relaxed).max(1)
    }

    async fn add_fuel(
        &self,
        tenant: &str,
        window_start_ms: u64,
        fuel: u64,
    ) -> Result<u64, StorageError> {
        let c = self.conn().await?;
        let st = c
            .prepare_cached(
                "INSERT INTO warden_usage (tenant, window_start_ms, fuel) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant, window_start_ms) DO UPDATE SET fuel = warden_usage.fuel + EXCLUDED.fuel
                 RETURNING fuel",
            )
            .await
            .map_err(db)?;
        let w = i64_of(window_start_ms);
        let total: i64 = c
            .query_one(&st, &[&tenant, &w, &i64_of(fuel)])
            .await
            .map_err(db)?
            .try_get(0)
            .map_err(db)?;
        // Old windows are of no use to anyone; a cheap, indexed delete now and then.
        if rand::random::<u8>() == 0 {
            let _ = c
                .execute(
                    "DELETE FROM warden_usage WHERE window_start_ms < $1",
                    &[&(w - 3_600_000)],
                )
                .await;
        }
        Ok(u64_of(total))
    }

    async fn claim_meta(&self, name: &str, value: &str) -> Result<String, StorageError> {
        let c = self.conn().await?;
        c.execute(
            "INSERT INTO warden_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &value],
        )
        .await
        .map_err(db)?;
        c.query_one("SELECT value FROM warden_meta WHERE name = $1", &[&name])
            .await
            .map_err(db)?
            .try_get(0)
            .map_err(db)
    }

    async fn audit_tenants(&self) -> Result<Vec<String>, StorageError> {
        let c = self.conn().await?;
        let rows = c
            .query(
                "SELECT tenant FROM warden_audit_heads UNION SELECT DISTINCT tenant FROM warden_audit ORDER BY 1",
                &[],
            )
            .await
            .map_err(db)?;
        rows.iter().map(|r| r.try_get(0).map_err(db)).collect()
    }
}

async fn verify_in(c: &Object, tenant: Option<&str>) -> Result<audit::Verification, StorageError> {
    let tenants: Vec<String> = match tenant {
        Some(t) => vec![t.to_owned()],
        None => c
            .query(
                "SELECT tenant FROM warden_audit_heads UNION SELECT DISTINCT tenant FROM warden_audit ORDER BY 1",
                &[],
            )
            .await
            .map_err(db)?
            .iter()
            .map(|r| r.try_get(0).map_err(db))
            .collect::<Result<_, _>>()?,
    };
    let mut checked = 0u64;
    for t in &tenants {
        let mut chain = ChainCheck::new(t, checked);
        let mut from = 0i64;
        loop {
            let rows = c
                .query(
                    "SELECT seq, record FROM warden_audit WHERE tenant = $1 AND seq > $2
                     ORDER BY seq LIMIT $3",
                    &[t, &from, &CHUNK],
                )
                .await
                .map_err(db)?;
            let n = rows.len();
            for r in rows {
                let seq: i64 = r.try_get(0).map_err(db)?;
                let bytes: Vec<u8> = r.try_get(1).map_err(db)?;
                if let Err(broken) = chain.next(u64_of(seq), &bytes) {
                    return Ok(broken);
                }
                from = seq;
            }
            if i64::try_from(n).unwrap_or(0) < CHUNK {
                break;
            }
        }
        let head = c
            .query_opt(
                "SELECT seq, hash FROM warden_audit_heads WHERE tenant = $1",
                &[t],
            )
            .await
            .map_err(db)?;
        let head = match head {
            Some(r) => {
                let seq: i64 = r.try_get(0).map_err(db)?;
                let hash: String = r.try_get(1).map_err(db)?;
                (seq > 0).then(|| Head {
                    seq: u64_of(seq),
                    hash,
                })
            }
            None => None,
        };
        match chain.finish(head) {
            Ok(n) => checked = n,
            Err(broken) => return Ok(broken),
        }
    }
    Ok(audit::Verification::intact(checked))
}

struct PgRead(Conn);

#[async_trait]
impl ReadTxn for PgRead {
    async fn get(&self, ks: Keyspace, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        get(self.0.client()?, ks, key).await
    }

    async fn scan(
        &self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        scan(self.0.client()?, ks, prefix, true).await
    }

    async fn keys(&self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(scan(self.0.client()?, ks, prefix, false)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }
}

/// A write transaction: the tenants whose chain heads it holds (with the head as it will be
/// stored at commit) and the keys it changed (announced to other replicas at commit).
struct PgWrite {
    conn: Conn,
    heads: BTreeMap<String, (Option<Head>, bool)>,
    changed: BTreeSet<(Keyspace, String)>,
    replica: String,
}

impl PgWrite {
    /// Takes the row lock on `tenant`'s chain head (creating the row for a new tenant).
    async fn lock_tenant(&mut self, tenant: &str) -> Result<(), StorageError> {
        if self.heads.contains_key(tenant) {
            return Ok(());
        }
        let c = self.conn.client()?;
        let st = c
            .prepare_cached("SELECT seq, hash FROM warden_audit_heads WHERE tenant = $1 FOR UPDATE")
            .await
            .map_err(db)?;
        let mut row = c.query_opt(&st, &[&tenant]).await.map_err(db)?;
        if row.is_none() {
            c.execute(
                "INSERT INTO warden_audit_heads (tenant, seq, hash) VALUES ($1, 0, $2)
                 ON CONFLICT (tenant) DO NOTHING",
                &[&tenant, &audit::GENESIS],
            )
            .await
            .map_err(db)?;
            row = c.query_opt(&st, &[&tenant]).await.map_err(db)?;
        }
        let head = match row {
            Some(r) => {
                let seq: i64 = r.try_get(0).map_err(db)?;
                let hash: String = r.try_get(1).map_err(db)?;
                (seq > 0).then(|| Head {
                    seq: u64_of(seq),
                    hash,
                })
            }
            None => return Err(StorageError::Conflict),
        };
        self.heads.insert(tenant.to_owned(), (head, false));
        Ok(())
    }

    async fn touch(&mut self, ks: Keyspace, key: &str) -> Result<(), StorageError> {
        if ks.owner() == Owner::Tenant
            && let Some(t) = ks.tenant_of(key)
        {
            self.lock_tenant(t).await?;
        }
        self.changed.insert((ks, key.to_owned()));
        Ok(())
    }

    fn payload(&self) -> Option<String> {
        if self.changed.is_empty() {
            return None;
        }
        let k: Vec<(String, String)> = self
            .changed
            .iter()
            .filter(|(ks, _)| *ks != tables::BLOBS)
            .map(|(ks, key)| (ks.name().to_owned(), key.clone()))
            .collect();
        if k.is_empty() {
            return None;
        }
        let p = Payload {
            r: self.replica.clone(),
            all: false,
            k,
        };
        let text = serde_json::to_string(&p).ok()?;
        if text.len() <= MAX_PAYLOAD {
            return Some(text);
        }
        serde_json::to_string(&Payload {
            r: self.replica.clone(),
            all: true,
            k: Vec::new(),
        })
        .ok()
    }
}

#[async_trait]
impl WriteTxn for PgWrite {
    async fn get(&mut self, ks: Keyspace, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        get(self.conn.client()?, ks, key).await
    }

    async fn scan(
        &mut self,
        ks: Keyspace,
        prefix: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        scan(self.conn.client()?, ks, prefix, true).await
    }

    async fn keys(&mut self, ks: Keyspace, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(scan(self.conn.client()?, ks, prefix, false)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    async fn exists(&mut self, ks: Keyspace, key: &str) -> Result<bool, StorageError> {
        let c = self.conn.client()?;
        let row = if ks == tables::BLOBS {
            let st = c
                .prepare_cached("SELECT 1 FROM warden_blobs WHERE digest = $1 FOR UPDATE")
                .await
                .map_err(db)?;
            c.query_opt(&st, &[&key]).await.map_err(db)?
        } else {
            let st = c
                .prepare_cached(
                    "SELECT 1 FROM warden_kv WHERE keyspace = $1 AND key = $2 FOR UPDATE",
                )
                .await
                .map_err(db)?;
            c.query_opt(&st, &[&ks.name(), &key]).await.map_err(db)?
        };
        Ok(row.is_some())
    }

    async fn put(&mut self, ks: Keyspace, key: &str, value: &[u8]) -> Result<(), StorageError> {
        self.touch(ks, key).await?;
        let c = self.conn.client()?;
        if ks == tables::BLOBS {
            let st = c
                .prepare_cached(
                    "INSERT INTO warden_blobs (digest, bytes, stored_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (digest) DO UPDATE SET bytes = EXCLUDED.bytes",
                )
                .await
                .map_err(db)?;
            c.execute(&st, &[&key, &value, &i64_of(crate::now_ms())])
                .await
                .map_err(db)?;
        } else {
            let st = c
                .prepare_cached(
                    "INSERT INTO warden_kv (keyspace, key, value) VALUES ($1, $2, $3)
                     ON CONFLICT (keyspace, key) DO UPDATE SET value = EXCLUDED.value",
                )
                .await
                .map_err(db)?;
            c.execute(&st, &[&ks.name(), &key, &value])
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    async fn delete(&mut self, ks: Keyspace, key: &str) -> Result<bool, StorageError> {
        self.touch(ks, key).await?;
        let c = self.conn.client()?;
        let n = if ks == tables::BLOBS {
            let st = c
                .prepare_cached("DELETE FROM warden_blobs WHERE digest = $1")
                .await
                .map_err(db)?;
            c.execute(&st, &[&key]).await.map_err(db)?
        } else {
            let st = c
                .prepare_cached("DELETE FROM warden_kv WHERE keyspace = $1 AND key = $2")
                .await
                .map_err(db)?;
            c.execute(&st, &[&ks.name(), &key]).await.map_err(db)?
        };
        if n == 0 {
            self.changed.remove(&(ks, key.to_owned()));
        }
        Ok(n > 0)
    }

    async fn append_audit(&mut self, event: AuditEvent) -> Result<AuditRecord, StorageError> {
        self.lock_tenant(&event.tenant).await?;
        let tenant = event.tenant.clone();
        let head = self.heads.get(&tenant).and_then(|(h, _)| h.clone());
        let (record, head) = audit::next_link(head, event)?;
        self.insert_record(&record).await?;
        self.heads.insert(tenant, (Some(head), true));
        Ok(record)
    }

    async fn import_audit(&mut self, record: AuditRecord) -> Result<(), StorageError> {
        let tenant = record.event.tenant.clone();
        self.lock_tenant(&tenant).await?;
        let head = self.heads.get(&tenant).and_then(|(h, _)| h.clone());
        let (seq, prev) = match &head {
            Some(h) => (h.seq + 1, h.hash.clone()),
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
        self.insert_record(&record).await?;
        self.heads.insert(
            tenant,
            (
                Some(Head {
                    seq,
                    hash: record.hash.clone(),
                }),
                true,
            ),
        );
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        let c = self.conn.client()?;
        let st = c
            .prepare_cached("UPDATE warden_audit_heads SET seq = $2, hash = $3 WHERE tenant = $1")
            .await
            .map_err(db)?;
        for (tenant, (head, dirty)) in &self.heads {
            if let (Some(h), true) = (head, dirty) {
                c.execute(&st, &[tenant, &i64_of(h.seq), &h.hash])
                    .await
                    .map_err(db)?;
            }
        }
        if let Some(p) = self.payload() {
            c.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &p])
                .await
                .map_err(db)?;
        }
        self.conn.finish("COMMIT").await
    }
}

impl PgWrite {
    async fn insert_record(&self, record: &AuditRecord) -> Result<(), StorageError> {
        let c = self.conn.client()?;
        let st = c
            .prepare_cached("INSERT INTO warden_audit (tenant, seq, record) VALUES ($1, $2, $3)")
            .await
            .map_err(db)?;
        let bytes = encode(record)?;
        c.execute(&st, &[&record.event.tenant, &i64_of(record.seq), &bytes])
            .await
            .map_err(db)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::pg_cluster;

    async fn fresh() -> Store {
        let url = pg_cluster::shared().create_database();
        Store::connect_postgres(&PgOptions::new(url)).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_seam_suite_passes() {
        crate::conformance::run_all(fresh).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verify_finds_a_record_tampered_with_in_its_row() {
        let url = pg_cluster::shared().create_database();
        let store = Store::connect_postgres(&PgOptions::new(url.clone()))
            .await
            .unwrap();
        for i in 0..3 {
            store
                .write(Scope::tenant("t"), |tx| {
                    Box::pin(async move {
                        tx.audit(crate::audit::AuditEvent::new(
                            "t",
                            "ann",
                            "x.set",
                            format!("x/{i}"),
                        ))
                        .await
                    })
                })
                .await
                .unwrap();
        }
        assert!(store.audit_verify(Some("t")).await.unwrap().ok);
        let pg = Postgres::connect(&PgOptions::new(url)).await.unwrap();
        let c = pg.conn().await.unwrap();
        let row = c
            .query_one(
                "SELECT record FROM warden_audit WHERE tenant = 't' AND seq = 2",
                &[],
            )
            .await
            .unwrap();
        let mut rec: serde_json::Value = serde_json::from_slice(row.get::<_, &[u8]>(0)).unwrap();
        rec["actor"] = serde_json::json!("mallory");
        let bytes = serde_json::to_vec(&rec).unwrap();
        c.execute(
            "UPDATE warden_audit SET record = $1 WHERE tenant = 't' AND seq = 2",
            &[&bytes],
        )
        .await
        .unwrap();
        let v = store.audit_verify(None).await.unwrap();
        assert!(!v.ok);
        assert_eq!(
            v.first_break.map(|b| (b.tenant, b.seq)),
            Some(("t".into(), 2))
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_starting_together_migrate_once() {
        let url = pg_cluster::shared().create_database();
        let starts = (0..4).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Postgres::connect(&PgOptions::new(url)).await })
        });
        for s in starts {
            s.await.unwrap().unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_newer_schema_is_refused_with_its_version() {
        let url = pg_cluster::shared().create_database();
        let pg = Postgres::connect(&PgOptions::new(url.clone()))
            .await
            .unwrap();
        let c = pg.conn().await.unwrap();
        c.execute(
            "UPDATE warden_meta SET value = '9' WHERE name = 'schema_version'",
            &[],
        )
        .await
        .unwrap();
        match Postgres::connect(&PgOptions::new(url)).await {
            Err(StorageError::Schema { found, .. }) => assert_eq!(found, "9"),
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("a newer schema was accepted"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreachable_database_is_a_clear_error() {
        let mut o = PgOptions::new("postgres://warden:secret@127.0.0.1:1/none");
        o.connect_timeout = Duration::from_secs(2);
        let e = Postgres::connect(&o).await.err().unwrap().to_string();
        assert!(e.contains("postgres"), "{e}");
        assert!(!e.contains("secret"), "the password leaked into: {e}");
        let e = Postgres::connect(&PgOptions::new("mysql://x/y"))
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("postgres://"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn another_replica_hears_of_a_commit() {
        let url = pg_cluster::shared().create_database();
        let a = Store::connect_postgres(&PgOptions::new(url.clone()))
            .await
            .unwrap();
        let b = Store::connect_postgres(&PgOptions::new(url)).await.unwrap();
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let h = heard.clone();
        b.on_change(Arc::new(move |c: &Change| {
            h.lock().unwrap().push(c.clone())
        }));
        // The listener connects in the background; write until B hears (bounded).
        for i in 0..100 {
            a.write(Scope::tenant("t"), |tx| {
                Box::pin(async move {
                    tx.put_json(tables::TENANT_SETTINGS, "t", &i).await?;
                    Ok::<_, StorageError>(())
                })
            })
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            if !heard.lock().unwrap().is_empty() {
                break;
            }
        }
        let heard = heard.lock().unwrap().clone();
        assert!(
            heard.contains(&Change::Key {
                keyspace: tables::TENANT_SETTINGS,
                key: "t".into()
            }),
            "{heard:?}"
        );
    }

    /// A tenant deleting the last plugin that uses a blob while another tenant uploads the
    /// same bytes: whichever commits first, the blob is there when the upload is.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shared_blob_is_not_removed_under_a_concurrent_upload() {
        let store = fresh().await;
        store
            .write(Scope::tenant("a"), |tx| {
                Box::pin(async move {
                    tx.put_bytes(tables::BLOBS, "d", b"component").await?;
                    tx.put_json(tables::PLUGINS, "a/p/1", &"d").await?;
                    Ok::<_, StorageError>(())
                })
            })
            .await
            .unwrap();
        let (s1, s2) = (store.clone(), store.clone());
        let delete = tokio::spawn(async move {
            s1.write(Scope::tenant("a"), |tx| {
                Box::pin(async move {
                    tx.delete(tables::PLUGINS, "a/p/1").await?;
                    if tx.exists(tables::BLOBS, "d").await? {
                        let users = tx.scan_json::<String>(tables::PLUGINS, "").await?;
                        // The upload runs meanwhile.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        if !users.iter().any(|(_, d)| d == "d") {
                            tx.delete(tables::BLOBS, "d").await?;
                        }
                    }
                    Ok::<_, StorageError>(())
                })
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let upload = tokio::spawn(async move {
            s2.write(Scope::tenant("b"), |tx| {
                Box::pin(async move {
                    if !tx.exists(tables::BLOBS, "d").await? {
                        tx.put_bytes(tables::BLOBS, "d", b"component").await?;
                    }
                    tx.put_json(tables::PLUGINS, "b/p/1", &"d").await?;
                    Ok::<_, StorageError>(())
                })
            })
            .await
        });
        delete.await.unwrap().unwrap();
        upload.await.unwrap().unwrap();
        assert!(store.get_bytes(tables::BLOBS, "d").await.unwrap().is_some());
    }
}
