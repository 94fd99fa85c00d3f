//! Entry points shared by the fuzzers (`fuzz/`, libFuzzer on nightly) and the corpus replay
//! test (`tests/fuzz.rs`, stable, in CI): each takes arbitrary bytes and panics only when an
//! invariant the server relies on breaks, so a finding reproduces with a plain `cargo test`.
//!
//! The targets cover what an attacker controls before any sandbox is involved: a component
//! uploaded for validation, a bearer token, and the JSON body of every endpoint that takes one
//! (driven through the real router, authentication and limits included).
// A fuzz harness reports a broken invariant by panicking: that is its whole interface.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tower::ServiceExt as _;

use warden_core::auth::{AuthConfig, Claims, KeyConfig, Role, Verifier};
use warden_engine::{Engine, EngineConfig};
use warden_server::config::Config;

/// A scratch directory for one fuzzing process (removed by nobody: it lives in the temp dir).
fn scratch(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-fuzz-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Turns WAT text into a binary (seeds are kept as readable WAT); binary input passes through.
fn wasm_bytes(data: &[u8]) -> Vec<u8> {
    match wat::parse_bytes(data) {
        Ok(b) => b.into_owned(),
        Err(_) => data.to_vec(),
    }
}

/// Component validation on upload: [`Engine::load`] on arbitrary bytes (or WAT text) returns
/// a typed refusal or a loaded plugin, never panics; a plugin it accepts implements exactly
/// the world [`warden_engine::inspect`] reports, with a non-empty refusal message otherwise.
pub fn component(data: &[u8]) {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        Engine::new(EngineConfig {
            cache_dir: None,
            pooling: false,
            max_component_bytes: 4 << 20,
            ..EngineConfig::default()
        })
        .expect("engine")
    });
    let bytes = wasm_bytes(data);
    let info = warden_engine::inspect(&bytes);
    match engine.load(&bytes) {
        Ok(plugin) => {
            let world = info
                .accepted()
                .unwrap_or_else(|e| panic!("loaded a component inspect refuses: {e}"));
            assert_eq!(plugin.world(), world, "loaded world differs from inspect");
        }
        Err(e) => assert!(!e.to_string().trim().is_empty(), "empty refusal: {e:?}"),
    }
}

/// The fixed HS256 secret of the JWT harness (never used outside fuzzing).
const JWT_SECRET: &[u8; 32] = b"warden-fuzz-secret-0123456789abc";

struct JwtHarness {
    verifier: Verifier,
    valid: String,
    key: jsonwebtoken::EncodingKey,
}

fn jwt_harness() -> &'static JwtHarness {
    static H: OnceLock<JwtHarness> = OnceLock::new();
    H.get_or_init(|| {
        let config = AuthConfig {
            require_keys: true,
            keys: vec![KeyConfig {
                algorithm: "HS256".into(),
                secret: Some(base64::engine::general_purpose::STANDARD.encode(JWT_SECRET)),
                ..KeyConfig::default()
            }],
            ..AuthConfig::default()
        };
        let (verifier, _) = Verifier::new(&config, &scratch("jwt")).expect("verifier");
        let claims = warden_core::auth::claims(
            "acme",
            "fuzzer",
            &[Role::Admin],
            std::time::Duration::from_secs(3600),
            &config,
        );
        let valid = verifier.issue(&claims).expect("issue");
        verifier.verify(&valid).expect("the harness token verifies");
        JwtHarness {
            verifier,
            valid,
            key: jsonwebtoken::EncodingKey::from_secret(JWT_SECRET),
        }
    })
}

