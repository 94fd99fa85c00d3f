//! Regression tests for the defects an outside attack on the running server found (data loss,
//! denial of service, confidentiality, correctness): each drives a real `warden serve` over HTTP
//! and fails on the code before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Server;
use serde_json::{Value, json};

const PSEUDONYMIZE: &str = "pseudonymize";

fn pseudonymize(s: &Server, text: &str, vault: Option<&str>) -> Value {
    let mut body = json!({"text": text, "operators": {"default": {"type": PSEUDONYMIZE}}});
    if let Some(v) = vault {
        body["vault_id"] = json!(v);
    }
    let (st, a) = s.call("POST", "/v1/pii/anonymize", Some(body));
    assert_eq!(st, 200, "{a}");
    a
}

fn restore(s: &Server, text: &str, vault: &str) -> String {
    let (st, d) = s.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": text, "vault_id": vault})),
    );
    assert_eq!(st, 200, "{d}");
    d["text"].as_str().unwrap().to_owned()
}

#[test]
fn concurrent_anonymize_into_one_vault_loses_no_mapping() {
    let s = Server::start();
    let first = pseudonymize(&s, "Contact user-start@example.com", None);
    let vault = first["vault_id"].as_str().unwrap().to_owned();
    let texts: Vec<String> = (0..20)
        .map(|i| format!("Please write to user{i}@example.com today."))
        .collect();
    let outputs: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = texts
            .iter()
            .map(|t| {
                let (s, vault) = (&s, vault.as_str());
                scope.spawn(move || {
                    pseudonymize(s, t, Some(vault))["text"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut tokens: Vec<&str> = outputs
        .iter()
        .map(|o| {
            assert!(!o.contains("@example.com"), "{o}");
            let start = o.find('<').unwrap();
            &o[start..=o.find('>').unwrap()]
        })
        .collect();
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), 20, "one token per address: {tokens:?}");
    for (text, out) in texts.iter().zip(&outputs) {
        assert_eq!(&restore(&s, out, &vault), text);
    }
    assert_eq!(
        restore(&s, first["text"].as_str().unwrap(), &vault),
        "Contact user-start@example.com"
    );
}

#[test]
fn literal_placeholders_in_the_input_round_trip_exactly() {
    let s = Server::start();
    let text = "literal <EMAIL_ADDRESS_1> then bob@example.com";
    let a = pseudonymize(&s, text, None);
    let vault = a["vault_id"].as_str().unwrap();
    let out = a["text"].as_str().unwrap();
    assert!(!out.contains("bob@example.com"), "{out}");
    assert_eq!(restore(&s, out, vault), text);
}

#[test]
fn deleting_another_tenants_copy_of_a_pinned_builtin_keeps_the_stored_blob() {
    use sha2::Digest as _;
    let mut s = Server::start();
    let (st, v) = s.call(
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({"template": "Hello {{ name }}"})),
    );
    assert_eq!(st, 201, "{v}");
    let digest = v["version"]["engine"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = std::fs::read(common::component(
        "warden-plugin-template",
        "warden_plugin_template",
    ))
    .unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), digest);
    // Tenant mallory uploads the same bytes as its own plugin, then deletes it.
    let mallory = common::token("mallory", "mallory", common::ALL_ROLES);
    let up = common::http()
        .post(format!("{}/v1/plugins/copy/versions/1.0.0", s.url))
        .bearer_auth(&mallory)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .unwrap();
    assert_eq!(up.status(), 201, "{}", up.text().unwrap());
    let (st, p) = s.call_as(Some(&mallory), "DELETE", "/v1/plugins/copy", None);
    assert_eq!(st, 204, "{p}");
    s.stop();
    {
        let db = redb::Database::open(s.db_path()).unwrap();
        let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
        let blobs: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("blobs_v1");
        let table = txn.open_table(blobs).unwrap();
        assert!(
            table.get(digest.as_str()).unwrap().is_some(),
            "the pinned built-in's stored copy was deleted"
        );
    }
    let s = Server::launch_on(&s);
    let (st, r) = s.call(
        "POST",
        "/v1/templates/greet/render",
        Some(json!({"variables": {"name": "Ada"}})),
    );
    assert_eq!(st, 200, "{r}");
}

#[test]
fn deep_yaml_imports_are_refused_at_once_and_others_are_served() {
    let s = Server::start();
    let deep = |n: usize| format!("name: {}x{}\n", "[".repeat(n), "]".repeat(n));
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        let imports: Vec<_> = [("/v1/templates/import", 422), ("/v1/pipelines/import", 400)]
            .into_iter()
            .map(|(path, want)| {
                let (s, body) = (&s, deep(100_000));
                scope.spawn(move || {
                    let (st, p) = s.raw(
                        "POST",
                        path,
                        &[("content-type", "application/yaml")],
                        body.into_bytes(),
                    );
                    assert_eq!(st, want, "{path}: {p}");
                    assert!(
                        p["detail"]
                            .as_str()
                            .unwrap()
                            .contains("nests deeper than 64"),
                        "{p}"
                    );
                })
            })
            .collect();
        let (st, _) = s.call("GET", "/healthz", None);
        assert_eq!(st, 200);
        for i in imports {
            i.join().unwrap();
        }
    });
    // Generous bound on a noisy machine: the parse used to take about two minutes.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // A shallow document still imports.
    let (st, r) = s.raw(
        "POST",
        "/v1/templates/import",
        &[("content-type", "application/yaml")],
        b"---\n".to_vec(),
    );
    assert!(st == 200 || st == 422, "{st} {r}");
}

