//! `cargo bench --package warden --bench gateway`: what the OpenAI-compatible gateway adds to
//! a chat completion, against calling the same provider directly.
//!
//! A stand-in OpenAI-compatible provider (axum, in this process; a real model cannot run here)
//! answers at once: a fixed completion, or 16 streamed chunks. The release `warden serve` is
//! configured with it as a provider without `allow_pii`, so every request through the gateway
//! is scanned, pseudonymised, re-checked on the exact bytes sent, and its answer restored. The
//! prompt is 1 KB of text with two findings (an e-mail address and a telephone number). At 1
//! and 16 connections (`WARDEN_BENCH_SECS` seconds each, default 5, after a 1 s warm-up) it
//! measures p50 and p99 of a non-streamed request and of the time to the first streamed token,
//! directly and through the gateway, and replaces the `## OpenAI gateway` section of
//! `docs/benchmarks.md`. Nothing is asserted: these are measurements. `WARDEN_BENCH_AUDIT=1`
//! prints the audit records of the warm-up requests (the guard's time, each detector call's)
//! instead.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "report/mod.rs"]
mod report;
#[path = "report/server.rs"]
mod server;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::StreamExt;
use serde_json::{Value, json};

const SECTION: &str = "## OpenAI gateway";
const CONNECTIONS: [usize; 2] = [1, 16];
const TARGET_P50_MS: f64 = 1.0;

async fn standin(body: axum::body::Bytes) -> Response {
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if req["stream"] == true {
        let mut events = String::from(
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        );
        for _ in 0..16 {
            events.push_str("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok \"},\"finish_reason\":null}]}\n\n");
        }
        events.push_str("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
        return (
            [(header::CONTENT_TYPE, "text/event-stream")],
            Body::from(events),
        )
            .into_response();
    }
    let answer = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant",
            "content": "We will call <PHONE_NUMBER_1> and write to <EMAIL_ADDRESS_1> today."},
            "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 256, "completion_tokens": 16, "total_tokens": 272}});
    axum::Json(answer).into_response()
}

#[derive(Default, Clone)]
struct Sample {
    total: Vec<Duration>,
    first_token: Vec<Duration>,
    errors: u64,
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

/// `conns` clients sending `body` to `url` back to back for `secs`; streamed requests are
/// timed to the first token.
async fn load(
    client: reqwest::Client,
    url: String,
    token: Option<String>,
    body: Value,
    conns: usize,
    secs: f64,
) -> Sample {
    let stream = body["stream"] == true;
    let body = Arc::new(serde_json::to_vec(&body).unwrap());
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, url, token, body) = (client.clone(), url.clone(), token.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = Sample::default();
            while Instant::now() < until {
                let t = Instant::now();
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone());
                if let Some(tok) = &token {
                    req = req.bearer_auth(tok);
                }
                let Ok(resp) = req.send().await else {
                    s.errors += 1;
                    continue;
                };
                if !resp.status().is_success() {
                    s.errors += 1;
                    let _ = resp.bytes().await;
                    continue;
                }
                if stream {
                    let mut bytes = resp.bytes_stream();
                    let mut seen = Vec::new();
                    let mut first = None;
                    while let Some(Ok(chunk)) = bytes.next().await {
                        seen.extend_from_slice(&chunk);
                        if first.is_none() && memchr(&seen, b"\"content\":\"tok") {
                            first = Some(t.elapsed());
                        }
                    }
                    match first {
                        Some(f) => s.first_token.push(f),
                        None => s.errors += 1,
                    }
                } else if resp.bytes().await.is_err() {
                    s.errors += 1;
                    continue;
                }
                s.total.push(t.elapsed());
            }
            s
        }));
    }
    let mut all = Sample::default();
    for t in tasks {
        let s = t.await.unwrap();
        all.total.extend(s.total);
        all.first_token.extend(s.first_token);
        all.errors += s.errors;
    }
    all
}

