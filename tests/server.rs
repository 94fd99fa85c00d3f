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
fn health_and_readiness_answer() {
    let s = Server::start();
    let (st, body) = s.call("GET", "/healthz", None);
    assert_eq!((st, body["status"].as_str()), (200, Some("ok")));
    assert_eq!(s.call("GET", "/readyz", None).0, 200);
}

#[test]
fn the_openapi_document_lists_every_route_and_the_problem_schema() {
    let s = Server::start();
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
}

#[test]
fn metrics_show_requests_and_sandbox_calls_but_not_host_wide_series() {
    let s = Server::start();
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

// Every error below is also checked to be an RFC 9457 problem document (`Server::call`).

#[test]
fn unknown_routes_and_wrong_methods_are_problem_documents() {
    let s = Server::start();
    assert_eq!(s.call("GET", "/v1/nothing", None).0, 404);
    let (st, p) = s.call("DELETE", "/v1/pii/detect", None);
    assert_eq!(st, 405);
    assert_eq!(p["type"], "urn:warden:problem:method-not-allowed");
}

#[test]
fn invalid_json_unknown_fields_and_oversized_bodies_are_problems_saying_why() {
    let s = Server::with_config("[server]\nmax_body_bytes = 2048\n");
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
}

#[test]
fn unsafe_names_are_refused_and_a_404_names_only_what_was_asked() {
    let s = Server::start();
    // Unsafe names are refused before anything is looked up.
    for bad in ["..%2F..%2Fetc", "UPPER", "a%0Ab", "-x"] {
        let (st, p) = s.call("GET", &format!("/v1/templates/{bad}"), None);
        assert_eq!(st, 400, "{bad}: {p}");
    }
    // No internals leak.
    let (st, p) = s.call("GET", "/v1/templates/missing", None);
    assert_eq!(st, 404);
    assert!(!p["detail"].as_str().unwrap().contains('/'), "{p}");
}

/// A server taking uploads up to 20 MB, with `hostile@1.0.0` uploaded; returns it with the
/// fixture's bytes and the upload's record.
fn with_hostile_plugin() -> (Server, Vec<u8>, Value) {
    let s = Server::with_config("[server]\nmax_upload_bytes = 20000000\n");
    let hostile = fixture_bytes("hostile");
    let (st, rec) = upload(&s, "hostile", "1.0.0", hostile.clone());
    assert_eq!(st, 201, "{rec}");
    (s, hostile, rec)
}

#[test]
fn an_upload_is_recorded_with_its_world_uploader_size_and_digest() {
    let (_s, hostile, rec) = with_hostile_plugin();
    assert_eq!(rec["world"], "template-engine");
    assert_eq!(rec["created_by"], "tester");
    assert_eq!(rec["size"], hostile.len());
    assert!(rec["digest"].is_string(), "{rec}");
}

#[test]
fn plugin_versions_are_immutable() {
    let (s, hostile, _) = with_hostile_plugin();
    let (st, p) = upload(&s, "hostile", "1.0.0", hostile);
    assert_eq!(st, 409, "{p}");
}

#[test]
fn the_same_bytes_under_another_version_are_stored_once_and_the_latest_is_the_highest() {
    let (s, hostile, rec) = with_hostile_plugin();
    let digest = rec["digest"].as_str().unwrap().to_owned();
    let (st, rec2) = upload(&s, "hostile", "1.1.0", hostile);
    assert_eq!(st, 201);
    assert_eq!(rec2["digest"], digest);
    let (st, versions) = s.call("GET", "/v1/plugins/hostile", None);
    assert_eq!(st, 200);
    assert_eq!(versions.as_array().unwrap().len(), 2);
    let (_, latest) = s.call("GET", "/v1/plugins/hostile/versions/latest", None);
    assert_eq!(latest["version"], "1.1.0");
}

#[test]
fn the_plugin_list_holds_the_built_ins_and_the_uploads() {
    let (s, _, _) = with_hostile_plugin();
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
}

#[test]
fn bad_uploads_are_refused_saying_why_and_nothing_refused_is_stored() {
    let (s, hostile, _) = with_hostile_plugin();
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
        p["detail"]
            .as_str()
            .unwrap()
            .contains("warden:plugin/tools"),
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
        hostile,
    );
    assert_eq!(st, 422, "{p}");
    // The four built-ins and `hostile`: nothing refused was stored.
    let (_, list) = s.call("GET", "/v1/plugins", None);
    assert_eq!(list.as_array().unwrap().len(), 5, "{list}");
}