#[test]
fn json_bodies_are_strict_and_errors_speak_json() {
    let s = Server::start();
    let (st, _) = s.call(
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({"template": "Hi {{ name }}"})),
    );
    assert_eq!(st, 201);
    let raw = |path: &str, body: &str| {
        s.raw(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.as_bytes().to_vec(),
        )
    };
    let (st, p) = raw(
        "/v1/templates/greet/render",
        r#"[{"name":"Ada"},null,null,{}]"#,
    );
    assert_eq!(st, 400, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("must be a JSON object"),
        "{p}"
    );
    let (st, p) = raw(
        "/v1/templates/greet/render",
        r#"{"variables": {"name": "Ada", "name": "Eve"}}"#,
    );
    assert_eq!(st, 400, "{p}");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("\"name\" appears twice"), "{p}");
    assert!(detail.contains("/variables"), "{p}");
    for (path, body) in [
        ("/v1/templates/greet/render", r#"{"variables": 1}"#),
        ("/v1/templates/greet/render", r#"{"limits": []}"#),
        (
            "/v1/templates/greet/render",
            r#"{"limits": {"fuel": "lots"}}"#,
        ),
        ("/v1/pii/detect", r#"{"text": 5}"#),
        ("/v1/pii/detect", r#"{"text": "x", "min_score": "high"}"#),
    ] {
        let (st, p) = raw(path, body);
        assert_eq!(st, 400, "{body}: {p}");
        let detail = p["detail"].as_str().unwrap();
        for rust in [
            "struct ",
            "RenderRequest",
            "LimitOverrides",
            "DetectRequest",
            "u64",
            "f32",
            "`",
        ] {
            assert!(!detail.contains(rust), "{body}: {detail} names {rust}");
        }
    }
}

#[test]
fn audit_digests_are_keyed_not_plain_sha256() {
    use sha2::Digest as _;
    let s = Server::start();
    let text = "mail ada@example.com please";
    let (st, _) = s.call("POST", "/v1/pii/detect", Some(json!({"text": text})));
    assert_eq!(st, 200);
    let plain = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let record = loop {
        let (_, page) = s.call("GET", "/v1/audit?action=pii.detect", None);
        if let Some(r) = page["records"].as_array().unwrap().first() {
            break r.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no pii.detect record");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let digest = record["input_sha256"].as_str().unwrap();
    assert_eq!(digest.len(), 64);
    assert_ne!(digest, plain, "an auditor could confirm a guessed input");
    assert_eq!(record["input_bytes"], text.len());
}

#[test]
fn import_records_the_importer_and_keeps_claims_as_labelled_metadata() {
    let s = Server::start();
    let (st, _) = s.call(
        "POST",
        "/v1/templates/note/versions",
        Some(json!({"template": "Note {{ x }}"})),
    );
    assert_eq!(st, 201);
    let (_, yaml) = s.text("/v1/templates/export");
    let forged: String = yaml
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("author:") {
                l.replace(l.trim_start(), "author: bob")
            } else if l.trim_start().starts_with("created_at:") {
                l.replace(l.trim_start(), "created_at: 2001-01-01T00:00:00.000Z")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(forged.contains("author: bob"), "{forged}");
    let importer = common::token("other", "carol", common::ALL_ROLES);
    let r = common::http()
        .post(format!("{}/v1/templates/import", s.url))
        .bearer_auth(&importer)
        .header("content-type", "application/yaml")
        .body(forged)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let (st, v) = s.call_as(
        Some(&importer),
        "GET",
        "/v1/templates/note/versions/1",
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["author"], "carol", "{v}");
    assert!(
        !v["created_at"].as_str().unwrap().starts_with("2001"),
        "{v}"
    );
    assert_eq!(v["imported"]["claimed_author"], "bob", "{v}");
    assert_eq!(
        v["imported"]["claimed_created_at"], "2001-01-01T00:00:00.000Z",
        "{v}"
    );
}

#[test]
fn the_database_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = Server::start();
    let mode = std::fs::metadata(s.db_path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "database mode {:o}", mode & 0o777);
}

#[test]
fn openapi_declares_query_parameters_in_the_query() {
    let s = Server::start();
    let (_, doc) = s.call("GET", "/openapi.json", None);
    for (path, names) in [
        ("/v1/audit", vec!["since", "action"]),
        ("/v1/templates/{name}/diff", vec!["from", "to"]),
    ] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        for name in names {
            let p = params
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} has no parameter {name}"));
            assert_eq!(p["in"], "query", "{path} {name}: {p}");
        }
        for p in params {
            if p["in"] == "path" {
                assert!(
                    path.contains(&format!("{{{}}}", p["name"].as_str().unwrap())),
                    "{path}: {p}"
                );
            }
        }
    }
}

#[test]
fn versions_differing_only_in_build_metadata_are_the_same_version() {
    let s = Server::start();
    let bytes = common::fixture_bytes("hostile");
    let up = |v: &str| {
        s.raw(
            "POST",
            &format!("/v1/plugins/meta/versions/{v}"),
            &[("content-type", "application/wasm")],
            bytes.clone(),
        )
    };
    assert_eq!(up("1.0.0").0, 201);
    let (st, p) = up("1.0.0+build.7");
    assert_eq!(st, 409, "{p}");
    let (_, versions) = s.call("GET", "/v1/plugins/meta", None);
    assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");
}

#[test]
fn sessions_refuse_tools_they_cannot_have() {
    let s = Server::start();
    for tools in [json!(["teleport"]), json!(["llm_query"])] {
        let (st, p) = s.call(
            "POST",
            "/v1/sessions",
            Some(json!({"options": {"tools": tools}})),
        );
        assert_eq!(st, 400, "{tools}: {p}");
        assert!(
            p["detail"].as_str().unwrap().contains("options.tools"),
            "{p}"
        );
    }
    let (st, p) = s.call("POST", "/v1/sessions", Some(json!({})));
    assert_eq!(st, 201, "{p}");
}

#[test]
fn metrics_show_a_tenant_only_its_own_series() {
    let s = Server::with_config("[auth]\nhost_tenant = \"ops\"\n");
    let (st, _) = s.call("POST", "/v1/pii/detect", Some(json!({"text": "hello"})));
    assert_eq!(st, 200);
    let get = |token: &str| {
        let r = common::http()
            .get(format!("{}/metrics", s.url))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    };
    let other = get(&common::token("other", "o", &["operator"]));
    assert!(!other.contains("tenant=\"default\""), "{other}");
    assert!(!other.contains("component_cache"), "{other}");
    let own = get(&common::token("default", "d", &["operator"]));
    assert!(own.contains("tenant=\"default\""), "{own}");
    assert!(own.contains("plugin_calls"), "{own}");
    let host = get(&common::token("ops", "root", &["operator"]));
    assert!(host.contains("tenant=\"default\""), "{host}");
    assert!(host.contains("tenant=\"other\""), "{host}");
}

#[test]
fn a_quota_only_tenant_update_keeps_the_protected_labels() {
    let s = Server::start();
    let (st, v) = s.call(
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"protected_labels": ["production", "staging"]})),
    );
    assert_eq!(st, 200, "{v}");
    let quota = json!({"requests_per_second": 500, "burst": 1000, "actor_requests_per_second": 500,
                       "actor_burst": 1000, "concurrent_calls": 8, "fuel_per_minute": 100000000000u64});
    let (st, v) = s.call("PUT", "/v1/admin/tenant", Some(json!({"quota": quota})));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["protected_labels"],
        json!(["production", "staging"]),
        "{v}"
    );
    assert_eq!(v["quota"]["requests_per_second"], 500, "{v}");
    // `null` returns a part to the host's default; the other part stays.
    let (st, v) = s.call(
        "PUT",
        "/v1/admin/tenant",
        Some(json!({"protected_labels": null})),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["protected_labels"], json!(["production"]), "{v}");
    assert_eq!(v["quota"]["requests_per_second"], 500, "{v}");
}