fn memchr(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn main() {
    let secs: f64 = std::env::var("WARDEN_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let provider = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/v1/chat/completions", post(standin));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/v1")
    });
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("warden.toml");
    std::fs::write(
        &config,
        format!(
            "[providers.standin]\nbase_url = \"{provider}\"\nmodel = \"m\"\nallow_pii = false\n"
        ),
    )
    .unwrap();
    let log = work.path().join("warden.log");
    let server = server::Server::start(&log, Some(&config));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let blocking = reqwest::blocking::Client::new();
    let ready_by = Instant::now() + Duration::from_secs(180);
    while !blocking
        .get(format!("{}/readyz", server.base))
        .send()
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            Instant::now() < ready_by,
            "warden was not ready within 180 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let token = server::bootstrap_token(&log);
    let client = rt.block_on(async {
        reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()
            .unwrap()
    });
    let body = |model: &str, stream: bool| {
        json!({"model": model, "stream": stream, "max_tokens": 64,
               "messages": [{"role": "user", "content": report::gateway_prompt()}]})
    };
    let direct = format!("{provider}/chat/completions");
    let gateway = format!("{}/v1/openai/chat/completions", server.base);
    // Warm-up (and a check that the gateway answers, restored).
    let check = blocking
        .post(&gateway)
        .bearer_auth(token.clone().unwrap_or_default())
        .json(&body("standin", false))
        .send()
        .unwrap();
    assert!(
        check.status().is_success(),
        "gateway: {}",
        check.text().unwrap()
    );
    let text = check.text().unwrap();
    assert!(text.contains("ann.lee@example.com"), "not restored: {text}");
    rt.block_on(load(
        client.clone(),
        gateway.clone(),
        token.clone(),
        body("standin", false),
        2,
        1.0,
    ));

    // With WARDEN_BENCH_AUDIT set: print the warm-up requests' audit records (the guard's time
    // and each detector call's) instead of measuring, to see where a request's time goes.
    if std::env::var_os("WARDEN_BENCH_AUDIT").is_some() {
        for (action, n) in [("openai.chat", 5), ("pii.detect", 4)] {
            let records = blocking
                .get(format!(
                    "{}/v1/audit?action={action}&limit={n}",
                    server.base
                ))
                .bearer_auth(token.clone().unwrap_or_default())
                .send()
                .unwrap()
                .text()
                .unwrap();
            println!("{records}");
        }
        return;
    }
    let mut rows = String::new();
    let mut verdicts = String::new();
    for &conns in &CONNECTIONS {
        for stream in [false, true] {
            let d = rt.block_on(load(
                client.clone(),
                direct.clone(),
                None,
                body("m", stream),
                conns,
                secs,
            ));
            let g = rt.block_on(load(
                client.clone(),
                gateway.clone(),
                token.clone(),
                body("standin", stream),
                conns,
                secs,
            ));
            let (mut dv, mut gv) = if stream {
                (d.first_token.clone(), g.first_token.clone())
            } else {
                (d.total.clone(), g.total.clone())
            };
            let (d50, d99, g50, g99) = (
                pct(&mut dv, 0.5),
                pct(&mut dv, 0.99),
                pct(&mut gv, 0.5),
                pct(&mut gv, 0.99),
            );
            let what = if stream {
                "time to first token"
            } else {
                "whole answer"
            };
            let _ = writeln!(
                rows,
                "| {what} | {conns} | {d50:.3} | {d99:.3} | {g50:.3} | {g99:.3} | **{:.3}** | {:.3} | {} | {} |",
                g50 - d50,
                g99 - d99,
                g.total.len(),
                g.errors + d.errors,
            );
            if !stream && conns == 1 {
                let _ = writeln!(
                    verdicts,
                    "- Added at p50, one connection, non-streamed: **{:.3} ms** (target under \
                     {TARGET_P50_MS} ms): {}.",
                    g50 - d50,
                    if g50 - d50 < TARGET_P50_MS {
                        "met"
                    } else {
                        "NOT MET"
                    }
                );
            }
            println!(
                "{what} @{conns}: direct p50 {d50:.3} p99 {d99:.3}; gateway p50 {g50:.3} p99 {g99:.3}"
            );
        }
    }
    let mut section = String::new();
    let _ = writeln!(section, "{SECTION}\n");
    let _ = writeln!(
        section,
        "From `cargo bench --package warden --bench gateway` ({secs} s per row, {} cores). A \
         stand-in OpenAI-compatible provider in the bench process answers at once; the release \
         `warden serve` has it as a provider with `allow_pii = false`, so each request through \
         the gateway is scanned, pseudonymised and re-checked on the exact bytes sent (one \
         sandboxed detector call: both scans in one instance), forwarded, restored and audited. \
         Prompt: 1 KB with two findings (an e-mail address and a telephone number). \
         Milliseconds.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        section,
        "| measure | connections | direct p50 | direct p99 | gateway p50 | gateway p99 | added p50 | added p99 | gateway requests | errors |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    section.push_str(&rows);
    section.push('\n');
    section.push_str(&verdicts);
    println!("\n{section}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, report::replace_section(&doc, SECTION, &section)).unwrap();
    println!("wrote {}", path.display());
}
