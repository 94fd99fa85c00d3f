//! Black-box tests of authentication, the role matrix and tenant isolation, against the real
//! `warden serve`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use base64::Engine as _;
use common::{ALL_ROLES, Server, TEST_SECRET, sign, token};
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn claims() -> Value {
    json!({"sub": "eve", "tenant": "default", "roles": ["admin"], "exp": now() + 600})
}

fn openssl(args: &[&str]) {
    let st = Command::new("openssl")
        .args(args)
        .status()
        .expect("openssl");
    assert!(st.success(), "openssl {args:?}");
}

#[test]
fn public_and_protected_endpoints() {
    let s = Server::start();
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        assert_eq!(s.call_as(None, "GET", path, None).0, 200, "{path}");
    }
    let r = reqwest::blocking::get(format!("{}/v1/templates", s.url)).unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(s.call_as(None, "GET", "/metrics", None).0, 401);
    assert_eq!(s.call("GET", "/metrics", None).0, 200);
    // The failure is audited in the system chain without the token; nothing leaks to tenants.
    let (_, page) = s.call("GET", "/v1/audit", None);
    assert!(
        !page.to_string().contains("auth.failed"),
        "tenant audit shows system records"
    );
}

#[test]
fn jwt_attacks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rsa = dir.path().join("rsa.pem");
    let rsa_pub = dir.path().join("rsa.pub.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        rsa.to_str().unwrap(),
    ]);
    openssl(&[
        "pkey",
        "-in",
        rsa.to_str().unwrap(),
        "-pubout",
        "-out",
        rsa_pub.to_str().unwrap(),
    ]);
    let ec = dir.path().join("ec.pem");
    let ec_pub = dir.path().join("ec.pub.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        ec.to_str().unwrap(),
    ]);
    openssl(&[
        "pkey",
        "-in",
        ec.to_str().unwrap(),
        "-pubout",
        "-out",
        ec_pub.to_str().unwrap(),
    ]);
    let config = format!(
        "[auth]\nissuer = \"https://idp.test\"\naudience = \"warden\"\nleeway_seconds = 5\n\
         [[auth.keys]]\nkid = \"rsa\"\nalgorithm = \"RS256\"\npem_file = \"{}\"\n\
         [[auth.keys]]\nkid = \"ec\"\nalgorithm = \"ES256\"\npem_file = \"{}\"\n",
        rsa_pub.display(),
        ec_pub.display()
    );
    let s = Server::with_config(&config);
    let good = |extra: Value| {
        let mut c = claims();
        c["iss"] = json!("https://idp.test");
        c["aud"] = json!("warden");
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let status = |t: &str| s.call_as(Some(t), "GET", "/v1/templates", None).0;
    // Valid tokens of each kind are accepted.
    let hs = sign(&good(json!({})));
    assert_eq!(status(&hs), 200);
    let rs_key = jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(&rsa).unwrap()).unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("rsa".into());
    let rs = jsonwebtoken::encode(&h, &good(json!({})), &rs_key).unwrap();
    assert_eq!(status(&rs), 200);
    let ec_key = jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(&ec).unwrap()).unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("ec".into());
    let es = jsonwebtoken::encode(&h, &good(json!({})), &ec_key).unwrap();
    assert_eq!(status(&es), 200);

    let mut refused = Vec::new();
    // Malformed.
    refused.push(("garbage", "not.a.jwt".to_owned()));
    refused.push(("empty", String::new()));
    // Expired and not yet valid (beyond the leeway).
    refused.push(("expired", sign(&good(json!({"exp": now() - 60})))));
    refused.push(("not yet valid", sign(&good(json!({"nbf": now() + 600})))));
    // Wrong issuer, wrong audience, missing audience.
    refused.push((
        "wrong iss",
        sign(&good(json!({"iss": "https://evil.test"}))),
    ));
    refused.push(("wrong aud", sign(&good(json!({"aud": "other"})))));
    let mut no_aud = good(json!({}));
    no_aud.as_object_mut().unwrap().remove("aud");
    refused.push(("missing aud", sign(&no_aud)));
    // Wrong signature: another secret.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("test".into());
    refused.push((
        "wrong secret",
        jsonwebtoken::encode(
            &h,
            &good(json!({})),
            &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-00"),
        )
        .unwrap(),
    ));
    // alg: none.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(good(json!({})).to_string().as_bytes())
    );
    refused.push(("alg none", none));
    // HS/RS confusion: HS256 signed with the RSA public key as the secret, naming the RSA kid.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("rsa".into());
    refused.push((
        "hs/rs confusion",
        jsonwebtoken::encode(
            &h,
            &good(json!({})),
            &jsonwebtoken::EncodingKey::from_secret(&std::fs::read(&rsa_pub).unwrap()),
        )
        .unwrap(),
    ));
    // Unknown kid.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("nope".into());
    refused.push((
        "unknown kid",
        jsonwebtoken::encode(
            &h,
            &good(json!({})),
            &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET),
        )
        .unwrap(),
    ));
    // Tampered claims: another tenant, the original signature kept.
    let parts: Vec<&str> = hs.split('.').collect();
    let mut forged = good(json!({}));
    forged["tenant"] = json!("victim");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.to_string().as_bytes()),
        parts[2]
    );
    refused.push(("tampered", tampered));
    // A bad tenant name in an otherwise valid token.
    refused.push(("bad tenant", sign(&good(json!({"tenant": "../x"})))));
    for (what, t) in &refused {
        let (st, p) = s.call_as(Some(t), "GET", "/v1/templates", None);
        assert_eq!(st, 401, "{what} was accepted: {p}");
        assert!(!p["detail"].as_str().unwrap().contains(t.as_str()) || t.is_empty());
    }
}

