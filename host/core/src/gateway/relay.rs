//! Relaying a provider's streamed answer to the client: server-sent events are parsed as they
//! arrive (split anywhere, even inside a UTF-8 character), each chunk's text and tool-call
//! arguments pass through a [`Restorer`] so placeholders come out restored and never halved,
//! usage is taken from the provider (or counted), and dropping the stream — the client went
//! away — drops the upstream request with it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use serde_json::{Value, json};

use super::record::Meta;
use super::restore::{Encoding, Restorer};
use super::scan::AnswerScan;
use crate::pii::anonymize::Pseudonyms;
use crate::pipelines::{RunEvent, llm};

/// The client's side: `text/event-stream` pieces.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<String, Infallible>> + Send>>;

type Upstream = Pin<Box<dyn Stream<Item = Result<Event, EventStreamError<reqwest::Error>>> + Send>>;

/// How a stream is relayed.
pub struct Settings {
    /// The request's pseudonyms (empty: nothing to restore).
    pub vault: Arc<Pseudonyms>,
    /// The model name the client asked for, written into every chunk.
    pub model: String,
    /// Whether the client asked for the usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
    /// Longest wait for the provider's next event.
    pub idle: Duration,
    /// The request's wall-clock deadline.
    pub deadline: Instant,
    /// Bytes of prompt text, for counting tokens when the provider reports none.
    pub prompt_bytes: usize,
}

/// The answer scan of a stream: text is scanned a line or sentence at a time.
pub struct Scanner {
    /// The PII service and the caller.
    pub gateway: AnswerScan,
    /// Values the conversation itself contained (not flagged when the answer repeats them).
    pub originals: Vec<String>,
}

struct Relay {
    events: Upstream,
    s: Settings,
    text: BTreeMap<u64, Restorer>,
    args: BTreeMap<(u64, u64), Restorer>,
    scanner: Option<Scanner>,
    scan_held: BTreeMap<u64, String>,
    /// `id` and `created` of the provider's chunks, for a chunk the relay writes itself.
    frame: (Value, Value),
    streamed: usize,
    usage: Option<u64>,
    meta: Meta,
    finished: bool,
}

/// Relays `response` (a 2xx `text/event-stream`) under `s`.
pub fn relay(
    response: reqwest::Response,
    s: Settings,
    scanner: Option<Scanner>,
    meta: Meta,
) -> EventStream {
    let events: Upstream = Box::pin(response.bytes_stream().eventsource());
    let relay = Relay {
        events,
        s,
        text: BTreeMap::new(),
        args: BTreeMap::new(),
        scanner,
        scan_held: BTreeMap::new(),
        frame: (Value::String("chatcmpl-warden".into()), json!(0)),
        streamed: 0,
        usage: None,
        meta,
        finished: false,
    };
    Box::pin(futures_util::stream::unfold(
        (relay, false),
        |(mut r, flush)| async move {
            if flush {
                // The first text went out in the last piece. The server buffers the pieces a
                // stream yields without waiting (up to 16 of them) and writes them together;
                // when the provider has already sent more, this one `Pending` makes it write
                // the first token now instead of after the pieces behind it.
                tokio::task::yield_now().await;
            }
            let before = r.streamed;
            let piece = r.next().await?;
            let first_text = before == 0 && r.streamed > 0;
            Some((Ok(piece), (r, first_text)))
        },
    ))
}

