//! Black-box tests of `warden serve`: the real binary on an ephemeral loopback port with a
//! temporary data directory, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Server, fixture_bytes};
use serde_json::{Value, json};

const WASM: (&str, &str) = ("content-type", "application/wasm");

fn upload(s: &Server, name: &str, version: &str, bytes: Vec<u8>) -> (u16, Value) {
    s.raw(
        "POST",
        &format!("/v1/plugins/{name}/versions/{version}"),
        &[WASM, ("x-warden-description", "test plugin")],
        bytes,
    )
}

#[test]
fn health_readiness_metrics_and_openapi() {
    let s = Server::start();
    let (st, body) = s.call("GET", "/healthz", None);
    assert_eq!((st, body["status"].as_str()), (200, Some("ok")));
    assert_eq!(s.call("GET", "/readyz", None).0, 200);
    let (st, doc) = s.call("GET", "/openapi.json", None);
    assert_eq!(st, 200);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/plugins",
        "/v1/plugins/{name}/versions/{version}",
        "/v1/templates/{name}/versions",
        "/v1/templates/{name}/render",
        "/v1/templates/{name}/labels/{label}",
        "/v1/templates/{name}/diff",
        "/v1/templates/export",
        "/v1/templates/import",
        "/v1/pii/detect",
        "/v1/pii/anonymize",
        "/v1/pii/deanonymize",
        "/v1/pii/dictionaries/{name}",
        "/v1/sessions",
        "/v1/sessions/{id}/eval",
        "/v1/sessions/{id}/fork",
        "/v1/code/eval",
        "/v1/audit",
        "/v1/audit/verify",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // One render, then the metrics show the request and the sandbox call.
    s.call(
        "POST",
        "/v1/templates/m/versions",
        Some(json!({"template": "hi"})),
    );
    s.call("POST", "/v1/templates/m/render", Some(json!({})));
    let (st, text) = s.text("/metrics");
    assert_eq!(st, 200);
    assert!(
        text.contains(
            "warden_plugin_calls_total{tenant=\"default\",world=\"template-engine\",outcome=\"ok\"}"
        ),
        "{text}"
    );
    assert!(text.contains("warden_http_requests_total"), "{text}");
    assert!(text.contains("warden_plugin_fuel_total"), "{text}");
    // Host-wide series (the shared compiled cache) are not in a tenant's view.
    assert!(!text.contains("warden_component_cache_total"), "{text}");
}

#[test]
fn errors_are_problem_documents() {
    let s = Server::with_config("[server]\nmax_body_bytes = 2048\n");
    // Unknown route, wrong method.
    assert_eq!(s.call("GET", "/v1/nothing", None).0, 404);
    let (st, p) = s.call("DELETE", "/v1/pii/detect", None);
    assert_eq!(st, 405);
    assert_eq!(p["type"], "urn:warden:problem:method-not-allowed");
    // Invalid JSON, wrong field.
    let (st, p) = s.raw(
        "POST",
        "/v1/pii/detect",
        &[("content-type", "application/json")],
        b"{\"text\": ".to_vec(),
    );
    assert_eq!(st, 400);
    assert!(
        p["detail"].as_str().unwrap().contains("not valid JSON"),
        "{p}"
    );
    let (st, p) = s.call("POST", "/v1/pii/detect", Some(json!({"txt": "x"})));
    assert_eq!(st, 400);
    assert!(p["detail"].as_str().unwrap().contains("txt"), "{p}");
    // Over the body limit: 413 naming the limit.
    let (st, p) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": "a".repeat(4000)})),
    );
    assert_eq!(st, 413);
    assert!(p["detail"].as_str().unwrap().contains("2048"), "{p}");
    // Unsafe names are refused before anything is looked up.
    for bad in ["..%2F..%2Fetc", "UPPER", "a%0Ab", "-x"] {
        let (st, p) = s.call("GET", &format!("/v1/templates/{bad}"), None);
        assert_eq!(st, 400, "{bad}: {p}");
    }
    // No internals leak: a 404 names only what was asked.
    let (st, p) = s.call("GET", "/v1/templates/missing", None);
    assert_eq!(st, 404);
    assert!(!p["detail"].as_str().unwrap().contains('/'), "{p}");
}

