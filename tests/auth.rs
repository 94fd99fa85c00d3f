//! Black-box tests of authentication, the role matrix and tenant isolation, against the real
//! `warden serve`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use base64::Engine as _;
use common::{ALL_ROLES, KillOnDrop, Server, TEST_SECRET, sign, token};
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

/// A server that accepts HS256 (the test secret), RS256 and ES256 tokens from one issuer for
/// one audience, with the RSA and EC key pairs it was configured with.
struct JwtServer {
    s: Server,
    rsa: std::path::PathBuf,
    rsa_pub: std::path::PathBuf,
    ec: std::path::PathBuf,
    _keys: tempfile::TempDir,
}

impl JwtServer {
    fn start() -> JwtServer {
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
        JwtServer {
            s: Server::with_config(&config),
            rsa,
            rsa_pub,
            ec,
            _keys: dir,
        }
    }

    /// Claims the server accepts, with `extra` merged in.
    fn good(&self, extra: Value) -> Value {
        let mut c = claims();
        c["iss"] = json!("https://idp.test");
        c["aud"] = json!("warden");
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    }

    fn status(&self, t: &str) -> u16 {
        self.s.call_as(Some(t), "GET", "/v1/templates", None).0
    }

    /// Every token is a 401 whose detail does not echo the token.
    fn assert_refused(&self, refused: &[(&str, String)]) {
        for (what, t) in refused {
            let (st, p) = self.s.call_as(Some(t), "GET", "/v1/templates", None);
            assert_eq!(st, 401, "{what} was accepted: {p}");
            assert!(!p["detail"].as_str().unwrap().contains(t.as_str()) || t.is_empty());
        }
    }
}

#[test]
fn valid_hs256_rs256_and_es256_tokens_are_accepted() {
    let j = JwtServer::start();
    let hs = sign(&j.good(json!({})));
    assert_eq!(j.status(&hs), 200);
    let rs_key = jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(&j.rsa).unwrap()).unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.kid = Some("rsa".into());
    let rs = jsonwebtoken::encode(&h, &j.good(json!({})), &rs_key).unwrap();
    assert_eq!(j.status(&rs), 200);
    let ec_key = jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(&j.ec).unwrap()).unwrap();
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some("ec".into());
    let es = jsonwebtoken::encode(&h, &j.good(json!({})), &ec_key).unwrap();
    assert_eq!(j.status(&es), 200);
}

#[test]
fn malformed_tokens_are_refused() {
    let j = JwtServer::start();
    j.assert_refused(&[
        ("garbage", "not.a.jwt".to_owned()),
        ("empty", String::new()),
    ]);
}

#[test]
fn expired_and_not_yet_valid_tokens_are_refused_beyond_the_leeway() {
    let j = JwtServer::start();
    j.assert_refused(&[
        ("expired", sign(&j.good(json!({"exp": now() - 60})))),
        ("not yet valid", sign(&j.good(json!({"nbf": now() + 600})))),
    ]);
}

#[test]
fn a_wrong_issuer_or_a_wrong_or_missing_audience_is_refused() {
    let j = JwtServer::start();
    let mut no_aud = j.good(json!({}));
    no_aud.as_object_mut().unwrap().remove("aud");
    j.assert_refused(&[
        (
            "wrong iss",
            sign(&j.good(json!({"iss": "https://evil.test"}))),
        ),
        ("wrong aud", sign(&j.good(json!({"aud": "other"})))),
        ("missing aud", sign(&no_aud)),
    ]);
}

#[test]
fn forged_signatures_and_unknown_keys_are_refused() {
    let j = JwtServer::start();
    let mut refused = Vec::new();
    // Wrong signature: another secret.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("test".into());
    refused.push((
        "wrong secret",
        jsonwebtoken::encode(
            &h,
            &j.good(json!({})),
            &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-00"),
        )
        .unwrap(),
    ));
    // alg: none.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(j.good(json!({})).to_string().as_bytes())
    );
    refused.push(("alg none", none));
    // HS/RS confusion: HS256 signed with the RSA public key as the secret, naming the RSA kid.
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("rsa".into());
    refused.push((
        "hs/rs confusion",
        jsonwebtoken::encode(
            &h,
            &j.good(json!({})),
            &jsonwebtoken::EncodingKey::from_secret(&std::fs::read(&j.rsa_pub).unwrap()),
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
            &j.good(json!({})),
            &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET),
        )
        .unwrap(),
    ));
    j.assert_refused(&refused);
}

