//! `cargo bench --package warden --bench http`: end-to-end HTTP throughput and latency of
//! `warden serve`, driven by a real load generator (`wrk`), next to an unsandboxed native
//! ceiling (axum + minijinja in-process, the same template and variables, JSON in and out).
//!
//! The engine bench measures one sandbox call; this one measures what a client sees: HTTP
//! parsing, routing, JSON, the call pool, the sandbox, the audit record and the response. It
//! exists to check the serving targets (render throughput at least 0.7× the native ceiling,
//! render p99 at most 5 ms at 64 connections) and to show where they are missed.
//!
//! It starts the release `warden` binary on a temporary data directory and an ephemeral port,
//! runs render, detect and eval against it and render against the ceiling at 1, 16 and 64
//! connections (`WARDEN_BENCH_SECS` seconds each, default 5, after a 1 s warm-up), prints a
//! table and replaces the `## HTTP (warden serve)` section of `docs/benchmarks.md`. Requests
//! carry the bootstrap admin token the server prints, and the per-tenant/per-actor abuse limits
//! are lifted for the run (one client would otherwise be measured against its rate limit).
//! Nothing is asserted: these are measurements, and they are only as good as the machine is idle.
// A bench is not a request path: failing loudly on a broken setup is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::fmt::Write as _;

#[path = "report/mod.rs"]
mod report;
#[path = "report/server.rs"]
mod server;
use report::replace_section;
use server::{Server, bootstrap_token};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

const TEMPLATE: &str = "Hello {{ name }}! You have {{ items | length }} messages.";
const TEMPLATE_NAME: &str = "bench";
const RENDER_BODY: &str = r#"{"variables": {"name": "Ada", "items": [1, 2, 3]}}"#;
const DETECT_BODY: &str = r#"{"text": "Contact Ada at ada@example.com or +1 415 555 0100."}"#;
const EVAL_BODY: &str = r#"{"code": "sum(range(100))"}"#;
const CONCURRENCY: [u32; 3] = [1, 16, 64];
const WARM_UP_SECS: u64 = 1;
/// Targets the table is checked against.
const TARGET_RATIO: f64 = 0.7;
const TARGET_P99_MS: f64 = 5.0;
const TARGET_P99_AT: u32 = 64;
const SECTION: &str = "## HTTP (warden serve)";
/// One measured run, parsed from wrk's output.
#[derive(Clone)]
struct Run {
    endpoint: &'static str,
    connections: u32,
    rps: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
    socket_errors: u64,
    requests: u64,
}

impl Run {
    fn errors(&self) -> u64 {
        self.non_2xx + self.socket_errors
    }
}