#[test]
fn plugin_upload_versions_and_refusals() {
    let s = Server::with_config("[server]\nmax_upload_bytes = 20000000\n");
    let hostile = fixture_bytes("hostile");
    let (st, rec) = upload(&s, "hostile", "1.0.0", hostile.clone());
    assert_eq!(st, 201, "{rec}");
    assert_eq!(rec["world"], "template-engine");
    assert_eq!(rec["created_by"], "tester");
    assert_eq!(rec["size"], hostile.len());
    let digest = rec["digest"].as_str().unwrap().to_owned();
    // Immutable versions.
    let (st, p) = upload(&s, "hostile", "1.0.0", hostile.clone());
    assert_eq!(st, 409, "{p}");
    // Same bytes under another version: stored once (same digest).
    let (st, rec2) = upload(&s, "hostile", "1.1.0", hostile.clone());
    assert_eq!(st, 201);
    assert_eq!(rec2["digest"], digest);
    let (st, versions) = s.call("GET", "/v1/plugins/hostile", None);
    assert_eq!(st, 200);
    assert_eq!(versions.as_array().unwrap().len(), 2);
    let (_, latest) = s.call("GET", "/v1/plugins/hostile/versions/latest", None);
    assert_eq!(latest["version"], "1.1.0");
    let (_, list) = s.call("GET", "/v1/plugins", None);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for n in ["template", "pii", "python", "hostile"] {
        assert!(names.contains(&n), "{names:?}");
    }
    // Refusals, each saying why.
    let (st, p) = upload(&s, "hostile", "one", hostile.clone());
    assert_eq!(st, 400);
    assert!(p["detail"].as_str().unwrap().contains("semver"), "{p}");
    let (st, _) = upload(&s, "Bad_Name", "1.0.0", hostile.clone());
    assert_eq!(st, 400);
    let (st, p) = upload(&s, "template", "9.0.0", hostile.clone());
    assert_eq!(st, 409, "{p}");
    let (st, p) = upload(&s, "forbidden", "1.0.0", fixture_bytes("forbidden"));
    assert_eq!(st, 422);
    assert!(
        p["detail"].as_str().unwrap().contains("wasi:filesystem"),
        "{p}"
    );
    let (st, p) = upload(&s, "core", "1.0.0", wat::parse_str("(module)").unwrap());
    assert_eq!(st, 422);
    assert!(p["detail"].as_str().unwrap().contains("core"), "{p}");
    let (st, _) = upload(&s, "junk", "1.0.0", b"not wasm at all".to_vec());
    assert_eq!(st, 422);
    let (st, p) = s.raw(
        "POST",
        "/v1/plugins/hostile2/versions/1.0.0",
        &[WASM, ("x-warden-world", "pii-detector")],
        hostile.clone(),
    );
    assert_eq!(st, 422, "{p}");
    // Nothing refused was stored.
    let (_, list) = s.call("GET", "/v1/plugins", None);
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
    // Delete one version; the other remains; unknown is 404.
    assert_eq!(
        s.call("DELETE", "/v1/plugins/hostile/versions/1.1.0", None)
            .0,
        204
    );
    assert_eq!(
        s.call("GET", "/v1/plugins/hostile/versions/1.1.0", None).0,
        404
    );
    assert_eq!(
        s.call("GET", "/v1/plugins/hostile/versions/1.0.0", None).0,
        200
    );
    assert_eq!(s.call("DELETE", "/v1/plugins/python", None).0, 409);
}