/// One request per route, with the roles the documented matrix (SECURITY.md) allows.
#[test]
fn role_matrix_every_cell() {
    let s = Server::start();
    let r = |role: &str| token("default", &format!("as-{role}"), &[role]);
    // Objects the requests refer to; deletes target names that do not exist (404 = allowed).
    s.call(
        "POST",
        "/v1/templates/t/versions",
        Some(json!({"template": "x {{ a }}"})),
    );
    let (_, sess) = s.call("POST", "/v1/sessions", Some(json!({})));
    let sid = sess["id"].as_str().unwrap().to_owned();
    let (_, anon) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": "a@b.io", "operators": {"default": {"type": "pseudonymize"}}})),
    );
    let vault = anon["vault_id"].as_str().unwrap().to_owned();
    s.call(
        "PUT",
        "/v1/pii/dictionaries/d",
        Some(json!({"kind": "allow", "terms": ["x"]})),
    );
    const AD: &str = "admin";
    const AU: &str = "author";
    const OP: &str = "operator";
    const AT: &str = "auditor";
    const PR: &str = "pii-reader";
    let cases: Vec<(&str, String, Option<Value>, Vec<&str>)> = vec![
        ("GET", "/v1/plugins".into(), None, vec![AD, AU, OP, AT]),
        (
            "GET",
            "/v1/plugins/python".into(),
            None,
            vec![AD, AU, OP, AT],
        ),
        (
            "GET",
            "/v1/plugins/python/versions/latest".into(),
            None,
            vec![AD, AU, OP, AT],
        ),
        (
            "POST",
            "/v1/plugins/x/versions/1.0.0".into(),
            None,
            vec![AD, AU],
        ),
        (
            "DELETE",
            "/v1/plugins/nope/versions/1.0.0".into(),
            None,
            vec![AD, AU],
        ),
        ("DELETE", "/v1/plugins/nope".into(), None, vec![AD, AU]),
        ("DELETE", "/v1/templates/nope".into(), None, vec![AD, AU]),
        ("DELETE", "/v1/pipelines/nope".into(), None, vec![AD, AU]),
        ("GET", "/v1/templates".into(), None, vec![AD, AU, OP, AT]),
        ("GET", "/v1/templates/t".into(), None, vec![AD, AU, OP, AT]),
        (
            "GET",
            "/v1/templates/t/versions/1".into(),
            None,
            vec![AD, AU, OP],
        ),
        (
            "GET",
            "/v1/templates/t/diff?from=1&to=1".into(),
            None,
            vec![AD, AU, OP],
        ),
        ("GET", "/v1/templates/export".into(), None, vec![AD, AU, OP]),
        (
            "POST",
            "/v1/templates/t/versions".into(),
            Some(json!({})),
            vec![AD, AU],
        ),
        ("POST", "/v1/templates/import".into(), None, vec![AD, AU]),
        (
            "PUT",
            "/v1/templates/t/labels/staging".into(),
            Some(json!({"version": 1})),
            vec![AD, AU],
        ),
        (
            "DELETE",
            "/v1/templates/t/labels/nope".into(),
            None,
            vec![AD, AU],
        ),
        (
            "POST",
            "/v1/templates/t/labels/production/requests".into(),
            Some(json!({"version": 1})),
            vec![AD, AU],
        ),
        (
            "GET",
            "/v1/templates/t/requests".into(),
            None,
            vec![AD, AU, OP, AT],
        ),
        (
            "POST",
            "/v1/templates/t/requests/cr_000000000000000000000000/approve".into(),
            None,
            vec![AD, AU],
        ),
        (
            "POST",
            "/v1/templates/t/requests/cr_000000000000000000000000/reject".into(),
            None,
            vec![AD, AU],
        ),
        (
            "POST",
            "/v1/templates/t/render".into(),
            Some(json!({"variables": {"a": 1}})),
            vec![AD, OP],
        ),
        (
            "POST",
            "/v1/pii/detect".into(),
            Some(json!({"text": "x"})),
            vec![AD, OP],
        ),
        (
            "POST",
            "/v1/pii/anonymize".into(),
            Some(json!({"text": "x"})),
            vec![AD, OP],
        ),
        (
            "POST",
            "/v1/pii/deanonymize".into(),
            Some(json!({"text": "x", "vault_id": vault})),
            vec![PR],
        ),
        (
            "DELETE",
            "/v1/pii/vaults/v_000000000000000000000000000000000000".into(),
            None,
            vec![AD, OP],
        ),
        ("GET", "/v1/pii/dictionaries".into(), None, vec![AD, AU, OP]),
        ("GET", "/v1/pii/vaults".into(), None, vec![AD, OP]),
        (
            "GET",
            "/v1/pii/dictionaries/d".into(),
            None,
            vec![AD, AU, OP],
        ),
        (
            "PUT",
            "/v1/pii/dictionaries/d".into(),
            Some(json!({"kind": "allow", "terms": ["x"]})),
            vec![AD, AU],
        ),
        (
            "DELETE",
            "/v1/pii/dictionaries/nope".into(),
            None,
            vec![AD, AU],
        ),
        ("POST", "/v1/sessions".into(), Some(json!({})), vec![AD, OP]),
        ("GET", "/v1/sessions".into(), None, vec![AD, OP]),
        ("GET", format!("/v1/sessions/{sid}"), None, vec![AD, OP]),
        (
            "POST",
            format!("/v1/sessions/{sid}/eval"),
            Some(json!({"code": "1"})),
            vec![AD, OP],
        ),
        (
            "POST",
            format!("/v1/sessions/{sid}/fork"),
            None,
            vec![AD, OP],
        ),
        (
            "DELETE",
            "/v1/sessions/s_00000000000000000000000000000000".into(),
            None,
            vec![AD, OP],
        ),
        (
            "POST",
            "/v1/code/eval".into(),
            Some(json!({"code": "1"})),
            vec![AD, OP],
        ),
        ("GET", "/v1/audit".into(), None, vec![AD, AT]),
        ("GET", "/v1/audit/verify".into(), None, vec![AD, AT]),
        ("GET", "/metrics".into(), None, vec![AD, OP, AT]),
        ("POST", "/v1/admin/keys/reload".into(), None, vec![AD]),
        ("GET", "/v1/admin/tenant".into(), None, vec![AD]),
        ("GET", "/v1/pipelines".into(), None, vec![AD, AU, OP, AT]),
        ("GET", "/v1/pipelines/p".into(), None, vec![AD, AU, OP, AT]),
        (
            "GET",
            "/v1/pipelines/p/versions/1".into(),
            None,
            vec![AD, AU, OP],
        ),
        (
            "GET",
            "/v1/pipelines/p/export".into(),
            None,
            vec![AD, AU, OP],
        ),
        (
            "POST",
            "/v1/pipelines/p/versions".into(),
            Some(json!({"steps": []})),
            vec![AD, AU],
        ),
        ("POST", "/v1/pipelines/import".into(), None, vec![AD, AU]),
        (
            "PUT",
            "/v1/pipelines/p/labels/staging".into(),
            Some(json!({"version": 1})),
            vec![AD, AU],
        ),
        (
            "POST",
            "/v1/pipelines/p/run".into(),
            Some(json!({})),
            vec![AD, OP],
        ),
        ("PUT", "/v1/admin/tenant".into(), Some(json!({})), vec![AD]),
    ];
    // Every route in the OpenAPI document is in the table (a new route needs a row).
    let (_, doc) = s.call("GET", "/openapi.json", None);
    let mut documented = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if ["/healthz", "/readyz"].contains(&path.as_str()) {
                continue;
            }
            documented += 1;
            let m = method.to_uppercase();
            let covered = cases.iter().any(|(cm, cp, _, _)| {
                *cm == m && {
                    let pattern: Vec<&str> = path.split('/').collect();
                    let concrete: Vec<&str> = cp.split('?').next().unwrap().split('/').collect();
                    pattern.len() == concrete.len()
                        && pattern
                            .iter()
                            .zip(&concrete)
                            .all(|(p, c)| p.starts_with('{') || p == c)
                }
            });
            assert!(covered, "no matrix row for {m} {path}");
        }
    }
    assert_eq!(
        documented,
        cases.len(),
        "matrix rows and documented routes differ"
    );
    for (method, path, body, allowed) in &cases {
        for role in ALL_ROLES {
            let (st, p) = s.call_as(Some(&r(role)), method, path, body.clone());
            if allowed.contains(role) {
                assert!(st != 401 && st != 403, "{role} denied {method} {path}: {p}");
            } else {
                assert_eq!(st, 403, "{role} allowed {method} {path}: {p}");
            }
        }
        // No role at all: denied.
        let (st, _) = s.call_as(
            Some(&token("default", "nobody", &[])),
            method,
            path,
            body.clone(),
        );
        assert_eq!(st, 403, "no-role token allowed {method} {path}");
    }
}