#[test]
fn pipeline_versions_accept_the_definition_wrapper_the_exports_use() {
    let s = Server::start();
    let steps = json!([{"type": "anonymize", "input": "text", "output": "safe"}]);
    let (st, v) = s.call(
        "POST",
        "/v1/pipelines/wrap/versions",
        Some(json!({"definition": {"inputs": ["text"], "steps": steps}, "message": "wrapped"})),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["definition"]["inputs"], json!(["text"]), "{v}");
    assert_eq!(v["message"], "wrapped");
    let (st, v) = s.call(
        "POST",
        "/v1/pipelines/wrap/versions",
        Some(json!({"inputs": ["text"], "steps": steps})),
    );
    assert_eq!(st, 201, "{v}");
    let (st, p) = s.call(
        "POST",
        "/v1/pipelines/wrap/versions",
        Some(json!({"definition": {"steps": steps}, "steps": steps})),
    );
    assert_eq!(st, 400, "{p}");
}

#[test]
fn pii_hidden_with_invisible_or_compatibility_characters_is_found() {
    let s = Server::start();
    for (text, entity, value) in [
        (
            "mail bob\u{200b}@example.com now",
            "EMAIL_ADDRESS",
            "bob\u{200b}@example.com",
        ),
        (
            "mail bo\u{ad}b@exam\u{ad}ple.com now",
            "EMAIL_ADDRESS",
            "bo\u{ad}b@exam\u{ad}ple.com",
        ),
        (
            "mail bob\u{0}@example.com now",
            "EMAIL_ADDRESS",
            "bob\u{0}@example.com",
        ),
        (
            "mail bob\u{ff20}example.com now",
            "EMAIL_ADDRESS",
            "bob\u{ff20}example.com",
        ),
        (
            "card 4111\u{a0}1111\u{a0}1111\u{a0}1111 thanks",
            "CREDIT_CARD",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
        ),
    ] {
        let (st, d) = s.call("POST", "/v1/pii/detect", Some(json!({"text": text})));
        assert_eq!(st, 200, "{d}");
        let found = d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["entity_type"] == entity)
            .unwrap_or_else(|| panic!("{text:?}: no {entity} in {d}"));
        let (start, end) = (
            found["start"].as_u64().unwrap() as usize,
            found["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], value, "{d}");
        // The anonymised text holds no part of the hidden value.
        let a = pseudonymize(&s, text, None);
        assert!(!a["text"].as_str().unwrap().contains("example.com"), "{a}");
    }
}

/// `while True: pass` with a 1 s deadline and fuel to last much longer.
fn spin(s: &Server) -> (u16, Value, std::time::Duration) {
    let started = std::time::Instant::now();
    let (st, p) = s.call(
        "POST",
        "/v1/code/eval",
        Some(json!({"code": "while True:\n    pass",
                    "limits": {"wall_time_ms": 1000, "fuel": 50_000_000_000u64}})),
    );
    (st, p, started.elapsed())
}

#[test]
fn queueing_for_a_sandbox_slot_counts_against_the_deadline() {
    // Two slots, eight spinning evals: the old pool ran them two by two (the last answered
    // after about four seconds); now the wait is part of each call's one-second deadline.
    let s = Server::with_config("[server]\nmax_concurrent_calls = 2\n");
    let results: Vec<(u16, Value, std::time::Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| spin(&s))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (st, p, took) in &results {
        assert_eq!(*st, 504, "{p}");
        assert_eq!(p["outcome"], "deadline_exceeded", "{p}");
        // The documented tolerance is a few epoch ticks; this bound only separates "the wait
        // counted" (about 1 s) from "it did not" (up to 4 s) on a noisy 2-core machine.
        assert!(
            *took < std::time::Duration::from_millis(2800),
            "answered after {took:?}"
        );
    }
}

#[test]
fn no_free_slot_in_time_is_a_503_with_retry_after() {
    let s = Server::with_config("[server]\nmax_concurrent_calls = 1\nmax_queue_wait = \"200ms\"\n");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let first = scope.spawn(|| spin(&s).0);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let r = common::http()
            .post(format!("{}/v1/code/eval", s.url))
            .bearer_auth(&s.token)
            .json(&json!({"code": "1 + 1"}))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        if status == 503 {
            assert_eq!(
                r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
                Some("1")
            );
            let p: Value = r.json().unwrap();
            assert_eq!(p["outcome"], "busy", "{p}");
        }
        vec![first.join().unwrap(), status]
    });
    assert_eq!(statuses, vec![504, 503]);
}

