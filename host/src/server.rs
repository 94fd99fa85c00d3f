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

/// Runs the server until a shutdown signal; returns when everything is flushed.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    let grace = config.server.grace_period;
    let warden = Arc::new(tokio::task::block_in_place(|| Warden::open(config))?);
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
    tokio::spawn(async move { warm.warm_up().await });
    let sweeper = warden.clone();
    let sweep = tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY.min(sweeper.config.sessions.idle_ttl / 2));
        loop {
            tick.tick().await;
            let w = sweeper.clone();
            let _ = tokio::task::spawn_blocking(move || {
                match crate::sessions::expire_idle(&w) {
                    Ok(n) if n > 0 => tracing::info!(sessions = n, "expired idle sessions"),
                    Err(e) => tracing::error!(error = %e, "session sweep failed"),
                    _ => {}
                }
                w.quotas.sweep();
                match crate::pii::service::purge_expired_vaults(&w) {
                    Ok(n) if n > 0 => tracing::info!(vaults = n, "deleted expired vaults"),
                    Err(e) => tracing::error!(error = %e, "vault sweep failed"),
                    _ => {}
                }
            })
            .await;
        }
    });

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
    // Flush queued audit records; the database closes when the last reference goes.
    tokio::task::block_in_place(|| warden.audit.close());
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
/// rest wait in the listen backlog), each served by hyper with the header limits and the
/// header-read timeout; then lets the open connections finish their requests.
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
        .header_read_timeout(s.header_read_timeout)
        .max_buf_size(s.max_header_bytes)
        .max_headers(s.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(s.max_header_bytes).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let slots = Arc::new(tokio::sync::Semaphore::new(s.max_connections));
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
        let _ = tcp.set_nodelay(true);
        let service =
            hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
                app.clone(),
                move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                },
            ));
        let watcher = graceful.watcher();
        let builder = builder.clone();
        let tls = tls.clone();
        let handshake_timeout = s.header_read_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let result = match tls {
                None => {
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
                    watcher.watch(conn.into_owned()).await
                }
                Some(tls) => {
                    let stream =
                        match tokio::time::timeout(handshake_timeout, tls.accept(tcp)).await {
                            Ok(Ok(stream)) => stream,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    watcher.watch(conn.into_owned()).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Resolves once the stop flag is set (the watch guard never lives across an await).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Prints, once, an admin token for the bootstrap secret just created, and how to mint more.
fn print_bootstrap_token(w: &Warden) {
    let ttl = Duration::from_secs(3600);
    let claims = crate::auth::claims(
        crate::auth::DEFAULT_TENANT,
        "bootstrap-admin",
        &[crate::auth::Role::Admin],
        ttl,
        &w.config.auth,
    );
    match w.verifier.issue(&claims) {
        Ok(token) => eprintln!(
            "\nNo signing key was configured, so Warden created one in {dir}/{file} (mode 0600).\n\
             Admin token for tenant `default`, valid for 1 hour (shown only now):\n\n  {token}\n\n\
             Mint more with:\n  warden token issue --data-dir {dir} --tenant default --role operator --ttl 1h\n",
            dir = w.config.server.data_dir.display(),
            file = crate::auth::BOOTSTRAP_SECRET,
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