#[test]
fn deleting_a_version_keeps_the_others_and_built_ins_cannot_be_deleted() {
    let (s, hostile, _) = with_hostile_plugin();
    assert_eq!(upload(&s, "hostile", "1.1.0", hostile).0, 201);
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
fn hostile_templates_get_typed_outcomes_and_leave_the_server_unharmed() {
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
    // The server is unharmed.
    let (st, _) = s.call("POST", "/v1/pii/detect", Some(json!({"text": "a@b.io"})));
    assert_eq!(st, 200);
}

#[test]
fn a_render_over_its_wall_clock_deadline_is_a_504() {
    let s = Server::start();
    let (st, _) = upload(&s, "hostile", "1.0.0", fixture_bytes("hostile"));
    assert_eq!(st, 201);
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
}

#[test]
fn a_plugin_pinned_by_a_template_cannot_be_deleted() {
    let s = Server::start();
    let (st, _) = upload(&s, "hostile", "1.0.0", fixture_bytes("hostile"));
    assert_eq!(st, 201);
    let (st, _) = s.call(
        "POST",
        "/v1/templates/pinned/versions",
        Some(json!({"template": "error", "engine": "hostile@1.0.0"})),
    );
    assert_eq!(st, 201);
    let (st, p) = s.call("DELETE", "/v1/plugins/hostile", None);
    assert_eq!(st, 409);
    assert!(p["detail"].as_str().unwrap().contains("template"), "{p}");
}

#[test]
fn template_syntax_errors_carry_line_and_column_and_store_nothing() {
    let s = Server::start();
    let (st, p) = s.call(
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({"template": "Hello\n{{ name "})),
    );
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["position"]["line"], 2, "{p}");
    assert_eq!(s.call("GET", "/v1/templates/greet", None).0, 404);
}

/// Template `greet`: version 1 (with a variables schema, a model config and an undeclared
/// `extra`) and a shorter version 2 with the same schema; returns version 1's answer.
fn greet_with_two_versions(s: &Server) -> Value {
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
    let (st, v2) = s.call(
        "POST",
        "/v1/templates/greet/versions",
        Some(json!({"template": "Hi {{ name }}, {{ tone }}.", "variables_schema": schema, "message": "shorter"})),
    );
    assert_eq!(st, 201);
    assert_eq!(v2["version"]["version"], 2);
    v1
}

#[test]
fn a_new_template_version_warns_of_undeclared_and_unused_variables() {
    let s = Server::start();
    let v1 = greet_with_two_versions(&s);
    assert_eq!(v1["version"]["version"], 1);
    assert_eq!(v1["warnings"]["undeclared"], json!(["extra"]));
    assert_eq!(v1["warnings"]["unused"], json!(["unused"]));
}