fn eval(s: &Server, id: &str, code: &str) -> (u16, Value) {
    s.call(
        "POST",
        &format!("/v1/sessions/{id}/eval"),
        Some(json!({"code": code})),
    )
}

#[test]
fn session_state_is_capped_per_session_and_per_tenant() {
    let s = Server::with_config(
        "[sessions]\nmax_snapshot_bytes = 1000000\nmax_tenant_snapshot_bytes = 1500000\n",
    );
    let new = |s: &Server| {
        let (st, r) = s.call("POST", "/v1/sessions", Some(json!({})));
        assert_eq!(st, 201, "{r}");
        r["id"].as_str().unwrap().to_owned()
    };
    let a = new(&s);
    assert_eq!(eval(&s, &a, "x = 1").0, 200);
    // Over the per-session cap: 413 naming the limit, and the cell's effects are gone.
    let (st, p) = eval(&s, &a, "x = 'a' * 2000000");
    assert_eq!(st, 413, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("1000000"), "{p}");
    let (st, r) = eval(&s, &a, "x");
    assert_eq!((st, r["repr"].as_str()), (200, Some("1")), "{r}");
    // Two sessions of 800 kB each pass the per-session cap but not the tenant's.
    assert_eq!(eval(&s, &a, "y = 'b' * 800000").0, 200);
    let b = new(&s);
    let (st, p) = eval(&s, &b, "y = 'c' * 800000");
    assert_eq!(st, 413, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("1500000"), "{p}");
    // Nor can a fork double the tenant's stored state.
    let (st, p) = s.call("POST", &format!("/v1/sessions/{a}/fork"), None);
    assert_eq!(st, 413, "{p}");
    // Another tenant is unaffected by this tenant's total.
    let other = common::token("other", "o", common::ALL_ROLES);
    let (st, r) = s.call_as(Some(&other), "POST", "/v1/sessions", Some(json!({})));
    assert_eq!(st, 201, "{r}");
    let id = r["id"].as_str().unwrap();
    let (st, r) = s.call_as(
        Some(&other),
        "POST",
        &format!("/v1/sessions/{id}/eval"),
        Some(json!({"code": "z = 'd' * 800000\nlen(z)"})),
    );
    assert_eq!(st, 200, "{r}");
}

