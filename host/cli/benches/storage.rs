//! `cargo bench --package warden --bench storage`: what the PostgreSQL backend costs per
//! request next to the embedded redb file, and what a second replica adds.
//!
//! It starts the release `warden` binary on redb and on a database of a throw-away PostgreSQL
//! cluster (started here, like the tests' one), measures the latency of a write (a new template
//! version: one transaction with its audit record) and of a read-heavy call (a render: a read,
//! a sandbox call and a batched audit record) one request at a time, then the throughput of
//! 16 client threads for `WARDEN_BENCH_SECS` seconds (default 5) against one PostgreSQL
//! replica and against two on the same database, and replaces the `## Storage: redb vs
//! PostgreSQL` section of `docs/benchmarks.md`. Nothing is asserted: these are measurements.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "report/mod.rs"]
mod report;
use report::{measure, replace_section};

const SECTION: &str = "## Storage: redb vs PostgreSQL";
const SECRET: &[u8; 32] = b"warden-bench-secret-0123456789ab";
const MASTER_KEY: &str = "d2FyZGVuLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg=";
const THREADS: usize = 16;

/// A running `warden serve`, killed on drop.
struct Server {
    child: Child,
    base: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database: Option<&str>) -> Server {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("warden.toml");
    let secret = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, SECRET);
    std::fs::write(
        &config,
        format!(
            "[[auth.keys]]\nalgorithm = \"HS256\"\nsecret = \"{secret}\"\n\
             [quota.caps]\nrequests_per_second = 1000000\nburst = 1000000\n\
             actor_requests_per_second = 1000000\nactor_burst = 1000000\n\
             [quota.defaults]\nrequests_per_second = 1000000\nburst = 1000000\n\
             actor_requests_per_second = 1000000\nactor_burst = 1000000\n"
        ),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(data.path())
        // The bench's own setting is not the server's (it refuses unknown WARDEN_* names).
        .env_remove("WARDEN_BENCH_SECS")
        .env("WARDEN_LOG", "warn")
        .env(
            "WARDEN_SERVER__CACHE_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-cache"),
        );
    if let Some(url) = database {
        cmd.env("WARDEN_STORAGE__BACKEND", "postgres")
            .env("WARDEN_STORAGE__URL", url)
            .env("WARDEN_PII__MASTER_KEY", MASTER_KEY);
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("warden listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let http = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "not ready in 300 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server {
        child,
        base,
        _data: data,
    }
}

fn token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"sub": "bench", "tenant": "default",
            "roles": ["admin", "author", "operator"], "exp": now + 36000}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn post(http: &reqwest::blocking::Client, url: &str, tok: &str, body: &serde_json::Value) {
    let r = http.post(url).bearer_auth(tok).json(body).send().unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sequential latency of a write and of a render on one server: (write, render).
fn latency(s: &Server, tok: &str) -> (report::Stats, report::Stats) {
    let http = reqwest::blocking::Client::new();
    let versions = format!("{}/v1/templates/lat/versions", s.base);
    let mut n = 0u64;
    let write = measure(200, || {
        n += 1;
        post(
            &http,
            &versions,
            tok,
            &serde_json::json!({"template": format!("Hello {{{{ name }}}} #{n}")}),
        );
    });
    let render = format!("{}/v1/templates/lat/render", s.base);
    let body = serde_json::json!({"variables": {"name": "Ada"}});
    let read = measure(500, || post(&http, &render, tok, &body));
    (write, read)
}

/// Requests per second of `THREADS` clients spread over `servers` for `secs`: renders, or
/// writes (each client its own template).
fn throughput(servers: &[&Server], tok: &str, secs: u64, writes: bool) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (stop, done, base) = (&stop, &done, servers[t % servers.len()].base.clone());
            scope.spawn(move || {
                let http = reqwest::blocking::Client::new();
                let (url, body) = if writes {
                    (
                        format!("{base}/v1/templates/tp{t}/versions"),
                        serde_json::json!({"template": "Hi {{ name }}"}),
                    )
                } else {
                    (
                        format!("{base}/v1/templates/lat/render"),
                        serde_json::json!({"variables": {"name": "Ada"}}),
                    )
                };
                while !stop.load(Ordering::Relaxed) {
                    post(&http, &url, tok, &body);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(1));
        let (start, before) = (Instant::now(), done.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_secs(secs));
        let n = done.load(Ordering::Relaxed) - before;
        stop.store(true, Ordering::Relaxed);
        n as f64 / start.elapsed().as_secs_f64()
    })
}

fn main() {
    let secs: u64 = std::env::var("WARDEN_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(5);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tok = token();
    let cluster = warden_storage::pg_cluster::PgCluster::start();

    let redb = start(None);
    let (redb_w, redb_r) = latency(&redb, &tok);
    let redb_tput = (
        throughput(&[&redb], &tok, secs, false),
        throughput(&[&redb], &tok, secs, true),
    );
    drop(redb);

    let url = cluster.create_database();
    let one = start(Some(&url));
    let (pg_w, pg_r) = latency(&one, &tok);
    let one_tput = (
        throughput(&[&one], &tok, secs, false),
        throughput(&[&one], &tok, secs, true),
    );
    let two = start(Some(&url));
    // Let the heartbeats count both replicas before measuring.
    std::thread::sleep(Duration::from_secs(3));
    let two_tput = (
        throughput(&[&one, &two], &tok, secs, false),
        throughput(&[&one, &two], &tok, secs, true),
    );
    drop((one, two));
    cluster.stop();

    let mut section = String::new();
    let _ = writeln!(section, "{SECTION}\n");
    let _ = writeln!(
        section,
        "`cargo bench --package warden --bench storage`: the release `warden serve` on loopback, \
         on its redb file and on a PostgreSQL {} database of a throw-away cluster on the same \
         machine (started by the bench with `fsync=off`, so PostgreSQL's figures leave out the \
         disk flush redb's commits include). Latency: one request at a time (200 writes, 500 \
         renders, after a warm-up). Throughput: {THREADS} client threads for {secs} s, spread \
         evenly over the replicas. The 2 cores are shared by the clients, every replica and the \
         database, so a second replica cannot add capacity here; it shows what coordination \
         costs.\n",
        pg_version()
    );
    let _ = writeln!(
        section,
        "| request | redb median / p99 ms | PostgreSQL median / p99 ms |\n|---|---|---|"
    );
    for (what, a, b) in [
        ("write (new template version)", &redb_w, &pg_w),
        ("render (read + sandbox call)", &redb_r, &pg_r),
    ] {
        let _ = writeln!(
            section,
            "| {what} | {:.2} / {:.2} | {:.2} / {:.2} |",
            ms(a.median),
            ms(a.p99),
            ms(b.median),
            ms(b.p99)
        );
    }
    let _ = writeln!(
        section,
        "\n| throughput, requests/s | redb | PostgreSQL, 1 replica | PostgreSQL, 2 replicas |\n|---|---|---|---|"
    );
    let _ = writeln!(
        section,
        "| render | {:.0} | {:.0} | {:.0} |",
        redb_tput.0, one_tput.0, two_tput.0
    );
    let _ = writeln!(
        section,
        "| write | {:.0} | {:.0} | {:.0} |",
        redb_tput.1, one_tput.1, two_tput.1
    );
    println!("\n{section}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, replace_section(&doc, SECTION, &section)).unwrap();
}

fn pg_version() -> String {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).max())
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_default()
}