#[test]
fn a_render_takes_production_then_latest_and_schema_defaults() {
    let s = Server::start();
    greet_with_two_versions(&s);
    // No production label yet: latest.
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
    // production → 1 is what renders by default (with its config); moving it is the rollback.
    let (st, sum) = s.call(
        "PUT",
        "/v1/templates/greet/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 200, "{sum}");
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
}

#[test]
fn schema_violations_are_listed_with_their_paths() {
    let s = Server::start();
    greet_with_two_versions(&s);
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
}

#[test]
fn labels_point_at_existing_versions_and_latest_cannot_be_moved() {
    let s = Server::start();
    greet_with_two_versions(&s);
    let (st, sum) = s.call(
        "PUT",
        "/v1/templates/greet/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 200, "{sum}");
    assert_eq!(sum["labels"]["production"], 1);
    assert_eq!(sum["labels"]["latest"], 2);
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
}

#[test]
fn a_diff_shows_the_lines_two_versions_change() {
    let s = Server::start();
    greet_with_two_versions(&s);
    let (st, d) = s.call("GET", "/v1/templates/greet/diff?from=1&to=2", None);
    assert_eq!(st, 200);
    let diff = d["diff"].as_str().unwrap();
    assert!(
        diff.contains("-Hello {{ name }} ({{ tone }}){{ extra }}"),
        "{diff}"
    );
    assert!(diff.contains("+Hi {{ name }}, {{ tone }}."), "{diff}");
}

#[test]
fn chat_templates_render_every_message() {
    let s = Server::start();
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
}

#[test]
fn a_label_move_is_audited_with_the_old_and_new_versions() {
    let s = Server::start();
    greet_with_two_versions(&s);
    let (st, _) = s.call(
        "PUT",
        "/v1/templates/greet/labels/production",
        Some(json!({"version": 1})),
    );
    assert_eq!(st, 200);
    let (_, page) = s.call("GET", "/v1/audit?action=template.label.move", None);
    let rec = &page["records"][0];
    assert_eq!(rec["detail"], "production: none -> 1", "{page}");
}

/// A server with template `exp` (two versions, `staging` on the second) and its YAML export.
fn exported() -> (Server, String) {
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
    (s, yaml)
}

fn import(s: &Server, body: &str) -> (u16, Value) {
    s.import_as(&s.token, "/v1/templates/import", body)
}

#[test]
fn re_importing_an_export_into_the_same_server_changes_nothing() {
    let (s, yaml) = exported();
    let (st, r) = import(&s, &yaml);
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["created"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
}

#[test]
fn an_export_imports_into_a_fresh_server_with_its_labels_and_renders_the_same() {
    let (_s, yaml) = exported();
    let fresh = Server::start();
    let (st, r) = import(&fresh, &yaml);
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
}

#[test]
fn a_conflicting_or_malformed_import_is_refused() {
    let (s, yaml) = exported();
    // A conflicting version is refused and nothing is written.
    let conflicting = yaml.replace("Two {{ a }}", "Changed {{ a }}");
    let (st, _) = import(&s, &conflicting);
    assert_eq!(st, 409);
    let (_, v2) = s.call("GET", "/v1/templates/exp/versions/2", None);
    assert_eq!(v2["template"], "Two {{ a }}", "{v2}");
    let (st, _) = import(&s, "name: [unclosed");
    assert_eq!(st, 422);
}

/// The text the PII tests scan: one email twice, a name, and a code name.
const PII_TEXT: &str =
    "Write to ada@example.com or call Ada Lovelace; again ada@example.com. Project BLUEFIN ships.";

/// A deny-list of code names (`bluefin` as a PROJECT) and an allow-list with a known address.
fn add_dictionaries(s: &Server) {
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
}

/// Pseudonymises [`PII_TEXT`]; returns the answer.
fn pseudonymise(s: &Server) -> Value {
    let (st, a) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({"text": PII_TEXT, "operators": {"default": {"type": "pseudonymize"}}})),
    );
    assert_eq!(st, 200, "{a}");
    a
}

#[test]
fn detection_finds_every_occurrence() {
    let s = Server::start();
    let (st, d) = s.call("POST", "/v1/pii/detect", Some(json!({"text": PII_TEXT})));
    assert_eq!(st, 200, "{d}");
    let emails: Vec<&Value> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["entity_type"] == "EMAIL_ADDRESS")
        .collect();
    assert_eq!(emails.len(), 2, "{d}");
}

#[test]
fn a_deny_list_adds_findings_and_an_allow_list_removes_them() {
    let s = Server::start();
    add_dictionaries(&s);
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
}

#[test]
fn pseudonymisation_is_consistent_and_round_trips_through_the_vault() {
    let s = Server::start();
    add_dictionaries(&s);
    let a = pseudonymise(&s);
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
    assert_eq!(r["text"], format!("{PII_TEXT} Also <EMAIL_ADDRESS_9>."));
    assert_eq!(r["unknown_tokens"], json!(["<EMAIL_ADDRESS_9>"]));
}

#[test]
fn mask_and_hash_operators_replace_the_value_without_a_vault() {
    let s = Server::start();
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
}

#[test]
fn vaults_are_encrypted_at_rest() {
    if common::on_postgres() {
        return; // reads the redb file; the sealing itself is the same on every backend
    }
    let s = Server::start();
    pseudonymise(&s);
    // The value is nowhere in the database file.
    drop(s.call("GET", "/healthz", None));
    let db = std::fs::read(s.db_path()).unwrap();
    assert!(
        !db.windows(15).any(|w| w == b"ada@example.com"),
        "a PII value is stored in clear"
    );
}

