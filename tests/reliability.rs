//! Reliability: hostile plugins cost only their own call while another tenant is served, and a
//! server killed with SIGKILL at random moments loses no acknowledged write.
//!
//! The crash test's short form runs in CI (`RELIABILITY_CRASH_CYCLES`, default 5); the long form is
//! `RELIABILITY_CRASH_CYCLES=100 cargo test -p warden --test reliability crash -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ALL_ROLES, Server, token};
use serde_json::{Value, json};

fn client() -> reqwest::blocking::Client {
    let _ = common::http();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn post(c: &reqwest::blocking::Client, s: &str, t: &str, path: &str, body: Value) -> (u16, Value) {
    match c
        .post(format!("{s}{path}"))
        .bearer_auth(t)
        .json(&body)
        .send()
    {
        Ok(r) => {
            let st = r.status().as_u16();
            (st, r.json().unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// A server with uploads capped at 2 MB and the request-rate limits lifted (bob runs flat out;
/// the rate limits are not what these tests are about).
fn capped_server() -> Server {
    let q = "requests_per_second = 100000\nburst = 100000\nactor_requests_per_second = 100000\nactor_burst = 100000\n";
    Server::with_config(&format!(
        "[server]\nmax_upload_bytes = 2000000\n[quota.caps]\n{q}[quota.defaults]\n{q}"
    ))
}

/// A [`capped_server`] for tenant `mallory`'s attacks, with `hostile@1.0.0` and `bad@1.0.0`
/// (the bad-detector fixture) uploaded; returns it with mallory's token.
fn mallory_server() -> (Server, String) {
    let s = capped_server();
    let mallory = token("mallory", "m", ALL_ROLES);
    assert_eq!(
        upload(&s, &mallory, "hostile", common::fixture_bytes("hostile")).status(),
        201
    );
    assert_eq!(
        upload(
            &s,
            &mallory,
            "bad",
            std::fs::read(common::component(
                "warden-fixture-bad-detector",
                "warden_fixture_bad_detector"
            ))
            .unwrap()
        )
        .status(),
        201
    );
    (s, mallory)
}

/// Uploads `bytes` as `name@1.0.0` for `t`.
fn upload(s: &Server, t: &str, name: &str, bytes: Vec<u8>) -> reqwest::blocking::Response {
    client()
        .post(format!("{}/v1/plugins/{name}/versions/1.0.0", s.url))
        .bearer_auth(t)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .unwrap()
}

/// Tenant `bob` calling detect flat out until [`Bob::stop`]: every call must be answered
/// correctly.
struct Bob {
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Bob {
    /// Starts bob and waits for his first answer, so he is working before any attack starts.
    fn start(s: &Server) -> Bob {
        let bob = token("bob", "b", ALL_ROLES);
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, served, failures, url) = (
                stop.clone(),
                served.clone(),
                failures.clone(),
                s.url.clone(),
            );
            std::thread::spawn(move || {
                let c = client();
                while !stop.load(Ordering::Relaxed) {
                    let (st, v) = post(
                        &c,
                        &url,
                        &bob,
                        "/v1/pii/detect",
                        json!({"text": "mail a@b.io"}),
                    );
                    if st == 200 && v["findings"][0]["entity_type"] == "EMAIL_ADDRESS" {
                        served.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failures.lock().unwrap().push(format!("{st} {v}"));
                    }
                }
            })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while served.load(Ordering::Relaxed) == 0 && failures.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "bob was never served");
            std::thread::sleep(Duration::from_millis(10));
        }
        Bob {
            stop,
            served,
            failures,
            thread,
        }
    }

    /// Stops bob; asserts that every call of his was served; returns how many there were.
    fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        let failures = self.failures.lock().unwrap();
        assert!(failures.is_empty(), "bob was not served: {failures:?}");
        self.served.load(Ordering::Relaxed)
    }
}

#[test]
fn hostile_calls_get_their_outcome_while_another_tenant_is_served() {
    let (s, mallory) = mallory_server();
    let c = client();
    let bob = Bob::start(&s);
    let small = json!({"fuel": 50000000, "memory_bytes": 16777216, "output_bytes": 100000});
    // (class, how it is provoked, expected status, expected outcomes)
    let mut cases: Vec<(&str, Value, u16, &[&str])> = Vec::new();
    for (mode, outcome) in [
        ("loop", "out_of_fuel"),
        ("memory", "memory_limit"),
        ("recurse", "trap"),
        ("panic", "trap"),
        ("trap", "trap"),
        ("huge:300000", "output_too_large"),
        ("exit", "trap"),
    ] {
        let name = format!("h-{}", mode.split(':').next().unwrap());
        let (st, v) = post(
            &c,
            &s.url,
            &mallory,
            &format!("/v1/templates/{name}/versions"),
            json!({"template": mode, "engine": "hostile@1.0.0"}),
        );
        assert_eq!(st, 201, "{v}");
        let outcomes: &[&str] = match outcome {
            "out_of_fuel" => &["out_of_fuel"],
            "memory_limit" => &["memory_limit"],
            "output_too_large" => &["output_too_large"],
            _ => &["trap"],
        };
        cases.push((
            mode,
            json!({"render": name, "limits": small}),
            422,
            outcomes,
        ));
    }
    cases.push((
        "deadline",
        json!({"render": "h-loop", "limits": {"fuel": 40000000000u64, "wall_time_ms": 300}}),
        504,
        &["deadline_exceeded"],
    ));
    for mode in [
        "range",
        "overlap",
        "nan",
        "boundary:né",
        "unsorted",
        "score",
    ] {
        cases.push((mode, json!({"detect": mode}), 422, &["guest_failure"]));
    }
    cases.push((
        "flood",
        json!({"detect": "flood"}),
        422,
        &[
            "output_too_large",
            "memory_limit",
            "out_of_fuel",
            "guest_failure",
        ],
    ));
    let mut report = Vec::new();
    for (class, how, status, outcomes) in &cases {
        let (st, p) = if let Some(t) = how.get("render") {
            post(
                &c,
                &s.url,
                &mallory,
                &format!("/v1/templates/{}/render", t.as_str().unwrap()),
                json!({"limits": how["limits"]}),
            )
        } else {
            post(
                &c,
                &s.url,
                &mallory,
                "/v1/pii/detect",
                json!({"text": how["detect"], "detectors": ["bad@1.0.0"]}),
            )
        };
        let outcome = p["outcome"].as_str().unwrap_or_default().to_owned();
        assert_eq!(st, *status, "{class}: {p}");
        assert!(outcomes.contains(&outcome.as_str()), "{class}: {p}");
        report.push(format!("{class}: {st} {outcome}"));
    }
    let served = bob.stop();
    assert!(served > 10, "bob made too few calls");
    println!(
        "{} hostile calls contained; bob served {served} times meanwhile:\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn hostile_uploads_are_refused_while_another_tenant_is_served() {
    let (s, mallory) = mallory_server();
    let bob = Bob::start(&s);
    // Refused at upload: forbidden import, truncated, a core module, the wrong world, oversized.
    let hostile = common::fixture_bytes("hostile");
    for (class, bytes, status) in [
        ("forbidden import", common::fixture_bytes("forbidden"), 422),
        ("truncated", hostile[..hostile.len() / 2].to_vec(), 422),
        ("core module", wat::parse_str("(module)").unwrap(), 422),
        ("not wasm", b"#!/bin/sh\nrm -rf /".to_vec(), 422),
        ("oversized", vec![0u8; 2_010_000], 413),
    ] {
        let r = upload(
            &s,
            &mallory,
            &format!("x-{}", class.replace(' ', "-")),
            bytes,
        );
        assert_eq!(r.status().as_u16(), status, "{class}");
    }
    let r = client()
        .post(format!("{}/v1/plugins/wrong/versions/1.0.0", s.url))
        .bearer_auth(&mallory)
        .header("content-type", "application/wasm")
        .header("x-warden-world", "code-runner")
        .body(hostile)
        .send()
        .unwrap();
    assert_eq!(r.status(), 422, "wrong world");
    let served = bob.stop();
    println!("6 hostile uploads refused; bob served {served} times meanwhile");
}

#[test]
fn the_built_in_python_runs_although_uploads_are_capped_below_its_size() {
    // The built-in Python is 10 MB; uploads are capped at 2 MB.
    let s = capped_server();
    let bob = token("bob", "b", ALL_ROLES);
    let (st, v) = post(
        &client(),
        &s.url,
        &bob,
        "/v1/code/eval",
        json!({"code": "40 + 2"}),
    );
    assert_eq!((st, v["repr"].as_str()), (200, Some("42")), "{v}");
}

/// What the writers were told was stored, and what was in flight when the server died.
#[derive(Default)]
struct Ledger {
    versions: Vec<(u64, String)>,
    plugins: Vec<String>,
    vaults: Vec<(String, String)>,
    label: Option<u64>,
    label_in_flight: Vec<u64>,
    session_x: Option<u64>,
    session_in_flight: Vec<u64>,
}

#[test]
fn crash_at_random_moments_loses_no_acknowledged_write() {
    let cycles: usize = std::env::var("RELIABILITY_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    // Writers run flat out: lift the request-rate limits so only crashes interrupt them.
    let q = "requests_per_second = 100000\nburst = 100000\nactor_requests_per_second = 100000\nactor_burst = 100000\n";
    let mut s = Server::with_config(&format!("[quota.caps]\n{q}[quota.defaults]\n{q}"));
    let t = s.token.clone();
    let c = client();
    assert_eq!(
        post(
            &c,
            &s.url,
            &t,
            "/v1/templates/lab/versions",
            json!({"template": "one"})
        )
        .0,
        201
    );
    assert_eq!(
        post(
            &c,
            &s.url,
            &t,
            "/v1/templates/lab/versions",
            json!({"template": "two"})
        )
        .0,
        201
    );
    let (_, sess) = post(&c, &s.url, &t, "/v1/sessions", json!({}));
    let session = sess["id"].as_str().unwrap().to_owned();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let hostile = common::fixture_bytes("hostile");
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut counter = 0u64;
    let mut seen = (0usize, 0usize, 0usize);
    let started = Instant::now();
    for cycle in 0..cycles {
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for kind in 0..5 {
            let (stop, ledger, url, t, session, hostile) = (
                stop.clone(),
                ledger.clone(),
                s.url.clone(),
                t.clone(),
                session.clone(),
                hostile.clone(),
            );
            let base = counter + kind * 1_000_000;
            writers.push(std::thread::spawn(move || {
                let c = client();
                let mut k = base;
                while !stop.load(Ordering::Relaxed) {
                    k += 1;
                    match kind {
                        0 => {
                            let text = format!("version {k}");
                            let (st, v) = post(&c, &url, &t, "/v1/templates/crash/versions", json!({"template": text}));
                            if st == 201 {
                                let n = v["version"]["version"].as_u64().unwrap();
                                ledger.lock().unwrap().versions.push((n, text));
                            }
                        }
                        1 => {
                            let target = 1 + k % 2;
                            ledger.lock().unwrap().label_in_flight.push(target);
                            let r = c
                                .put(format!("{url}/v1/templates/lab/labels/staging"))
                                .bearer_auth(&t)
                                .json(&json!({"version": target}))
                                .send();
                            if r.is_ok_and(|r| r.status() == 200) {
                                let mut l = ledger.lock().unwrap();
                                l.label = Some(target);
                                l.label_in_flight.clear();
                            }
                        }
                        2 => {
                            let email = format!("user{k}@example.com");
                            let (st, v) = post(
                                &c,
                                &url,
                                &t,
                                "/v1/pii/anonymize",
                                json!({"text": format!("mail {email}"), "operators": {"default": {"type": "pseudonymize"}}}),
                            );
                            if st == 200 {
                                let id = v["vault_id"].as_str().unwrap().to_owned();
                                ledger.lock().unwrap().vaults.push((id, email));
                            }
                        }
                        3 => {
                            ledger.lock().unwrap().session_in_flight.push(k);
                            let (st, _) = post(&c, &url, &t, &format!("/v1/sessions/{session}/eval"), json!({"code": format!("x = {k}")}));
                            if st == 200 {
                                let mut l = ledger.lock().unwrap();
                                l.session_x = Some(k);
                                l.session_in_flight.clear();
                            }
                        }
                        _ => {
                            let version = format!("1.0.{k}");
                            let r = c
                                .post(format!("{url}/v1/plugins/crashy/versions/{version}"))
                                .bearer_auth(&t)
                                .header("content-type", "application/wasm")
                                .body(hostile.clone())
                                .send();
                            if r.is_ok_and(|r| r.status() == 201) {
                                ledger.lock().unwrap().plugins.push(version);
                            }
                        }
                    }
                }
            }));
        }
        counter += 10;
        std::thread::sleep(Duration::from_millis(200 + rand(800)));
        let (data, extra) = s.crash();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        s = Server::start_on(data, &extra);
        // Everything acknowledged is there, exactly as acknowledged: this cycle's writes and a
        // sample of older ones after every restart, all of them after the last.
        let l = ledger.lock().unwrap();
        let last = cycle + 1 == cycles;
        let mut pick = |len: usize, fresh: usize| -> Vec<usize> {
            if last || len <= 40 {
                return (0..len).collect();
            }
            let mut v: Vec<usize> = (len.saturating_sub(fresh)..len).collect();
            v.extend((0..20).map(|_| rand(len as u64) as usize));
            v
        };
        let (st, sum) = s.call("GET", "/v1/templates/crash", None);
        if !l.versions.is_empty() {
            assert_eq!(st, 200, "cycle {cycle}: {sum}");
        }
        let (fresh_v, fresh_p, fresh_a) = (
            l.versions.len() - seen.0,
            l.plugins.len() - seen.1,
            l.vaults.len() - seen.2,
        );
        for (n, text) in pick(l.versions.len(), fresh_v)
            .into_iter()
            .map(|i| &l.versions[i])
        {
            let (st, v) = s.call("GET", &format!("/v1/templates/crash/versions/{n}"), None);
            assert_eq!(st, 200, "cycle {cycle}: version {n} lost");
            assert_eq!(v["template"], *text, "cycle {cycle}: version {n} changed");
        }
        for v in pick(l.plugins.len(), fresh_p)
            .into_iter()
            .map(|i| &l.plugins[i])
        {
            let (st, _) = s.call("GET", &format!("/v1/plugins/crashy/versions/{v}"), None);
            assert_eq!(st, 200, "cycle {cycle}: plugin version {v} lost");
        }
        for (id, email) in pick(l.vaults.len(), fresh_a)
            .into_iter()
            .map(|i| &l.vaults[i])
        {
            let (st, d) = s.call(
                "POST",
                "/v1/pii/deanonymize",
                Some(json!({"text": "<EMAIL_ADDRESS_1>", "vault_id": id})),
            );
            assert_eq!(st, 200, "cycle {cycle}: vault {id} lost: {d}");
            assert_eq!(d["text"], *email, "cycle {cycle}: vault {id} wrong");
        }
        let (_, lab) = s.call("GET", "/v1/templates/lab", None);
        if let Some(acked) = l.label {
            let now = lab["labels"]["staging"].as_u64().unwrap();
            assert!(
                now == acked || l.label_in_flight.contains(&now),
                "cycle {cycle}: label at {now}, acknowledged {acked}"
            );
        }
        // The session resumes with its last acknowledged state (or the eval in flight).
        let (st, v) = s.call(
            "POST",
            &format!("/v1/sessions/{session}/eval"),
            Some(json!({"code": "x"})),
        );
        if let Some(acked) = l.session_x {
            assert_eq!(st, 200, "cycle {cycle}: {v}");
            let x: u64 = v["repr"].as_str().unwrap().parse().unwrap();
            assert!(
                x == acked || l.session_in_flight.contains(&x),
                "cycle {cycle}: x = {x}, acknowledged {acked}"
            );
        }
        // Nothing half-written: the audit chains verify.
        let (st, ver) = s.call("GET", "/v1/audit/verify", None);
        assert_eq!(st, 200);
        assert_eq!(ver["ok"], true, "cycle {cycle}: {ver}");
        seen = (l.versions.len(), l.plugins.len(), l.vaults.len());
    }
    let l = ledger.lock().unwrap();
    println!(
        "{cycles} SIGKILL cycles in {:.1} s: {} template versions, {} plugin uploads, {} vaults, \
         label moves and session evals acknowledged; nothing lost",
        started.elapsed().as_secs_f64(),
        l.versions.len(),
        l.plugins.len(),
        l.vaults.len()
    );
}

/// Bob's detect calls from 127.0.0.2 while `attack` runs from 127.0.0.1: every call must be
/// answered, and the slowest within `bound` (the old server stalled every tenant for 40–90 s in
/// each of these cases). Returns bob's slowest call.
fn bob_is_served_during(s: &Server, bound: Duration, attack: impl FnOnce() + Send) -> Duration {
    let bob = token("bob", "b", ALL_ROLES);
    let stop = AtomicBool::new(false);
    let slowest = Mutex::new(Duration::ZERO);
    let calls = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let c = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
                .build()
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let (st, v) = post(
                    &c,
                    &s.url,
                    &bob,
                    "/v1/pii/detect",
                    json!({"text": "mail a@b.io"}),
                );
                assert_eq!(st, 200, "bob was refused: {v}");
                let took = started.elapsed();
                let mut m = slowest.lock().unwrap();
                *m = (*m).max(took);
                calls.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        // Stop bob even when the attack panics, or the scope would wait for him forever.
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&stop);
        attack();
    });
    let slowest = *slowest.lock().unwrap();
    assert!(calls.load(Ordering::Relaxed) > 0);
    assert!(slowest < bound, "bob's slowest call took {slowest:?}");
    slowest
}

/// A server with room for 200 connections (50 per source) and a 2 s header timeout.
fn flood_server() -> Server {
    Server::with_config(
        "[server]\nmax_connections = 200\nmax_connections_per_ip = 50\nheader_read_timeout = \"2s\"\n",
    )
}

/// How long bob's slowest call may take while an attack runs.
const BOUND: Duration = Duration::from_secs(5);

#[test]
fn an_idle_connection_flood_does_not_stall_another_tenant() {
    let s = flood_server();
    let addr: std::net::SocketAddr = s.url.strip_prefix("http://").unwrap().parse().unwrap();
    // Idle sockets from one address, far more than its share.
    let slow = bob_is_served_during(&s, BOUND, || {
        let idle: Vec<_> = (0..300)
            .filter_map(|_| std::net::TcpStream::connect(addr).ok())
            .collect();
        std::thread::sleep(Duration::from_secs(3));
        drop(idle);
    });
    eprintln!("idle-connection flood: bob's slowest call {slow:?}");
}

#[test]
fn deep_yaml_imports_do_not_stall_another_tenant() {
    let s = flood_server();
    // Two parallel 50,000-deep YAML imports, repeated.
    let mallory = token("mallory", "m", ALL_ROLES);
    let slow = bob_is_served_during(&s, BOUND, || {
        let deep = format!("name: {}x{}\n", "[".repeat(50_000), "]".repeat(50_000));
        std::thread::scope(|scope| {
            for path in ["/v1/templates/import", "/v1/pipelines/import"] {
                let (deep, mallory, url) = (&deep, &mallory, &s.url);
                scope.spawn(move || {
                    let c = client();
                    for _ in 0..5 {
                        let r = c
                            .post(format!("{url}{path}"))
                            .bearer_auth(mallory)
                            .header("content-type", "application/yaml")
                            .body(deep.clone())
                            .send()
                            .unwrap();
                        assert!(r.status().is_client_error(), "{path}: {}", r.status());
                    }
                });
            }
        });
    });
    eprintln!("deep YAML imports: bob's slowest call {slow:?}");
}

#[test]
fn big_forked_sessions_do_not_stall_another_tenant() {
    let s = flood_server();
    let mallory = token("mallory", "m", ALL_ROLES);
    // A session holding a 10 MB string (within its 256 MiB memory), forked, with concurrent
    // evals on each copy.
    let slow = bob_is_served_during(&s, BOUND, || {
        let c = client();
        let (st, r) = post(
            &c,
            &s.url,
            &mallory,
            "/v1/sessions",
            json!({"limits": {"memory_bytes": 268435456u64, "output_bytes": 67108864u64, "wall_time_ms": 20000}}),
        );
        assert_eq!(st, 201, "{r}");
        let id = r["id"].as_str().unwrap().to_owned();
        let (st, r) = post(
            &c,
            &s.url,
            &mallory,
            &format!("/v1/sessions/{id}/eval"),
            json!({"code": "big = 'x' * 10_000_000\nlen(big)"}),
        );
        assert_eq!(st, 200, "{r}");
        let mut ids = vec![id.clone()];
        for _ in 0..3 {
            let (st, r) = post(
                &c,
                &s.url,
                &mallory,
                &format!("/v1/sessions/{id}/fork"),
                json!({}),
            );
            // The tenant's total cap may refuse a copy: that is the bound doing its work.
            assert!(st == 201 || st == 413, "{st} {r}");
            if st == 201 {
                ids.push(r["id"].as_str().unwrap().to_owned());
            }
        }
        std::thread::scope(|scope| {
            for id in &ids {
                let (mallory, url) = (&mallory, &s.url);
                scope.spawn(move || {
                    let c = client();
                    let (st, r) = post(
                        &c,
                        url,
                        mallory,
                        &format!("/v1/sessions/{id}/eval"),
                        json!({"code": "big = big + 'y'\nlen(big)"}),
                    );
                    assert!([200, 413, 504].contains(&st), "{st} {r}");
                });
            }
        });
    });
    eprintln!("big sessions: bob's slowest call {slow:?}");
}