#[test]
fn oversized_upload_is_413_with_the_limit() {
    let s = Server::with_config("[server]\nmax_upload_bytes = 65536\n");
    let (st, p) = upload(&s, "big", "1.0.0", vec![0u8; 90_000]);
    assert_eq!(st, 413, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("65536"), "{p}");
    assert_eq!(s.call("GET", "/v1/plugins/big", None).0, 404);
}

#[test]
fn multipart_upload_with_metadata() {
    let s = Server::start();
    let form = reqwest::blocking::multipart::Form::new()
        .part(
            "component",
            reqwest::blocking::multipart::Part::bytes(fixture_bytes("hostile")),
        )
        .text(
            "metadata",
            json!({"world": "template-engine", "description": "multi", "limits": {"fuel": 1000000}})
                .to_string(),
        );
    let r = common::http()
        .post(format!("{}/v1/plugins/mp/versions/0.1.0", s.url))
        .bearer_auth(&s.token)
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let rec: Value = r.json().unwrap();
    assert_eq!(rec["description"], "multi");
    assert_eq!(rec["limits"]["fuel"], 1000000);
}

#[test]
fn hostile_plugins_get_typed_outcomes_and_referenced_plugins_stay() {
    let s = Server::start();
    let (st, _) = upload(&s, "hostile", "1.0.0", fixture_bytes("hostile"));
    assert_eq!(st, 201);
    let cases = [
        ("loop", 422, "out_of_fuel"),
        ("memory", 422, "memory_limit"),
        ("recurse", 422, "trap"),
        ("panic", 422, "trap"),
        ("trap", 422, "trap"),
        ("huge:300000", 422, "output_too_large"),
        ("error", 422, "guest_failure"),
    ];
    for (i, (mode, status, outcome)) in cases.iter().enumerate() {
        let name = format!("h{i}");
        let (st, created) = s.call(
            "POST",
            &format!("/v1/templates/{name}/versions"),
            Some(json!({"template": mode, "engine": "hostile@1.0.0"})),
        );
        assert_eq!(st, 201, "{created}");
        let (st, p) = s.call(
            "POST",
            &format!("/v1/templates/{name}/render"),
            Some(json!({"limits": {"fuel": 50000000, "memory_bytes": 16777216, "output_bytes": 100000}})),
        );
        assert_eq!(
            (st, p["outcome"].as_str()),
            (*status, Some(*outcome)),
            "{mode}: {p}"
        );
        assert!(p.get("fuel").is_some(), "{p}");
    }
    // A wall-clock deadline is a 504.
    s.call(
        "POST",
        "/v1/templates/slow/versions",
        Some(json!({"template": "loop", "engine": "hostile@1.0.0"})),
    );
    let (st, p) = s.call(
        "POST",
        "/v1/templates/slow/render",
        Some(json!({"limits": {"fuel": 40000000000u64, "wall_time_ms": 200}})),
    );
    assert_eq!(
        (st, p["outcome"].as_str()),
        (504, Some("deadline_exceeded")),
        "{p}"
    );
    // The server is unharmed.
    let (st, _) = s.call("POST", "/v1/pii/detect", Some(json!({"text": "a@b.io"})));
    assert_eq!(st, 200);
    // Templates pin the plugin: it cannot be deleted.
    let (st, p) = s.call("DELETE", "/v1/plugins/hostile", None);
    assert_eq!(st, 409);
    assert!(p["detail"].as_str().unwrap().contains("template"), "{p}");
}