/// Makes sure `wrk` is on the PATH: installs it with apt-get when running as root, otherwise
/// says how to.
fn ensure_wrk() {
    let found = || {
        Command::new("sh")
            .args(["-c", "command -v wrk"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if found() {
        return;
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let has_apt = Command::new("sh")
        .args(["-c", "command -v apt-get"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if is_root && has_apt {
        eprintln!("wrk is not installed: installing it with apt-get");
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "-q", "wrk"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        if !install() {
            let _ = Command::new("apt-get").args(["update", "-q"]).status();
            install();
        }
        if found() {
            return;
        }
    }
    eprintln!(
        "error: this benchmark drives load with wrk, which is not installed.\n\
         Install it (Debian/Ubuntu: `sudo apt-get install -y wrk`) and run it again."
    );
    std::process::exit(2);
}

/// A wrk script that POSTs `body` as JSON, with the bearer token if there is one.
fn lua_script(dir: &Path, name: &str, body: &str, token: Option<&str>) -> PathBuf {
    assert!(!body.contains("]==]"));
    let path = dir.join(format!("{name}.lua"));
    let mut lua = format!(
        "wrk.method = \"POST\"\nwrk.body = [==[{body}]==]\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n"
    );
    if let Some(t) = token {
        let _ = writeln!(lua, "wrk.headers[\"Authorization\"] = \"Bearer {t}\"");
    }
    std::fs::write(&path, lua).unwrap();
    path
}

/// A wrk time such as `812.00us`, `1.25ms` or `2.00s`, in milliseconds.
fn parse_time_ms(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1e3,
        "ms" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        "h" => n * 3600e3,
        _ => return None,
    })
}

fn parse_wrk(endpoint: &'static str, connections: u32, out: &str) -> Run {
    let mut run = Run {
        endpoint,
        connections,
        rps: f64::NAN,
        p50_ms: f64::NAN,
        p90_ms: f64::NAN,
        p99_ms: f64::NAN,
        non_2xx: 0,
        socket_errors: 0,
        requests: 0,
    };
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", t] => run.p50_ms = parse_time_ms(t).unwrap_or(f64::NAN),
            ["90%", t] => run.p90_ms = parse_time_ms(t).unwrap_or(f64::NAN),
            ["99%", t] => run.p99_ms = parse_time_ms(t).unwrap_or(f64::NAN),
            ["Requests/sec:", r] => run.rps = r.parse().unwrap_or(f64::NAN),
            [n, "requests", "in", ..] => run.requests = n.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.non_2xx = n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                run.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    run
}

fn wrk(url: &str, script: &Path, connections: u32, secs: u64) -> String {
    let threads = connections.min(2);
    let out = Command::new("wrk")
        .args(["--latency", "-t", &threads.to_string()])
        .args(["-c", &connections.to_string()])
        .args(["-d", &format!("{secs}s")])
        .arg("-s")
        .arg(script)
        .arg(url)
        .output()
        .expect("cannot run wrk");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Warm up, then measure one endpoint at one concurrency.
fn measure(endpoint: &'static str, url: &str, script: &Path, connections: u32, secs: u64) -> Run {
    wrk(url, script, connections, WARM_UP_SECS);
    let out = wrk(url, script, connections, secs);
    let run = parse_wrk(endpoint, connections, &out);
    assert!(
        run.rps.is_finite() && run.p99_ms.is_finite(),
        "cannot parse wrk's output:\n{out}"
    );
    eprintln!(
        "{endpoint} c={connections}: {:.0} req/s, p99 {:.2} ms, {} errors",
        run.rps,
        run.p99_ms,
        run.errors()
    );
    run
}

// ---------------------------------------------------------------- the native ceiling

#[derive(serde::Deserialize)]
struct NativeRequest {
    #[serde(default)]
    variables: serde_json::Map<String, serde_json::Value>,
}

#[derive(serde::Serialize)]
struct NativeResponse {
    name: &'static str,
    text: String,
}

async fn native_render(
    State(env): State<Arc<minijinja::Environment<'static>>>,
    Json(req): Json<NativeRequest>,
) -> Result<Json<NativeResponse>, (axum::http::StatusCode, String)> {
    let text = env
        .get_template(TEMPLATE_NAME)
        .and_then(|t| {
            t.render(minijinja::Value::from(minijinja::value::Serde(
                req.variables,
            )))
        })
        .map_err(|e| (axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(Json(NativeResponse {
        name: TEMPLATE_NAME,
        text,
    }))
}

/// Starts the ceiling on its own multi-thread runtime; returns its base URL.
fn start_native(rt: &tokio::runtime::Runtime) -> String {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template(TEMPLATE_NAME, TEMPLATE).unwrap();
    let app = Router::new()
        .route("/render", post(native_render))
        .with_state(Arc::new(env));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

// ---------------------------------------------------------------- the report

fn cell_ms(v: f64) -> String {
    format!("{v:.2} ms")
}

fn table(runs: &[Run]) -> String {
    let mut t = String::from(
        "| endpoint | connections | req/s | p50 | p90 | p99 | errors |\n|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let errors = if r.errors() == 0 {
            "0".to_owned()
        } else {
            format!(
                "**{} of {}** (non-2xx {}, socket {})",
                r.errors(),
                r.requests,
                r.non_2xx,
                r.socket_errors
            )
        };
        let rps = if r.errors() == 0 {
            format!("{:.0}", r.rps)
        } else {
            format!("{:.0} (invalid: errors)", r.rps)
        };
        let _ = writeln!(
            t,
            "| {} | {} | {rps} | {} | {} | {} | {errors} |",
            r.endpoint,
            r.connections,
            cell_ms(r.p50_ms),
            cell_ms(r.p90_ms),
            cell_ms(r.p99_ms),
        );
    }
    t
}

fn find<'a>(runs: &'a [Run], endpoint: &str, c: u32) -> &'a Run {
    runs.iter()
        .find(|r| r.endpoint == endpoint && r.connections == c)
        .unwrap()
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "NOT MET" }
}

fn targets(runs: &[Run]) -> String {
    let mut out = String::from(
        "| connections | Warden render req/s | native req/s | Warden / native |\n|---|---|---|---|\n",
    );
    let mut ratio_met = true;
    for c in CONCURRENCY {
        let w = find(runs, WARDEN_RENDER, c);
        let n = find(runs, NATIVE_RENDER, c);
        let ratio = w.rps / n.rps;
        ratio_met &= ratio >= TARGET_RATIO && w.errors() == 0 && n.errors() == 0;
        let _ = writeln!(out, "| {c} | {:.0} | {:.0} | {ratio:.2}× |", w.rps, n.rps);
    }
    let tail = find(runs, WARDEN_RENDER, TARGET_P99_AT);
    let p99_met = tail.p99_ms <= TARGET_P99_MS && tail.errors() == 0;
    let _ = writeln!(
        out,
        "\n- Render throughput ≥ {TARGET_RATIO}× native at every concurrency: **{}**",
        verdict(ratio_met)
    );
    let _ = writeln!(
        out,
        "- Render p99 ≤ {TARGET_P99_MS} ms at {TARGET_P99_AT} connections: **{}** ({:.2} ms)",
        verdict(p99_met),
        tail.p99_ms
    );
    let others: Vec<String> = [WARDEN_DETECT, WARDEN_EVAL]
        .iter()
        .map(|e| {
            let r = find(runs, e, TARGET_P99_AT);
            format!("{e} {:.2} ms", r.p99_ms)
        })
        .collect();
    let _ = writeln!(
        out,
        "- For reference, p99 at {TARGET_P99_AT} connections of the other endpoints: {}.",
        others.join(", ")
    );
    if runs.iter().any(|r| r.errors() > 0) {
        let _ = writeln!(
            out,
            "- **Some runs had errors**: their throughput is not a valid measurement."
        );
    }
    out
}

const WARDEN_RENDER: &str = "warden render";
const WARDEN_DETECT: &str = "warden detect";
const WARDEN_EVAL: &str = "warden eval";
const NATIVE_RENDER: &str = "native render (ceiling)";

/// The section `PROFILE=1` writes.
const PROFILE_SECTION: &str = "## Where an HTTP request's time goes";

/// What a sampled function belongs to, from its shared object and (demangled) name: the layers
/// of one request.
fn category(dso: &str, sym: &str) -> &'static str {
    let has = |needles: &[&str]| needles.iter().any(|n| sym.contains(n));
    if dso.contains("kernel") {
        return if has(&[
            "clear_page",
            "fault",
            "do_anonymous",
            "filemap",
            "pte",
            "__handle_mm",
            "do_wp_page",
            "folio",
            "copy_mc",
        ]) {
            "kernel: page faults (the fresh instance's memory)"
        } else if has(&[
            "madvise",
            "zap_",
            "unmap",
            "mmap",
            "mprotect",
            "tlb",
            "free_pages",
            "release_pages",
            "page_remove",
            "pagemap",
            "smp_call_function",
        ]) {
            "kernel: mapping and resetting memory (incl. TLB shootdowns)"
        } else if has(&[
            "tcp", "sock", "skb", "ip_", "net_", "epoll", "ep_", "_recv", "_send", "loopback",
            "__dev", "iowrite", "virtnet", "napi",
        ]) {
            "kernel: network and epoll"
        } else if has(&[
            "futex",
            "schedule",
            "switch",
            "wake",
            "enqueue",
            "dequeue",
            "pick_next",
            "select_task",
            "spin_unlock_irq",
            "write_msr",
            "hrtimer",
        ]) {
            "kernel: waking and switching threads"
        } else {
            "kernel: other (syscall entry, …)"
        };
    }
    if dso.ends_with(".cwasm")
        || dso.contains("memfd")
        || dso.contains("[JIT]")
        || (dso == "[unknown]" && sym.starts_with("0x"))
    {
        return "guest code (the compiled component)";
    }
    // Crate names as whole path segments (`ring` must not match `alloc::string::String`).
    let tokens: Vec<&str> = sym
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let krate = |names: &[&str]| {
        names
            .iter()
            .any(|n| tokens.contains(n) && sym.contains(&format!("{n}::")))
    };
    if krate(&[
        "jsonwebtoken",
        "ring",
        "aws_lc_rs",
        "ed25519_dalek",
        "p256",
        "rsa",
    ]) {
        return "JWT verification (parse, signature)";
    }
    if krate(&["sha2", "hmac"]) || has(&["sha256_block"]) {
        return "SHA-256 and HMAC (HS256 tokens, audit chain, digests)";
    }
    if krate(&[
        "wasmtime",
        "cranelift_codegen",
        "wasmparser",
        "wasmtime_wasi",
        "wasmtime_environ",
    ]) {
        return "wasmtime (store, instantiate, fuel, lift/lower)";
    }
    if krate(&[
        "serde_json",
        "serde",
        "serde_core",
        "serde_path_to_error",
        "utoipa",
        "jsonschema",
    ]) {
        return "JSON (parse, validate, write)";
    }
    if krate(&["hyper", "httparse", "http", "h2", "hyper_util"]) {
        return "HTTP (hyper)";
    }
    if krate(&["axum", "axum_core", "tower", "tower_http", "matchit"]) {
        return "routing and layers (axum, tower)";
    }
    if krate(&["tokio", "mio", "parking_lot", "crossbeam_channel"]) {
        return "tokio (scheduling, blocking-pool hand-off)";
    }
    if krate(&["redb", "warden_storage"]) {
        return "storage (redb, audit writer)";
    }
    if krate(&["governor", "quanta", "raw_cpuid"]) || sym.contains("warden_core::quota") {
        return "quotas";
    }
    if krate(&[
        "tracing",
        "tracing_core",
        "tracing_subscriber",
        "prometheus",
        "metrics",
    ]) {
        return "tracing and metrics";
    }
    if krate(&["minijinja", "warden_core", "warden_server", "warden_engine"]) {
        return "Warden's services and handlers";
    }
    if dso.starts_with("libc")
        || has(&[
            "malloc",
            "memcpy",
            "memmove",
            "memset",
            "_int_free",
            "cfree",
            "__rdl_alloc",
            "__rdl_dealloc",
            "__rust_alloc",
        ])
    {
        return "libc (allocation, copies)";
    }
    "other"
}

/// CPU time (user + system) the process `pid` has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// `PROFILE=1`: one connection per endpoint under `perf record` (sampling the server's
/// threads), the server's CPU time per request from `/proc`, and each layer's share.
fn profile(server: &Server, endpoints: &[(&'static str, &String, &PathBuf)], secs: u64) {
    let pid = server.child.id();
    let mut out = format!(
        "{PROFILE_SECTION}\n\n`PROFILE=1 cargo bench --package warden --bench http`: each endpoint driven by wrk on one \
         connection for {secs} s while `perf record -F 1999` samples the server's threads; the server's CPU time per request \
         comes from `/proc/PID/stat`, and each layer's share of it from the samples, grouped by shared object and function \
         name. Wall time per request is wrk's median; the rest of it is waiting (the client, loopback, thread hand-offs).\n"
    );
    for (endpoint, url, script) in endpoints {
        wrk(url, script, 1, WARM_UP_SECS);
        let data = tempfile::NamedTempFile::new().unwrap();
        let record = Command::new("perf")
            .args(["record", "-q", "-F", "1999", "-p", &pid.to_string(), "-o"])
            .arg(data.path())
            .args(["--", "sleep", &(secs + 1).to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("perf is needed for PROFILE=1 (apt-get install linux-perf)");
        std::thread::sleep(Duration::from_millis(300));
        let before = cpu_time(pid);
        let run = parse_wrk(endpoint, 1, &wrk(url, script, 1, secs));
        let cpu = cpu_time(pid) - before;
        let status = record.wait_with_output().unwrap().status;
        assert!(status.success(), "perf record failed");
        let report = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--no-children",
                "--sort",
                "dso,sym",
                "--percent-limit",
                "0",
                "-i",
            ])
            .arg(data.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&report.stdout);
        let mut shares: std::collections::BTreeMap<&'static str, f64> = Default::default();
        let mut top = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let [pct, dso, kind, sym @ ..] = words.as_slice() else {
                continue;
            };
            let Some(pct) = pct.strip_suffix('%').and_then(|p| p.parse::<f64>().ok()) else {
                continue;
            };
            if !kind.starts_with('[') {
                continue;
            }
            let sym = sym.join(" ");
            if top.len() < 15 {
                top.push(format!(
                    "{pct:.1}% {dso} {}",
                    sym.chars().take(100).collect::<String>()
                ));
            }
            if std::env::var_os("PROFILE_DUMP").is_some() && pct >= 0.05 {
                eprintln!(
                    "{endpoint}\t{}\t{pct:.2}\t{dso}\t{sym}",
                    category(dso, &sym)
                );
            }
            *shares.entry(category(dso, &sym)).or_default() += pct;
        }
        let per_req_us = cpu.as_secs_f64() * 1e6 / run.requests.max(1) as f64;
        let mut rows: Vec<(&str, f64)> = shares.into_iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let _ = writeln!(
            out,
            "\n### {endpoint}, one connection: {:.0} requests/s, p50 {:.3} ms wall, {per_req_us:.0} µs of server CPU per request\n\n\
             | layer | share of server CPU | µs per request |\n|---|---|---|",
            run.rps, run.p50_ms
        );
        for (cat, pct) in rows.iter().filter(|(_, p)| *p >= 0.5) {
            let _ = writeln!(
                out,
                "| {cat} | {pct:.1}% | {:.0} |",
                per_req_us * pct / 100.0
            );
        }
        let small: f64 = rows.iter().filter(|(_, p)| *p < 0.5).map(|(_, p)| p).sum();
        if small > 0.0 {
            let _ = writeln!(
                out,
                "| (smaller items) | {small:.1}% | {:.0} |",
                per_req_us * small / 100.0
            );
        }
        let _ = writeln!(
            out,
            "\n<details><summary>The 15 hottest functions</summary>\n\n```\n{}\n```\n</details>",
            top.join("\n")
        );
    }
    println!("{out}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, replace_section(&doc, PROFILE_SECTION, &out)).unwrap();
}

fn main() {
    let secs: u64 = std::env::var("WARDEN_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(5);
    ensure_wrk();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("warden.log");

    let started = Instant::now();
    let server = Server::start(&log, None);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::blocking::Client::new();
    let ready_by = Instant::now() + Duration::from_secs(180);
    loop {
        let ok = http
            .get(format!("{}/readyz", server.base))
            .send()
            .is_ok_and(|r| r.status().is_success());
        if ok {
            break;
        }
        assert!(
            Instant::now() < ready_by,
            "warden was not ready within 180 s; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let ready_in = started.elapsed();
    let token = bootstrap_token(&log);
    let with_token = |r: reqwest::blocking::RequestBuilder| match &token {
        Some(t) => r.bearer_auth(t),
        None => r,
    };
    let created = with_token(http.post(format!(
        "{}/v1/templates/{TEMPLATE_NAME}/versions",
        server.base
    )))
    .json(&serde_json::json!({"template": TEMPLATE, "labels": ["production"]}))
    .send()
    .unwrap();
    assert!(
        created.status().is_success(),
        "creating the template failed: {}",
        created.text().unwrap_or_default()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let native = start_native(&rt);

    // Every endpoint answers 200 with the expected content before any load is sent.
    let post = |url: &str, body: &str| -> serde_json::Value {
        let r = with_token(http.post(url))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .unwrap();
        let status = r.status();
        let text = r.text().unwrap();
        assert!(status.is_success(), "{url}: {status}: {text}");
        serde_json::from_str(&text).unwrap()
    };
    let render_url = format!("{}/v1/templates/{TEMPLATE_NAME}/render", server.base);
    let detect_url = format!("{}/v1/pii/detect", server.base);
    let eval_url = format!("{}/v1/code/eval", server.base);
    let native_url = format!("{native}/render");
    let w = post(&render_url, RENDER_BODY);
    let n = post(&native_url, RENDER_BODY);
    assert_eq!(w["text"], "Hello Ada! You have 3 messages.", "{w}");
    assert_eq!(w["text"], n["text"], "Warden and the ceiling disagree");
    post(&detect_url, DETECT_BODY);
    post(&eval_url, EVAL_BODY);

    let scripts = work.path();
    let token = token.as_deref();
    let render_lua = lua_script(scripts, "render", RENDER_BODY, token);
    let detect_lua = lua_script(scripts, "detect", DETECT_BODY, token);
    let eval_lua = lua_script(scripts, "eval", EVAL_BODY, token);
    if std::env::var_os("PROFILE").is_some() {
        profile(
            &server,
            &[
                (WARDEN_RENDER, &render_url, &render_lua),
                (WARDEN_DETECT, &detect_url, &detect_lua),
            ],
            secs,
        );
        return;
    }
    let mut runs = Vec::new();
    for (endpoint, url, script) in [
        (WARDEN_RENDER, &render_url, &render_lua),
        (NATIVE_RENDER, &native_url, &render_lua),
        (WARDEN_DETECT, &detect_url, &detect_lua),
        (WARDEN_EVAL, &eval_url, &eval_lua),
    ] {
        for c in CONCURRENCY {
            runs.push(measure(endpoint, url, script, c, secs));
        }
    }
    let hostile = hostile_load(&server, &render_url, &render_lua, secs, &runs);
    drop(server);
    rt.shutdown_background();

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    let wrk_version = Command::new("wrk")
        .arg("-v")
        .output()
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout);
            s.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
        })
        .unwrap_or_default();

    let mut section = String::new();
    let _ = writeln!(section, "{SECTION}\n");
    let _ = writeln!(
        section,
        "Generated by `cargo bench --package warden --bench http`. Machine: {cpu}, {cores} cores, \
         shared by the server, the load generator and the ceiling (load average at the end: {load}). \
         Load from {wrk_version} (`--latency`, threads = min(connections, 2)), {secs} s per row after a \
         {WARM_UP_SECS} s warm-up, keep-alive connections, POST with a JSON body. The release `warden` \
         binary ran with default configuration except the per-tenant, per-actor and per-source abuse limits, \
         lifted so that one client can load it (`{}`; the checks still run), on a fresh data directory (compiled built-ins cached in `target/bench-cache`; ready in {:.1} s); {}.\n",
        server::QUOTA_OVERRIDES
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
        ready_in.as_secs_f64(),
        if token.is_some() {
            "every request carries the bootstrap admin token it printed (`Authorization: Bearer`, \
             verified per request)"
        } else {
            "it printed no token, so requests carry none"
        }
    );
    let _ = writeln!(
        section,
        "- *warden render*: `POST /v1/templates/{{name}}/render` of `{TEMPLATE}` with `{RENDER_BODY}`.\n\
         - *native render (ceiling)*: the same template and variables rendered by minijinja \
         directly in an axum handler (template parsed once at start-up, no sandbox, no audit, no \
         middleware) on a multi-thread tokio runtime in the bench process.\n\
         - *warden detect*: `POST /v1/pii/detect` with `{DETECT_BODY}`.\n\
         - *warden eval*: `POST /v1/code/eval` with `{EVAL_BODY}` (a fresh Python sandbox per request).\n"
    );
    section.push_str(&table(&runs));
    let _ = writeln!(section, "\n### Against the targets\n");
    section.push_str(&targets(&runs));
    section.push_str(&hostile);

    println!("\n{section}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, replace_section(&doc, SECTION, &section)).unwrap();
    println!("wrote {}", path.display());
}

// ---------------------------------------------------------------- under hostile load

/// Peak resident memory of a process (VmHWM), bytes.
fn peak_rss(pid: u32) -> u64 {
    proc_kb(&format!("/proc/{pid}/status"), "VmHWM:")
}

/// The `kB` value of field `key` in a `/proc` file of `key: value kB` lines, in bytes.
fn proc_kb(path: &str, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// What the server's resident memory is made of now, in MiB: (private anonymous, file-backed,
/// proportional set size). A page of a compiled component's image that many pool slots map
/// counts once per slot in RSS but once in all in PSS.
fn memory_now(pid: u32) -> (u64, u64, u64) {
    let status = format!("/proc/{pid}/status");
    (
        proc_kb(&status, "RssAnon:") >> 20,
        proc_kb(&status, "RssFile:") >> 20,
        proc_kb(&format!("/proc/{pid}/smaps_rollup"), "Pss:") >> 20,
    )
}

/// The memory the server may use under the mixed load.
const MEMORY_CAP: u64 = 1 << 30;
/// How much slower normal calls may get while two other tenants run hostile code.
const LATENCY_FACTOR: f64 = 3.0;

/// Renders from tenant `default` under wrk while tenants `mallory` and `eve` send hostile
/// Python flat out (infinite loops cut by the deadline, fuel bombs, memory bombs, deep
/// recursion): no host-caused 5xx, memory under a cap, latency within a factor of unloaded.
fn hostile_load(
    server: &Server,
    render_url: &str,
    render_lua: &Path,
    secs: u64,
    runs: &[Run],
) -> String {
    let hostile_bodies = [
        r#"{"code": "while True:\n    pass", "limits": {"wall_time_ms": 150}}"#,
        r#"{"code": "x = 0\nwhile True:\n    x = x + 1", "limits": {"fuel": 100000000}}"#,
        r#"{"code": "s = 'a' * 100000\nl = []\nwhile True:\n    l.append(s + str(len(l)))", "limits": {"memory_bytes": 33554432}}"#,
        r#"{"code": "def f(n):\n    return f(n + 1)\nf(0)"}"#,
    ];
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counts = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        String,
        u64,
    >::new()));
    let mut threads = Vec::new();
    for tenant in ["mallory", "eve"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
        cmd.args(["token", "issue", "--data-dir"])
            .arg(server.data.path())
            .args(["--tenant", tenant, "--role", "operator", "--sub", tenant]);
        // As for the server: the bench's own WARDEN_BENCH_* knobs are not configuration.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("WARDEN_BENCH_") {
                cmd.env_remove(k);
            }
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "warden token issue failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let (stop, counts, url) = (
            stop.clone(),
            counts.clone(),
            format!("{}/v1/code/eval", server.base),
        );
        threads.push(std::thread::spawn(move || {
            let c = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap();
            let mut i = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = hostile_bodies[i % hostile_bodies.len()];
                i += 1;
                let key = match c
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                {
                    Ok(r) => {
                        let st = r.status().as_u16();
                        let v: serde_json::Value = r.json().unwrap_or_default();
                        format!("{st} {}", v["outcome"].as_str().unwrap_or("-"))
                    }
                    Err(e) => format!("transport error: {e}"),
                };
                *counts.lock().unwrap().entry(key).or_default() += 1;
            }
        }));
    }
    std::thread::sleep(Duration::from_secs(1));
    let loaded = measure(
        "warden render, hostile tenants running",
        render_url,
        render_lua,
        16,
        secs,
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let rss = peak_rss(server.child.id());
    let (anon, file, pss) = memory_now(server.child.id());
    let unloaded = find(runs, WARDEN_RENDER, 16);
    let counts = counts.lock().unwrap();
    let host_faults: u64 = counts
        .iter()
        .filter(|(k, _)| {
            k.starts_with("500")
                || k.starts_with("502")
                || k.starts_with("503")
                || k.starts_with("transport")
        })
        .map(|(_, n)| n)
        .sum();
    let p50_factor = loaded.p50_ms / unloaded.p50_ms;
    let p99_factor = loaded.p99_ms / unloaded.p99_ms;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### Under hostile load\n\nThe 16-connection render row again, while tenants `mallory` and `eve` each send \
         hostile Python to `/v1/code/eval` flat out, one request after another (an infinite loop cut by a 150 ms deadline, a \
         fuel bomb, a memory bomb under a 32 MiB cap, unbounded recursion). Both cores are shared by the server, wrk and \
         the hostile clients.\n"
    );
    let _ = writeln!(
        out,
        "| | req/s | p50 | p99 | normal-call errors |\n|---|---|---|---|---|"
    );
    let _ = writeln!(
        out,
        "| unloaded | {:.0} | {:.2} ms | {:.2} ms | {} |",
        unloaded.rps,
        unloaded.p50_ms,
        unloaded.p99_ms,
        unloaded.errors()
    );
    let _ = writeln!(
        out,
        "| hostile tenants running | {:.0} | {:.2} ms | {:.2} ms | {} |\n",
        loaded.rps,
        loaded.p50_ms,
        loaded.p99_ms,
        loaded.errors()
    );
    let outcomes: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let _ = writeln!(out, "Hostile calls answered: {}.\n", outcomes.join(", "));
    let _ = writeln!(
        out,
        "- No 5xx caused by the host (500/502/503 or a dropped connection, for any tenant): **{}** ({host_faults} hostile, {} normal)",
        verdict(host_faults == 0 && loaded.errors() == 0),
        loaded.errors()
    );
    let _ = writeln!(
        out,
        "- Server peak memory (VmHWM) under {} MiB: **{}** ({} MiB)",
        MEMORY_CAP >> 20,
        verdict(rss > 0 && rss < MEMORY_CAP),
        rss >> 20
    );
    let _ = writeln!(
        out,
        "  Resident at the end: {anon} MiB anonymous and {file} MiB file-backed; proportional set \
         size {pss} MiB (the file-backed part is mostly the components' copy-on-write images, \
         counted in RSS once per pool slot that maps a page but held once in the page cache)."
    );
    let _ = writeln!(
        out,
        "- Normal-call latency within {LATENCY_FACTOR}× of unloaded: **{}** (p50 {p50_factor:.2}×, p99 {p99_factor:.2}×)",
        verdict(p50_factor <= LATENCY_FACTOR && p99_factor <= LATENCY_FACTOR)
    );
    out
}
