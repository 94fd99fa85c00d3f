//! Black-box tests of PII detection over HTTP beyond the basics in `server.rs`: batches, the
//! entity catalogue, countries, allow-lists, ad-hoc and stored recognizers (with Presidio's
//! YAML format), tenant defaults, and the Presidio-compatible API under `/presidio`, driven
//! with the request shapes Presidio's own end-to-end tests send.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::{ALL_ROLES, Server, token};
use serde_json::{Value, json};

/// `(entity_type, matched text)` of every finding of `v["findings"]`.
fn found(text: &str, v: &Value) -> Vec<(String, String)> {
    common::found_in(v, text)
}

fn has(list: &[(String, String)], entity: &str, value: &str) -> bool {
    list.iter().any(|(t, v)| t == entity && v == value)
}

#[test]
fn a_batch_is_scanned_in_one_call_and_its_size_is_capped() {
    let s = Server::with_config("[pii]\nmax_batch = 3\n");
    let texts = [
        "mail ann@example.com",
        "nothing here",
        "card 4111 1111 1111 1111",
    ];
    let (st, v) = s.call("POST", "/v1/pii/detect", Some(json!({ "texts": texts })));
    assert_eq!(st, 200, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(has(
        &found(texts[0], &results[0]),
        "EMAIL_ADDRESS",
        "ann@example.com"
    ));
    assert!(found(texts[1], &results[1]).is_empty());
    assert!(has(
        &found(texts[2], &results[2]),
        "CREDIT_CARD",
        "4111 1111 1111 1111"
    ));
    // One sandbox call for the batch: one detector audit record naming three texts.
    let (_, audit) = s.call("GET", "/v1/audit?action=pii.detect", None);
    let records = audit["items"]
        .as_array()
        .or(audit["records"].as_array())
        .cloned()
        .unwrap_or_default();
    assert!(
        records
            .iter()
            .any(|r| r["detail"].as_str().is_some_and(|d| d.contains("3 texts"))),
        "{audit}"
    );
    // Over the cap: 413 naming the setting; text and texts together: 400.
    let (st, p) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({ "texts": ["a", "b", "c", "d"] })),
    );
    assert_eq!(st, 413, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("pii.max_batch"),
        "{p}"
    );
    let (st, _) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({ "text": "a", "texts": ["b"] })),
    );
    assert_eq!(st, 400);
    // Anonymising a batch puts every text into one vault with consistent tokens.
    let (st, v) = s.call(
        "POST",
        "/v1/pii/anonymize",
        Some(json!({
            "texts": ["from ann@example.com", "reply to ann@example.com"],
            "operators": {"default": {"type": "pseudonymize"}}
        })),
    );
    assert_eq!(st, 200, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r[0]["text"], "from <EMAIL_ADDRESS_1>");
    assert_eq!(r[1]["text"], "reply to <EMAIL_ADDRESS_1>");
    assert!(v["vault_id"].is_string());
}

#[test]
fn the_catalogue_lists_every_type_and_countries_choose_what_runs() {
    let s = Server::start();
    let (st, v) = s.call("GET", "/v1/pii/entities", None);
    assert_eq!(st, 200, "{v}");
    let entities = v["entities"].as_array().unwrap();
    assert!(entities.len() >= 80, "{} types", entities.len());
    let get = |name: &str| entities.iter().find(|e| e["entity_type"] == name).cloned();
    let tax = get("DE_TAX_ID").expect("DE_TAX_ID listed");
    assert_eq!(tax["country"], "DE");
    assert!(
        tax["validation"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("7064"),
        "{tax}"
    );
    assert!(
        get("AWS_ACCESS_KEY_ID").is_some_and(|e| e["kind"] == "secret"),
        "secrets listed"
    );
    assert!(get("EMAIL_ADDRESS").is_some_and(|e| e["country"].is_null()));
    // A type off by default runs when its country is chosen.
    let text = "Kennzeichen B-AB 1234 am Bahnhof";
    let (_, v) = s.call("POST", "/v1/pii/detect", Some(json!({ "text": text })));
    assert!(!has(&found(text, &v), "DE_KFZ", "B-AB 1234"), "{v}");
    let (_, v) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({ "text": text, "countries": ["DE"] })),
    );
    assert!(found(text, &v).iter().any(|(t, _)| t == "DE_KFZ"), "{v}");
    let (st, p) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({ "text": text, "countries": ["XX"] })),
    );
    assert_eq!(st, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("XX"), "{p}");
}