#[test]
fn unknown_and_deleted_vaults_are_404() {
    let s = Server::start();
    let vault = pseudonymise(&s)["vault_id"].as_str().unwrap().to_owned();
    let (st, _) = s.call(
        "POST",
        "/v1/pii/deanonymize",
        Some(json!({"text": "x", "vault_id": "v_000000000000000000000000000000000000"})),
    );
    assert_eq!(st, 404);
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

/// A new session on `s`; returns its id.
fn new_session(s: &Server) -> String {
    let (st, sess) = s.call("POST", "/v1/sessions", Some(json!({})));
    assert_eq!(st, 201, "{sess}");
    sess["id"].as_str().unwrap().to_owned()
}

fn eval(s: &Server, id: &str, code: &str) -> (u16, Value) {
    s.call(
        "POST",
        &format!("/v1/sessions/{id}/eval"),
        Some(json!({"code": code})),
    )
}

#[test]
fn a_session_keeps_its_variables_between_evals() {
    let s = Server::start();
    let id = new_session(&s);
    let (st, r) = eval(&s, &id, "x = 20\nprint('set')\nx + 1");
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["stdout"].as_str(), r["json"].as_i64()),
        (Some("set\n"), Some(21))
    );
    let (_, r) = eval(&s, &id, "x");
    assert_eq!(r["json"], 20, "{r}");
}

#[test]
fn a_python_exception_is_a_422_and_the_session_lives_on() {
    let s = Server::start();
    let id = new_session(&s);
    eval(&s, &id, "x = 20");
    let (st, p) = eval(&s, &id, "1 / 0");
    assert_eq!(
        (st, p["outcome"].as_str()),
        (422, Some("invalid_input")),
        "{p}"
    );
    let (st, r) = eval(&s, &id, "x");
    assert_eq!((st, r["json"].as_i64()), (200, Some(20)), "{r}");
}

#[test]
fn a_limit_rolls_the_session_back_to_its_last_good_state() {
    let s = Server::start();
    let id = new_session(&s);
    eval(&s, &id, "x = 20");
    let (st, p) = eval(&s, &id, "x = 99\nwhile True:\n    pass");
    assert_eq!(st, 422, "{p}");
    let (_, r) = eval(&s, &id, "x");
    assert_eq!(r["json"], 20, "{r}");
}

#[test]
fn concurrent_evals_on_one_session_are_serialised() {
    let s = Server::start();
    let id = new_session(&s);
    // Every increment lands.
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
}

#[test]
fn a_session_and_its_variables_survive_a_restart() {
    let s = Server::start();
    let id = new_session(&s);
    eval(&s, &id, "x = 20");
    eval(&s, &id, "n = 4");
    let s = s.restart();
    let (st, r) = eval(&s, &id, "x * 2 + n");
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["json"], 44);
}

/// A session on the CPython runner; returns its id.
fn new_cpython_session(s: &Server) -> String {
    let (st, sess) = s.call("POST", "/v1/sessions", Some(json!({"runner": "cpython"})));
    assert_eq!(st, 201, "{sess}");
    sess["id"].as_str().unwrap().to_owned()
}

/// What the built-in `python` runner (monty) cannot run, each cell's JSON value.
const BEYOND_MONTY: &[(&str, &str)] = &[
    (
        "def squares(n):\n    for i in range(n):\n        yield i * i\nlist(squares(4)), next(x for x in range(10) if x > 6)",
        "[[0,1,4,9],7]",
    ),
    (
        "class Oops(ValueError):\n    pass\ntry:\n    raise Oops('no')\nexcept ValueError as e:\n    caught = type(e).__name__\ncaught",
        "\"Oops\"",
    ),
    (
        "class C:\n    def __init__(self):\n        self._v = 2\n    @property\n    def v(self):\n        return self._v * 10\n    @staticmethod\n    def s():\n        return 'static'\nC().v, C.s()",
        "[20,\"static\"]",
    ),
    (
        "d = {'a': 3, 'b': 1}\nsorted(['b', 'A', 'c'], key=str.lower), max(d, key=d.get)",
        "[[\"A\",\"b\",\"c\"],\"a\"]",
    ),
    (
        "import re\nre.sub(r'\\d+', lambda m: str(int(m.group()) * 2), 'a1 b22')",
        "\"a2 b44\"",
    ),
    (
        "import statistics, string, textwrap, heapq, operator, enum, io\nclass Colour(enum.Enum):\n    RED = 1\nbuf = io.StringIO()\nbuf.write('x')\n[statistics.median([3, 1, 2]), string.ascii_lowercase[:3], textwrap.shorten('a b c d e f', 7), heapq.nsmallest(2, [5, 1, 4]), operator.itemgetter(1)('xy'), Colour.RED.name, buf.getvalue()]",
        "[2,\"abc\",\"a [...]\",[1,4],\"y\",\"RED\",\"x\"]",
    ),
];