#[test]
fn tampered_claims_under_the_original_signature_are_refused() {
    let j = JwtServer::start();
    // Another tenant, the original signature kept.
    let hs = sign(&j.good(json!({})));
    let parts: Vec<&str> = hs.split('.').collect();
    let mut forged = j.good(json!({}));
    forged["tenant"] = json!("victim");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.to_string().as_bytes()),
        parts[2]
    );
    j.assert_refused(&[("tampered", tampered)]);
}

#[test]
fn a_bad_tenant_name_in_an_otherwise_valid_token_is_refused() {
    let j = JwtServer::start();
    j.assert_refused(&[("bad tenant", sign(&j.good(json!({"tenant": "../x"}))))]);
}

/// One row of the role matrix: method, path, body, and the roles allowed.
type Row = (&'static str, String, Option<Value>, Vec<&'static str>);

/// One request per route, with the roles the documented matrix (SECURITY.md) allows; `sid` and
/// `vault` are the session and vault the requests refer to.
fn matrix(sid: &str, vault: &str) -> Vec<Row> {
    const AD: &str = "admin";
    const AU: &str = "author";
    const OP: &str = "operator";
    const AT: &str = "auditor";
    const PR: &str = "pii-reader";
    let cases: Vec<Row> = vec![
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
        ("GET", "/v1/pii/entities".into(), None, vec![AD, OP]),
        ("GET", "/v1/pii/recognizers".into(), None, vec![AD, AU, OP]),
        (
            "GET",
            "/v1/pii/recognizers/nope".into(),
            None,
            vec![AD, AU, OP],
        ),
        (
            "PUT",
            "/v1/pii/recognizers/r".into(),
            Some(json!({"entity_type": "X", "deny_list": ["y"]})),
            vec![AD, AU],
        ),
        (
            "DELETE",
            "/v1/pii/recognizers/nope".into(),
            None,
            vec![AD, AU],
        ),
        (
            "POST",
            "/v1/pii/recognizers/import".into(),
            Some(json!({"recognizers": []})),
            vec![AD, AU],
        ),
        (
            "POST",
            "/v1/templates/render".into(),
            Some(json!({"template": "x"})),
            vec![AD, OP],
        ),
        ("GET", "/v1/openai/models".into(), None, vec![AD, OP]),
        (
            "POST",
            "/v1/openai/chat/completions".into(),
            Some(json!({"model": "none", "messages": [{"role": "user", "content": "x"}]})),
            vec![AD, OP],
        ),
        (
            "POST",
            "/v1/openai/embeddings".into(),
            Some(json!({"model": "none", "input": "x"})),
            vec![AD, OP],
        ),
        (
            "POST",
            "/presidio/analyze".into(),
            Some(json!({"text": "x", "language": "en"})),
            vec![AD, OP],
        ),
        (
            "GET",
            "/presidio/supportedentities".into(),
            None,
            vec![AD, OP],
        ),
        ("GET", "/presidio/recognizers".into(), None, vec![AD, OP]),
        ("GET", "/presidio/anonymizers".into(), None, vec![AD, OP]),
        ("GET", "/presidio/deanonymizers".into(), None, vec![AD, OP]),
        (
            "POST",
            "/presidio/anonymize".into(),
            Some(json!({"text": "x", "analyzer_results": []})),
            vec![AD, OP],
        ),
        (
            "POST",
            "/presidio/deanonymize".into(),
            Some(json!({"text": "x", "anonymizer_results": []})),
            vec![PR],
        ),
        (
            "POST",
            "/presidio/decrypt".into(),
            Some(json!({"text": "x", "key": "0123456789abcdef"})),
            vec![PR],
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
    cases
}

/// A server holding the objects the matrix's requests refer to (deletes target names that do
/// not exist: 404 = allowed), and the matrix for them.
fn matrix_server() -> (Server, Vec<Row>) {
    let s = Server::start();
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
    let cases = matrix(&sid, &vault);
    (s, cases)
}

/// Every route in the OpenAPI document is in the matrix (a new route needs a row).
#[test]
fn the_role_matrix_has_a_row_for_every_documented_route() {
    let s = Server::start();
    let cases = matrix(
        "s_00000000000000000000000000000000",
        "v_000000000000000000000000000000000000",
    );
    let (_, doc) = s.call("GET", "/openapi.json", None);
    let mut documented = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if ["/healthz", "/readyz", "/presidio/health"].contains(&path.as_str()) {
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
}

/// One request per route and role: allowed exactly where the matrix says, 403 elsewhere.
#[test]
fn each_role_reaches_exactly_the_routes_the_matrix_allows() {
    let (s, cases) = matrix_server();
    let r = |role: &str| token("default", &format!("as-{role}"), &[role]);
    for (method, path, body, allowed) in &cases {
        for role in ALL_ROLES {
            let (st, p) = s.call_as(Some(&r(role)), method, path, body.clone());
            if allowed.contains(role) {
                assert!(st != 401 && st != 403, "{role} denied {method} {path}: {p}");
            } else {
                assert_eq!(st, 403, "{role} allowed {method} {path}: {p}");
            }
        }
    }
}

#[test]
fn a_token_without_roles_is_denied_every_route() {
    let (s, cases) = matrix_server();
    for (method, path, body, _) in &cases {
        let (st, _) = s.call_as(
            Some(&token("default", "nobody", &[])),
            method,
            path,
            body.clone(),
        );
        assert_eq!(st, 403, "no-role token allowed {method} {path}");
    }
}

/// Tenant `acme` with one of everything (a template, a session with a variable, a vault, a
/// dictionary, a plugin), and tokens for acme's alice and globex's bob.
struct TwoTenants {
    s: Server,
    a: String,
    b: String,
    sid: String,
    vault: String,
}

impl TwoTenants {
    fn start() -> TwoTenants {
        let s = Server::start();
        let a = token("acme", "alice", ALL_ROLES);
        let b = token("globex", "bob", ALL_ROLES);
        assert_eq!(
            s.call_as(
                Some(&a),
                "POST",
                "/v1/templates/secret/versions",
                Some(json!({"template": "A {{ x }}"}))
            )
            .0,
            201
        );
        let (_, sess) = s.call_as(Some(&a), "POST", "/v1/sessions", Some(json!({})));
        let sid = sess["id"].as_str().unwrap().to_owned();
        s.call_as(
            Some(&a),
            "POST",
            &format!("/v1/sessions/{sid}/eval"),
            Some(json!({"code": "k = 1"})),
        );
        let (_, anon) = s.call_as(
            Some(&a),
            "POST",
            "/v1/pii/anonymize",
            Some(json!({"text": "a@b.io", "operators": {"default": {"type": "pseudonymize"}}})),
        );
        let vault = anon["vault_id"].as_str().unwrap().to_owned();
        s.call_as(
            Some(&a),
            "PUT",
            "/v1/pii/dictionaries/names",
            Some(json!({"kind": "deny", "entity_type": "PERSON", "terms": ["Alice"]})),
        );
        assert_eq!(
            s.upload_as(&a, "hostile", "1.0.0", common::fixture_bytes("hostile")),
            201
        );
        TwoTenants {
            s,
            a,
            b,
            sid,
            vault,
        }
    }

    fn call(&self, t: &str, m: &str, p: &str, body: Option<Value>) -> (u16, Value) {
        self.s.call_as(Some(t), m, p, body)
    }
}

#[test]
fn another_tenant_gets_404_for_every_object_and_changes_nothing() {
    let t = TwoTenants::start();
    let (sid, vault) = (&t.sid, &t.vault);
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
        let (st, p) = t.call(&t.b, m, &p, body);
        assert_eq!(st, 404, "tenant B reached {m}: {p}");
    }
    // A still has everything.
    let (st, r) = t.call(
        &t.a,
        "POST",
        &format!("/v1/sessions/{sid}/eval"),
        Some(json!({"code": "k"})),
    );
    assert_eq!((st, r["json"].as_i64()), (200, Some(1)));
    let (_, audit_a) = t.call(&t.a, "GET", "/v1/audit?limit=1000", None);
    assert_eq!(audit_a["records"][0]["seq"], 1);
    assert_eq!(audit_a["records"][0]["tenant"], "acme");
}

#[test]
fn another_tenants_lists_show_nothing_of_a_tenant() {
    let t = TwoTenants::start();
    for path in ["/v1/templates", "/v1/sessions", "/v1/pii/dictionaries"] {
        let (_, list) = t.call(&t.b, "GET", path, None);
        assert_eq!(list, json!([]), "{path}");
    }
    let (_, plugins) = t.call(&t.b, "GET", "/v1/plugins", None);
    assert!(!plugins.to_string().contains("hostile"));
}

#[test]
fn another_tenants_detection_does_not_use_a_tenants_dictionary() {
    let t = TwoTenants::start();
    let (_, d) = t.call(
        &t.b,
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": "Alice"})),
    );
    assert!(!d.to_string().contains("dictionary:names"), "{d}");
}

#[test]
fn another_tenants_audit_log_shows_nothing_of_a_tenant() {
    let t = TwoTenants::start();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (_, audit_b) = t.call(&t.b, "GET", "/v1/audit?limit=1000", None);
    let text = audit_b.to_string();
    assert!(!text.contains("alice") && !text.contains("acme"), "{text}");
}

/// A server started without keys: it prints a bootstrap admin token on stderr.
struct Bootstrapped {
    child: KillOnDrop,
    /// The server's output, kept open while it runs.
    _output: (
        std::io::BufReader<std::process::ChildStdout>,
        std::io::BufReader<std::process::ChildStderr>,
    ),
    url: String,
    admin: String,
    data: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Bootstrapped {
    fn start() -> Bootstrapped {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut child = common::serve_command()
            .arg("--data-dir")
            .arg(&data)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
        let child = KillOnDrop(child);
        let url = common::listening_on(&mut out);
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
        Bootstrapped {
            child,
            _output: (out, err),
            url,
            admin,
            data,
            _dir: dir,
        }
    }

    fn get(&self, t: &str) -> u16 {
        common::http()
            .get(format!("{}/v1/audit", self.url))
            .bearer_auth(t)
            .send()
            .unwrap()
            .status()
            .as_u16()
    }
}

#[test]
fn without_keys_the_server_prints_a_bootstrap_admin_token_and_keeps_its_secret_private() {
    let b = Bootstrapped::start();
    let secret = b.data.join("jwt-hs256.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "secret is readable by others: {mode:o}");
    }
    assert_eq!(b.get(&b.admin), 200);
    assert!(b.child.terminate().success());
}

#[test]
fn token_issue_mints_tokens_the_bootstrapped_server_accepts() {
    let b = Bootstrapped::start();
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
        .arg(&b.data)
        .output()
        .unwrap();
    assert!(minted.status.success(), "{minted:?}");
    let auditor = String::from_utf8(minted.stdout).unwrap().trim().to_owned();
    assert_eq!(b.get(&auditor), 200);
    assert!(b.child.terminate().success());
}

#[test]
fn require_keys_refuses_to_start_without_keys() {
    // No silent fallback to a bootstrap secret.
    let dir = tempfile::tempdir().unwrap();
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

/// A server where each tenant has one concurrent call and 300 M fuel a minute, and acme and
/// globex each a `spin` template on the hostile engine; returns it with their tokens.
fn quota_server() -> (Server, String, String) {
    let s = Server::with_config(
        "[quota.defaults]\nconcurrent_calls = 1\nfuel_per_minute = 300000000\n",
    );
    let a = token("acme", "alice", ALL_ROLES);
    let b = token("globex", "bob", ALL_ROLES);
    for t in [&a, &b] {
        assert_eq!(
            s.upload_as(t, "hostile", "1.0.0", common::fixture_bytes("hostile")),
            201
        );
        let (st, _) = s.call_as(
            Some(t),
            "POST",
            "/v1/templates/spin/versions",
            Some(json!({"template": "loop", "engine": "hostile@1.0.0"})),
        );
        assert_eq!(st, 201);
    }
    (s, a, b)
}

#[test]
fn a_tenants_concurrent_call_quota_refuses_its_second_call_but_not_another_tenants() {
    let (s, a, b) = quota_server();
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
}

#[test]
fn a_tenant_that_burns_its_fuel_budget_is_refused_for_the_minute_but_not_another_tenant() {
    let (s, a, b) = quota_server();
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
fn cors_is_off_by_default() {
    let s = Server::start();
    let r = preflight(&s, "https://app.example.com");
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert!(r.status().is_client_error());
}

#[test]
fn every_response_carries_the_security_headers() {
    let s = Server::start();
    let r = reqwest::blocking::get(format!("{}/healthz", s.url)).unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
}

#[test]
fn cors_allows_only_the_listed_origins() {
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

/// Template `p` with versions 1 and 2 by author ann, and tokens for ann, another author (ben)
/// and an operator (otto).
struct Protected {
    s: Server,
    author1: String,
    author2: String,
    operator: String,
}

impl Protected {
    fn start() -> Protected {
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
        Protected {
            s,
            author1,
            author2,
            operator,
        }
    }

    /// Asks, as `who`, for `production` to point at `version`; returns the request.
    fn request(&self, who: &str, version: u64) -> (u16, Value) {
        self.s.call_as(
            Some(who),
            "POST",
            "/v1/templates/p/labels/production/requests",
            Some(json!({"version": version})),
        )
    }

    /// Approves request `id` as `who`.
    fn approve(&self, who: &str, id: &str) -> (u16, Value) {
        self.s.call_as(
            Some(who),
            "POST",
            &format!("/v1/templates/p/requests/{id}/approve"),
            None,
        )
    }

    /// Rejects request `id` as `who`.
    fn reject(&self, who: &str, id: &str) -> (u16, Value) {
        self.s.call_as(
            Some(who),
            "POST",
            &format!("/v1/templates/p/requests/{id}/reject"),
            Some(json!({"reason": "not yet"})),
        )
    }

    /// `production` → 2 the proper way: ann asks, ben approves.
    fn approved_production_2(&self) {
        let (_, cr) = self.request(&self.author1, 2);
        let id = cr["id"].as_str().unwrap().to_owned();
        let (st, d) = self.approve(&self.author2, &id);
        assert_eq!(st, 200, "{d}");
    }

    /// Moves `production` directly as the harness's admin.
    fn admin_moves_production(&self, version: u64) -> u16 {
        self.s
            .call(
                "PUT",
                "/v1/templates/p/labels/production",
                Some(json!({"version": version})),
            )
            .0
    }
}

#[test]
fn only_admins_move_a_protected_label_directly_and_other_labels_move_freely() {
    let p = Protected::start();
    let (st, body) = p.s.call_as(
        Some(&p.author1),
        "PUT",
        "/v1/templates/p/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("protected"),
        "{body}"
    );
    let (st, _) = p.s.call_as(
        Some(&p.author1),
        "POST",
        "/v1/templates/p/versions",
        Some(json!({"template": "v3", "labels": ["production"]})),
    );
    assert_eq!(st, 403);
    assert_eq!(
        p.s.call_as(
            Some(&p.author1),
            "PUT",
            "/v1/templates/p/labels/staging",
            Some(json!({"version": 2}))
        )
        .0,
        200
    );
    assert_eq!(p.admin_moves_production(1), 200);
}

#[test]
fn a_label_request_cannot_be_approved_by_its_author_or_an_operator() {
    let p = Protected::start();
    let (st, cr) = p.request(&p.author1, 2);
    assert_eq!(st, 201, "{cr}");
    assert_eq!(cr["status"], "pending");
    let id = cr["id"].as_str().unwrap().to_owned();
    let (st, body) = p.approve(&p.author1, &id);
    assert_eq!(st, 403, "{body}");
    assert_eq!(p.approve(&p.operator, &id).0, 403);
    let (_, sum) = p.s.call("GET", "/v1/templates/p", None);
    assert!(sum["labels"].get("production").is_none(), "{sum}");
}

#[test]
fn another_authors_approval_moves_the_protected_label_once() {
    let p = Protected::start();
    let (_, cr) = p.request(&p.author1, 2);
    let id = cr["id"].as_str().unwrap().to_owned();
    let (st, d) = p.approve(&p.author2, &id);
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["request"]["status"], "approved");
    assert_eq!(d["request"]["decided_by"], "ben");
    assert_eq!(d["template"]["labels"]["production"], 2);
    assert_eq!(p.approve(&p.author2, &id).0, 409);
    let (_, r) = p.s.call_as(
        Some(&p.operator),
        "POST",
        "/v1/templates/p/render",
        Some(json!({"variables": {"a": 1}})),
    );
    assert_eq!(
        (r["version"].as_u64(), r["label"].as_str()),
        (Some(2), Some("production"))
    );
}

#[test]
fn a_rejected_label_request_moves_nothing() {
    let p = Protected::start();
    p.approved_production_2();
    let (_, cr) = p.request(&p.author2, 1);
    let id2 = cr["id"].as_str().unwrap().to_owned();
    let (st, d) = p.reject(&p.author1, &id2);
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["request"]["status"], "rejected");
    let (_, sum) = p.s.call("GET", "/v1/templates/p", None);
    assert_eq!(sum["labels"]["production"], 2);
}

#[test]
fn an_author_cannot_move_a_protected_label_by_import() {
    let p = Protected::start();
    assert_eq!(p.admin_moves_production(1), 200);
    // Unchanged labels are fine; a moved protected label is refused.
    let (_, yaml) = p.s.text("/v1/templates/export");
    let import = |t: &str, body: &str| p.s.import_as(t, "/v1/templates/import", body).0;
    assert_eq!(import(&p.author1, &yaml), 200);
    assert!(yaml.contains("production: 1"), "{yaml}");
    assert_eq!(
        import(&p.author1, &yaml.replace("production: 1", "production: 2")),
        403
    );
}

#[test]
fn label_requests_approvals_rejections_and_moves_are_audited() {
    let p = Protected::start();
    let (_, cr) = p.request(&p.author1, 2);
    let id = cr["id"].as_str().unwrap().to_owned();
    assert_eq!(p.approve(&p.author1, &id).0, 403);
    assert_eq!(p.approve(&p.author2, &id).0, 200);
    let (_, cr) = p.request(&p.author2, 1);
    let id2 = cr["id"].as_str().unwrap().to_owned();
    assert_eq!(p.reject(&p.author1, &id2).0, 200);
    assert_eq!(p.admin_moves_production(1), 200);
    let (_, page) =
        p.s.call("GET", "/v1/audit?action=template.label.&limit=1000", None);
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

/// Tenant settings under a host-wide cap of 300 requests per second.
const SETTINGS_CAPS: &str = "[quota.caps]\nrequests_per_second = 300\n";

/// A full quota with `rps` requests per second (and a burst of 2).
fn quota(rps: u64) -> Value {
    json!({"requests_per_second": rps, "burst": 2, "actor_requests_per_second": 100,
           "actor_burst": 100, "concurrent_calls": 4, "fuel_per_minute": 1000000000})
}

/// acme's admin sets one request per second and protects `staging` as well as `production`.
fn acme_sets_its_settings(s: &Server) {
    let (st, v) = s.call_as(
        Some(&token("acme", "root", &["admin"])),
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"quota": quota(1), "protected_labels": ["production", "staging"]})),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["quota"]["requests_per_second"], 1);
}

#[test]
fn a_tenant_admin_reads_its_settings_and_the_host_caps() {
    let s = Server::with_config(SETTINGS_CAPS);
    let admin_a = token("acme", "root", &["admin"]);
    let (st, v) = s.call_as(Some(&admin_a), "GET", "/v1/admin/tenant", None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["tenant"], "acme");
    assert_eq!(v["protected_labels"], json!(["production"]));
    assert_eq!(v["caps"]["requests_per_second"], 300);
}

#[test]
fn tenant_settings_over_a_cap_or_with_bad_labels_are_refused_naming_the_field() {
    let s = Server::with_config(SETTINGS_CAPS);
    let admin_a = token("acme", "root", &["admin"]);
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
}

#[test]
fn a_tenants_new_quota_is_in_force_at_once_for_that_tenant_only() {
    let s = Server::with_config(SETTINGS_CAPS);
    let author_a = token("acme", "ann", &["author"]);
    let admin_b = token("globex", "gus", &["admin"]);
    acme_sets_its_settings(&s);
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
}

#[test]
fn a_tenants_protected_labels_survive_a_restart_and_bind_that_tenant_only() {
    let s = Server::with_config(SETTINGS_CAPS);
    let author_a = token("acme", "ann", &["author"]);
    let admin_b = token("globex", "gus", &["admin"]);
    acme_sets_its_settings(&s);
    // acme may make one request a second from here on.
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
    // `staging` is now protected in acme: an author must request it.
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
}

#[test]
fn only_admins_read_tenant_settings_and_each_change_is_audited() {
    let s = Server::with_config(SETTINGS_CAPS);
    let author_a = token("acme", "ann", &["author"]);
    // A refused change is not a change.
    let (st, _) = s.call_as(
        Some(&token("acme", "root", &["admin"])),
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"quota": quota(301)})),
    );
    assert_eq!(st, 422);
    acme_sets_its_settings(&s);
    // acme may make one request a second from here on.
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