/// JWT parsing and verification: the first byte picks a mode.
/// - 0: the rest is a token. It never verifies (nobody signed it) and never panics.
/// - 1: the rest edits a valid token (pairs of position and byte). Any change is refused.
/// - 2: the rest is a header and a claims document (split at the first `\n`), signed with the
///   real key. Whatever they say, verification never panics, and a token it accepts carries
///   exactly the tenant and subject of its claims, unexpired.
pub fn jwt(data: &[u8]) {
    let h = jwt_harness();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let token = String::from_utf8_lossy(rest);
            if token != h.valid {
                assert!(h.verifier.verify(&token).is_err(), "forged token accepted");
            }
        }
        1 => {
            let mut token = h.valid.clone().into_bytes();
            for [pos, byte] in rest.as_chunks::<2>().0 {
                let at = usize::from(*pos) * token.len() / 256;
                token[at] = *byte;
            }
            let token = String::from_utf8_lossy(&token);
            if token != h.valid {
                assert!(
                    h.verifier.verify(&token).is_err(),
                    "edited token accepted: {token}"
                );
            }
        }
        _ => {
            let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let (head, claims) = (&rest[..split], rest.get(split + 1..).unwrap_or_default());
            let message = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(head),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let Ok(sig) = jsonwebtoken::crypto::sign(
                message.as_bytes(),
                &h.key,
                jsonwebtoken::Algorithm::HS256,
            ) else {
                return;
            };
            let token = format!("{message}.{sig}");
            if let Ok(p) = h.verifier.verify(&token) {
                let c: Claims = serde_json::from_slice(claims)
                    .unwrap_or_else(|e| panic!("accepted claims that do not parse: {e}"));
                assert_eq!(
                    (p.tenant.as_str(), p.actor.as_str()),
                    (c.tenant.as_str(), c.sub.as_str())
                );
                let now = warden_storage::now_ms() / 1000;
                assert!(c.exp + 30 >= now, "accepted an expired token");
            }
        }
    }
}

struct HttpHarness {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    token: String,
}

fn http_harness() -> &'static HttpHarness {
    static H: OnceLock<HttpHarness> = OnceLock::new();
    H.get_or_init(|| {
        let mut config = Config::default();
        config.server.data_dir = scratch("http");
        // Compiled built-ins survive between fuzzing processes (the cache is keyed by content).
        config.server.cache_dir = Some(std::env::temp_dir().join("warden-fuzz-cache"));
        let unlimited = warden_core::quota::TenantQuota {
            requests_per_second: 1_000_000,
            burst: 1_000_000,
            actor_requests_per_second: 1_000_000,
            actor_burst: 1_000_000,
            concurrent_calls: 64,
            fuel_per_minute: u64::MAX / 2,
        };
        config.quota.defaults = unlimited;
        config.quota.caps = unlimited;
        // Arbitrary code may loop: keep each call short so the fuzzer keeps moving.
        config.limits.defaults.wall_time = std::time::Duration::from_millis(200);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let warden = Arc::new(
            rt.block_on(warden_server::app::Warden::open(config))
                .expect("open"),
        );
        rt.block_on(warden.sandbox.warm_up());
        let claims = warden_core::auth::claims(
            "acme",
            "fuzzer",
            &[Role::Admin],
            std::time::Duration::from_secs(365 * 86400),
            &warden.config.auth,
        );
        let token = warden.verifier.issue(&claims).expect("issue");
        let app = warden_server::api::app(warden);
        let h = HttpHarness { rt, app, token };
        // Something to render, diff and label.
        let (status, _) = h.send(
            Method::POST,
            "/v1/templates/fuzz/versions",
            br#"{"template": "Hello {{ name }}!"}"#.to_vec(),
        );
        assert!(status.is_success(), "seeding the template: {status}");
        h
    })
}

impl HttpHarness {
    fn send(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request");
        self.rt.block_on(async {
            let resp = self.app.clone().oneshot(req).await.expect("infallible");
            let status = resp.status();
            let problem = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
            let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
                .await
                .expect("body");
            if status.is_client_error() || status.is_server_error() {
                assert!(problem, "{status} without a problem document");
                let doc: serde_json::Value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{status}: problem body is not JSON: {e}"));
                assert_eq!(doc["status"].as_u64(), Some(u64::from(status.as_u16())));
            }
            (status, bytes.to_vec())
        })
    }
}