#[test]
fn templates_versions_labels_render_diff() {
    let s = Server::start();
    // Syntax errors carry line and column.
    let (st, p) = s.call(
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({"template": "Hello\n{{ name "})),
    );
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["position"]["line"], 2, "{p}");
    assert_eq!(s.call("GET", "/v1/templates/greet", None).0, 404);
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tone": {"type": "string", "enum": ["warm", "dry"], "default": "warm"},
            "unused": {"type": "integer"}
        },
        "required": ["name"]
    });
    let (st, v1) = s.call(
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({
            "template": "Hello {{ name }} ({{ tone }}){{ extra }}",
            "variables_schema": schema,
            "config": {"model": "gpt-x", "temperature": 0.2},
            "message": "first"
        })),
    );
    assert_eq!(st, 201, "{v1}");
    assert_eq!(v1["version"]["version"], 1);
    assert_eq!(v1["warnings"]["undeclared"], json!(["extra"]));
    assert_eq!(v1["warnings"]["unused"], json!(["unused"]));
    let (st, v2) = s.call(
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({"template": "Hi {{ name }}, {{ tone }}.", "variables_schema": schema, "message": "shorter"})),
    );
    assert_eq!(st, 201);
    assert_eq!(v2["version"]["version"], 2);
    // Default: production (absent) then latest.
    let (st, r) = s.call(
        "POST",
        "/v1/templates/greet/render",
        Some(json!({"variables": {"name": "Ada"}})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["text"], "Hi Ada, warm.");
    assert_eq!(
        (r["version"].as_u64(), r["label"].as_str()),
        (Some(2), Some("latest"))
    );
    assert!(r["fuel"].as_u64().unwrap() > 0);
    // Schema violations are listed, with paths.
    let (st, p) = s.call(
        "POST",
        "/v1/templates/greet/render",
        Some(json!({"variables": {"tone": "loud"}})),
    );
    assert_eq!(st, 422);
    let paths: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/variables/name", "/variables/tone"], "{p}");
    // Labels: production → 1 is what renders by default; moving it is the rollback.
    let (st, sum) = s.call(
        "PUT",
        "/v1/templates/greet/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 200, "{sum}");
    assert_eq!(sum["labels"]["production"], 1);
    assert_eq!(sum["labels"]["latest"], 2);
    let (_, r) = s.call(
        "POST",
        "/v1/templates/greet/render",
        Some(json!({"variables": {"name": "Ada", "extra": "!"}})),
    );
    assert_eq!(r["text"], "Hello Ada (warm)!");
    assert_eq!(r["config"]["model"], "gpt-x");
    let (_, r) = s.call(
        "POST",
        "/v1/templates/greet/render",
        Some(json!({"variables": {"name": "Ada"}, "label": "latest"})),
    );
    assert_eq!(r["version"], 2);
    assert_eq!(
        s.call(
            "PUT",
            "/v1/templates/greet/labels/latest",
            Some(json!({"version": 1}))
        )
        .0,
        400
    );
    assert_eq!(
        s.call(
            "PUT",
            "/v1/templates/greet/labels/staging",
            Some(json!({"version": 9}))
        )
        .0,
        404
    );
    let (st, d) = s.call("GET", "/v1/templates/greet/diff?from=1&to=2", None);
    assert_eq!(st, 200);
    let diff = d["diff"].as_str().unwrap();
    assert!(
        diff.contains("-Hello {{ name }} ({{ tone }}){{ extra }}"),
        "{diff}"
    );
    assert!(diff.contains("+Hi {{ name }}, {{ tone }}."), "{diff}");
    // Chat templates.
    let (st, _) = s.call(
        "POST",
        "/v1/templates/chat/versions",
        Some(json!({"messages": [
            {"role": "system", "content": "You help {{ user }}."},
            {"role": "user", "content": "{{ question }}"}
        ]})),
    );
    assert_eq!(st, 201);
    let (st, r) = s.call(
        "POST",
        "/v1/templates/chat/render",
        Some(json!({"variables": {"user": "Ada", "question": "Why?"}})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["messages"][0]["content"], "You help Ada.");
    assert_eq!(r["messages"][1]["content"], "Why?");
    // The label move is audited with old and new versions.
    let (_, page) = s.call("GET", "/v1/audit?action=template.label.move", None);
    let rec = &page["records"][0];
    assert_eq!(rec["detail"], "production: none -> 1", "{page}");
}

#[test]
fn export_import_round_trip_is_idempotent() {
    let s = Server::start();
    for t in ["One {{ a }}", "Two {{ a }}"] {
        s.call(
            "POST",
            "/v1/templates/exp/versions",
            Some(json!({"template": t, "labels": ["staging"]})),
        );
    }
    let (st, yaml) = s.text("/v1/templates/export");
    assert_eq!(st, 200);
    assert!(yaml.contains("name: exp"), "{yaml}");
    let import = |body: &str| {
        s.raw(
            "POST",
            "/v1/templates/import",
            &[("content-type", "application/yaml")],
            body.as_bytes().to_vec(),
        )
    };
    // Re-import into the same server: nothing changes.
    let (st, r) = import(&yaml);
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["created"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    // Into a fresh server: everything arrives, labels included, and renders the same.
    let fresh = Server::start();
    let (st, r) = fresh.raw(
        "POST",
        "/v1/templates/import",
        &[("content-type", "application/yaml")],
        yaml.as_bytes().to_vec(),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["created"], 2);
    let (_, sum) = fresh.call("GET", "/v1/templates/exp", None);
    assert_eq!(sum["labels"]["staging"], 2);
    let (_, out) = fresh.call(
        "POST",
        "/v1/templates/exp/render",
        Some(json!({"variables": {"a": 1}, "version": 1})),
    );
    assert_eq!(out["text"], "One 1");
    // A conflicting version is refused and nothing is written.
    let conflicting = yaml.replace("Two {{ a }}", "Changed {{ a }}");
    let (st, _) = import(&conflicting);
    assert_eq!(st, 409);
    let (st, _) = import("name: [unclosed");
    assert_eq!(st, 422);
}

#[test]
fn pii_detect_anonymize_deanonymize_and_dictionaries() {
    let s = Server::start();
    let text = "Write to ada@example.com or call Ada Lovelace; again ada@example.com. Project BLUEFIN ships.";
    let (st, d) = s.call("POST", "/v1/pii/detect", Some(json!({"text": text})));
    assert_eq!(st, 200, "{d}");
    let emails: Vec<&Value> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["entity_type"] == "EMAIL_ADDRESS")
        .collect();
    assert_eq!(emails.len(), 2, "{d}");
    // Dictionaries: a deny-list adds code names, an allow-list removes a known address.
    let (st, _) = s.call(
        "PUT",
        "/v1/pii/dictionaries/codenames",
        Some(json!({"kind": "deny", "entity_type": "PROJECT", "terms": ["bluefin"]})),
    );
    assert_eq!(st, 201);
    let (st, _) = s.call(
        "PUT",
        "/v1/pii/dictionaries/safe",
        Some(json!({"kind": "allow", "terms": ["support@acme.test"]})),
    );
    assert_eq!(st, 201);
    let (st, p) = s.call(
        "PUT",
        "/v1/pii/dictionaries/bad",
        Some(json!({"kind": "deny", "terms": ["x"]})),
    );
    assert_eq!(st, 422, "{p}");
    let (_, d) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": "Ask support@acme.test about Bluefin, not bluefins."})),
    );
    let found: Vec<(String, String)> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["entity_type"].as_str().unwrap().to_owned(),
                f["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("PROJECT".to_owned(), "dictionary:codenames".to_owned())],
        "{d}"
    );
    // Pseudonymise: consistent tokens, a vault id, and the round trip restores the text.
    let (st, a) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": text, "operators": {"default": {"type": "pseudonymize"}}})),
    );
    assert_eq!(st, 200, "{a}");
    let anon = a["text"].as_str().unwrap();
    assert!(!anon.contains("ada@example.com"), "{anon}");
    assert_eq!(anon.matches("<EMAIL_ADDRESS_1>").count(), 2, "{anon}");
    assert!(anon.contains("<PROJECT_1>"), "{anon}");
    let vault = a["vault_id"].as_str().unwrap().to_owned();
    let reply = format!("{anon} Also <EMAIL_ADDRESS_9>.");
    let (st, r) = s.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": reply, "vault_id": vault})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["text"], format!("{text} Also <EMAIL_ADDRESS_9>."));
    assert_eq!(r["unknown_tokens"], json!(["<EMAIL_ADDRESS_9>"]));
    // Other operators.
    let (_, m) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": "mail ada@example.com", "entities": ["EMAIL_ADDRESS"], "operators": {
            "per_entity": {"EMAIL_ADDRESS": {"type": "mask", "masking_char": "#", "chars_to_mask": 5, "from_end": true}}
        }})),
    );
    assert_eq!(m["text"], "mail ada@exampl#####");
    assert!(m["vault_id"].is_null());
    let (_, h) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": "ada@example.com", "operators": {"default": {"type": "hash"}}})),
    );
    assert_eq!(h["text"].as_str().unwrap().len(), 64);
    // The vault is encrypted at rest: the value is nowhere in the database file.
    drop(s.call("GET", "/healthz", None));
    let db = std::fs::read(s.db_path()).unwrap();
    assert!(
        !db.windows(15).any(|w| w == b"ada@example.com"),
        "a PII value is stored in clear"
    );
    // Unknown vault: 404.
    let (st, _) = s.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": "x", "vault_id": "v_000000000000000000000000000000000000"})),
    );
    assert_eq!(st, 404);
    // Deleting the vault makes it unknown.
    assert_eq!(
        s.call("DELETE", &format!("/v1/pii/vaults/{vault}"), None).0,
        204
    );
    let (st, _) = s.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": "x", "vault_id": vault})),
    );
    assert_eq!(st, 404);
}

