//! Black-box tests of the OpenAI-compatible gateway (`/v1/openai`): the official `openai`
//! Python package (installed into a virtual environment this test creates) is the client,
//! against a real `warden serve`.
//!
//! A real model cannot run here, so the providers are stand-ins for that third party: one
//! small OpenAI-compatible server on loopback started by the test, which records the exact
//! bytes of every request it receives and answers by quoting the last user message (so the
//! placeholders it was sent come back and must be restored). Streamed answers are split at
//! awkward places: three characters per event (so placeholders straddle events), and in
//! `bytewise` mode every byte in its own TCP write (so events and UTF-8 characters are split).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::Server;
use serde_json::{Value, json};

const EMAIL: &str = "ann.lee@example.com";
const PHONE: &str = "+1 212-555-0147";
const SSN: &str = "214-13-6899";
/// An address the stand-in adds to every answer: personal data the conversation did not hold.
const NEW_EMAIL: &str = "helpdesk@standin.example.org";

/// What the stand-in saw.
#[derive(Default)]
struct Seen {
    /// The raw bodies, as received.
    bodies: Vec<String>,
    /// Streams whose client went away before the stream was over.
    aborted: usize,
}

/// The stand-in provider.
struct StandIn {
    url: String,
    seen: Arc<Mutex<Seen>>,
    open_streams: Arc<AtomicUsize>,
}

impl StandIn {
    fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let open_streams = Arc::new(AtomicUsize::new(0));
        let (s, o) = (seen.clone(), open_streams.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (s, o) = (s.clone(), o.clone());
                std::thread::spawn(move || serve(conn, &s, &o));
            }
        });
        StandIn {
            url,
            seen,
            open_streams,
        }
    }

    fn bodies(&self) -> Vec<String> {
        self.seen.lock().unwrap().bodies.clone()
    }

    fn clear(&self) {
        self.seen.lock().unwrap().bodies.clear();
    }
}

fn read_request(conn: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let path = first.split_whitespace().nth(1)?.to_owned();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some((path, String::from_utf8(body).ok()?))
}

/// The answer to a chat request: a quote of the last user message, or a tool call quoting it.
fn answer_of(req: &Value) -> (String, Option<(String, String)>) {
    let last = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let text = format!("Noted — «{last}». Questions: {NEW_EMAIL} ☕");
    let tool = req["tools"][0]["function"]["name"]
        .as_str()
        .map(|name| (name.to_owned(), json!({"note": last}).to_string()));
    (text, tool)
}

fn split3(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(3).map(|c| c.iter().collect()).collect()
}

