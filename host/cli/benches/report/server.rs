//! The `warden serve` process a benchmark measures (the release binary on a temporary data
//! directory and an ephemeral port, abuse limits lifted), shared by the HTTP and gateway
//! benches with `#[path]`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Abuse limits lifted for the run (see [`Server::start`]).
pub const QUOTA_OVERRIDES: [(&str, &str); 11] = [
    ("WARDEN_QUOTA__CAPS__REQUESTS_PER_SECOND", "1000000"),
    ("WARDEN_QUOTA__CAPS__BURST", "1000000"),
    ("WARDEN_QUOTA__CAPS__ACTOR_REQUESTS_PER_SECOND", "1000000"),
    ("WARDEN_QUOTA__CAPS__ACTOR_BURST", "1000000"),
    ("WARDEN_QUOTA__CAPS__CONCURRENT_CALLS", "1024"),
    ("WARDEN_QUOTA__DEFAULTS__REQUESTS_PER_SECOND", "1000000"),
    ("WARDEN_QUOTA__DEFAULTS__BURST", "1000000"),
    (
        "WARDEN_QUOTA__DEFAULTS__ACTOR_REQUESTS_PER_SECOND",
        "1000000",
    ),
    ("WARDEN_QUOTA__DEFAULTS__ACTOR_BURST", "1000000"),
    ("WARDEN_QUOTA__DEFAULTS__CONCURRENT_CALLS", "1024"),
    // Every load comes from 127.0.0.1: at the default cap of 64 connections per source, a
    // 64-connection row that starts while the warm-up's connections are still closing has some
    // of its connections refused (wrk counts them as socket errors).
    ("WARDEN_SERVER__MAX_CONNECTIONS_PER_IP", "1024"),
];

/// The `warden serve` child process; killed when dropped, so also on a panic.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its data directory.
    pub data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the release binary logging to `log`, with configuration file `config` if given.
    pub fn start(log: &Path, config: Option<&Path>) -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
        cmd.args(["serve", "--data-dir"])
            .arg(data.path())
            .args(["--listen", "127.0.0.1:0"])
            .args(
                config
                    .map(|c| vec![std::ffi::OsStr::new("--config"), c.as_os_str()])
                    .unwrap_or_default(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap());
        // The server reads every `WARDEN_*` variable as configuration and refuses unknown keys:
        // keep the bench's own knobs away from it (others, such as WARDEN_LOG or
        // WARDEN_SERVER__MAX_CONCURRENT_CALLS, pass through on purpose).
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("WARDEN_BENCH_") {
                cmd.env_remove(k);
            }
        }
        // This measures capacity, not policy: one token is one actor, and the default abuse
        // limits (100 requests/s per actor, 32 concurrent calls per tenant) would turn most of
        // the load into 429s. Lift them unless the caller set them; the checks still run.
        for (k, v) in QUOTA_OVERRIDES {
            if std::env::var_os(k).is_none() {
                cmd.env(k, v);
            }
        }
        // Compiled built-ins are cached in the target directory (like the tests' servers do), so
        // only the first run compiles them; the data directory itself is fresh every run.
        if std::env::var_os("WARDEN_SERVER__CACHE_DIR").is_none() {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
                PathBuf::from,
            );
            cmd.env("WARDEN_SERVER__CACHE_DIR", target.join("bench-cache"));
        }
        let mut child = cmd.spawn().expect("cannot start the warden binary");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Read the address line, then keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("warden listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            data,
        };
        server.base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => panic!(
                "warden did not print its address within 60 s; its log: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ),
        };
        server
    }
}

/// The admin token a server prints to its log when it creates its own signing key (servers
/// with bearer-token authentication); `None` for a server that prints none.
pub fn bootstrap_token(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().map(str::trim).find_map(|l| {
        let jwt = l.starts_with("eyJ")
            && l.split('.').count() == 3
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        jwt.then(|| l.to_owned())
    })
}
