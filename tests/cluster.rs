//! Replicas over one PostgreSQL database: real `warden serve` processes on loopback sharing a
//! database on the test's own throw-away cluster. Writers spread over the replicas while one
//! is killed; afterwards every acknowledged write is there, the audit chain verifies, settings
//! changed through one replica bind the others, and sessions move between replicas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{ALL_ROLES, Server, token};
use serde_json::{Value, json};

/// What one writer had acknowledged.
#[derive(Default, Debug)]
struct Acked {
    versions: Vec<u64>,
    label: Option<u64>,
    plugins: Vec<String>,
    vaults: Vec<String>,
    evals: u64,
}

/// Sends one request to the first live replica from `start` on, moving on when one is gone
/// (its connection refused or cut); panics only when none answers.
fn send(
    replicas: &Mutex<Vec<Option<Server>>>,
    start: usize,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    for attempt in 0..30 {
        let n = replicas.lock().unwrap().len();
        let i = (start + attempt) % n;
        let answer = {
            let guard = replicas.lock().unwrap();
            let Some(s) = guard[i].as_ref() else {
                continue;
            };
            // Requests go out without holding the lock, so the killer is never blocked.
            let (url, client) = (s.url.clone(), s.clone_client());
            drop(guard);
            common::Server::send_with(&client, &url, token, method, path, body.clone())
        };
        match answer {
            Ok(r) => return r,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("no replica answered {method} {path}");
}

/// Rounds the writers finished, over all of them.
static ROUNDS: AtomicUsize = AtomicUsize::new(0);

fn writer(replicas: &Mutex<Vec<Option<Server>>>, w: usize, rounds: usize) -> Acked {
    let tok = token("default", &format!("writer{w}"), ALL_ROLES);
    let mut acked = Acked::default();
    let plugin = common::fixture_bytes("hostile");
    let session = {
        let (st, s) = send(replicas, w, &tok, "POST", "/v1/sessions", Some(json!({})));
        assert_eq!(st, 201, "{s}");
        s["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        send(
            replicas,
            w,
            &tok,
            "POST",
            &format!("/v1/sessions/{session}/eval"),
            Some(json!({"code": "n = 0"}))
        )
        .0,
        200
    );
    for round in 0..rounds {
        let at = w + round;
        let (st, v) = send(
            replicas,
            at,
            &tok,
            "POST",
            &format!("/v1/templates/t{w}/versions"),
            Some(json!({"template": format!("round {round} of {{{{ who }}}}")})),
        );
        assert_eq!(st, 201, "{v}");
        let version = v["version"]["version"].as_u64().unwrap();
        acked.versions.push(version);
        let (st, v) = send(
            replicas,
            at + 1,
            &tok,
            "PUT",
            &format!("/v1/templates/t{w}/labels/staging"),
            Some(json!({"version": version})),
        );
        assert_eq!(st, 200, "{v}");
        acked.label = Some(version);
        let (st, v) = send(
            replicas,
            at + 2,
            &tok,
            "POST",
            "/v1/pii/anonymize",
            Some(json!({"text": format!("mail ada{w}x{round}@example.com"),
                        "operators": {"default": {"type": "pseudonymize"}}})),
        );
        assert_eq!(st, 200, "{v}");
        acked
            .vaults
            .push(v["vault_id"].as_str().unwrap().to_owned());
        // Each round's eval goes to another replica than the last: the state must follow.
        let (st, v) = send(
            replicas,
            at + 1,
            &tok,
            "POST",
            &format!("/v1/sessions/{session}/eval"),
            Some(json!({"code": "n = n + 1\nn"})),
        );
        assert_eq!(st, 200, "{v}");
        // One more than the last answer; two more when a replica died after storing an eval
        // it could not answer, and the retry applied it again.
        let n = v["json"].as_u64().unwrap();
        assert!(
            n == acked.evals + 1 || n == acked.evals + 2,
            "eval {round} of writer {w} saw stale state: {n} after {}",
            acked.evals
        );
        acked.evals = n;
        if round % 4 == 0 {
            let version = format!("1.0.{round}");
            let (st, v) = send_upload(replicas, at, &tok, &format!("p{w}"), &version, &plugin);
            assert!(st == 201 || st == 409, "{st} {v}");
            acked.plugins.push(version);
        }
        ROUNDS.fetch_add(1, Ordering::SeqCst);
    }
    acked
}

fn send_upload(
    replicas: &Mutex<Vec<Option<Server>>>,
    start: usize,
    tok: &str,
    name: &str,
    version: &str,
    bytes: &[u8],
) -> (u16, Value) {
    for attempt in 0..30 {
        let target = {
            let guard = replicas.lock().unwrap();
            let n = guard.len();
            guard[(start + attempt) % n]
                .as_ref()
                .map(|s| (s.url.clone(), s.clone_client()))
        };
        let Some((url, client)) = target else {
            continue;
        };
        let r = client
            .post(format!("{url}/v1/plugins/{name}/versions/{version}"))
            .bearer_auth(tok)
            .header("content-type", "application/wasm")
            .body(bytes.to_vec())
            .timeout(Duration::from_secs(120))
            .send();
        match r {
            Ok(r) => {
                let st = r.status().as_u16();
                return (st, r.json().unwrap_or(Value::Null));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    panic!("no replica took the upload");
}

#[test]
fn replicas_share_state_audit_settings_and_sessions_through_one_database() {
    let db = common::new_database();
    let replicas: Vec<Option<Server>> =
        (0..3).map(|_| Some(Server::on_database(&db, ""))).collect();
    let replicas = Mutex::new(replicas);
    let admin = token("default", "root", ALL_ROLES);

    // Writers over all three replicas; the third is SIGKILLed while they run.
    let acked: Vec<Acked> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let replicas = &replicas;
                scope.spawn(move || writer(replicas, w, 8))
            })
            .collect();
        // Mid-load: a quarter of the rounds done.
        while ROUNDS.load(Ordering::SeqCst) < 6 {
            std::thread::sleep(Duration::from_millis(10));
        }
        let victim = replicas.lock().unwrap()[2].take().unwrap();
        drop(victim.crash());
        let at_kill = ROUNDS.load(Ordering::SeqCst);
        let acked = writers.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(
            at_kill < 24,
            "the writers finished before the replica was killed"
        );
        acked
    });

    let survivors = replicas.into_inner().unwrap();
    let (a, b) = (
        survivors[0].as_ref().unwrap(),
        survivors[1].as_ref().unwrap(),
    );
    // Every acknowledged write is there, on either survivor.
    for (w, acked) in acked.iter().enumerate() {
        for v in &acked.versions {
            let (st, t) = a.call("GET", &format!("/v1/templates/t{w}/versions/{v}"), None);
            assert_eq!(st, 200, "template t{w} v{v}: {t}");
        }
        let (_, t) = b.call("GET", &format!("/v1/templates/t{w}"), None);
        assert_eq!(
            t["labels"]["staging"].as_u64(),
            acked.label,
            "t{w} staging: {t}"
        );
        for v in &acked.plugins {
            let (st, p) = b.call("GET", &format!("/v1/plugins/p{w}/versions/{v}"), None);
            assert_eq!(st, 200, "plugin p{w} {v}: {p}");
        }
        let (_, vaults) = a.call("GET", "/v1/pii/vaults", None);
        let listed = vaults.to_string();
        for id in &acked.vaults {
            assert!(listed.contains(id.as_str()), "vault {id} missing");
        }
    }
    for s in [a, b] {
        let (st, v) = s.call_as(Some(&admin), "GET", "/v1/audit/verify", None);
        assert_eq!((st, v["ok"].as_bool()), (200, Some(true)), "{v}");
        assert!(v["records"].as_u64().unwrap() > 50, "{v}");
    }

    // A label protected through one replica is refused through the other at once.
    let acme_admin = token("acme", "root", &["admin"]);
    let acme_author = token("acme", "ann", &["author"]);
    let (st, _) = b.call_as(
        Some(&acme_author),
        "POST",
        "/v1/templates/t/versions",
        Some(json!({"template": "hi"})),
    );
    assert_eq!(st, 201);
    let (st, v) = a.call_as(
        Some(&acme_admin),
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"protected_labels": ["production", "staging"]})),
    );
    assert_eq!(st, 200, "{v}");
    let (st, p) = b.call_as(
        Some(&acme_author),
        "PUT",
        "/v1/templates/t/labels/staging",
        Some(json!({"version": 1})),
    );
    assert_eq!(
        st, 403,
        "a newly protected label moved on another replica: {p}"
    );

    // A quota set through one replica is enforced by another within 2 s.
    let (st, v) = a.call_as(
        Some(&acme_admin),
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"quota": {"requests_per_second": 1, "burst": 1,
            "actor_requests_per_second": 100, "actor_burst": 100, "concurrent_calls": 4,
            "fuel_per_minute": 1000000000}})),
    );
    assert_eq!(st, 200, "{v}");
    let set = Instant::now();
    let limited = loop {
        let (st, _) = b.call_as(Some(&acme_author), "GET", "/v1/templates", None);
        if st == 429 {
            break set.elapsed();
        }
        assert!(
            set.elapsed() < Duration::from_secs(2),
            "another replica still ignores the new quota after 2 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("new quota enforced by the other replica after {limited:?}");

    // Two clients eval on one session through two replicas at once: every eval applies.
    let (st, s) = a.call("POST", "/v1/sessions", Some(json!({})));
    assert_eq!(st, 201, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(
        a.call(
            "POST",
            &format!("/v1/sessions/{id}/eval"),
            Some(json!({"code": "n = 0"}))
        )
        .0,
        200
    );
    std::thread::scope(|scope| {
        for s in [a, b] {
            let id = &id;
            scope.spawn(move || {
                for _ in 0..5 {
                    let (st, v) = s.call(
                        "POST",
                        &format!("/v1/sessions/{id}/eval"),
                        Some(json!({"code": "n = n + 1"})),
                    );
                    assert_eq!(st, 200, "{v}");
                }
            });
        }
    });
    let (_, v) = b.call(
        "POST",
        &format!("/v1/sessions/{id}/eval"),
        Some(json!({"code": "n"})),
    );
    assert_eq!(
        v["json"], 10,
        "concurrent evals through two replicas lost one: {v}"
    );
}

#[test]
fn a_single_machine_install_moves_to_postgres_with_its_audit_chain_intact() {
    let mut single = Server::start();
    for template in ["Hello {{ name }}", "Hi {{ name }}"] {
        let (st, v) = single.call(
            "POST",
            "/v1/templates/greet/versions",
            Some(json!({ "template": template })),
        );
        assert_eq!(st, 201, "{v}");
    }
    let (st, _) = single.call(
        "PUT",
        "/v1/templates/greet/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 200);
    let (st, anon) = single.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": "mail ada@example.com",
                    "operators": {"default": {"type": "pseudonymize"}}})),
    );
    assert_eq!(st, 200, "{anon}");
    let (_, session) = single.call("POST", "/v1/sessions", Some(json!({})));
    let id = session["id"].as_str().unwrap().to_owned();
    let (st, _) = single.call(
        "POST",
        &format!("/v1/sessions/{id}/eval"),
        Some(json!({"code": "x = 41"})),
    );
    assert_eq!(st, 200);
    assert_eq!(
        single.upload_as(
            &single.token.clone(),
            "hostile",
            "1.0.0",
            common::fixture_bytes("hostile")
        ),
        201
    );
    let (_, before) = single.call("GET", "/v1/audit/verify", None);
    assert_eq!(before["ok"], true, "{before}");
    assert!(single.stop().success());

    let url = common::new_database();
    let copy = |to: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["storage", "copy", "--from"])
            .arg(format!("redb:{}", single.data.path().display()))
            .args(["--to", to])
            .env_remove("WARDEN_PII__MASTER_KEY")
            .output()
            .unwrap()
    };
    let out = copy(&url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verification"]["ok"], true, "{report}");
    assert_eq!(report["audit_records"], before["records"], "{report}");
    assert!(
        report["rows"]["blobs_v1"].as_u64().unwrap() >= 1,
        "{report}"
    );
    // A second copy into the now populated database is refused and changes nothing.
    let again = copy(&url);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A replica started with another vault key than the install's is refused.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("warden.toml");
    std::fs::write(
        &config,
        format!(
            "[[auth.keys]]\nalgorithm = \"HS256\"\nsecret = \"{}\"\n",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                common::TEST_SECRET
            )
        ),
    )
    .unwrap();
    let mut wrong = common::serve_command();
    common::on_database(&mut wrong, &url);
    let out = wrong
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pii.master_key"), "{err}");

    // With the install's key, everything is there and usable.
    let key = std::fs::read_to_string(single.data.path().join("master.key")).unwrap();
    let cluster = Server::on_database_with_key(&url, &key, "");
    let (_, r) = cluster.call(
        "POST",
        "/v1/templates/greet/render",
        Some(json!({"variables": {"name": "Ada"}})),
    );
    assert_eq!(r["text"], "Hello Ada", "{r}");
    let (st, d) = cluster.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": anon["text"], "vault_id": anon["vault_id"]})),
    );
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["text"], "mail ada@example.com");
    let (_, v) = cluster.call(
        "POST",
        &format!("/v1/sessions/{id}/eval"),
        Some(json!({"code": "x + 1"})),
    );
    assert_eq!(v["json"], 42, "{v}");
    assert_eq!(
        cluster
            .call("GET", "/v1/plugins/hostile/versions/1.0.0", None)
            .0,
        200
    );
    let (_, after) = cluster.call("GET", "/v1/audit/verify", None);
    assert_eq!(after["ok"], true, "{after}");
    assert!(
        after["records"].as_u64() > before["records"].as_u64(),
        "{after}"
    );
}
