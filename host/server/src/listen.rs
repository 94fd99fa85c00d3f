//! `warden serve`: binds the listener, loads components in the background, sweeps expired
//! sessions and vaults, and shuts down gracefully on SIGINT/SIGTERM — stop accepting, let
//! in-flight requests finish within the grace period, flush the audit writer, close the
//! database.

use std::sync::Arc;
use std::time::Duration;

use crate::app::Warden;
use crate::config::Config;

/// How often expired sessions and vaults are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// With replicas over one database: every second, takes this replica's share of the per-tenant
/// limits from the live replica count and adds the fuel burned here to the cluster's count.
async fn share_limits(warden: Arc<Warden>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        warden
            .quotas
            .set_replicas(warden.sandbox.store().replicas());
        flush_fuel(&warden).await;
    }
}

/// Adds the fuel burned here since the last flush to the database's per-minute counts.
async fn flush_fuel(warden: &Warden) {
    let store = warden.sandbox.store();
    for d in warden.quotas.take_fuel() {
        match store.add_fuel(&d.tenant, d.window_ms, d.fuel).await {
            Ok(total) => warden.quotas.counted(&d.tenant, d.window_ms, total),
            Err(e) => tracing::warn!(error = %e, tenant = %d.tenant, "cannot share fuel usage"),
        }
    }
}

/// Runs the server until a shutdown signal; returns when everything is flushed.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    let grace = config.server.grace_period;
    let warden = Arc::new(Warden::open(config).await?);
    let tls = tls_acceptor(&warden.config.server)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let local = listener.local_addr()?;
    // Scripts and tests read this line to find an ephemeral port.
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("warden listening on {scheme}://{local}");
    tracing::info!(%local, data_dir = %warden.config.server.data_dir.display(), "listening");

    let warm = warden.clone();
    tokio::spawn(async move { warm.sandbox.warm_up().await });
    let sweeper = warden.clone();
    let sweep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY.min(sweeper.config.sessions.idle_ttl / 2));
        loop {
            tick.tick().await;
            let w = sweeper.clone();
            let _ = tokio::spawn(async move {
                match w.sessions.expire_idle().await {
                    Ok(n) if n > 0 => tracing::info!(sessions = n, "expired idle sessions"),
                    Err(e) => tracing::error!(error = %e, "session sweep failed"),
                    _ => {}
                }
                w.quotas.sweep();
                for summary in w.quotas.failed_auth.close_windows(false) {
                    crate::api::record_failure_summary(&w, &summary);
                }
                match w.pii.purge_expired_vaults().await {
                    Ok(n) if n > 0 => tracing::info!(vaults = n, "deleted expired vaults"),
                    Err(e) => tracing::error!(error = %e, "vault sweep failed"),
                    _ => {}
                }
                match w.plugins.sweep_orphans().await {
                    Ok(n) if n > 0 => tracing::info!(blobs = n, "removed unreferenced components"),
                    Err(e) => tracing::error!(error = %e, "component sweep failed"),
                    _ => {}
                }
            })
            .await;
        }
    });

    let cluster = warden
        .sandbox
        .store()
        .shared()
        .then(|| tokio::spawn(share_limits(warden.clone())));

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if warden.bootstrap_created {
        print_bootstrap_token(&warden);
    }
    #[cfg(unix)]
    {
        let w = warden.clone();
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                match w.verifier.reload() {
                    Ok(n) => tracing::info!(keys = n, "reloaded signing keys (SIGHUP)"),
                    Err(e) => tracing::error!(error = %e, "key reload failed; old keys stay"),
                }
            }
        });
    }
    let app = crate::api::app(warden.clone());
    let server = tokio::spawn(accept_loop(listener, tls, app, warden.clone(), stop_rx));
    shutdown_signal().await;
    tracing::info!(grace = ?grace, "shutting down: no new connections, finishing requests");
    let _ = stop_tx.send(true);
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
        Err(_) => tracing::warn!("grace period over; dropping the requests still running"),
    }
    sweep.abort();
    if let Some(task) = cluster {
        task.abort();
        flush_fuel(&warden).await;
    }
    // Summaries of the failed-authentication windows still open, then flush queued audit
    // records; the database closes when the last reference goes.
    for summary in warden.quotas.failed_auth.close_windows(true) {
        crate::api::record_failure_summary(&warden, &summary);
    }
    tokio::task::block_in_place(|| warden.sandbox.close());
    drop(warden);
    tracing::info!("stopped");
    Ok(())
}

/// Loads the TLS certificate chain and key, if configured; a missing or unusable file stops
/// start-up naming it (no silent fallback to plain HTTP).
fn tls_acceptor(
    config: &crate::config::ServerConfig,
) -> anyhow::Result<Option<tokio_rustls::TlsAcceptor>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("server.tls_cert {}: {e}", cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "server.tls_cert {}: no certificate in the file",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("server.tls_key {}: {e}", key.display()))?;
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut tls = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| anyhow::anyhow!("server.tls_cert/tls_key: {e}"))?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls))))
}