/// Templates `ticket` and `spare` (each with `staging`), and pipeline `triage` rendering
/// `ticket`.
fn a_pipeline_rendering_a_template() -> Server {
    let s = Server::start();
    for t in ["ticket", "spare"] {
        let (st, v) = s.call(
            "POST",
            &format!("/v1/templates/{t}/versions"),
            Some(json!({"template": "About {{ x }}", "labels": ["staging"]})),
        );
        assert_eq!(st, 201, "{v}");
    }
    let (st, v) = s.call(
        "POST",
        "/v1/pipelines/triage/versions",
        Some(json!({"inputs": ["x"], "steps": [
            {"type": "render", "template": "ticket", "variables": {"x": "{{ x }}"}, "output": "prompt"}
        ]})),
    );
    assert_eq!(st, 201, "{v}");
    s
}

#[test]
fn a_template_a_pipeline_renders_cannot_be_deleted() {
    let s = a_pipeline_rendering_a_template();
    let (st, p) = s.call("DELETE", "/v1/templates/ticket", None);
    assert_eq!(st, 409, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("triage"), "{p}");
}

#[test]
fn deleting_a_template_with_a_protected_label_needs_an_admin() {
    let s = a_pipeline_rendering_a_template();
    // As moving the label would.
    let (st, _) = s.call(
        "PUT",
        "/v1/templates/spare/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 200);
    let author = common::token("default", "ann", &["author"]);
    let (st, p) = s.call_as(Some(&author), "DELETE", "/v1/templates/spare", None);
    assert_eq!(st, 403, "{p}");
    assert_eq!(s.call("DELETE", "/v1/templates/spare", None).0, 204);
    assert_eq!(s.call("GET", "/v1/templates/spare", None).0, 404);
    assert_eq!(s.call("DELETE", "/v1/templates/spare", None).0, 404);
}

#[test]
fn deleted_templates_and_pipelines_are_audited_and_their_names_start_again_at_version_1() {
    let s = a_pipeline_rendering_a_template();
    assert_eq!(s.call("DELETE", "/v1/templates/spare", None).0, 204);
    // Delete the pipeline, then its template goes too; both are audited.
    assert_eq!(s.call("DELETE", "/v1/pipelines/triage", None).0, 204);
    assert_eq!(s.call("GET", "/v1/pipelines/triage", None).0, 404);
    assert_eq!(s.call("DELETE", "/v1/templates/ticket", None).0, 204);
    let (_, page) = s.call("GET", "/v1/audit?action=template.delete", None);
    assert_eq!(page["records"].as_array().unwrap().len(), 2, "{page}");
    let (_, page) = s.call("GET", "/v1/audit?action=pipeline.delete", None);
    assert_eq!(page["records"].as_array().unwrap().len(), 1, "{page}");
    let (st, v) = s.call(
        "POST",
        "/v1/templates/spare/versions",
        Some(json!({"template": "again"})),
    );
    assert_eq!(
        (st, v["version"]["version"].as_u64()),
        (201, Some(1)),
        "{v}"
    );
    let (_, verify) = s.call("GET", "/v1/audit/verify", None);
    assert_eq!(verify["ok"], true, "{verify}");
}

/// Templates alpha-1, alpha-2, alpha-3 and beta-1.
fn four_templates() -> Server {
    let s = Server::start();
    for n in ["alpha-1", "alpha-2", "alpha-3", "beta-1"] {
        let (st, _) = s.call(
            "POST",
            &format!("/v1/templates/{n}/versions"),
            Some(json!({"template": "x"})),
        );
        assert_eq!(st, 201);
    }
    s
}

#[test]
fn lists_page_with_a_cursor_and_filter_by_prefix() {
    let s = four_templates();
    let page = |query: &str| {
        let r = common::http()
            .get(format!("{}/v1/templates{query}", s.url))
            .bearer_auth(&s.token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let next = r
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let link = r
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let names: Vec<String> = r
            .json::<Value>()
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        (names, next, link)
    };
    let (names, next, link) = page("?limit=2&prefix=alpha");
    assert_eq!(names, ["alpha-1", "alpha-2"]);
    assert_eq!(next.as_deref(), Some("alpha-2"));
    assert!(link.unwrap().contains("rel=\"next\""));
    let (names, next, _) = page("?limit=2&prefix=alpha&cursor=alpha-2");
    assert_eq!((names, next), (vec!["alpha-3".to_owned()], None));
    let (names, _, _) = page("");
    assert_eq!(names.len(), 4);
    assert_eq!(s.call("GET", "/v1/templates?limit=0", None).0, 400);
    assert_eq!(s.call("GET", "/v1/templates?limit=5000", None).0, 400);
}

#[test]
fn template_exports_filter_by_prefix_and_by_names() {
    let s = four_templates();
    let (_, yaml) = s.text("/v1/templates/export?prefix=beta");
    assert!(
        yaml.contains("name: beta-1") && !yaml.contains("alpha"),
        "{yaml}"
    );
    let (_, yaml) = s.text("/v1/templates/export?names=alpha-1,alpha-3");
    assert!(
        yaml.contains("name: alpha-1") && yaml.contains("name: alpha-3"),
        "{yaml}"
    );
    assert!(
        !yaml.contains("alpha-2") && !yaml.contains("beta"),
        "{yaml}"
    );
}

#[test]
fn vaults_are_listed_with_times_never_with_tokens_or_values_and_per_tenant() {
    let s = Server::start();
    let a = pseudonymize(&s, "write to vic@example.com", None);
    let (st, vaults) = s.call("GET", "/v1/pii/vaults", None);
    assert_eq!(st, 200, "{vaults}");
    assert_eq!(vaults[0]["id"], a["vault_id"], "{vaults}");
    assert!(vaults[0]["expires_at"].is_string(), "{vaults}");
    assert!(!vaults.to_string().contains("vic@"), "{vaults}");
    let other = common::token("other", "o", common::ALL_ROLES);
    let (_, theirs) = s.call_as(Some(&other), "GET", "/v1/pii/vaults", None);
    assert_eq!(theirs, json!([]));
}

#[test]
fn template_engine_fuel_running_out_is_out_of_fuel() {
    let s = Server::start();
    let (st, v) = s.call(
        "POST",
        "/v1/templates/spin/versions",
        Some(json!({"template":
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"})),
    );
    assert_eq!(st, 201, "{v}");
    let (st, p) = s.call(
        "POST",
        "/v1/templates/spin/render",
        Some(json!({"limits": {"fuel": 40_000_000_000u64, "wall_time_ms": 10000}})),
    );
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["outcome"], "out_of_fuel", "{p}");
    assert!(p["type"].as_str().unwrap().ends_with("out-of-fuel"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("engine_fuel"), "{p}");
}

#[test]
fn python_echo_uses_the_objects_own_repr() {
    let s = Server::start();
    let (st, r) = s.call(
        "POST",
        "/v1/code/eval",
        Some(json!({"code": "class A:\n    def __repr__(self):\n        return 'custom'\nA()"})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["repr"], "custom", "{r}");
}

#[test]
fn the_readmes_server_examples_run_as_written() {
    let s = Server::start();
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let start = readme.find("## The server").unwrap();
    let block = &readme[start..];
    let block = &block[block.find("```sh\n").unwrap() + 6..];
    let block = &block[..block.find("```").unwrap()];
    // The only substitutions: the binary cargo would run, the test server's configuration and
    // data directory (its signing key), its address, and a component to upload.
    let warden = env!("CARGO_BIN_EXE_warden");
    let config = s.data.path().join("warden.toml");
    let script = block
        .replace(
            "cargo run -q -p warden -- token issue",
            &format!(
                "{warden} token issue --config {} --data-dir {}",
                config.display(),
                s.data.path().display()
            ),
        )
        .replace("localhost:8080", s.url.strip_prefix("http://").unwrap());
    assert!(script.contains("my_plugin.wasm"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("my_plugin.wasm"),
        common::fixture_bytes("hostile"),
    )
    .unwrap();
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("urn:warden:problem"),
        "an example was refused:\n{stdout}"
    );
    // What the examples promise: the render, the restored address, the session's answer.
    for expected in [
        "Hello Ada, about your order:",
        "Reply to ada@example.com",
        "\"repr\":\"42\"",
        "\"ok\":true",
        "\"staging\"",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