/// A streamed pipeline run as OpenAI chunks: each delta of its last `llm` step, then its
/// output if nothing was streamed (a last step that is not `llm`), the finish chunk, the usage
/// chunk if asked, and `[DONE]`; a failed run ends with an error event.
pub fn pipeline_stream(
    first: RunEvent,
    events: tokio::sync::mpsc::Receiver<RunEvent>,
    model: String,
    include_usage: bool,
) -> EventStream {
    struct State {
        pending: Option<RunEvent>,
        events: tokio::sync::mpsc::Receiver<RunEvent>,
        id: String,
        created: u64,
        model: String,
        include_usage: bool,
        streamed: bool,
        done: bool,
    }
    let state = State {
        pending: Some(first),
        events,
        id: format!("chatcmpl-{}", hex::encode(rand::random::<[u8; 12]>())),
        created: now_secs(),
        model,
        include_usage,
        streamed: false,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let event = match st.pending.take() {
            Some(e) => e,
            None => st.events.recv().await?,
        };
        let chunk = |st: &State, delta: Value, finish: Value| {
            data(
                &json!({"id": st.id, "object": "chat.completion.chunk", "created": st.created,
                         "model": st.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
            )
        };
        let out = match event {
            RunEvent::Delta(text) => {
                let role = !st.streamed;
                st.streamed = true;
                let delta = if role {
                    json!({"role": "assistant", "content": text})
                } else {
                    json!({"content": text})
                };
                chunk(&st, delta, Value::Null)
            }
            RunEvent::Done(result) => {
                st.done = true;
                match *result {
                    Ok(r) => {
                        let mut out = String::new();
                        if !st.streamed {
                            let text = match r.output {
                                Value::String(s) => s,
                                other => other.to_string(),
                            };
                            out.push_str(&chunk(
                                &st,
                                json!({"role": "assistant", "content": text}),
                                Value::Null,
                            ));
                        }
                        out.push_str(&chunk(&st, json!({}), json!("stop")));
                        if st.include_usage {
                            out.push_str(&data(
                                &json!({"id": st.id, "object": "chat.completion.chunk",
                                "created": st.created, "model": st.model, "choices": [],
                                "usage": {"prompt_tokens": 0, "completion_tokens": 0,
                                          "total_tokens": r.totals.llm_tokens}}),
                            ));
                        }
                        out.push_str("data: [DONE]\n\n");
                        out
                    }
                    Err(e) => data(
                        &json!({"error": {"message": e.to_string(), "type": "server_error",
                                                     "param": null, "code": e.outcome()}}),
                    ),
                }
            }
        };
        Some((Ok(out), st))
    }))
}

/// Seconds since the Unix epoch (OpenAI's `created`).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn data(v: &Value) -> String {
    format!("data: {v}\n\n")
}

impl Relay {
    async fn next(&mut self) -> Option<String> {
        loop {
            if self.finished {
                return None;
            }
            let left = self.s.deadline.saturating_duration_since(Instant::now());
            let event = match tokio::time::timeout(self.s.idle.min(left), self.events.next()).await
            {
                Err(_) if left <= self.s.idle => {
                    return Some(self.fail(
                        "budget_exhausted",
                        "deadline_exceeded",
                        "the request's wall-clock budget ran out while the provider was streaming",
                    ));
                }
                Err(_) => {
                    return Some(self.fail(
                        "upstream_failed",
                        "provider_timeout",
                        "the provider stopped sending before the answer was complete",
                    ));
                }
                Ok(None) => return Some(self.end().await),
                Ok(Some(Err(e))) => {
                    let why = format!("the provider's stream broke off: {e}");
                    return Some(self.fail("upstream_failed", "provider_stream_failed", &why));
                }
                Ok(Some(Ok(ev))) => ev,
            };
            let body = event.data.trim();
            if body == "[DONE]" {
                return Some(self.end().await);
            }
            if body.is_empty() {
                continue;
            }
            let Ok(chunk) = serde_json::from_str::<Value>(body) else {
                return Some(self.fail(
                    "upstream_failed",
                    "provider_stream_failed",
                    "the provider sent an event that is not a chat-completion chunk",
                ));
            };
            if chunk.get("error").is_some_and(|e| !e.is_null()) {
                let why = chunk
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("the provider reported an error mid-stream")
                    .to_owned();
                return Some(self.fail("upstream_failed", "provider_error", &why));
            }
            match self.transform(chunk).await {
                Ok(Some(out)) => return Some(out),
                Ok(None) => continue,
                Err(why) => {
                    return Some(self.fail("guard_failed", "pii_analyzer_failed", &why));
                }
            }
        }
    }