#[test]
fn expired_vaults_are_gone() {
    let s = Server::start();
    let (_, a) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": "ada@example.com", "operators": {"default": {"type": "pseudonymize"}}, "vault_ttl_seconds": 1})),
    );
    let vault = a["vault_id"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let (st, _) = s.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": "<EMAIL_ADDRESS_1>", "vault_id": vault})),
    );
    assert_eq!(st, 404);
}

#[test]
fn sessions_survive_restart_fork_and_delete() {
    let s = Server::start();
    let (st, sess) = s.call("POST", "/v1/sessions", Some(json!({})));
    assert_eq!(st, 201, "{sess}");
    let id = sess["id"].as_str().unwrap().to_owned();
    let eval = |s: &Server, id: &str, code: &str| {
        s.call(
            "POST",
            &format!("/v1/sessions/{id}/eval"),
            Some(json!({"code": code})),
        )
    };
    let (st, r) = eval(&s, &id, "x = 20\nprint('set')\nx + 1");
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["stdout"].as_str(), r["json"].as_i64()),
        (Some("set\n"), Some(21))
    );
    // A Python exception is a 422 and the session lives on.
    let (st, p) = eval(&s, &id, "1 / 0");
    assert_eq!(
        (st, p["outcome"].as_str()),
        (422, Some("invalid_input")),
        "{p}"
    );
    // A limit rolls the session back to its last good state.
    let (st, p) = eval(&s, &id, "x = 99\nwhile True:\n    pass");
    assert_eq!(st, 422, "{p}");
    let (_, r) = eval(&s, &id, "x");
    assert_eq!(r["json"], 20, "{r}");
    // Concurrent evals on one session are serialised: every increment lands.
    eval(&s, &id, "n = 0");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let (st, r) = eval(&s, &id, "n = n + 1\nn");
                assert_eq!(st, 200, "{r}");
            });
        }
    });
    let (_, r) = eval(&s, &id, "n");
    assert_eq!(r["json"], 4);
    // Restart: the session and its variables are still there.
    let s = s.restart();
    let (st, r) = eval(&s, &id, "x * 2 + n");
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["json"], 44);
    // Fork: same state, separate future.
    let (st, f) = s.call("POST", &format!("/v1/sessions/{id}/fork"), None);
    assert_eq!(st, 201, "{f}");
    let fid = f["id"].as_str().unwrap().to_owned();
    eval(&s, &fid, "x = 1");
    assert_eq!(eval(&s, &fid, "x").1["json"], 1);
    assert_eq!(eval(&s, &id, "x").1["json"], 20);
    let (_, list) = s.call("GET", "/v1/sessions", None);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(s.call("DELETE", &format!("/v1/sessions/{id}"), None).0, 204);
    assert_eq!(eval(&s, &id, "x").0, 404);
    assert_eq!(s.call("GET", "/v1/sessions/s_nope", None).0, 404);
    // One-shot eval needs no session.
    let (st, r) = s.call(
        "POST",
        "/v1/code/eval",
        Some(json!({"code": "sum(range(10))"})),
    );
    assert_eq!((st, r["json"].as_i64()), (200, Some(45)), "{r}");
}