#[test]
fn allowed_values_are_never_reported_exact_or_by_pattern_per_request_and_stored() {
    let s = Server::start();
    let text = "Write to support@acme.example or ann@example.com, call +1 212 555 0199.";
    let (_, v) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({ "text": text, "allow_list": ["SUPPORT@acme.example"] })),
    );
    let f = found(text, &v);
    assert!(
        !has(&f, "EMAIL_ADDRESS", "support@acme.example")
            && has(&f, "EMAIL_ADDRESS", "ann@example.com"),
        "{v}"
    );
    let (_, v) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(
            json!({ "text": text, "allow_list": ["@example\\.com$"], "allow_list_match": "regex" }),
        ),
    );
    let f = found(text, &v);
    assert!(
        has(&f, "EMAIL_ADDRESS", "support@acme.example")
            && !has(&f, "EMAIL_ADDRESS", "ann@example.com"),
        "{v}"
    );
    let (st, _) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({ "text": text, "allow_list": ["("], "allow_list_match": "regex" })),
    );
    assert_eq!(st, 400);
    // Stored: an allow dictionary with a pattern drops the phone number for every request.
    let (st, v) = s.call(
        "PUT",
        "/v1/pii/dictionaries/switchboard",
        Some(json!({ "kind": "allow", "patterns": ["555 0199$"] })),
    );
    assert_eq!(st, 201, "{v}");
    let (_, v) = s.call("POST", "/v1/pii/detect", Some(json!({ "text": text })));
    assert!(
        !found(text, &v).iter().any(|(t, _)| t == "PHONE_NUMBER"),
        "{v}"
    );
    let (st, p) = s.call(
        "PUT",
        "/v1/pii/dictionaries/bad",
        Some(json!({ "kind": "deny", "entity_type": "X", "terms": ["y"], "patterns": ["z"] })),
    );
    assert_eq!(st, 422, "{p}");
}

#[test]
fn ad_hoc_recognizers_run_in_the_sandbox_and_bad_ones_are_refused() {
    let s = Server::start();
    let text = "Employee EMP-123456 reported it.";
    let body = json!({
        "text": text,
        "recognizers": [{
            "name": "employees", "entity_type": "EMPLOYEE_ID",
            "patterns": [{"name": "emp", "regex": "EMP-[0-9]{6}", "score": 0.6}],
            "context": ["employee"]
        }],
        "explain": true
    });
    let (st, v) = s.call("POST", "/v1/pii/detect", Some(body));
    assert_eq!(st, 200, "{v}");
    assert!(has(&found(text, &v), "EMPLOYEE_ID", "EMP-123456"), "{v}");
    let f = &v["findings"][0];
    assert!(f["score"].as_f64().unwrap() > 0.9, "context raised it: {f}");
    assert!(
        f["explanation"].as_str().unwrap().contains("context"),
        "{f}"
    );
    // Look-around is not Rust regex syntax: an invalid-input problem naming the recognizer.
    let (st, p) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({
            "text": text,
            "recognizers": [{"name": "bad", "entity_type": "X", "patterns": [{"name": "p", "regex": "(?<=a)b", "score": 0.5}]}]
        })),
    );
    assert_eq!(st, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("bad"), "{p}");
    // A deny-list recognizer.
    let (_, v) = s.call(
        "POST",
        "/v1/pii/detect",
        Some(json!({
            "text": "Project Bluebird ships Friday",
            "recognizers": [{"name": "codenames", "entity_type": "CODENAME", "deny_list": ["bluebird"]}]
        })),
    );
    assert!(
        has(
            &found("Project Bluebird ships Friday", &v),
            "CODENAME",
            "Bluebird"
        ),
        "{v}"
    );
}