#[test]
fn tenants_are_isolated() {
    let s = Server::start();
    let a = token("acme", "alice", ALL_ROLES);
    let b = token("globex", "bob", ALL_ROLES);
    let call = |t: &str, m: &str, p: &str, body: Option<Value>| s.call_as(Some(t), m, p, body);
    assert_eq!(
        call(
            &a,
            "POST",
            "/v1/templates/secret/versions",
            Some(json!({"template": "A {{ x }}"}))
        )
        .0,
        201
    );
    let (_, sess) = call(&a, "POST", "/v1/sessions", Some(json!({})));
    let sid = sess["id"].as_str().unwrap().to_owned();
    call(
        &a,
        "POST",
        &format!("/v1/sessions/{sid}/eval"),
        Some(json!({"code": "k = 1"})),
    );
    let (_, anon) = call(
        &a,
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": "a@b.io", "operators": {"default": {"type": "pseudonymize"}}})),
    );
    let vault = anon["vault_id"].as_str().unwrap().to_owned();
    call(
        &a,
        "PUT",
        "/v1/pii/dictionaries/names",
        Some(json!({"kind": "deny", "entity_type": "PERSON", "terms": ["Alice"]})),
    );
    let r = common::http()
        .post(format!("{}/v1/plugins/hostile/versions/1.0.0", s.url))
        .bearer_auth(&a)
        .header("content-type", "application/wasm")
        .body(common::fixture_bytes("hostile"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    // B sees none of it: every lookup is a 404, exactly like a missing object.
    for (m, p, body) in [
        ("GET", "/v1/templates/secret".to_owned(), None),
        ("GET", "/v1/templates/secret/versions/1".to_owned(), None),
        (
            "POST",
            "/v1/templates/secret/render".to_owned(),
            Some(json!({"variables": {"x": 1}})),
        ),
        ("GET", format!("/v1/sessions/{sid}"), None),
        (
            "POST",
            format!("/v1/sessions/{sid}/eval"),
            Some(json!({"code": "k"})),
        ),
        ("POST", format!("/v1/sessions/{sid}/fork"), None),
        ("DELETE", format!("/v1/sessions/{sid}"), None),
        (
            "POST",
            "/v1/pii/deanonymize".to_owned(),
            Some(json!({"text": "<EMAIL_ADDRESS_1>", "vault_id": vault})),
        ),
        ("DELETE", format!("/v1/pii/vaults/{vault}"), None),
        ("GET", "/v1/pii/dictionaries/names".to_owned(), None),
        ("GET", "/v1/plugins/hostile".to_owned(), None),
        ("GET", "/v1/plugins/hostile/versions/1.0.0".to_owned(), None),
        ("DELETE", "/v1/plugins/hostile".to_owned(), None),
    ] {
        let (st, p) = call(&b, m, &p, body);
        assert_eq!(st, 404, "tenant B reached {m}: {p}");
    }
    // B's lists and audit log show nothing of A.
    for path in ["/v1/templates", "/v1/sessions", "/v1/pii/dictionaries"] {
        let (_, list) = call(&b, "GET", path, None);
        assert_eq!(list, json!([]), "{path}");
    }
    let (_, plugins) = call(&b, "GET", "/v1/plugins", None);
    assert!(!plugins.to_string().contains("hostile"));
    // B's detection does not use A's dictionary.
    let (_, d) = call(&b, "POST", "/v1/pii/detect", Some(json!({"text": "Alice"})));
    assert!(!d.to_string().contains("dictionary:names"), "{d}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (_, audit_b) = call(&b, "GET", "/v1/audit?limit=1000", None);
    let text = audit_b.to_string();
    assert!(!text.contains("alice") && !text.contains("acme"), "{text}");
    // A still has everything.
    let (st, r) = call(
        &a,
        "POST",
        &format!("/v1/sessions/{sid}/eval"),
        Some(json!({"code": "k"})),
    );
    assert_eq!((st, r["json"].as_i64()), (200, Some(1)));
    let (_, audit_a) = call(&a, "GET", "/v1/audit?limit=1000", None);
    assert_eq!(audit_a["records"][0]["seq"], 1);
    assert_eq!(audit_a["records"][0]["tenant"], "acme");
}

#[test]
fn bootstrap_secret_token_command_and_require_keys() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env(
            "WARDEN_SERVER__CACHE_DIR",
            common::cache_dir().join("server"),
        )
        .env("WARDEN_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("warden listening on ")
        .unwrap()
        .to_owned();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut admin = None;
    for _ in 0..40 {
        let mut l = String::new();
        if err.read_line(&mut l).unwrap() == 0 {
            break;
        }
        let t = l.trim();
        if t.starts_with("ey") && t.matches('.').count() == 2 {
            admin = Some(t.to_owned());
            break;
        }
    }
    let admin = admin.expect("no bootstrap token printed");
    let secret = data.join("jwt-hs256.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "secret is readable by others: {mode:o}");
    }
    let client = common::http();
    let get = |t: &str| {
        client
            .get(format!("{url}/v1/audit"))
            .bearer_auth(t)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get(&admin), 200);
    let minted = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "token",
            "issue",
            "--tenant",
            "default",
            "--role",
            "auditor",
            "--ttl",
            "10m",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(minted.status.success(), "{minted:?}");
    let auditor = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    assert_eq!(get(&auditor), 200);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
    // require_keys: no silent fallback.
    let cfg = dir.path().join("prod.toml");
    std::fs::write(&cfg, "[auth]\nrequire_keys = true\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("prod"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8(out.stderr).unwrap();
    assert!(msg.contains("require_keys"), "{msg}");
}

#[test]
fn rate_limits_trip_per_tenant_with_retry_after() {
    let s = Server::with_config(
        "[quota.defaults]\nrequests_per_second = 2\nburst = 3\nactor_requests_per_second = 100\nactor_burst = 100\n",
    );
    let a = token("acme", "alice", ALL_ROLES);
    let b = token("globex", "bob", ALL_ROLES);
    let mut limited = None;
    for _ in 0..20 {
        let r = common::http()
            .get(format!("{}/v1/templates", s.url))
            .bearer_auth(&a)
            .send()
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the rate limit never tripped");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let p: Value = r.json().unwrap();
    assert_eq!(p["type"], "urn:warden:problem:rate-limited");
    // The other tenant is served normally.
    assert_eq!(s.call_as(Some(&b), "GET", "/v1/templates", None).0, 200);
}

#[test]
fn concurrency_and_fuel_quotas_trip_per_tenant() {
    let s = Server::with_config(
        "[quota.defaults]\nconcurrent_calls = 1\nfuel_per_minute = 300000000\n",
    );
    let a = token("acme", "alice", ALL_ROLES);
    let b = token("globex", "bob", ALL_ROLES);
    for t in [&a, &b] {
        let r = common::http()
            .post(format!("{}/v1/plugins/hostile/versions/1.0.0", s.url))
            .bearer_auth(t)
            .header("content-type", "application/wasm")
            .body(common::fixture_bytes("hostile"))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        let (st, _) = s.call_as(
            Some(t),
            "POST",
            "/v1/templates/spin/versions",
            Some(json!({"template": "loop", "engine": "hostile@1.0.0"})),
        );
        assert_eq!(st, 201);
    }
    // One slow call holds tenant A's only slot; A's second call is refused, B's runs.
    let slow = json!({"limits": {"fuel": 40000000000u64, "wall_time_ms": 1500}});
    std::thread::scope(|scope| {
        let s = &s;
        let a2 = a.clone();
        let slow2 = slow.clone();
        let holder = scope
            .spawn(move || s.call_as(Some(&a2), "POST", "/v1/templates/spin/render", Some(slow2)));
        std::thread::sleep(std::time::Duration::from_millis(400));
        let (st, p) = s.call_as(
            Some(&a),
            "POST",
            "/v1/pii/detect",
            Some(json!({"text": "x"})),
        );
        assert_eq!(st, 429, "{p}");
        assert!(p["detail"].as_str().unwrap().contains("concurrent"), "{p}");
        let (st, _) = s.call_as(
            Some(&b),
            "POST",
            "/v1/pii/detect",
            Some(json!({"text": "x"})),
        );
        assert_eq!(st, 200);
        assert_eq!(holder.join().unwrap().0, 504);
    });
    // Burning A's fuel budget: the next call is refused until the minute is over; B unaffected.
    let burn = json!({"limits": {"fuel": 400000000u64}});
    let (st, p) = s.call_as(
        Some(&a),
        "POST",
        "/v1/templates/spin/render",
        Some(burn.clone()),
    );
    assert_eq!(
        (st, p["outcome"].as_str()),
        (422, Some("out_of_fuel")),
        "{p}"
    );
    let (st, p) = s.call_as(
        Some(&a),
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": "x"})),
    );
    assert_eq!(st, 429, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("fuel"), "{p}");
    let (st, _) = s.call_as(
        Some(&b),
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": "x"})),
    );
    assert_eq!(st, 200);
}

fn preflight(s: &Server, origin: &str) -> reqwest::blocking::Response {
    common::http()
        .request(reqwest::Method::OPTIONS, format!("{}/v1/templates", s.url))
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .unwrap()
}

#[test]
fn cors_is_off_by_default_and_allows_only_listed_origins() {
    let s = Server::start();
    let r = preflight(&s, "https://app.example.com");
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(r.status().is_client_error());
    // Security headers on every response.
    let r = reqwest::blocking::get(format!("{}/healthz", s.url)).unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let s = Server::with_config("[cors]\nallowed_origins = [\"https://app.example.com\"]\n");
    let r = preflight(&s, "https://app.example.com");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let r = preflight(&s, "https://evil.example.com");
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn protected_labels_need_an_approval_by_someone_else() {
    let s = Server::start();
    let author1 = token("default", "ann", &["author"]);
    let author2 = token("default", "ben", &["author"]);
    let operator = token("default", "otto", &["operator"]);
    for t in ["v1 {{ a }}", "v2 {{ a }}"] {
        let (st, _) = s.call_as(
            Some(&author1),
            "POST",
            "/v1/templates/p/versions",
            Some(json!({"template": t})),
        );
        assert_eq!(st, 201);
    }
    // Direct moves of `production` are for admins only; other labels move freely.
    let (st, p) = s.call_as(
        Some(&author1),
        "PUT",
        "/v1/templates/p/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 403, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("protected"), "{p}");
    let (st, _) = s.call_as(
        Some(&author1),
        "POST",
        "/v1/templates/p/versions",
        Some(json!({"template": "v3", "labels": ["production"]})),
    );
    assert_eq!(st, 403);
    assert_eq!(
        s.call_as(
            Some(&author1),
            "PUT",
            "/v1/templates/p/labels/staging",
            Some(json!({"version": 2}))
        )
        .0,
        200
    );
    // Request, self-approval refused, operator refused, another author approves.
    let (st, cr) = s.call_as(
        Some(&author1),
        "POST",
        "/v1/templates/p/labels/production/requests",
        Some(json!({"version": 2})),
    );
    assert_eq!(st, 201, "{cr}");
    assert_eq!(cr["status"], "pending");
    let id = cr["id"].as_str().unwrap().to_owned();
    let approve = format!("/v1/templates/p/requests/{id}/approve");
    let (st, p) = s.call_as(Some(&author1), "POST", &approve, None);
    assert_eq!(st, 403, "{p}");
    assert_eq!(s.call_as(Some(&operator), "POST", &approve, None).0, 403);
    let (_, sum) = s.call("GET", "/v1/templates/p", None);
    assert!(sum["labels"].get("production").is_none(), "{sum}");
    let (st, d) = s.call_as(Some(&author2), "POST", &approve, None);
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["request"]["status"], "approved");
    assert_eq!(d["request"]["decided_by"], "ben");
    assert_eq!(d["template"]["labels"]["production"], 2);
    assert_eq!(s.call_as(Some(&author2), "POST", &approve, None).0, 409);
    let (_, r) = s.call_as(
        Some(&operator),
        "POST",
        "/v1/templates/p/render",
        Some(json!({"variables": {"a": 1}})),
    );
    assert_eq!(
        (r["version"].as_u64(), r["label"].as_str()),
        (Some(2), Some("production"))
    );
    // A rejection moves nothing.
    let (_, cr) = s.call_as(
        Some(&author2),
        "POST",
        "/v1/templates/p/labels/production/requests",
        Some(json!({"version": 1})),
    );
    let id2 = cr["id"].as_str().unwrap().to_owned();
    let (st, d) = s.call_as(
        Some(&author1),
        "POST",
        &format!("/v1/templates/p/requests/{id2}/reject"),
        Some(json!({"reason": "not yet"})),
    );
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["request"]["status"], "rejected");
    let (_, sum) = s.call("GET", "/v1/templates/p", None);
    assert_eq!(sum["labels"]["production"], 2);
    // Admins move it directly; everything is in the audit log.
    assert_eq!(
        s.call(
            "PUT",
            "/v1/templates/p/labels/production",
            Some(json!({"version": 1}))
        )
        .0,
        200
    );
    // Import cannot move a protected label for an author either; unchanged labels are fine.
    let (_, yaml) = s.text("/v1/templates/export");
    let import = |t: &str, body: &str| {
        common::http()
            .post(format!("{}/v1/templates/import", s.url))
            .bearer_auth(t)
            .header("content-type", "application/yaml")
            .body(body.to_owned())
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(import(&author1, &yaml), 200);
    assert!(yaml.contains("production: 1"), "{yaml}");
    assert_eq!(
        import(&author1, &yaml.replace("production: 1", "production: 2")),
        403
    );
    let (_, page) = s.call("GET", "/v1/audit?action=template.label.&limit=1000", None);
    let actions: Vec<(String, String)> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("template.label.request", "ok"),
        ("template.label.approve", "forbidden"),
        ("template.label.approve", "ok"),
        ("template.label.reject", "ok"),
        ("template.label.move", "ok"),
    ] {
        assert!(
            actions.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} missing from {actions:?}"
        );
    }
}

#[test]
fn tenant_admins_set_their_quota_and_protected_labels_within_the_caps() {
    let s = Server::with_config("[quota.caps]\nrequests_per_second = 300\n");
    let admin_a = token("acme", "root", &["admin"]);
    let author_a = token("acme", "ann", &["author"]);
    let admin_b = token("globex", "gus", &["admin"]);
    let (st, v) = s.call_as(Some(&admin_a), "GET", "/v1/admin/tenant", None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["tenant"], "acme");
    assert_eq!(v["protected_labels"], json!(["production"]));
    assert_eq!(v["caps"]["requests_per_second"], 300);
    // Over a host-wide cap: refused, naming the field; nothing changes.
    let quota = |rps: u64| {
        json!({"requests_per_second": rps, "burst": 2, "actor_requests_per_second": 100,
               "actor_burst": 100, "concurrent_calls": 4, "fuel_per_minute": 1000000000})
    };
    let (st, p) = s.call_as(
        Some(&admin_a),
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"quota": quota(301)})),
    );
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["errors"][0]["path"], "/quota/requests_per_second", "{p}");
    let (st, p) = s.call_as(
        Some(&admin_a),
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"protected_labels": ["Not A Label"]})),
    );
    assert_eq!(st, 422, "{p}");
    // Within the caps: in force at once, for this tenant only.
    let (st, v) = s.call_as(
        Some(&admin_a),
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"quota": quota(1), "protected_labels": ["production", "staging"]})),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["quota"]["requests_per_second"], 1);
    let mut limited = false;
    for _ in 0..10 {
        let (st, _) = s.call_as(Some(&author_a), "GET", "/v1/templates", None);
        if st == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "acme's new rate limit never tripped");
    for _ in 0..10 {
        assert_eq!(
            s.call_as(Some(&admin_b), "GET", "/v1/templates", None).0,
            200
        );
    }
    let (_, vb) = s.call_as(Some(&admin_b), "GET", "/v1/admin/tenant", None);
    assert_eq!(vb["protected_labels"], json!(["production"]));
    assert_eq!(
        vb["overrides"],
        json!({"quota": null, "protected_labels": null})
    );
    // Survives a restart; `staging` is now protected in acme (an author must request it).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let s = s.restart();
    let (st, _) = s.call_as(
        Some(&author_a),
        "POST",
        "/v1/templates/t/versions",
        Some(json!({"template": "hi"})),
    );
    assert_eq!(st, 201);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (st, p) = s.call_as(
        Some(&author_a),
        "PUT",
        "/v1/templates/t/labels/staging",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 403, "{p}");
    // In globex `staging` moves freely.
    s.call_as(
        Some(&admin_b),
        "POST",
        "/v1/templates/t/versions",
        Some(json!({"template": "hi"})),
    );
    let (st, _) = s.call_as(
        Some(&token("globex", "gina", &["author"])),
        "PUT",
        "/v1/templates/t/labels/staging",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 200);
    // Only admins read or change settings; the change is in the tenant's audit log.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        s.call_as(Some(&author_a), "GET", "/v1/admin/tenant", None)
            .0,
        403
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (st, log) = s.call_as(
        Some(&token("acme", "aud", &["auditor"])),
        "GET",
        "/v1/audit?action=tenant.settings.",
        None,
    );
    assert_eq!(st, 200, "{log}");
    let records = log["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{log}");
    assert_eq!(records[0]["actor"], "root");
}