#[test]
fn idle_sessions_expire() {
    let s = Server::with_config("[sessions]\nidle_ttl = \"2s\"\n");
    let (_, sess) = s.call("POST", "/v1/sessions", Some(json!({})));
    let id = sess["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if s.call("GET", &format!("/v1/sessions/{id}"), None).0 == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "session never expired"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (_, page) = s.call("GET", "/v1/audit?action=session.expire", None);
    assert_eq!(page["records"][0]["target"], format!("session/{id}"));
}

#[test]
fn everything_survives_a_restart() {
    let s = Server::start();
    upload(&s, "hostile", "1.0.0", fixture_bytes("hostile"));
    s.call(
        "POST",
        "/v1/templates/keep/versions",
        Some(json!({"template": "Keep {{ v }}", "labels": ["production"]})),
    );
    s.call(
        "PUT",
        "/v1/pii/dictionaries/names",
        Some(json!({"kind": "deny", "entity_type": "PERSON", "terms": ["Zebulon"]})),
    );
    let (_, a) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": "Zebulon", "operators": {"default": {"type": "pseudonymize"}}})),
    );
    let vault = a["vault_id"].as_str().unwrap().to_owned();
    let s = s.restart();
    assert_eq!(
        s.call("GET", "/v1/plugins/hostile/versions/1.0.0", None).0,
        200
    );
    let (_, r) = s.call(
        "POST",
        "/v1/templates/keep/render",
        Some(json!({"variables": {"v": 7}})),
    );
    assert_eq!(
        (r["text"].as_str(), r["label"].as_str()),
        (Some("Keep 7"), Some("production"))
    );
    let (_, r) = s.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": "<PERSON_1>!", "vault_id": vault})),
    );
    assert_eq!(r["text"], "Zebulon!");
    let (_, v) = s.call("GET", "/v1/audit/verify", None);
    assert_eq!(v["ok"], true, "{v}");
}