    /// One provider chunk as the client sees it; `None` when nothing is left to send.
    async fn transform(&mut self, mut chunk: Value) -> Result<Option<String>, String> {
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = u.get("total_tokens").and_then(Value::as_u64);
            if !self.s.include_usage
                && let Some(o) = chunk.as_object_mut()
            {
                o.remove("usage");
            }
        }
        if let (Some(id), Some(created)) = (chunk.get("id"), chunk.get("created")) {
            self.frame = (id.clone(), created.clone());
        }
        chunk["model"] = Value::String(self.s.model.clone());
        let empty = chunk
            .get("choices")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if empty && chunk.get("usage").is_none_or(Value::is_null) && self.usage.is_some() {
            return Ok(None); // the usage chunk the client did not ask for
        }
        let count = chunk
            .get("choices")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for k in 0..count {
            let Some(choice) = chunk.pointer_mut(&format!("/choices/{k}")) else {
                continue;
            };
            let idx = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
            let finishing = choice.get("finish_reason").is_some_and(|f| !f.is_null());
            let Some(delta) = choice.get_mut("delta") else {
                continue;
            };
            // Text.
            let piece = match delta.get("content") {
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            };
            let mut shown = String::new();
            if piece.is_some() || finishing {
                let r = self
                    .text
                    .entry(idx)
                    .or_insert_with(|| Restorer::new(self.s.vault.clone(), Encoding::Plain));
                if let Some(p) = &piece {
                    shown = r.push(p);
                }
                if finishing {
                    shown.push_str(&r.finish());
                }
            }
            if let Some(scanner) = &self.scanner {
                let held = self.scan_held.entry(idx).or_default();
                held.push_str(&shown);
                let cut = if finishing {
                    held.len()
                } else {
                    boundary(held)
                };
                let rest = held.split_off(cut);
                let ready = std::mem::replace(held, rest);
                shown = if ready.is_empty() {
                    ready
                } else {
                    let (masked, flags) = scanner
                        .gateway
                        .mask_new(&ready, &scanner.originals)
                        .await
                        .map_err(|e| e.to_string())?;
                    for (e, n) in flags {
                        *self.meta.flagged.entry(e).or_insert(0) += n;
                    }
                    masked
                };
            }
            self.streamed += shown.len();
            if piece.is_some() || !shown.is_empty() {
                delta["content"] = Value::String(shown);
            }
            // Tool-call arguments.
            if let Some(Value::Array(calls)) = delta.get_mut("tool_calls") {
                for c in calls.iter_mut() {
                    let ti = c.get("index").and_then(Value::as_u64).unwrap_or(0);
                    if let Some(Value::String(a)) = c.pointer_mut("/function/arguments") {
                        let r = self.args.entry((idx, ti)).or_insert_with(|| {
                            Restorer::new(self.s.vault.clone(), Encoding::JsonString)
                        });
                        *a = r.push(a);
                        self.streamed += a.len();
                    }
                }
            }
            if finishing {
                let mut flushed = Vec::new();
                for ((ci, ti), r) in self.args.iter_mut() {
                    if *ci == idx && !r.is_idle() {
                        let rest = r.finish();
                        self.streamed += rest.len();
                        flushed.push(json!({"index": ti, "function": {"arguments": rest}}));
                    }
                }
                if !flushed.is_empty() {
                    match delta.get_mut("tool_calls") {
                        Some(Value::Array(calls)) => calls.extend(flushed),
                        _ => delta["tool_calls"] = Value::Array(flushed),
                    }
                }
            }
        }
        Ok(Some(data(&chunk)))
    }

    /// The provider finished: whatever is still held, then `[DONE]`.
    async fn end(&mut self) -> String {
        let mut choices = Vec::new();
        let indices: Vec<u64> = self
            .text
            .keys()
            .chain(self.scan_held.keys())
            .copied()
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for idx in indices {
            if !seen.insert(idx) {
                continue;
            }
            let mut rest = self
                .text
                .get_mut(&idx)
                .map(Restorer::finish)
                .unwrap_or_default();
            if let Some(scanner) = &self.scanner {
                let mut held = self.scan_held.remove(&idx).unwrap_or_default();
                held.push_str(&rest);
                rest = if held.is_empty() {
                    held
                } else {
                    match scanner.gateway.mask_new(&held, &scanner.originals).await {
                        Ok((masked, flags)) => {
                            for (e, n) in flags {
                                *self.meta.flagged.entry(e).or_insert(0) += n;
                            }
                            masked
                        }
                        Err(e) => {
                            return self.fail(
                                "guard_failed",
                                "pii_analyzer_failed",
                                &e.to_string(),
                            );
                        }
                    }
                };
            }
            let mut delta = json!({});
            if !rest.is_empty() {
                self.streamed += rest.len();
                delta["content"] = Value::String(rest);
            }
            let calls: Vec<Value> = self
                .args
                .iter_mut()
                .filter(|((ci, _), r)| *ci == idx && !r.is_idle())
                .map(|((_, ti), r)| json!({"index": ti, "function": {"arguments": r.finish()}}))
                .collect();
            if !calls.is_empty() {
                delta["tool_calls"] = Value::Array(calls);
            }
            if delta.as_object().is_some_and(|o| !o.is_empty()) {
                choices.push(json!({"index": idx, "delta": delta, "finish_reason": null}));
            }
        }
        self.finished = true;
        let mut out = String::new();
        if !choices.is_empty() {
            out.push_str(&data(&json!({
                "id": self.frame.0, "object": "chat.completion.chunk", "created": self.frame.1,
                "model": self.s.model, "choices": choices,
            })));
        }
        out.push_str("data: [DONE]\n\n");
        out
    }

    /// Ends the stream with an OpenAI-style error event (the `openai` client raises it).
    fn fail(&mut self, outcome: &'static str, code: &str, message: &str) -> String {
        self.finished = true;
        self.meta.outcome = outcome;
        data(
            &json!({"error": {"message": message, "type": "server_error", "param": null, "code": code}}),
        )
    }
}