#[test]
fn stored_recognizers_run_for_their_tenant_only_and_import_from_presidio_yaml() {
    let s = Server::start();
    let yaml = r#"
recognizers:
  - name: "Zip code Recognizer"
    supported_language: "en"
    patterns:
      - name: "zip code (weak)"
        regex: "(\\b\\d{5}(?:\\-\\d{4})?\\b)"
        score: 0.55
    context:
      - zip
    supported_entity: "ZIP"
  - name: "Titles recognizer"
    supported_language: "en"
    supported_entity: "TITLE"
    deny_list:
      - Mr.
      - Mrs.
  - name: SpacyRecognizer
    type: predefined
"#;
    let (st, v) = s.raw(
        "POST",
        "/v1/pii/recognizers/import",
        &[("content-type", "application/yaml")],
        yaml.as_bytes().to_vec(),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["stored"],
        json!(["zip-code-recognizer", "titles-recognizer"]),
        "{v}"
    );
    assert_eq!(v["skipped"].as_array().unwrap().len(), 1, "{v}");
    let text = "Send it to zip 10001 please";
    let (_, d) = s.call("POST", "/v1/pii/detect", Some(json!({ "text": text })));
    assert!(has(&found(text, &d), "ZIP", "10001"), "{d}");
    // Another tenant does not see them.
    let other = token("other", "bob", ALL_ROLES);
    let (_, d) = s.call_as(
        Some(&other),
        "POST",
        "/v1/pii/detect",
        Some(json!({ "text": text })),
    );
    assert!(!found(text, &d).iter().any(|(t, _)| t == "ZIP"), "{d}");
    // Managed one by one.
    let (st, r) = s.call("GET", "/v1/pii/recognizers/zip-code-recognizer", None);
    assert_eq!((st, r["entity_type"].as_str()), (200, Some("ZIP")), "{r}");
    let (st, p) = s.call(
        "PUT",
        "/v1/pii/recognizers/broken",
        Some(
            json!({ "entity_type": "X", "patterns": [{"name": "p", "regex": "(a", "score": 0.5}] }),
        ),
    );
    assert_eq!(st, 422, "{p}");
    assert_eq!(
        s.call("DELETE", "/v1/pii/recognizers/zip-code-recognizer", None)
            .0,
        204
    );
    let (_, d) = s.call("POST", "/v1/pii/detect", Some(json!({ "text": text })));
    assert!(!found(text, &d).iter().any(|(t, _)| t == "ZIP"), "{d}");
    let (st, list) = s.call("GET", "/v1/pii/recognizers", None);
    assert_eq!(st, 200);
    assert!(list.to_string().contains("titles-recognizer"), "{list}");
}

#[test]
fn tenant_defaults_choose_what_runs_and_a_typo_is_refused() {
    let s = Server::start();
    let text = "Kennzeichen B-AB 1234, mail ann@example.com";
    let (st, v) = s.call(
        "PUT",
        "/v1/admin/tenant",
        Some(json!({ "pii": { "countries": ["DE"] } })),
    );
    assert_eq!(st, 200, "{v}");
    let (_, d) = s.call("POST", "/v1/pii/detect", Some(json!({ "text": text })));
    let f = found(text, &d);
    assert!(
        f.iter().any(|(t, _)| t == "DE_KFZ") && has(&f, "EMAIL_ADDRESS", "ann@example.com"),
        "{d}"
    );
    let (st, v) = s.call(
        "PUT",
        "/v1/admin/tenant",
        Some(json!({ "pii": { "entities": ["EMAIL_ADRESS"] } })),
    );
    assert_eq!(st, 422, "{v}");
    assert!(v.to_string().contains("EMAIL_ADRESS"), "{v}");
}

#[test]
fn presidio_analyzer_requests_get_presidio_answers_with_character_offsets() {
    let s = Server::start();
    // Non-ASCII before the value: Presidio counts characters, Warden's own API bytes.
    let text = "Zoë's e-mail: zoe@example.com";
    let (st, v) = s.call(
        "POST",
        "/presidio/analyze",
        Some(json!({ "text": text, "language": "en" })),
    );
    assert_eq!(st, 200, "{v}");
    let email = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["entity_type"] == "EMAIL_ADDRESS")
        .unwrap();
    let chars: Vec<char> = text.chars().collect();
    let (a, b) = (
        email["start"].as_u64().unwrap() as usize,
        email["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(chars[a..b].iter().collect::<String>(), "zoe@example.com");
    assert!(email["recognition_metadata"]["recognizer_name"].is_string());
    // A list of texts answers a list of lists; the shapes Presidio's e2e tests send.
    let (st, v) = s.call(
        "POST",
        "/presidio/analyze",
        Some(json!({
            "text": ["John Smith drivers license is AC432223", "my zip code is 90210"],
            "language": "en",
            "score_threshold": 0.5,
            "return_decision_process": true,
            "ad_hoc_recognizers": [{
                "name": "Zip code Recognizer", "supported_language": "en",
                "patterns": [{"name": "zip code (weak)", "regex": "(\\b\\d{5}(?:\\-\\d{4})?\\b)", "score": 0.01}],
                "context": ["zip", "code"], "supported_entity": "ZIP"
            }],
            "context": ["zip"]
        })),
    );
    assert_eq!(st, 200, "{v}");
    let lists = v.as_array().unwrap();
    assert_eq!(lists.len(), 2);
    assert!(
        lists[1]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["entity_type"] == "ZIP" && r["analysis_explanation"].is_object()),
        "{v}"
    );
    let (st, ents) = s.call("GET", "/presidio/supportedentities?language=en", None);
    assert_eq!(st, 200);
    assert!(ents.as_array().unwrap().iter().any(|e| e == "IBAN_CODE"));
    let (st, recs) = s.call("GET", "/presidio/recognizers?language=en", None);
    assert_eq!((st, recs.is_array()), (200, true));
}