#[test]
fn audit_log_records_without_content_and_detects_tampering() {
    let mut s = Server::start();
    s.call(
        "POST",
        "/v1/templates/secret/versions",
        Some(json!({"template": "TOPSECRET {{ x }}"})),
    );
    s.call(
        "POST",
        "/v1/templates/secret/render",
        Some(json!({"variables": {"x": "CONFIDENTIAL-VALUE"}})),
    );
    s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({"text": "zed@example.org"})),
    );
    // Call records are written in batches; wait until the render's is visible.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let page = loop {
        let (st, page) = s.call("GET", "/v1/audit?limit=1000", None);
        assert_eq!(st, 200);
        let has_detect = page["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "pii.detect");
        if has_detect {
            break page;
        }
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let records = page["records"].as_array().unwrap();
    let render = records
        .iter()
        .find(|r| r["action"] == "template.render")
        .unwrap();
    assert_eq!(render["target"], "template/secret/1");
    assert_eq!(render["outcome"], "ok");
    assert!(render["fuel"].as_u64().unwrap() > 0);
    assert_eq!(render["input_sha256"].as_str().unwrap().len(), 64);
    assert!(render["plugin_digest"].is_string());
    let all = page.to_string();
    for secret in ["TOPSECRET", "CONFIDENTIAL-VALUE", "zed@example.org"] {
        assert!(!all.contains(secret), "audit log holds content: {secret}");
    }
    // Sequence numbers and the chain.
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i as u64 + 1);
        if i > 0 {
            assert_eq!(r["prev_hash"], records[i - 1]["hash"]);
        }
    }
    // Filters and paging.
    let (_, p) = s.call("GET", "/v1/audit?action=template.&limit=1", None);
    assert_eq!(p["records"].as_array().unwrap().len(), 1);
    let cursor = p["next_cursor"].as_u64().unwrap();
    let (_, p2) = s.call(
        "GET",
        &format!("/v1/audit?action=template.&cursor={cursor}"),
        None,
    );
    assert!(p2["records"][0]["seq"].as_u64().unwrap() >= cursor);
    assert_eq!(s.call("GET", "/v1/audit?since=yesterday", None).0, 400);
    let (_, v) = s.call("GET", "/v1/audit/verify", None);
    assert_eq!(v["ok"], true);
    // Stop, tamper with one record through redb, and verify finds the break.
    assert!(s.stop().success());
    {
        use redb::ReadableTable;
        let db = redb::Database::open(s.db_path()).unwrap();
        let table: redb::TableDefinition<(&str, u64), &[u8]> =
            redb::TableDefinition::new("audit_v1");
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(table).unwrap();
            let bytes = t.get(("default", 2)).unwrap().unwrap().value().to_vec();
            let mut rec: Value = serde_json::from_slice(&bytes).unwrap();
            rec["actor"] = json!("mallory");
            t.insert(("default", 2), serde_json::to_vec(&rec).unwrap().as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["audit", "verify", "--data-dir"])
        .arg(s.data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["first_break"]["seq"], 2, "{report}");
    let s = Server::launch_on(&s);
    let (_, v) = s.call("GET", "/v1/audit/verify", None);
    assert_eq!(
        (v["ok"].as_bool(), v["first_break"]["seq"].as_u64()),
        (Some(false), Some(2))
    );
}