/// A directory with a self-signed certificate and key and a configuration with the test key:
/// (dir, config, cert, key).
fn tls_files() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
) {
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
    (dir, cfg, cert, key)
}

#[test]
fn tls_serves_https_only_with_hsts() {
    let (dir, cfg, cert, key) = tls_files();
    let mut child = common::serve_command()
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let _child = KillOnDrop(child);
    let listening = common::listening_on(&mut stdout);
    drop(stdout);
    let addr = listening
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("{listening}"))
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
}

/// Starts `warden serve` with the TLS flags `args`; asserts that start-up fails naming `named`.
fn tls_start_up_fails_naming(
    args: &[&str],
    named: &str,
    dir: &std::path::Path,
    cfg: &std::path::Path,
) {
    let out = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(cfg)
        .arg("--data-dir")
        .arg(dir.join("data2"))
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains(named), "{msg}");
}

#[test]
fn a_tls_key_that_is_not_a_key_stops_start_up_naming_it() {
    let (dir, cfg, cert, _) = tls_files();
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a pem file").unwrap();
    tls_start_up_fails_naming(
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            bogus.to_str().unwrap(),
        ],
        "tls_key",
        dir.path(),
        &cfg,
    );
}

#[test]
fn a_tls_certificate_without_its_key_stops_start_up_naming_it() {
    let (dir, cfg, cert, _) = tls_files();
    tls_start_up_fails_naming(
        &["--tls-cert", cert.to_str().unwrap()],
        "tls-key",
        dir.path(),
        &cfg,
    );
}

