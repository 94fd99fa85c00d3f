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
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let local = listener.local_addr()?;
    // Scripts and tests read this line to find an ephemeral port.
    println!("warden listening on http://{local}");
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
    let app = crate::api::app(warden.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let mut stopped = stop_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped.wait_for(|s| *s).await;
    });
    let server = tokio::spawn(async move { server.await });
    shutdown_signal().await;
    tracing::info!(grace = ?grace, "shutting down: no new connections, finishing requests");
    let _ = stop_tx.send(true);
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error"),
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