impl Drop for Relay {
    /// One audit record per stream, when it ends — completed, failed or abandoned by the client
    /// (then the upstream request is dropped here too).
    fn drop(&mut self) {
        if !self.finished {
            self.meta.outcome = "client_disconnected";
        }
        self.meta.tokens = self.usage.unwrap_or_else(|| {
            llm::estimate_bytes(self.s.prompt_bytes) + llm::estimate_bytes(self.streamed)
        });
        self.meta.restored = self
            .text
            .values()
            .chain(self.args.values())
            .map(|r| r.restored)
            .sum();
        self.meta.record();
    }
}

/// Where text held for the answer scan may be cut: after the last line break, or after the
/// last sentence end followed by a space; 0 when there is none yet.
fn boundary(held: &str) -> usize {
    if let Some(i) = held.rfind('\n') {
        return i + 1;
    }
    held.rfind(". ").map_or(0, |i| i + 2)
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll};

    use super::*;

    /// A chunk of the provider's stream carrying `delta`.
    fn event(delta: &str) -> String {
        format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}\n\n"
        )
    }

    /// When the provider has sent a burst at once, the piece with the first text is followed
    /// by one `Pending`, so the server writes the first token before relaying the rest (it
    /// writes out what it has buffered when the body is not ready).
    #[tokio::test]
    async fn the_first_token_leaves_before_the_rest_of_a_burst() {
        let mut body = event(r#"{"role":"assistant","content":""}"#);
        for t in ["one ", "two ", "three"] {
            body.push_str(&event(&format!(r#"{{"content":"{t}"}}"#)));
        }
        body.push_str("data: [DONE]\n\n");
        let response = reqwest::Response::from(
            http::Response::builder()
                .header("content-type", "text/event-stream")
                .body(body)
                .expect("a response"),
        );
        let st = crate::testing::store();
        let meta = Meta {
            sandbox: crate::testing::sandbox(&st.store),
            tenant: "acme".into(),
            actor: "ada".into(),
            model: "m".into(),
            provider: "p".into(),
            counts: BTreeMap::new(),
            pseudonymised: 0,
            started: Instant::now(),
            detect_us: 0,
            stream: true,
            attempts: 1,
            tokens: 0,
            restored: 0,
            flagged: BTreeMap::new(),
            outcome: "ok",
        };
        let settings = Settings {
            vault: Arc::new(Pseudonyms::default()),
            model: "m".into(),
            include_usage: false,
            idle: Duration::from_secs(5),
            deadline: Instant::now() + Duration::from_secs(10),
            prompt_bytes: 0,
        };
        let mut stream = relay(response, settings, None, meta);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut seen = Vec::new();
        let mut pending_after_first_text = None;
        for _ in 0..100 {
            match stream.as_mut().poll_next(&mut cx) {
                Poll::Ready(Some(Ok(piece))) => seen.push(piece),
                Poll::Ready(None) => break,
                Poll::Pending => {
                    pending_after_first_text.get_or_insert(seen.clone());
                }
            }
        }
        let all = seen.concat();
        let order: Vec<usize> = ["\"one \"", "\"two \"", "\"three\"", "[DONE]"]
            .iter()
            .map(|t| {
                all.find(t)
                    .unwrap_or_else(|| panic!("{t} not relayed: {all}"))
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "out of order: {all}");
        let before = pending_after_first_text.expect("the relay never let the server write");
        assert!(
            before.last().is_some_and(|p| p.contains("\"one \"")),
            "the pause came after {before:?}, not right after the first text"
        );
        assert!(!before.concat().contains("two"), "{before:?}");
    }
}