fn serve(mut conn: TcpStream, seen: &Mutex<Seen>, open: &AtomicUsize) {
    let _ = conn.set_nodelay(true);
    let Some((path, body)) = read_request(&conn) else {
        return;
    };
    seen.lock().unwrap().bodies.push(body.clone());
    let req: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let model = req["model"].as_str().unwrap_or_default().to_owned();
    let respond = |conn: &mut TcpStream, status: &str, body: &str| {
        let _ = write!(
            conn,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
    };
    if model == "down" {
        respond(
            &mut conn,
            "503 Service Unavailable",
            r#"{"error": "overloaded"}"#,
        );
        return;
    }
    if path.ends_with("/embeddings") {
        let n = req["input"].as_array().map_or(1, Vec::len);
        let data: Vec<Value> = (0..n)
            .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.25, -0.5]}))
            .collect();
        let out = json!({"object": "list", "data": data, "model": model,
                         "usage": {"prompt_tokens": 4, "total_tokens": 4}});
        respond(&mut conn, "200 OK", &out.to_string());
        return;
    }
    let (text, tool) = answer_of(&req);
    if req["stream"] != true {
        let message = match &tool {
            Some((name, args)) => json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": args}}]}),
            None => json!({"role": "assistant", "content": text}),
        };
        let out = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": if tool.is_some() {"tool_calls"} else {"stop"}}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}});
        respond(&mut conn, "200 OK", &out.to_string());
        return;
    }
    let _ = conn.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
    );
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let bytewise = model == "bytewise";
    let send = |conn: &mut TcpStream, event: &str| -> bool {
        if bytewise {
            event
                .as_bytes()
                .iter()
                .all(|b| conn.write_all(&[*b]).and_then(|()| conn.flush()).is_ok())
        } else {
            conn.write_all(event.as_bytes()).is_ok()
        }
    };
    if model == "slow" {
        open.fetch_add(1, Ordering::SeqCst);
        let start = Instant::now();
        let mut gone = false;
        while start.elapsed() < Duration::from_secs(60) {
            if !send(&mut conn, &chunk(json!({"content": "tick "}), Value::Null)) {
                gone = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        open.fetch_sub(1, Ordering::SeqCst);
        if gone {
            seen.lock().unwrap().aborted += 1;
        }
        return;
    }
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    match &tool {
        Some((name, args)) => {
            events.push(chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                       "function": {"name": name, "arguments": ""}}]}),
                Value::Null,
            ));
            for piece in split3(args) {
                events.push(chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                    Value::Null,
                ));
            }
            events.push(chunk(json!({}), json!("tool_calls")));
        }
        None => {
            for piece in split3(&text) {
                events.push(chunk(json!({"content": piece}), Value::Null));
            }
            events.push(chunk(json!({}), json!("stop")));
        }
    }
    if req["stream_options"]["include_usage"] == true {
        events.push(format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": model,
                   "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}})
        ));
    }
    events.push("data: [DONE]\n\n".to_owned());
    for e in events {
        if !send(&mut conn, &e) {
            return;
        }
    }
}

struct Setup {
    server: Server,
    standin: StandIn,
}

fn setup() -> Setup {
    let standin = StandIn::start();
    let u = &standin.url;
    // `max_batch = 3`: a request with up to three texts is scanned and re-checked in one
    // sandbox call; `tool_request`'s four go in batches, then the re-check.
    let server = Server::with_config(&format!(
        r#"
[pii]
max_batch = 3

[providers.external]
base_url = "{u}"
model = "echo"
allow_pii = false

[providers.bytewise]
base_url = "{u}"
model = "bytewise"
allow_pii = false

[providers.local]
base_url = "{u}"
model = "echo"
allow_pii = true

[providers.slow]
base_url = "{u}"
model = "slow"
allow_pii = true

[providers.down]
base_url = "{u}"
model = "down"
max_retries = 1
timeout = "2s"

[gateway.models.assistant]
default = "external"
rules = [{{ when = {{ any_entity = ["US_SSN"] }}, provider = "local" }}]

[gateway.models.guarded]
default = "external"
detectors = ["bad"]

[gateway.models.scanned]
default = "external"
scan_answers = true
"#
    ));
    Setup { server, standin }
}

fn python() -> PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("openai-venv");
        common::python::venv(&dir, &["openai>=1.40"], "import openai")
    })
    .clone()
}