#[test]
fn the_cpython_runner_runs_the_whole_language_and_its_standard_library() {
    let s = Server::start();
    let id = new_cpython_session(&s);
    for (code, want) in BEYOND_MONTY {
        let (st, r) = eval(&s, &id, code);
        assert_eq!(st, 200, "{code}: {r}");
        let want: Value = serde_json::from_str(want).unwrap();
        assert_eq!(r["json"], want, "{code}: {r}");
    }
    // The same cells on the default runner: at least one is beyond it, or this test proves
    // nothing about the difference.
    let monty = new_session(&s);
    let failed = BEYOND_MONTY
        .iter()
        .filter(|(code, _)| eval(&s, &monty, code).0 != 200)
        .count();
    assert!(failed > 0, "monty ran every cell");
    // A Python exception is the cell's 422, with CPython's traceback, and the session lives on.
    let (st, p) = eval(&s, &id, "x = 1\n{}['missing']");
    assert_eq!(
        (st, p["outcome"].as_str()),
        (422, Some("invalid_input")),
        "{p}"
    );
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("KeyError: 'missing'") && detail.contains("line 2"),
        "{p}"
    );
    assert_eq!(eval(&s, &id, "x + 1").1["json"], 2);
}

#[test]
fn a_cpython_session_survives_a_restart_by_replaying_its_cells() {
    let s = Server::start();
    let id = new_cpython_session(&s);
    let cells = [
        "import random, collections\ndrawn = random.random()\ncounts = collections.Counter('hello')",
        "def gen():\n    yield from 'ab'\nit = gen()\nnext(it)",
        "class Point:\n    def __init__(self, x):\n        self.x = x\np = Point(3)",
        "1 / 0",
        "p.x += 1\ndrawn",
    ];
    let mut drawn = Value::Null;
    for (i, code) in cells.iter().enumerate() {
        let (st, r) = eval(&s, &id, code);
        assert_eq!(st, if i == 3 { 422 } else { 200 }, "{code}: {r}");
        drawn = r["json"].clone();
    }
    let s = s.restart();
    // Every cell ran again in a fresh interpreter, the failing one included, with the same
    // random seed: the generator has moved once, the point once, and the number drawn before
    // the restart is the one drawn again.
    let (st, r) = eval(&s, &id, "next(it), p.x, counts['l'], drawn");
    assert_eq!(st, 200, "{r}");
    assert!(drawn.is_f64(), "{drawn}");
    assert_eq!(r["json"], json!(["b", 4, 2, drawn]), "{r}");
}

#[test]
fn a_cpython_cell_over_a_limit_rolls_the_session_back() {
    let s = Server::start();
    let id = new_cpython_session(&s);
    eval(&s, &id, "x = 20");
    let (st, p) = eval(&s, &id, "x = 99\nwhile True:\n    pass");
    assert_eq!(st, 422, "{p}");
    assert!(
        matches!(
            p["outcome"].as_str(),
            Some("out_of_fuel" | "deadline_exceeded")
        ),
        "{p}"
    );
    let (_, r) = eval(&s, &id, "x");
    assert_eq!(r["json"], 20, "{r}");
    let (st, p) = eval(&s, &id, "hoard = bytearray(1 << 30)");
    assert_eq!(
        (st, p["outcome"].as_str()),
        (422, Some("memory_limit")),
        "{p}"
    );
    assert_eq!(eval(&s, &id, "x").1["json"], 20);
}