/// A self-signed certificate for 127.0.0.1 (made with the openssl command line).
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=warden-test",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    (cert, key)
}

/// One HTTP/1.1 GET over TLS, trusting only `cert`; returns the response head and body.
fn https_get(addr: &str, cert: &std::path::Path, path: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn tls_serves_https_only_with_hsts_and_bad_files_stop_start_up() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let cfg = dir.path().join("warden.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[auth.keys]]\nkid = \"test\"\nalgorithm = \"HS256\"\nsecret = \"{}\"\n",
            base64::engine::general_purpose::STANDARD.encode(TEST_SECRET)
        ),
    )
    .unwrap();
    /// Kills the server even when an assertion fails first.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env(
            "WARDEN_SERVER__CACHE_DIR",
            common::cache_dir().join("server"),
        )
        .env("WARDEN_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("warden listening on https://")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    let resp = https_get(&addr, &cert, "/healthz");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        resp.to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{resp}"
    );
    let resp = https_get(&addr, &cert, "/v1/templates");
    assert!(resp.starts_with("HTTP/1.1 401"), "{resp}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = common::http()
        .get(format!("http://{addr}/healthz"))
        .timeout(std::time::Duration::from_secs(5))
        .send();
    assert!(plain.is_err(), "{plain:?}");
    drop(child);

    // A key that is not a key, and a certificate without its key: start-up fails, naming it.
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a pem file").unwrap();
    for (args, named) in [
        (
            vec![
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                bogus.to_str().unwrap(),
            ],
            "tls_key",
        ),
        (vec!["--tls-cert", cert.to_str().unwrap()], "tls-key"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&cfg)
            .arg("--data-dir")
            .arg(dir.path().join("data2"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(msg.contains(named), "{msg}");
    }
}

#[test]
fn header_uri_and_connection_limits() {
    use std::io::{Read, Write};
    let s = Server::with_config(
        "[server]\nmax_connections = 2\nmax_uri_bytes = 1024\nmax_header_bytes = 8192\nmax_headers = 20\n",
    );
    let addr = s.url.strip_prefix("http://").unwrap().to_owned();
    // A request target over the limit: 414 problem.
    let (st, p) = s.call(
        "GET",
        &format!("/v1/templates?x={}", "a".repeat(2000)),
        None,
    );
    assert_eq!(st, 414, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("1024"), "{p}");
    // Headers over the byte limit, or too many of them: 431.
    let big = common::http()
        .get(format!("{}/healthz", s.url))
        .header("x-big", "b".repeat(10_000))
        .send()
        .unwrap();
    assert_eq!(big.status(), 431);
    let mut many = common::http().get(format!("{}/healthz", s.url));
    for i in 0..30 {
        many = many.header(format!("x-h{i}"), "1");
    }
    assert_eq!(many.send().unwrap().status(), 431);
    // Two idle connections take both slots: a third is not served until one closes.
    let hold1 = std::net::TcpStream::connect(&addr).unwrap();
    let hold2 = std::net::TcpStream::connect(&addr).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut third = std::net::TcpStream::connect(&addr).unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(std::time::Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        third.read(&mut buf).is_err(),
        "served past the connection cap"
    );
    drop(hold1);
    third
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut out = String::new();
    third.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    drop(hold2);
}

/// A TCP connection to `to` from the loopback address `source` (127.0.0.2, ...), so a test
/// client counts as another source for the per-source caps.
fn connect_from(source: &str, to: std::net::SocketAddr) -> std::net::TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let from = std::net::SocketAddr::new(source.parse().unwrap(), 0);
    sock.bind(&from.into()).unwrap();
    sock.connect(&to.into()).unwrap();
    sock.into()
}

/// Whether the server has closed `conn` (EOF or reset) within `wait`.
fn closed_within(conn: &std::net::TcpStream, wait: std::time::Duration) -> bool {
    use std::io::Read;
    conn.set_read_timeout(Some(wait)).unwrap();
    let mut conn = conn;
    let mut buf = [0u8; 256];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Sends one keep-alive `GET path` on `conn` and returns the status line; leaves the
/// connection open.
fn get_keep_alive(conn: &mut std::net::TcpStream, path: &str) -> String {
    use std::io::{Read, Write};
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the response: {got:?}");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + len {
                return text.lines().next().unwrap().to_owned();
            }
        }
    }
}