/// Accepts connections until `stop` turns true, at most `server.max_connections` at once (the
/// rest wait in the listen backlog) and at most `server.max_connections_per_ip` from one source
/// (more are closed as soon as they are accepted). Each is served by hyper with the header
/// limits, under a [`watchdog`] that closes it when no complete request head arrives within
/// `server.header_read_timeout` of the accept (or of a further request's first byte) or when it
/// sits idle for `server.keep_alive_timeout`. Then lets the open connections finish their
/// requests.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: axum::Router,
    warden: Arc<Warden>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    let s = &warden.config.server;
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // The watchdog enforces the header-read and keep-alive timeouts for both protocols,
        // from the accept on; hyper's own timer would start only once a protocol is detected
        // (after the first bytes) and would cut kept-alive connections at the header timeout.
        .header_read_timeout(None)
        .max_buf_size(s.max_header_bytes)
        .max_headers(s.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(s.max_header_bytes).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let slots = Arc::new(tokio::sync::Semaphore::new(s.max_connections));
    let sources = Arc::new(Sources::new(s.connections_per_ip()));
    let timeouts = Timeouts {
        header: s.header_read_timeout,
        idle: s.keep_alive_timeout,
    };
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = stopped(&mut stop) => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let Some(source_slot) = sources.clone().acquire(peer.ip()) else {
            // Dropping the stream closes it; the global slot is free again at once.
            warden.metrics.connection_closed("per_ip_cap");
            tracing::debug!(%peer, "over server.max_connections_per_ip; closed");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let tcp = Metered {
            inner: tcp,
            activity: activity.clone(),
        };
        let service = Tracked {
            app: app.clone(),
            peer,
            activity: activity.clone(),
        };
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let tls = tls.clone();
        let w = warden.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _source_slot = source_slot;
            let serve = async {
                match tls {
                    None => {
                        let conn =
                            builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
                        watcher.watch(conn.into_owned()).await
                    }
                    Some(tls) => {
                        let stream = match tls.accept(tcp).await {
                            Ok(stream) => stream,
                            Err(e) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return Ok(());
                            }
                        };
                        if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                            activity
                                .http2
                                .store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        let conn =
                            builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                        watcher.watch(conn.into_owned()).await
                    }
                }
            };
            tokio::select! {
                result = serve => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                reason = watchdog(&activity, timeouts) => {
                    // Nothing is in flight: dropping the connection just closes the socket.
                    w.metrics.connection_closed(reason.metric());
                    tracing::debug!(%peer, reason = reason.metric(), "closed connection");
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The per-source connection counts behind `server.max_connections_per_ip`.
struct Sources {
    max: usize,
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

impl Sources {
    fn new(max: usize) -> Sources {
        Sources {
            max,
            open: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// A slot for one more connection from `ip`, or `None` when its source is at the cap.
    fn acquire(self: Arc<Self>, ip: std::net::IpAddr) -> Option<SourceSlot> {
        let key = warden_core::quota::source_key(ip);
        {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            let n = open.entry(key).or_insert(0);
            if *n >= self.max {
                return None;
            }
            *n += 1;
        }
        Some(SourceSlot { sources: self, key })
    }
}

/// One connection's place in its source's count; given back on drop.
struct SourceSlot {
    sources: Arc<Sources>,
    key: std::net::IpAddr,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = self.sources.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// The two connection timeouts the [`watchdog`] enforces.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// From the accept (or a further request's first byte) to a complete request head.
    header: Duration,
    /// Between requests on a kept-alive connection.
    idle: Duration,
}

/// `head_since` while no request head is awaited.
const NOT_WAITING: u64 = u64::MAX;

/// What one connection is doing, shared by its I/O wrapper, its service and its watchdog.
/// Times are milliseconds since `opened`.
struct Activity {
    opened: tokio::time::Instant,
    /// The last byte read or written, or the end of the last request.
    last_io: std::sync::atomic::AtomicU64,
    /// When the wait for the current request head began ([`NOT_WAITING`]: none awaited).
    head_since: std::sync::atomic::AtomicU64,
    /// Requests being answered now.
    in_flight: std::sync::atomic::AtomicUsize,
    /// The client spoke HTTP/2: its control frames between requests are not request heads.
    http2: std::sync::atomic::AtomicBool,
    /// Wakes the watchdog when a deadline moves earlier or a request ends.
    changed: tokio::sync::Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: tokio::time::Instant::now(),
            last_io: 0.into(),
            // A fresh connection owes its first request head.
            head_since: 0.into(),
            in_flight: 0.into(),
            http2: false.into(),
            changed: tokio::sync::Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn read(&self, bytes: &[u8]) {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.now();
        if bytes.starts_with(b"PRI * HTTP/2.0") {
            // The HTTP/2 preface (plain text; over TLS, ALPN tells).
            self.http2.store(true, SeqCst);
        }
        self.last_io.store(now, SeqCst);
        if self.in_flight.load(SeqCst) == 0
            && !self.http2.load(SeqCst)
            && self
                .head_since
                .compare_exchange(NOT_WAITING, now, SeqCst, SeqCst)
                .is_ok()
        {
            self.changed.notify_one();
        }
    }

    fn wrote(&self) {
        self.last_io
            .store(self.now(), std::sync::atomic::Ordering::SeqCst);
    }

    /// When the connection must be closed if nothing changes, and why; `None` while a request
    /// is in flight.
    fn deadline(&self, t: Timeouts) -> Option<(u64, Closed)> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.in_flight.load(SeqCst) > 0 {
            return None;
        }
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 4);
        let idle = (
            self.last_io.load(SeqCst).saturating_add(ms(t.idle)),
            Closed::Idle,
        );
        let head = match self.head_since.load(SeqCst) {
            NOT_WAITING => None,
            since => Some((since.saturating_add(ms(t.header)), Closed::HeaderTimeout)),
        };
        Some(match head {
            Some(h) if h.0 <= idle.0 => h,
            _ => idle,
        })
    }
}

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closed {
    /// No complete request head within `server.header_read_timeout`.
    HeaderTimeout,
    /// Idle between requests for `server.keep_alive_timeout`.
    Idle,
}

impl Closed {
    fn metric(self) -> &'static str {
        match self {
            Closed::HeaderTimeout => "header_timeout",
            Closed::Idle => "idle_timeout",
        }
    }
}

/// Resolves when the connection has owed a request head for longer than the header timeout,
/// or has been idle for the keep-alive timeout; never while a request is in flight.
async fn watchdog(a: &Activity, t: Timeouts) -> Closed {
    loop {
        let notified = a.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match a.deadline(t) {
            None => notified.await,
            Some((at, why)) => {
                if at <= a.now() {
                    return why;
                }
                let when = a.opened + Duration::from_millis(at);
                tokio::select! {
                    () = tokio::time::sleep_until(when) => {}
                    () = &mut notified => {}
                }
            }
        }
    }
}

/// The connection's socket, noting every byte read and written in its [`Activity`].
struct Metered<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Metered<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = r
            && let Some(new) = buf.filled().get(before..)
            && !new.is_empty()
        {
            self.activity.read(new);
        }
        r
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = r
            && n > 0
        {
            self.activity.wrote();
        }
        r
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let std::task::Poll::Ready(Ok(n)) = r
            && n > 0
        {
            self.activity.wrote();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The router as one connection's hyper service: adds the peer address to each request and
/// counts the request in flight (in the connection's [`Activity`]) until its response body is
/// done, so the watchdog never closes a connection mid-request.
#[derive(Clone)]
struct Tracked {
    app: axum::Router,
    peer: std::net::SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<axum::http::Request<hyper::body::Incoming>> for Tracked {
    type Response = axum::http::Response<TrackedBody>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn call(&self, mut req: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        let guard = InFlight::start(self.activity.clone());
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        let app = self.app.clone();
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(app, req).await?;
            Ok(response.map(|body| TrackedBody {
                body,
                _guard: guard,
            }))
        })
    }
}

/// One request in flight on its connection; ends on drop.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(a: Arc<Activity>) -> InFlight {
        use std::sync::atomic::Ordering::SeqCst;
        a.in_flight.fetch_add(1, SeqCst);
        // The head is complete: the header clock stops.
        a.head_since.store(NOT_WAITING, SeqCst);
        InFlight(a)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering::SeqCst;
        self.0.in_flight.fetch_sub(1, SeqCst);
        self.0.wrote();
        self.0.changed.notify_one();
    }
}

/// A response body that ends its request's [`InFlight`] when it is done or dropped.
struct TrackedBody {
    body: axum::body::Body,
    _guard: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Resolves once the stop flag is set (the watch guard never lives across an await).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Prints, once, an admin token for the bootstrap secret just created, and how to mint more.
fn print_bootstrap_token(w: &Warden) {
    let ttl = Duration::from_secs(3600);
    let claims = warden_core::auth::claims(
        warden_core::auth::DEFAULT_TENANT,
        "bootstrap-admin",
        &[warden_core::auth::Role::Admin],
        ttl,
        &w.config.auth,
    );
    match w.verifier.issue(&claims) {
        Ok(token) => eprintln!(
            "\nNo signing key was configured, so Warden created one in {dir}/{file} (mode 0600).\n\
             Admin token for tenant `default`, valid for 1 hour (shown only now):\n\n  {token}\n\n\
             Mint more with:\n  warden token issue --data-dir {dir} --tenant default --role operator --ttl 1h\n",
            dir = w.config.server.data_dir.display(),
            file = warden_core::auth::BOOTSTRAP_SECRET,
        ),
        Err(e) => tracing::error!(error = %e, "cannot mint the bootstrap token"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