/// A server with small request-head limits and room for two connections.
fn limits_server() -> Server {
    Server::with_config(
        "[server]\nmax_connections = 2\nmax_uri_bytes = 1024\nmax_header_bytes = 8192\nmax_headers = 20\n",
    )
}

#[test]
fn a_request_target_over_the_limit_is_a_414_naming_it() {
    let s = limits_server();
    let (st, p) = s.call(
        "GET",
        &format!("/v1/templates?x={}", "a".repeat(2000)),
        None,
    );
    assert_eq!(st, 414, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("1024"), "{p}");
}

#[test]
fn headers_over_the_byte_limit_or_too_many_of_them_are_a_431() {
    let s = limits_server();
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
}

#[test]
fn a_connection_over_the_cap_is_served_only_once_a_slot_frees() {
    use std::io::{Read, Write};
    let s = limits_server();
    let addr = s.url.strip_prefix("http://").unwrap().to_owned();
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

/// A server with a cap of 5 connections per source (20 in all), a 2 s header timeout and a 4 s
/// keep-alive timeout; `ops` is the host tenant, which sees the host-wide metrics.
fn idle_server() -> (Server, std::net::SocketAddr) {
    let s = Server::with_config(
        "[server]\nmax_connections = 20\nmax_connections_per_ip = 5\n\
         header_read_timeout = \"2s\"\nkeep_alive_timeout = \"4s\"\n\
         [auth]\nhost_tenant = \"ops\"\n",
    );
    let addr = s.url.strip_prefix("http://").unwrap().parse().unwrap();
    (s, addr)
}

/// Asserts the host view of the metrics counts connections closed for each of `reasons`:
/// connections belong to no tenant, so their series are in the host view only.
fn assert_closures_counted(s: &Server, reasons: &[&str]) {
    let metrics = common::http()
        .get(format!("{}/metrics", s.url))
        .bearer_auth(common::token("ops", "root", &["operator"]))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for reason in reasons {
        assert!(
            metrics.contains(&format!(
                "warden_connections_closed_total{{reason=\"{reason}\"}}"
            )),
            "{reason} not counted: {metrics}"
        );
    }
}

#[test]
fn idle_connections_over_the_per_source_cap_are_closed_and_the_rest_at_the_header_timeout() {
    use std::time::{Duration, Instant};
    let (s, addr) = idle_server();
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
    // The source that was over its cap is served again now its connections are gone.
    let mut again = std::net::TcpStream::connect(addr).unwrap();
    assert_eq!(get_keep_alive(&mut again, "/healthz"), "HTTP/1.1 200 OK");
    assert_closures_counted(&s, &["per_ip_cap", "header_timeout"]);
}

#[test]
fn a_partial_request_head_is_cut_at_the_header_timeout() {
    use std::io::Write;
    use std::time::{Duration, Instant};
    let (s, addr) = idle_server();
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
    assert_closures_counted(&s, &["header_timeout"]);
}

#[test]
fn a_kept_alive_connection_waits_the_keep_alive_timeout_between_requests_no_longer() {
    use std::time::{Duration, Instant};
    let (s, addr) = idle_server();
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
    assert_closures_counted(&s, &["idle_timeout"]);
}

/// GET /v1/templates with the raw `Authorization` header `auth`: (status, body).
fn with_authorization(s: &Server, auth: &str) -> (u16, String) {
    let r = common::http()
        .get(format!("{}/v1/templates", s.url))
        .header("authorization", auth)
        .send()
        .unwrap();
    let st = r.status().as_u16();
    (st, r.text().unwrap())
}

#[test]
fn the_bearer_scheme_is_case_insensitive_and_the_only_one_accepted() {
    let s = Server::start();
    let good = token("default", "alice", &["admin"]);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let (st, body) = with_authorization(&s, &format!("{scheme} {good}"));
        assert_eq!(st, 200, "{scheme}: {body}");
    }
    for bad in [
        format!("Basic {good}"),
        format!("Bearer{good}"),
        good.clone(),
    ] {
        assert_eq!(with_authorization(&s, &bad).0, 401, "{bad}");
    }
}