#[test]
fn idle_connections_are_capped_per_source_and_closed_after_the_timeouts() {
    use std::io::Write;
    use std::time::{Duration, Instant};
    let s = Server::with_config(
        "[server]\nmax_connections = 20\nmax_connections_per_ip = 5\n\
         header_read_timeout = \"2s\"\nkeep_alive_timeout = \"4s\"\n\
         [auth]\nhost_tenant = \"ops\"\n",
    );
    let addr: std::net::SocketAddr = s.url.strip_prefix("http://").unwrap().parse().unwrap();
    // More idle sockets from 127.0.0.1 than both caps, sending nothing at all.
    let opened = Instant::now();
    let idle: Vec<std::net::TcpStream> = (0..30)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Another source is answered at once, long before the header timeout frees any slot.
    let mut probe = connect_from("127.0.0.2", addr);
    assert_eq!(get_keep_alive(&mut probe, "/healthz"), "HTTP/1.1 200 OK");
    assert!(
        opened.elapsed() < Duration::from_millis(1800),
        "health probe waited for the idle sockets: {:?}",
        opened.elapsed()
    );
    // Everything over the per-source cap was closed as soon as it was accepted (the harness's
    // own kept-alive client connection from the readiness check may hold one of the five).
    let closed_now = idle
        .iter()
        .filter(|c| closed_within(c, Duration::from_millis(50)))
        .count();
    assert!(
        (25..=26).contains(&closed_now),
        "{closed_now} of 30 closed: the per-source cap of 5 was not applied"
    );
    // The five the cap let in are closed once the header timeout (from the accept) is up,
    // though they never sent a byte.
    for c in &idle {
        assert!(
            closed_within(c, Duration::from_secs(5)),
            "an idle socket was never closed"
        );
    }
    let took = opened.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(4),
        "idle sockets closed after {took:?}, not at the 2 s header timeout"
    );
    // A partial request head is cut at the header timeout too.
    let mut loris = connect_from("127.0.0.3", addr);
    loris
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&loris, Duration::from_secs(5)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // A kept-alive connection may wait the keep-alive timeout between requests, no longer.
    let started = Instant::now();
    let mut kept = connect_from("127.0.0.4", addr);
    assert_eq!(get_keep_alive(&mut kept, "/healthz"), "HTTP/1.1 200 OK");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(get_keep_alive(&mut kept, "/readyz"), "HTTP/1.1 200 OK");
    let started_idle = Instant::now();
    assert!(closed_within(&kept, Duration::from_secs(8)));
    let idle_for = started_idle.elapsed();
    assert!(
        idle_for >= Duration::from_millis(3500) && idle_for < Duration::from_secs(6),
        "kept-alive connection closed after {idle_for:?} idle, not at the 4 s keep-alive timeout ({:?} in all)",
        started.elapsed()
    );
    // The source that was over its cap is served again now its connections are gone.
    let mut again = std::net::TcpStream::connect(addr).unwrap();
    assert_eq!(get_keep_alive(&mut again, "/healthz"), "HTTP/1.1 200 OK");
    // Connections belong to no tenant: their series are in the host view only.
    let metrics = common::http()
        .get(format!("{}/metrics", s.url))
        .bearer_auth(common::token("ops", "root", &["operator"]))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for reason in ["per_ip_cap", "header_timeout", "idle_timeout"] {
        assert!(
            metrics.contains(&format!(
                "warden_connections_closed_total{{reason=\"{reason}\"}}"
            )),
            "{reason} not counted: {metrics}"
        );
    }
}

