//! Black-box tests of pipelines against the real `warden serve` and stand-in LLM providers.
//!
//! A real model cannot run here, so each provider is a small OpenAI-compatible chat-completions
//! server started on loopback by the test (a stub for that third party): it records every
//! request it receives and answers `ECHO: <the last user message>`, or fails on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::Server;
use serde_json::{Value, json};

/// How a stub provider answers.
#[derive(Clone, Copy)]
enum Mode {
    /// 200 with `ECHO: <last user message>`.
    Echo,
    /// 503 every time.
    Down,
    /// Reads the request and never answers.
    Hang,
}

/// A stand-in provider on loopback; `received` holds every request body.
struct Stub {
    url: String,
    received: Arc<Mutex<Vec<Value>>>,
}

impl Stub {
    fn start(mode: Mode) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = received.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let rec = rec.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut len = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.to_ascii_lowercase();
                        if let Some(v) = l.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0u8; len];
                    reader.read_exact(&mut body).unwrap();
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let last = body["messages"]
                        .as_array()
                        .and_then(|m| m.last())
                        .and_then(|m| m["content"].as_str())
                        .unwrap_or_default()
                        .to_owned();
                    rec.lock().unwrap().push(body);
                    let (status, answer) = match mode {
                        Mode::Echo => (
                            "200 OK",
                            json!({"choices": [{"message": {"role": "assistant", "content": format!("ECHO: {last}")}}],
                                   "usage": {"total_tokens": 10}})
                            .to_string(),
                        ),
                        Mode::Down => ("503 Service Unavailable", "{\"error\": \"overloaded\"}".to_owned()),
                        Mode::Hang => {
                            std::thread::sleep(std::time::Duration::from_secs(600));
                            return;
                        }
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                });
            }
        });
        Stub { url, received }
    }

    fn prompts(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["messages"].to_string())
            .collect()
    }
}

struct Setup {
    server: Server,
    local: Stub,
    external: Stub,
    down: Stub,
    hang: Stub,
}

fn setup() -> Setup {
    let (local, external, down, hang) = (
        Stub::start(Mode::Echo),
        Stub::start(Mode::Echo),
        Stub::start(Mode::Down),
        Stub::start(Mode::Hang),
    );
    let server = Server::with_config(&format!(
        "[providers.local]\nbase_url = \"{}\"\nmodel = \"stub\"\nallow_pii = true\n\n\
         [providers.external]\nbase_url = \"{}\"\nmodel = \"stub\"\nallow_pii = false\n\n\
         [providers.down]\nbase_url = \"{}\"\nmodel = \"stub\"\nmax_retries = 2\ntimeout = \"2s\"\n\n\
         [providers.hang]\nbase_url = \"{}\"\nmodel = \"stub\"\nallow_pii = true\ntimeout = \"10m\"\n",
        local.url, external.url, down.url, hang.url
    ));
    let (st, v) = server.call(
        "POST",
        "/v1/templates/ticket/versions",
        Some(json!({"template": "Customer message: {{ ticket }}"})),
    );
    assert_eq!(st, 201, "{v}");
    Setup {
        server,
        local,
        external,
        down,
        hang,
    }
}

fn triage() -> Value {
    json!({
        "description": "support-ticket triage",
        "inputs": ["ticket"],
        "steps": [
            {"type": "render", "template": "ticket", "output": "prompt"},
            {"type": "anonymize", "input": "prompt", "output": "safe_prompt"},
            {"type": "route", "findings": "safe_prompt",
             "rules": [{"when": {"any_entity": ["AU_TFN", "AU_MEDICARE"]}, "provider": "local"}],
             "default": "external", "output": "provider"},
            {"type": "llm", "provider_from": "provider", "input": "safe_prompt", "output": "answer"},
            {"type": "deanonymize", "input": "answer", "output": "reply"}
        ],
        "labels": ["production"],
        "message": "first"
    })
}

/// Creates the `triage` pipeline (labelled `production`); checks it pins the ticket template.
fn create_triage(s: &Setup) {
    let (st, v) = s
        .server
        .call("POST", "/v1/pipelines/triage/versions", Some(triage()));
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["pins"]["templates"]["0"], 1, "{v}");
}

/// Runs `triage` on a ticket holding only an email address; returns the answer.
fn run_triage_on_an_email(s: &Setup) -> Value {
    let (st, r) = s.server.call(
        "POST",
        "/v1/pipelines/triage/run",
        Some(json!({"variables": {"ticket": "please email jane.doe@example.com about my refund"}})),
    );
    assert_eq!(st, 200, "{r}");
    r
}