/// Runs the `openai` package against the gateway: `op` with `request`.
fn client(s: &Setup, op: &str, request: Value) -> Value {
    let spec = json!({"base_url": format!("{}/v1/openai", s.server.url), "api_key": s.server.token,
                      "op": op, "request": request});
    let out = std::process::Command::new(python())
        .arg(common::root().join("tests/openai/client.py"))
        .arg(spec.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "client.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "client.py printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A request without the `openai` package (GET without a body, else POST), for what it
/// cannot send; OpenAI routes answer errors as OpenAI error objects, not problem documents.
fn raw(s: &Setup, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{path}", s.server.url);
    let c = common::http();
    let req = match body {
        Some(b) => c.post(url).json(&b),
        None => c.get(url),
    };
    let r = req.bearer_auth(token).send().unwrap();
    let status = r.status().as_u16();
    assert_eq!(
        r.headers()["content-type"],
        "application/json",
        "OpenAI routes answer JSON"
    );
    (status, r.json().unwrap())
}

/// A support agent's system prompt and [`user_message`].
fn support_chat() -> Value {
    json!({"model": "external", "messages": [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": user_message()}]})
}

fn user_message() -> String {
    format!("Please call Ann at {PHONE} or mail {EMAIL} about the refund.")
}

fn assert_never_sent(s: &Setup, values: &[&str]) {
    let bodies = s.standin.bodies();
    assert!(!bodies.is_empty(), "the provider received nothing");
    for b in &bodies {
        for v in values {
            assert!(!b.contains(v), "the provider received {v:?}: {b}");
        }
    }
}

#[test]
fn a_chat_for_a_provider_without_allow_pii_is_pseudonymised_and_the_answer_restored() {
    let s = setup();
    let r = client(&s, "chat", support_chat());
    assert_never_sent(&s, &[EMAIL, PHONE]);
    let sent = &s.standin.bodies()[0];
    assert!(sent.contains("<EMAIL_ADDRESS_1>"), "{sent}");
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(
        content,
        format!("Noted — «{}». Questions: {NEW_EMAIL} ☕", user_message())
    );
    assert_eq!(r["model"], "external");
    assert_eq!(r["usage"]["total_tokens"], 30);
}

#[test]
fn a_stream_split_anywhere_reaches_the_client_restored_without_half_placeholders() {
    let s = setup();
    for model in ["external", "bytewise"] {
        let r = client(
            &s,
            "stream",
            json!({"model": model, "messages": [{"role": "user", "content": user_message()}],
                   "stream_options": {"include_usage": true}}),
        );
        let deltas: Vec<&str> = r["deltas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        for d in &deltas {
            assert!(
                !d.contains('<') && !d.contains('>'),
                "{model}: a placeholder (or part of one) reached the client: {deltas:?}"
            );
        }
        assert_eq!(
            deltas.concat(),
            format!("Noted — «{}». Questions: {NEW_EMAIL} ☕", user_message()),
            "{model}"
        );
        assert!(
            deltas.len() > 10,
            "{model}: the answer was not streamed: {deltas:?}"
        );
        assert_eq!(r["finish"], "stop");
        assert_eq!(
            r["usage"], 30,
            "{model}: the usage chunk the client asked for"
        );
    }
    assert_never_sent(&s, &[EMAIL, PHONE]);
}

fn tool_request() -> Value {
    json!({"model": "external",
        "tools": [{"type": "function", "function": {"name": "send_mail", "description": "Send a mail",
                   "parameters": {"type": "object", "properties": {"note": {"type": "string"}}}}}],
        "messages": [
            {"role": "user", "content": "Who wrote last?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_0", "type": "function",
                "function": {"name": "lookup", "arguments": json!({"email": EMAIL}).to_string()}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": format!("Last mail from {PHONE}")},
            {"role": "user", "content": user_message()}]})
}

#[test]
fn tool_calls_and_tool_results_are_pseudonymised_and_tool_call_arguments_restored() {
    let s = setup();
    let r = client(&s, "chat", tool_request());
    assert_never_sent(&s, &[EMAIL, PHONE]);
    let args = r["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .unwrap();
    let args: Value = serde_json::from_str(args).unwrap();
    assert_eq!(args["note"], user_message());

    let mut streamed = tool_request();
    streamed["model"] = json!("bytewise");
    let r = client(&s, "stream", streamed);
    let pieces: Vec<&str> = r["tool_args"]["0"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in &pieces {
        assert!(
            !p.contains('<'),
            "a placeholder piece reached the client: {pieces:?}"
        );
    }
    let args: Value = serde_json::from_str(&pieces.concat()).unwrap();
    assert_eq!(args["note"], user_message());
    assert_eq!(r["finish"], "tool_calls");
    assert_never_sent(&s, &[EMAIL, PHONE]);
}

#[test]
fn personal_data_outside_the_rewritten_texts_is_caught_on_the_exact_bytes_and_refused() {
    let s = setup();
    let mut request = tool_request();
    request["tools"][0]["function"]["description"] = json!(format!("Mail {EMAIL} a note"));
    assert_refused_for_an_email_address(&s, client(&s, "chat", request));
}

/// `r` is the re-check's refusal naming an e-mail address, and nothing reached the provider.
fn assert_refused_for_an_email_address(s: &Setup, r: Value) {
    assert_eq!(r["status"], 422, "{r}");
    assert_eq!(r["body"]["code"], "pii_refused", "{r}");
    assert!(
        r["body"]["message"]
            .as_str()
            .unwrap()
            .contains("EMAIL_ADDRESS"),
        "{r}"
    );
    assert!(s.standin.bodies().is_empty(), "the request was forwarded");
}

/// The `pii.detect` audit records of `s`'s server, once `n` of them are written (the audit
/// writer batches records).
fn detect_records(s: &Setup, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (st, page) = s
            .server
            .call("GET", "/v1/audit?action=pii.detect&limit=50", None);
        assert_eq!(st, 200, "{page}");
        let records = page["records"].as_array().cloned().unwrap_or_default();
        if records.len() >= n {
            return records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} pii.detect records, not {n}: {page}",
            records.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_bytes_to_send_are_re_checked_in_the_scans_own_call_and_after_batches() {
    let s = setup();
    // Two texts: scanned, decided and re-checked in one sandbox call, one audit record.
    let r = client(&s, "chat", support_chat());
    assert!(
        r["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains(EMAIL),
        "{r}"
    );
    assert_never_sent(&s, &[EMAIL, PHONE]);
    let records = detect_records(&s, 1);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["outcome"], "ok", "{records:?}");
    assert!(
        records[0]["detail"]
            .as_str()
            .unwrap()
            .contains("2 texts, then the text to send"),
        "{records:?}"
    );
    // In that one call, the re-check still refuses what the pseudonymisation left in place.
    s.standin.clear();
    let r = client(
        &s,
        "chat",
        json!({"model": "external",
            "tools": [{"type": "function", "function": {"name": "send_mail",
                "description": format!("Mail {EMAIL} a note"),
                "parameters": {"type": "object", "properties": {}}}}],
            "messages": [{"role": "user", "content": user_message()}]}),
    );
    assert_refused_for_an_email_address(&s, r);
    // Four texts, over `max_batch`: two batches, then the re-check of the bytes sent.
    let r = client(&s, "chat", tool_request());
    assert!(r["choices"][0]["message"].is_object(), "{r}");
    assert_never_sent(&s, &[EMAIL, PHONE]);
    let records = detect_records(&s, 5);
    let details: Vec<&str> = records
        .iter()
        .filter_map(|r| r["detail"].as_str())
        .collect();
    assert_eq!(details.len(), 5, "{records:?}");
    for want in ["3 texts", "1 texts"] {
        assert!(details.contains(&want), "{details:?}");
    }
}

#[test]
fn a_routed_model_picks_the_provider_by_findings() {
    let s = setup();
    let with_ssn = format!("My SSN is {SSN}, mail {EMAIL}");
    let r = client(
        &s,
        "chat",
        json!({"model": "assistant", "messages": [{"role": "user", "content": with_ssn}]}),
    );
    // US_SSN routes to `local`, which may see personal data: sent as it is.
    assert!(s.standin.bodies()[0].contains(SSN));
    assert!(
        r["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains(SSN)
    );
    s.standin.clear();
    let r = client(
        &s,
        "chat",
        json!({"model": "assistant", "messages": [{"role": "user", "content": user_message()}]}),
    );
    assert_never_sent(&s, &[EMAIL, PHONE]);
    assert!(
        r["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains(EMAIL)
    );
    let (st, audit) = s.server.call("GET", "/v1/audit?action=openai.chat", None);
    assert_eq!(st, 200, "{audit}");
    let text = audit.to_string();
    assert!(text.contains("provider local"), "{text}");
    assert!(text.contains("provider external"), "{text}");
    assert!(text.contains("EMAIL_ADDRESS ×1"), "{text}");
    for v in [EMAIL, PHONE, SSN] {
        assert!(!text.contains(v), "the audit log holds content: {text}");
    }
}

#[test]
fn an_analyzer_failure_refuses_the_request_and_sends_nothing() {
    let s = setup();
    let wasm = std::fs::read(common::component(
        "warden-fixture-bad-detector",
        "warden_fixture_bad_detector",
    ))
    .unwrap();
    assert_eq!(
        s.server.upload_as(&s.server.token, "bad", "1.0.0", wasm),
        201
    );
    let r = client(
        &s,
        "chat",
        json!({"model": "guarded", "messages": [{"role": "user", "content": "flood"}]}),
    );
    assert_eq!(r["status"], 503, "{r}");
    assert_eq!(r["body"]["code"], "pii_analyzer_failed", "{r}");
    assert!(
        r["body"]["message"]
            .as_str()
            .unwrap()
            .contains("not forwarded"),
        "{r}"
    );
    assert!(s.standin.bodies().is_empty(), "the request was forwarded");
    let r = client(
        &s,
        "stream",
        json!({"model": "guarded", "messages": [{"role": "user", "content": "flood"}]}),
    );
    assert_eq!(r["status"], 503, "{r}");
    assert!(s.standin.bodies().is_empty(), "the request was forwarded");
}

#[test]
fn provider_failures_and_unknown_models_are_openai_errors() {
    let s = setup();
    let r = client(
        &s,
        "chat",
        json!({"model": "down", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(r["status"], 502, "{r}");
    assert_eq!(r["body"]["code"], "provider_unavailable", "{r}");
    assert!(
        r["body"]["message"].as_str().unwrap().contains("2 attempt"),
        "{r}"
    );
    let r = client(
        &s,
        "chat",
        json!({"model": "nope", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert_eq!(r["status"], 404, "{r}");
    assert_eq!(r["body"]["type"], "not_found_error", "{r}");
    let (st, v) = raw(&s, "not-a-token", "/v1/openai/models", None);
    assert_eq!(st, 401);
    assert_eq!(v["error"]["type"], "authentication_error", "{v}");
}

#[test]
fn models_lists_providers_and_routed_models() {
    let s = setup();
    let r = client(&s, "models", json!({}));
    let ids: Vec<&str> = r["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for m in ["external", "local", "assistant", "guarded", "scanned"] {
        assert!(ids.contains(&m), "{ids:?}");
    }
}

#[test]
fn the_answer_scan_masks_personal_data_the_conversation_did_not_hold() {
    let s = setup();
    let request =
        json!({"model": "scanned", "messages": [{"role": "user", "content": user_message()}]});
    let r = client(&s, "chat", request.clone());
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(
        content.contains(EMAIL),
        "the conversation's own value is kept: {content}"
    );
    assert!(!content.contains(NEW_EMAIL), "{content}");
    assert!(content.contains("<EMAIL_ADDRESS>"), "{content}");
    assert_eq!(r["warden"]["flagged"]["EMAIL_ADDRESS"], 1, "{r}");
    let r = client(&s, "stream", request);
    let text: String = r["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(text.contains(EMAIL) && !text.contains(NEW_EMAIL), "{text}");
}

#[test]
fn a_client_that_disconnects_ends_the_upstream_request() {
    let s = setup();
    let r = client(
        &s,
        "stream_abort",
        json!({"model": "slow", "messages": [{"role": "user", "content": "count"}]}),
    );
    assert_eq!(r["first"], "tick ", "{r}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.standin.seen.lock().unwrap().aborted == 0 {
        assert!(
            Instant::now() < deadline,
            "the provider was still streaming 20 s after the client left"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.standin.open_streams.load(Ordering::SeqCst), 0);
}

#[test]
fn embeddings_pass_the_same_guard() {
    let s = setup();
    let r = client(
        &s,
        "embed",
        json!({"model": "external", "input": [user_message(), "plain words"]}),
    );
    assert_eq!(r["data"].as_array().unwrap().len(), 2, "{r}");
    assert_never_sent(&s, &[EMAIL, PHONE]);
    let body = json!({"model": "external", "input": [[1, 2, 3]]});
    let (st, v) = raw(&s, &s.server.token, "/v1/openai/embeddings", Some(body));
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["code"], "pii_refused", "{v}");
}

/// Creates pipeline `helper`: pseudonymise the prompt, ask `external`, and nothing after, so
/// its last step is `llm` and streams.
fn create_helper(s: &Setup) {
    let def = json!({
        "inputs": ["prompt"],
        "steps": [
            {"type": "anonymize", "input": "prompt", "output": "safe"},
            {"type": "llm", "provider": "external", "input": "safe", "output": "answer"}
        ]
    });
    let (st, v) = s
        .server
        .call("POST", "/v1/pipelines/helper/versions", Some(def));
    assert_eq!(st, 201, "{v}");
}

#[test]
fn a_pipeline_is_a_model_and_its_last_llm_step_streams() {
    let s = setup();
    create_helper(&s);
    let r = client(&s, "models", json!({}));
    assert!(
        r["ids"].as_array().unwrap().contains(&json!("helper")),
        "{r}"
    );
    let request =
        json!({"model": "helper", "messages": [{"role": "user", "content": user_message()}]});
    let r = client(&s, "chat", request.clone());
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    // The pipeline pseudonymised and has no deanonymize step: the answer keeps the placeholders.
    assert!(
        content.starts_with("Noted — «Please call Ann at"),
        "{content}"
    );
    assert!(content.contains("<EMAIL_ADDRESS_1>"), "{content}");
    assert_never_sent(&s, &[EMAIL, PHONE]);
    let r = client(&s, "stream", request);
    let deltas = r["deltas"].as_array().unwrap();
    assert!(deltas.len() > 10, "not streamed: {deltas:?}");
    let text: String = deltas.iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(text, content);
    assert_eq!(r["finish"], "stop");
    let r = client(
        &s,
        "chat",
        json!({"model": "helper@nope", "messages": [{"role": "user", "content": "x"}]}),
    );
    assert_eq!(r["status"], 404, "{r}");
}

#[test]
fn a_pipeline_run_streams_its_last_llm_step_then_the_result_with_its_trace() {
    let s = setup();
    create_helper(&s);
    let r = common::http()
        .post(format!("{}/v1/pipelines/helper/run", s.server.url))
        .bearer_auth(&s.server.token)
        .json(&json!({"variables": {"prompt": user_message()}, "stream": true}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let body = r.text().unwrap();
    let mut deltas = String::new();
    let mut result = Value::Null;
    let mut count = 0;
    for event in body.split("\n\n").filter(|e| !e.is_empty()) {
        let (kind, data) = event.split_once('\n').unwrap();
        let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        match kind {
            "event: delta" => {
                count += 1;
                deltas.push_str(data["text"].as_str().unwrap());
            }
            "event: result" => result = data,
            other => panic!("unexpected event {other}: {data}"),
        }
    }
    assert!(count > 10, "not streamed: {body}");
    assert_eq!(result["output"], deltas);
    assert_eq!(result["trace"].as_array().unwrap().len(), 2, "{result}");
    assert_eq!(result["trace"][1]["provider"], "external");
    // A run refused before its first token is an ordinary problem response.
    let (st, v) = s.server.call(
        "POST",
        "/v1/pipelines/helper/run",
        Some(json!({"variables": {}, "stream": true})),
    );
    assert_eq!(st, 422, "{v}");
}

#[test]
fn a_pipeline_with_one_input_of_its_own_gets_the_prompt_there() {
    let s = setup();
    let def = json!({
        "inputs": ["ticket"],
        "steps": [{"type": "llm", "provider": "local", "input": "ticket", "output": "answer"}]
    });
    let (st, v) = s
        .server
        .call("POST", "/v1/pipelines/ticketed/versions", Some(def));
    assert_eq!(st, 201, "{v}");
    let r = client(
        &s,
        "chat",
        json!({"model": "ticketed", "messages": [{"role": "user", "content": "Where is my parcel?"}]}),
    );
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.starts_with("Noted — «Where is my parcel?»"), "{r}");
}