#[test]
fn crit_headers_unprintable_subjects_and_scheme_case() {
    let s = Server::start();
    let status = |auth: &str| {
        let r = common::http()
            .get(format!("{}/v1/templates", s.url))
            .header("authorization", auth)
            .send()
            .unwrap();
        let st = r.status().as_u16();
        (st, r.text().unwrap())
    };
    let good = token("default", "alice", &["admin"]);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let (st, body) = status(&format!("{scheme} {good}"));
        assert_eq!(st, 200, "{scheme}: {body}");
    }
    for bad in [
        format!("Basic {good}"),
        format!("Bearer{good}"),
        good.clone(),
    ] {
        assert_eq!(status(&bad).0, 401, "{bad}");
    }
    // A critical header extension nobody here understands: refused, whatever it says.
    let exp = now() + 600;
    let claims = json!({"sub": "alice", "tenant": "default", "roles": ["admin"], "exp": exp});
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("test".into());
    h.crit = Some(vec!["x-warden-unknown".into()]);
    h.extras.insert("x-warden-unknown", true);
    let crit = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET),
    )
    .unwrap();
    let (st, p) = s.call_as(Some(&crit), "GET", "/v1/templates", None);
    assert_eq!(st, 401, "a token with an unknown crit was accepted: {p}");
    assert!(p["detail"].as_str().unwrap().contains("crit"), "{p}");
    // An empty crit list is not allowed either (RFC 7515 §4.1.11).
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("test".into());
    h.crit = Some(vec![]);
    let empty = jsonwebtoken::encode(
        &h,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET),
    )
    .unwrap();
    assert_eq!(s.call_as(Some(&empty), "GET", "/v1/templates", None).0, 401);
    // Subjects that would not read as themselves in the audit log: refused with a reason.
    for sub in [
        "admin\u{202e}nimda",
        "ali\u{200b}ce",
        "a\u{2066}b\u{2069}",
        "alice\u{a0}",
        "alice\u{2028}",
        "tab\there",
        " alice",
    ] {
        let t = token("default", sub, &["admin"]);
        let (st, p) = s.call_as(Some(&t), "GET", "/v1/templates", None);
        assert_eq!(st, 401, "sub {sub:?} was accepted: {p}");
        assert!(p["detail"].as_str().unwrap().contains("sub must be"), "{p}");
    }
    let long = token("default", &"a".repeat(257), &["admin"]);
    assert_eq!(s.call_as(Some(&long), "GET", "/v1/templates", None).0, 401);
    // Printable non-ASCII names are fine and land in the audit log as sent.
    let zoe = token("default", "Zoë Ångström", &["admin"]);
    let (st, p) = s.call_as(
        Some(&zoe),
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({"template": "hi"})),
    );
    assert_eq!(st, 201, "{p}");
    let (_, page) = s.call("GET", "/v1/audit?action=template.", None);
    assert!(page.to_string().contains("Zoë Ångström"), "{page}");
}