#[test]
fn triage_pseudonymises_an_email_for_the_external_provider_and_restores_it() {
    let s = setup();
    create_triage(&s);
    let r = run_triage_on_an_email(&s);
    assert_eq!(
        r["output"],
        "ECHO: Customer message: please email jane.doe@example.com about my refund"
    );
    let sent = s.external.prompts();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].contains("jane.doe"), "{sent:?}");
    assert!(sent[0].contains("<EMAIL_ADDRESS_1>"), "{sent:?}");
    assert!(s.local.prompts().is_empty());
}

#[test]
fn the_triage_trace_carries_costs_and_counts_never_the_content() {
    let s = setup();
    create_triage(&s);
    let r = run_triage_on_an_email(&s);
    let trace = r["trace"].as_array().unwrap();
    assert_eq!(trace.len(), 5);
    assert_eq!(trace[1]["entities"]["EMAIL_ADDRESS"], 1, "{r}");
    assert_eq!(trace[2]["provider"], "external");
    assert_eq!(trace[3]["tokens"], 10);
    assert!(!r["trace"].to_string().contains("jane"), "{r}");
}

#[test]
fn triage_routes_a_tax_file_number_to_the_local_provider() {
    let s = setup();
    create_triage(&s);
    let (st, r) = s.server.call(
        "POST",
        "/v1/pipelines/triage/run",
        Some(json!({"variables": {"ticket": "my TFN is 123 456 782"}})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["trace"][2]["provider"], "local");
    assert_eq!(s.local.prompts().len(), 1);
    assert!(s.external.prompts().is_empty());
    assert_eq!(r["output"], "ECHO: Customer message: my TFN is 123 456 782");
}

#[test]
fn missing_pipeline_inputs_are_named() {
    let s = setup();
    create_triage(&s);
    let (st, p) = s.server.call(
        "POST",
        "/v1/pipelines/triage/run",
        Some(json!({"variables": {}})),
    );
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["errors"][0]["path"], "/variables/ticket");
}