#[test]
fn presidio_anonymizer_requests_follow_its_end_to_end_tests() {
    let s = Server::start();
    // presidio e2e-tests/tests/test_anonymizer.py
    let (st, v) = s.call(
        "POST",
        "/presidio/anonymize",
        Some(json!({
            "text": "hello world, my name is Jane Doe. My number is: 034453334",
            "anonymizers": {
                "DEFAULT": { "type": "replace", "new_value": "ANONYMIZED" },
                "PHONE_NUMBER": { "type": "mask", "masking_char": "*", "chars_to_mask": 4, "from_end": true }
            },
            "analyzer_results": [
                { "start": 24, "end": 32, "score": 0.8, "entity_type": "NAME" },
                { "start": 24, "end": 28, "score": 0.8, "entity_type": "FIRST_NAME" },
                { "start": 29, "end": 32, "score": 0.6, "entity_type": "LAST_NAME" },
                { "start": 48, "end": 57, "score": 0.95, "entity_type": "PHONE_NUMBER" }
            ]
        })),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        v["text"],
        "hello world, my name is ANONYMIZED. My number is: 03445****"
    );
    let (_, v) = s.call("GET", "/presidio/anonymizers", None);
    assert!(v.as_array().unwrap().iter().any(|o| o == "encrypt"));
    // Encrypt, then both deanonymize and the older decrypt restore the value.
    let key = "1111111111111111";
    let (st, enc) = s.call(
        "POST",
        "/presidio/anonymize",
        Some(json!({
            "text": "text_for_encryption",
            "anonymizers": {"DEFAULT": {"type": "encrypt", "key": key}},
            "analyzer_results": [{"start": 0, "end": 19, "score": 0.8, "entity_type": "NAME"}]
        })),
    );
    assert_eq!(st, 200, "{enc}");
    let cipher = enc["text"].as_str().unwrap().to_owned();
    assert_ne!(cipher, "text_for_encryption");
    let (st, v) = s.call(
        "POST",
        "/presidio/decrypt",
        Some(json!({ "text": cipher, "key": key })),
    );
    assert_eq!(
        (st, v["result"].as_str()),
        (200, Some("text_for_encryption")),
        "{v}"
    );
    let n = cipher.chars().count();
    let (st, v) = s.call(
        "POST",
        "/presidio/deanonymize",
        Some(json!({
            "text": format!("name: {cipher}"),
            "deanonymizers": {"DEFAULT": {"type": "decrypt", "key": key}},
            "anonymizer_results": [{"start": 6, "end": 6 + n, "entity_type": "NAME"}]
        })),
    );
    assert_eq!(
        (st, v["text"].as_str()),
        (200, Some("name: text_for_encryption")),
        "{v}"
    );
    // Presidio's own vector: its ciphertext decrypts here too.
    let (_, v) = s.call(
        "POST",
        "/presidio/decrypt",
        Some(json!({ "key": key, "text": "e6HnOMnIxbd4a8Qea44LshQDnjvxwzBIaAz+YqHNnMW2mC5r3AWoay8Spsoajyyy" })),
    );
    assert_eq!(v["result"], "text_for_encryption", "{v}");
    // A short key and the custom operator are refused.
    let (st, _) = s.call(
        "POST",
        "/presidio/decrypt",
        Some(json!({ "key": "invalidkey", "text": cipher })),
    );
    assert_eq!(st, 400);
    let (st, p) = s.call(
        "POST",
        "/presidio/anonymize",
        Some(json!({
            "text": "abc", "anonymizers": {"DEFAULT": {"type": "custom", "lambda": "lambda x: x"}},
            "analyzer_results": [{"start": 0, "end": 3, "score": 1.0, "entity_type": "X"}]
        })),
    );
    assert_eq!(st, 400, "{p}");
}

#[test]
fn presidio_clients_without_headers_authenticate_with_url_credentials_there_only() {
    let s = Server::start();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "warden:{}",
            token("default", "litellm", &["operator"])
        ))
    );
    let send = |path: &str| {
        s.clone_client()
            .post(format!("{}{path}", s.url))
            .header("authorization", &basic)
            .json(&json!({ "text": "ann@example.com", "language": "en" }))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(send("/presidio/analyze"), 200);
    assert_eq!(
        send("/v1/pii/detect"),
        401,
        "Basic credentials are for the Presidio routes only"
    );
    // Without credentials: 401.
    let st = s
        .clone_client()
        .post(format!("{}/presidio/analyze", s.url))
        .json(&json!({ "text": "x", "language": "en" }))
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(st, 401);
}