#[test]
fn config_command_and_bad_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.toml");
    std::fs::write(
        &file,
        "[pii]\nmaster_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\n[server]\nlisten = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .arg("config")
        .arg("--config")
        .arg(&file)
        .env("WARDEN_SERVER__MAX_BODY_BYTES", "4096")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("listen = \"127.0.0.1:9999\""), "{printed}");
    assert!(printed.contains("max_body_bytes = 4096"), "{printed}");
    assert!(
        printed.contains("********") && !printed.contains("AAAAAAAA"),
        "{printed}"
    );
    std::fs::write(&file, "[server]\nlisten = \"not an address\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("listen"), "{err}");
}

#[test]
fn a_request_over_the_request_timeout_is_a_problem_document() {
    // The code's own deadline (1 s) and fuel (a cap's worth) outlast the request timeout, so the
    // request timeout answers first: a 503 problem, never an empty body (a `json_body` fuzz
    // finding).
    let s = Server::with_config("[server]\nrequest_timeout = \"200ms\"\n");
    let (status, body) = s.call(
        "POST",
        "/v1/code/eval",
        Some(json!({ "code": "while True:\n  pass", "limits": { "fuel": 50_000_000_000u64 } })),
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], 503, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("request timeout"),
        "{body}"
    );
    // The server keeps serving.
    let (status, _) = s.call("POST", "/v1/code/eval", Some(json!({ "code": "1 + 1" })));
    assert_eq!(status, 200);
}