#[test]
fn every_pipeline_step_is_in_the_audit_log() {
    let s = setup();
    create_triage(&s);
    run_triage_on_an_email(&s);
    let expected = [
        "pipeline.version.create",
        "pipeline.step.route",
        "pipeline.step.llm",
        "pipeline.run",
    ];
    // Call records are written in batches; wait until the run's are visible.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, log) = s
            .server
            .call("GET", "/v1/audit?action=pipeline.&limit=100", None);
        let actions: Vec<String> = log["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap().to_owned())
            .collect();
        let missing: Vec<&str> = expected
            .into_iter()
            .filter(|a| !actions.iter().any(|x| x == a))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{missing:?} not in {actions:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Creates `leaky`: the rendered ticket straight to the provider without `allow_pii`.
fn create_leaky(s: &Setup) {
    let def = json!({
        "inputs": ["ticket"],
        "steps": [
            {"type": "render", "template": "ticket", "output": "prompt"},
            {"type": "llm", "provider": "external", "input": "prompt", "output": "answer"}
        ]
    });
    let (st, v) = s
        .server
        .call("POST", "/v1/pipelines/leaky/versions", Some(def));
    assert_eq!(st, 201, "{v}");
}

#[test]
fn personal_data_never_reaches_a_provider_without_allow_pii() {
    let s = setup();
    create_leaky(&s);
    let (st, p) = s.server.call(
        "POST",
        "/v1/pipelines/leaky/run",
        Some(json!({"variables": {"ticket": "call me on jane.doe@example.com"}})),
    );
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["type"], "urn:warden:problem:pii-refused", "{p}");
    assert_eq!(p["step"], 1);
    assert_eq!(p["trace"][1]["outcome"], "policy_refused", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("EMAIL_ADDRESS"),
        "{p}"
    );
    assert!(
        s.external.prompts().is_empty(),
        "the provider received a request"
    );
}

#[test]
fn a_prompt_without_personal_data_reaches_a_provider_without_allow_pii() {
    let s = setup();
    create_leaky(&s);
    let (st, r) = s.server.call(
        "POST",
        "/v1/pipelines/leaky/run",
        Some(json!({"variables": {"ticket": "where is my parcel?"}})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(s.external.prompts().len(), 1);
}

#[test]
fn a_code_steps_llm_query_obeys_the_allow_pii_policy() {
    let s = setup();
    let def = json!({
        "inputs": ["ticket"],
        "steps": [{"type": "code", "tools": ["llm_query"],
                   "code": "llm_query('summarise: ' + ticket, 'external')", "output": "answer"}]
    });
    s.server
        .call("POST", "/v1/pipelines/leaky-code/versions", Some(def));
    let (st, p) = s.server.call(
        "POST",
        "/v1/pipelines/leaky-code/run",
        Some(json!({"variables": {"ticket": "mail jane.doe@example.com"}})),
    );
    assert_eq!(st, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("allow_pii"), "{p}");
    assert!(
        s.external.prompts().is_empty(),
        "the provider received a request"
    );
}

#[test]
fn a_cpython_code_step_calls_the_same_tools() {
    let s = setup();
    // Generators, a dataclass and `statistics`: beyond monty, the same tools.
    let code = "import statistics\nfrom dataclasses import dataclass\n@dataclass\nclass Piece:\n    text: str\ndef pieces(t):\n    for i in range(0, len(t), 20):\n        yield Piece(t[i:i + 20])\nanswers = [llm_query('find the date in: ' + p.text, 'local') for p in pieces(context)]\nfound = detect_pii(text='write to ada@example.com')\n{'pieces': len(answers), 'first': answers[0], 'mean': statistics.mean(len(a) for a in answers), 'entity': found[0]['entity_type'], 'rendered': render('ticket', {'ticket': 'x'})}";
    let def = json!({
        "inputs": ["context"],
        "steps": [{"type": "code", "runner": "cpython", "tools": ["llm_query", "detect_pii", "render"],
                   "output": "result", "code": code}]
    });
    let (st, v) = s
        .server
        .call("POST", "/v1/pipelines/rlm-cpython/versions", Some(def));
    assert_eq!(st, 201, "{v}");
    let (st, r) = s.server.call(
        "POST",
        "/v1/pipelines/rlm-cpython/run",
        Some(json!({"variables": {"context": "a".repeat(95)}})),
    );
    assert_eq!(st, 200, "{r}");
    let first = format!("ECHO: find the date in: {}", "a".repeat(20));
    assert_eq!(r["output"]["pieces"], 5, "{r}");
    assert_eq!(r["output"]["first"], first);
    assert_eq!(r["output"]["entity"], "EMAIL_ADDRESS");
    assert_eq!(r["output"]["rendered"], "Customer message: x");
    assert_eq!(r["trace"][0]["tool_calls"], 7, "{r}");
    assert_eq!(s.local.prompts().len(), 5);
    // A tool the step was not granted is not there, as on the default runner.
    let def = json!({"steps": [{"type": "code", "runner": "cpython", "output": "x",
                                "code": "llm_query('hello', 'local')"}]});
    s.server
        .call("POST", "/v1/pipelines/ungranted/versions", Some(def));
    let (st, p) = s
        .server
        .call("POST", "/v1/pipelines/ungranted/run", Some(json!({})));
    assert_eq!(st, 422, "{p}");
    assert!(p.to_string().contains("NameError"), "{p}");
    assert_eq!(s.local.prompts().len(), 5, "the provider was called");
}

#[test]
fn code_steps_call_tools_within_one_budget() {
    let s = setup();
    // A recursive-language-model loop: slice a long context, ask about each piece.
    let def = json!({
        "inputs": ["context"],
        "steps": [{"type": "code", "tools": ["llm_query", "detect_pii", "render"], "output": "result",
                   "code": "pieces = [context[i:i + 20] for i in range(0, len(context), 20)]\nanswers = [llm_query('find the date in: ' + p, 'local') for p in pieces]\nfound = detect_pii('write to ada@example.com')\nrendered = render('ticket', {'ticket': 'x'})\n{'pieces': len(pieces), 'first': answers[0], 'entity': found[0]['entity_type'], 'rendered': rendered}"}]
    });
    let (st, v) = s
        .server
        .call("POST", "/v1/pipelines/rlm/versions", Some(def));
    assert_eq!(st, 201, "{v}");
    let context = "a".repeat(95);
    let (st, r) = s.server.call(
        "POST",
        "/v1/pipelines/rlm/run",
        Some(json!({"variables": {"context": context}})),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["output"]["pieces"], 5, "{r}");
    assert_eq!(
        r["output"]["first"],
        format!("ECHO: find the date in: {}", "a".repeat(20))
    );
    assert_eq!(r["output"]["entity"], "EMAIL_ADDRESS");
    assert_eq!(r["output"]["rendered"], "Customer message: x");
    assert_eq!(r["trace"][0]["tool_calls"], 7, "{r}");
    assert_eq!(r["totals"]["llm_tokens"], 50);
    assert_eq!(s.local.prompts().len(), 5);
}

/// Creates `runaway`: a code step that calls `llm_query` up to 1000 times, swallowing the
/// errors, under a budget of four tool calls.
fn create_runaway(s: &Setup) {
    let def = json!({
        "steps": [{"type": "code", "tools": ["llm_query"], "output": "x",
                   "code": "n = 0\nwhile n < 1000:\n    try:\n        llm_query('again', 'local')\n    except Exception:\n        pass\n    n = n + 1\nn"}],
        "budget": {"tool_calls": 4}
    });
    s.server
        .call("POST", "/v1/pipelines/runaway/versions", Some(def));
}

#[test]
fn a_runaway_loop_stops_at_the_tool_call_budget_even_when_it_swallows_the_errors() {
    let s = setup();
    create_runaway(&s);
    let (st, p) = s
        .server
        .call("POST", "/v1/pipelines/runaway/run", Some(json!({})));
    assert_eq!(st, 422, "{p}");
    assert_eq!(p["type"], "urn:warden:problem:budget-exhausted", "{p}");
    assert_eq!(p["outcome"], "budget_exhausted");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("tool-call budget (4)"),
        "{p}"
    );
    assert_eq!(p["trace"][0]["outcome"], "budget_exhausted", "{p}");
    assert_eq!(s.local.prompts().len(), 4);
}

#[test]
fn the_token_budget_stops_llm_calls_and_a_run_may_lower_its_own_budget() {
    let s = setup();
    create_runaway(&s);
    let (st, p) = s.server.call(
        "POST",
        "/v1/pipelines/runaway/run",
        Some(json!({"budget": {"tool_calls": 100, "llm_tokens": 25}})),
    );
    assert_eq!(st, 422, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("token budget (25)"),
        "{p}"
    );
}

#[test]
fn a_pure_compute_runaway_stops_at_the_wall_clock_budget() {
    let s = setup();
    let def = json!({"steps": [{"type": "code", "code": "while True:\n    pass", "output": "x"}],
                     "budget": {"wall_time_ms": 300}});
    s.server
        .call("POST", "/v1/pipelines/spin/versions", Some(def));
    let (st, p) = s
        .server
        .call("POST", "/v1/pipelines/spin/run", Some(json!({})));
    assert!(st == 504 || st == 422, "{st} {p}");
    assert!(
        ["deadline_exceeded", "out_of_fuel"].contains(&p["outcome"].as_str().unwrap()),
        "{p}"
    );
}

#[test]
fn a_provider_outage_is_a_clear_error_after_retries() {
    let s = setup();
    let def = json!({
        "inputs": ["q"],
        "steps": [{"type": "llm", "provider": "down", "input": "q", "output": "a"}]
    });
    s.server
        .call("POST", "/v1/pipelines/outage/versions", Some(def));
    let (st, p) = s.server.call(
        "POST",
        "/v1/pipelines/outage/run",
        Some(json!({"variables": {"q": "hello"}})),
    );
    assert_eq!(st, 502, "{p}");
    assert_eq!(p["type"], "urn:warden:problem:provider-unavailable", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("3 attempt(s)"),
        "{p}"
    );
    assert_eq!(s.down.prompts().len(), 3);
}

#[test]
fn a_tool_call_that_never_returns_still_meets_the_deadline() {
    let s = setup();
    // The provider never answers; its own timeout is ten minutes. The run's 1.5 s wall-clock
    // budget is what ends the call, for the tool inside the code step and for the llm step.
    for (name, step) in [
        (
            "hang-code",
            json!({"type": "code", "tools": ["llm_query"], "code": "llm_query('hello', 'hang')", "output": "x"}),
        ),
        (
            "hang-llm",
            json!({"type": "llm", "provider": "hang", "input": "q", "output": "x"}),
        ),
    ] {
        let def = json!({"inputs": ["q"], "steps": [step], "budget": {"wall_time_ms": 1500}});
        let (st, v) = s
            .server
            .call("POST", &format!("/v1/pipelines/{name}/versions"), Some(def));
        assert_eq!(st, 201, "{v}");
        let (st, p) = s.server.call(
            "POST",
            &format!("/v1/pipelines/{name}/run"),
            Some(json!({"variables": {"q": "hi"}})),
        );
        assert!(st == 422 || st == 504, "{name}: {st} {p}");
        let outcome = p["outcome"].as_str().unwrap_or_default();
        assert!(
            ["budget_exhausted", "deadline_exceeded", "invalid_input"].contains(&outcome),
            "{name}: {p}"
        );
        assert!(
            p["detail"].as_str().unwrap().contains("deadline"),
            "{name}: {p}"
        );
    }
    assert_eq!(s.hang.prompts().len(), 2);
}

#[test]
fn an_invalid_definition_is_refused_naming_every_bad_path_and_stores_nothing() {
    let s = setup();
    let bad = json!({"steps": [
        {"type": "llm", "provider": "nowhere", "input": "missing", "output": "Bad Name"},
        {"type": "route", "findings": "nothing", "rules": [], "default": "local", "output": "p"},
        {"type": "code", "code": "1", "tools": ["rm_rf"], "output": "x"}
    ]});
    let (st, p) = s
        .server
        .call("POST", "/v1/pipelines/bad/versions", Some(bad));
    assert_eq!(st, 422, "{p}");
    let paths: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for want in [
        "/steps/0",
        "/steps/0/output",
        "/steps/1/findings",
        "/steps/2/tools/0",
    ] {
        assert!(paths.contains(&want), "{want} not in {paths:?}");
    }
    assert_eq!(s.server.call("GET", "/v1/pipelines/bad", None).0, 404);
}

/// Two versions of `triage`: 1 labelled `production`, 2 (`second`) labelled `staging`.
fn two_triage_versions(s: &Setup) {
    let mut def = triage();
    s.server
        .call("POST", "/v1/pipelines/triage/versions", Some(def.clone()));
    def["labels"] = json!([]);
    def["description"] = json!("second");
    s.server
        .call("POST", "/v1/pipelines/triage/versions", Some(def));
    let (st, _) = s.server.call(
        "PUT",
        "/v1/pipelines/triage/labels/staging",
        Some(json!({"version": 2})),
    );
    assert_eq!(st, 200);
}

#[test]
fn pipelines_are_versioned_and_labels_move() {
    let s = setup();
    two_triage_versions(&s);
    let (_, sum) = s.server.call("GET", "/v1/pipelines/triage", None);
    assert_eq!(sum["versions"], json!([1, 2]));
    assert_eq!(sum["labels"]["production"], 1);
    assert_eq!(sum["labels"]["latest"], 2);
    assert_eq!(sum["labels"]["staging"], 2);
}

#[test]
fn an_exported_pipeline_imports_into_another_tenant_once_with_its_labels() {
    let s = setup();
    two_triage_versions(&s);
    let (st, yaml) = s.server.text("/v1/pipelines/triage/export");
    assert_eq!(st, 200);
    assert!(yaml.contains("name: triage"), "{yaml}");
    let other = common::token("globex", "gus", common::ALL_ROLES);
    s.server.call_as(
        Some(&other),
        "POST",
        "/v1/templates/ticket/versions",
        Some(json!({"template": "Customer message: {{ ticket }}"})),
    );
    // The same pipeline; importing again changes nothing.
    for expected_created in [2, 0] {
        let (st, rep) = s.server.import_as(&other, "/v1/pipelines/import", &yaml);
        assert_eq!(st, 200, "{rep}");
        assert_eq!(rep["created"], expected_created, "{rep}");
    }
    let (_, sum) = s
        .server
        .call_as(Some(&other), "GET", "/v1/pipelines/triage", None);
    assert_eq!(sum["labels"]["staging"], 2, "{sum}");
}

#[test]
fn a_tenants_pipelines_are_invisible_to_other_tenants() {
    let s = setup();
    two_triage_versions(&s);
    assert_eq!(
        s.server
            .call_as(
                Some(&common::token("initech", "i", common::ALL_ROLES)),
                "GET",
                "/v1/pipelines/triage",
                None
            )
            .0,
        404
    );
}

#[test]
fn the_example_triage_pipeline_runs_as_its_readme_says() {
    let s = setup();
    let out = std::process::Command::new("bash")
        .arg(common::root().join("examples/pipelines/triage.sh"))
        .env("WARDEN", env!("CARGO_BIN_EXE_warden"))
        .env("WARDEN_SERVER", &s.server.url)
        .env("WARDEN_TOKEN", &s.server.token)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("triage complete"), "{stdout}");
    // The external model saw the email only as a token.
    let sent = s.external.prompts();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].contains("jane.doe"), "{sent:?}");
    assert_eq!(s.local.prompts().len(), 1);
}