#[test]
fn tokens_with_critical_header_extensions_are_refused() {
    let s = Server::start();
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
}

#[test]
fn subjects_that_would_not_read_as_themselves_in_the_audit_log_are_refused() {
    let s = Server::start();
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
}

#[test]
fn printable_non_ascii_subjects_are_accepted_and_audited_as_sent() {
    let s = Server::start();
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
}

#[test]
fn head_needs_what_get_needs_and_routes_without_get_have_no_head() {
    let s = Server::start();
    let client = common::http();
    let anon = client
        .head(format!("{}/v1/templates", s.url))
        .send()
        .unwrap();
    assert_eq!(anon.status(), 401);
    let r = client
        .head(format!("{}/v1/pii/detect", s.url))
        .bearer_auth(&s.token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
}

/// How many garbage-token requests the throttling tests send from 127.0.0.1.
const GARBAGE_SENT: usize = 600;

/// Sends [`GARBAGE_SENT`] requests with a garbage token; checks that each 429 is a problem with
/// `Retry-After` naming the failed authentications, and returns the count per status.
fn send_garbage_tokens(s: &Server) -> std::collections::BTreeMap<u16, usize> {
    let attacker = common::http();
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..GARBAGE_SENT {
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
    counts
}

#[test]
fn failed_authentications_are_throttled_per_source_with_retry_after() {
    let s = Server::start();
    let counts = send_garbage_tokens(&s);
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        [401, 429],
        "{counts:?}"
    );
    assert!(
        counts[&429] >= GARBAGE_SENT / 2,
        "garbage tokens were hardly throttled: {counts:?}"
    );
}

#[test]
fn another_source_is_served_while_one_is_throttled() {
    let s = Server::start();
    send_garbage_tokens(&s);
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
}

#[test]
fn failed_authentications_are_audited_as_the_first_in_full_and_one_summary() {
    let mut s = Server::start();
    send_garbage_tokens(&s);
    // The system chain holds the first failure in full and one summary, not one per request.
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
    assert_eq!(numbers[0] + numbers[1] + 1, GARBAGE_SENT, "{detail}");
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