#[test]
fn the_cpython_runner_touches_nothing() {
    let s = Server::start();
    let one = |code: &str| {
        let (st, r) = s.call(
            "POST",
            "/v1/code/eval",
            Some(json!({"runner": "cpython", "code": code})),
        );
        assert_eq!(st, 200, "{code}: {r}");
        r["json"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| r["json"].to_string())
    };
    let attempt = |what: &str| {
        format!(
            "try:\n    {what}\n    r = 'allowed'\nexcept Exception as e:\n    r = type(e).__name__\nr"
        )
    };
    assert_eq!(
        one(&attempt("open('/etc/passwd').read()")),
        "FileNotFoundError"
    );
    assert_eq!(
        one(&attempt("open('x', 'w').write('x')")),
        "FileNotFoundError"
    );
    assert_eq!(
        one(&attempt("import os; os.listdir('/')")),
        "FileNotFoundError"
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    assert_eq!(
        one(&attempt(&format!(
            "import socket; socket.socket().connect(('127.0.0.1', {port}))"
        ))),
        "PermissionError"
    );
    assert!(
        listener.accept().is_err(),
        "the runner reached the listener"
    );
    assert_eq!(
        one(&attempt(
            "import socket; socket.getaddrinfo('localhost', 80)"
        )),
        "gaierror"
    );
    for spawn in [
        "import subprocess; subprocess.run(['ls'])",
        "import os; os.execv('/bin/ls', ['ls'])",
    ] {
        assert_ne!(one(&attempt(spawn)), "allowed", "{spawn}");
    }
    assert_eq!(one("import os\ndict(os.environ)"), "{}");
}

#[test]
fn a_fork_has_the_same_state_and_a_separate_future() {
    let s = Server::start();
    let id = new_session(&s);
    eval(&s, &id, "x = 20");
    let (st, f) = s.call("POST", &format!("/v1/sessions/{id}/fork"), None);
    assert_eq!(st, 201, "{f}");
    let fid = f["id"].as_str().unwrap().to_owned();
    assert_eq!(eval(&s, &fid, "x").1["json"], 20);
    eval(&s, &fid, "x = 1");
    assert_eq!(eval(&s, &fid, "x").1["json"], 1);
    assert_eq!(eval(&s, &id, "x").1["json"], 20);
    let (_, list) = s.call("GET", "/v1/sessions", None);
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[test]
fn deleted_and_unknown_sessions_are_404() {
    let s = Server::start();
    let id = new_session(&s);
    assert_eq!(s.call("DELETE", &format!("/v1/sessions/{id}"), None).0, 204);
    assert_eq!(eval(&s, &id, "x").0, 404);
    assert_eq!(s.call("GET", "/v1/sessions/s_nope", None).0, 404);
}

#[test]
fn a_one_shot_eval_needs_no_session() {
    let s = Server::start();
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

/// A server that has stored a template, rendered it with a confidential variable and scanned
/// an address; returns it with the first page of its audit log once the detection's record is
/// in (call records are written in batches).
fn audited_calls() -> (Server, Value) {
    let s = Server::start();
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
    (s, page)
}

#[test]
fn call_records_name_the_target_and_the_cost_but_hold_no_content() {
    let (_s, page) = audited_calls();
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
}

#[test]
fn audit_records_are_numbered_and_hash_chained() {
    let (s, page) = audited_calls();
    let records = page["records"].as_array().unwrap();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i as u64 + 1);
        if i > 0 {
            assert_eq!(r["prev_hash"], records[i - 1]["hash"]);
        }
    }
    let (_, v) = s.call("GET", "/v1/audit/verify", None);
    assert_eq!(v["ok"], true);
}

#[test]
fn the_audit_log_filters_by_action_and_pages_with_a_cursor() {
    let (s, _) = audited_calls();
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
}

#[test]
fn verify_finds_a_record_tampered_with_in_the_database() {
    if common::on_postgres() {
        return; // tampers through redb; the PostgreSQL backend's own tests tamper with its rows
    }
    let (mut s, _) = audited_calls();
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
fn the_config_command_prints_the_effective_configuration_with_secrets_masked() {
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
}

#[test]
fn a_bad_configuration_stops_serve_with_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.toml");
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