/// Builds the in-process server the HTTP harnesses share (opening a data directory, loading
/// the built-ins, minting a token): a fuzzer calls it before its first input, so the one-off
/// start-up (minutes under AddressSanitizer on a cold cache) does not count as a slow input.
pub fn prepare_http() {
    http_harness();
}

/// The endpoints that read a JSON body, as the fuzzer's first byte selects them.
pub const JSON_ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/v1/templates/fuzz/versions"),
    ("POST", "/v1/templates/fuzz/render"),
    ("PUT", "/v1/templates/fuzz/labels/staging"),
    ("POST", "/v1/templates/fuzz/labels/production/requests"),
    ("POST", "/v1/templates/import"),
    ("POST", "/v1/pii/detect"),
    ("POST", "/v1/pii/anonymize"),
    ("POST", "/v1/pii/deanonymize"),
    ("PUT", "/v1/pii/dictionaries/fuzz"),
    ("POST", "/v1/sessions"),
    ("POST", "/v1/code/eval"),
    ("POST", "/v1/pipelines/fuzz/versions"),
    ("POST", "/v1/pipelines/import"),
    ("PUT", "/v1/pipelines/fuzz/labels/staging"),
    ("POST", "/v1/pipelines/fuzz/run"),
    ("PUT", "/v1/admin/tenant"),
];

/// JSON request bodies: the first byte picks an endpoint of [`JSON_ENDPOINTS`], the rest is
/// the body, sent through the real router with an admin token. No body makes the host fail
/// (500, 502, 503): a bad one is a 4xx problem document whose `status` matches the response;
/// a call that runs too long is a 504 `deadline_exceeded`.
pub fn json_body(data: &[u8]) {
    let h = http_harness();
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let (method, path) = JSON_ENDPOINTS[usize::from(pick) % JSON_ENDPOINTS.len()];
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let (status, bytes) = h.send(method, path, body.to_vec());
    assert!(
        !status.is_server_error() || status == StatusCode::GATEWAY_TIMEOUT,
        "{path}: {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
}

/// The PII corpus through the sandbox: `POST /v1/pii/detect` of any UTF-8 text answers 200
/// with findings in range, on character boundaries, sorted and not overlapping (the built-in
/// running as a component, checked by the host). Non-UTF-8 input is skipped.
pub fn pii_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let h = http_harness();
    let body = serde_json::to_vec(&serde_json::json!({ "text": text })).expect("json");
    let (status, bytes) = h.send(Method::POST, "/v1/pii/detect", body);
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let doc: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let mut last_end = 0;
    for f in doc["findings"].as_array().expect("findings") {
        let (start, end) = (
            f["start"].as_u64().expect("start") as usize,
            f["end"].as_u64().expect("end") as usize,
        );
        assert!(start < end && end <= text.len(), "{f} out of range");
        assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "{f}"
        );
        assert!(start >= last_end, "overlapping or unsorted: {doc}");
        last_end = end;
    }
}

/// The template corpus through the sandbox: the input is a template and a JSON context split
/// at the first NUL (as the native `template` fuzz target reads it). Storing it as a version
/// and rendering it answers a success or a 4xx problem, never a host failure.
pub fn template_source(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let h = http_harness();
    let (template, context) = text.split_once('\0').unwrap_or((text, "{}"));
    let body = serde_json::to_vec(&serde_json::json!({ "template": template })).expect("json");
    let (status, bytes) = h.send(Method::POST, "/v1/templates/fuzz-source/versions", body);
    assert!(
        !status.is_server_error(),
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if !status.is_success() {
        return;
    }
    let version =
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")["version"]["version"]
            .as_u64()
            .expect("version");
    let variables: serde_json::Value = serde_json::from_str(context).unwrap_or_default();
    let body =
        serde_json::to_vec(&serde_json::json!({ "variables": variables, "version": version }))
            .expect("json");
    let (status, bytes) = h.send(Method::POST, "/v1/templates/fuzz-source/render", body);
    assert!(
        !status.is_server_error() || status == StatusCode::GATEWAY_TIMEOUT,
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
}