#[test]
fn head_works_on_every_get_route_like_get_without_a_body() {
    let s = Server::start();
    let client = common::http();
    for path in [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/v1/templates",
        "/v1/plugins",
        "/v1/audit/verify",
        "/metrics",
    ] {
        let get = client
            .get(format!("{}{path}", s.url))
            .bearer_auth(&s.token)
            .send()
            .unwrap();
        let head = client
            .head(format!("{}{path}", s.url))
            .bearer_auth(&s.token)
            .send()
            .unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert_eq!(head.bytes().unwrap().len(), 0, "HEAD {path} sent a body");
    }
    // HEAD still needs what GET needs.
    let anon = client
        .head(format!("{}/v1/templates", s.url))
        .send()
        .unwrap();
    assert_eq!(anon.status(), 401);
    // A route without GET does not gain HEAD.
    let r = client
        .head(format!("{}/v1/pii/detect", s.url))
        .bearer_auth(&s.token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
}

#[test]
fn failed_authentications_are_throttled_per_source_and_audited_in_summary() {
    let s = Server::start();
    let attacker = common::http();
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    let sent = 600;
    for _ in 0..sent {
        let r = attacker
            .get(format!("{}/v1/templates", s.url))
            .bearer_auth("garbage.token.x")
            .send()
            .unwrap();
        let st = r.status().as_u16();
        if st == 429 {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1, "{retry}");
            assert_eq!(
                r.headers()["content-type"].to_str().unwrap(),
                "application/problem+json"
            );
            let p: Value = r.json().unwrap();
            assert!(
                p["detail"]
                    .as_str()
                    .unwrap()
                    .contains("failed authentications"),
                "{p}"
            );
        }
        *counts.entry(st).or_default() += 1;
    }
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        [401, 429],
        "{counts:?}"
    );
    assert!(
        counts[&429] >= sent / 2,
        "garbage tokens were hardly throttled: {counts:?}"
    );
    // Another source with a valid token is served meanwhile.
    let other = reqwest::blocking::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let ok = other
        .get(format!("{}/v1/templates", s.url))
        .bearer_auth(&s.token)
        .send()
        .unwrap();
    assert_eq!(ok.status(), 200);
    let v: Value = other
        .get(format!("{}/v1/audit/verify", s.url))
        .bearer_auth(&s.token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["ok"], true, "{v}");
    // The system chain holds the first failure in full and one summary, not one per request.
    let mut s = s;
    assert!(s.stop().success());
    let records: Vec<Value> = {
        use redb::ReadableDatabase;
        let db = redb::Database::open(s.db_path()).unwrap();
        let table: redb::TableDefinition<(&str, u64), &[u8]> =
            redb::TableDefinition::new("audit_v1");
        let txn = db.begin_read().unwrap();
        let t = txn.open_table(table).unwrap();
        t.range(("_system", 0)..=("_system", u64::MAX))
            .unwrap()
            .map(|e| serde_json::from_slice(e.unwrap().1.value()).unwrap())
            .collect()
    };
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["auth.failed", "auth.failed.summary"],
        "{records:?}"
    );
    let detail = records[1]["detail"].as_str().unwrap();
    let numbers: Vec<usize> = detail
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .take(2)
        .collect();
    assert_eq!(numbers[0] + numbers[1] + 1, sent, "{detail}");
    assert!(detail.contains("127.0.0.1"), "{detail}");
    // And the chain still verifies.
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["audit", "verify", "--data-dir"])
        .arg(s.data.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
