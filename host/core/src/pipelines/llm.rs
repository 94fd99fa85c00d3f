//! The `llm` step's client: OpenAI-compatible chat completions (Ollama, vLLM, llama.cpp's
//! server and hosted APIs all speak it) against configured providers only, with a timeout,
//! retries with exponential back-off on 429 and 5xx, and the run's deadline respected.

use crate::settings::Invalid;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One configured provider (`[providers.NAME]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Base URL of the API, up to and including `/v1` (`http://127.0.0.1:11434/v1`).
    pub base_url: String,
    /// The model to ask for.
    pub model: String,
    /// The environment variable holding the API key (sent as a bearer token), if any.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Whether unpseudonymised personal data may be sent to it. When false, every prompt is
    /// scanned first and refused if the built-in detector finds anything.
    #[serde(default)]
    pub allow_pii: bool,
    /// The score from which a finding blocks a prompt to a provider without `allow_pii`.
    #[serde(default = "default_pii_threshold")]
    pub pii_threshold: f32,
    /// How long one attempt may take.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Retries after a 429, a 5xx or a connection failure.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// `max_tokens` when the step does not say.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u32,
}

fn default_pii_threshold() -> f32 {
    0.5
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_retries() -> u32 {
    2
}
fn default_max_tokens() -> u32 {
    1024
}

/// The providers, by name.
pub type Providers = BTreeMap<String, ProviderConfig>;

/// One chat message as the API takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// What a completion returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The first choice's text.
    pub text: String,
    /// Tokens used (the API's `usage.total_tokens`, or an estimate when absent).
    pub tokens: u64,
    /// Attempts made.
    pub attempts: u32,
}

/// Why a completion failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The provider answered with an error or not at all, after every retry.
    #[error("provider `{provider}` failed after {attempts} attempt(s): {last}")]
    Unavailable {
        /// The provider.
        provider: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: String,
    },
    /// The provider answered 4xx (not 429): the request itself is wrong.
    #[error("provider `{provider}` refused the request ({status}): {body}")]
    Refused {
        /// The provider.
        provider: String,
        /// Its status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The run's deadline came first.
    #[error("the run's deadline passed while waiting for provider `{0}`")]
    Deadline(String),
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .build()
            .unwrap_or_default()
    })
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
}

#[derive(Deserialize)]
struct Usage {
    total_tokens: u64,
}

/// A request body that a PII guard has passed for one provider: the only thing [`send`]
/// takes, so no code path reaches a provider without going through a guard first.
pub struct Cleared(Vec<u8>);

impl Cleared {
    /// Only the guards call this, after their check: `pipelines::run::guard` and the
    /// gateway's `clear`.
    pub(crate) fn new(body: Vec<u8>) -> Cleared {
        Cleared(body)
    }

    /// The exact bytes that will be sent.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Which OpenAI-compatible endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/chat/completions`.
    ChatCompletions,
    /// `/embeddings`.
    Embeddings,
}

/// A provider's successful answer, its body not read yet (a stream is read by the caller).
pub struct Sent {
    /// The answer.
    pub response: reqwest::Response,
    /// Attempts made.
    pub attempts: u32,
}

/// Sends `body` to `provider`'s `endpoint`, retrying on 429, 5xx, connection errors and a
/// missing answer head with back-off (honouring `Retry-After`), never past `deadline`. Retries
/// happen only before the first byte of a successful answer: once it has a 2xx head, the
/// caller owns the body.
pub async fn send(
    name: &str,
    provider: &ProviderConfig,
    endpoint: Endpoint,
    body: &Cleared,
    deadline: Instant,
) -> Result<Sent, LlmError> {
    let path = match endpoint {
        Endpoint::ChatCompletions => "chat/completions",
        Endpoint::Embeddings => "embeddings",
    };
    let url = format!("{}/{path}", provider.base_url.trim_end_matches('/'));
    let key = provider
        .api_key_env
        .as_deref()
        .and_then(|v| std::env::var(v).ok());
    let mut attempts = 0;
    let mut last = String::new();
    let mut backoff = Duration::from_millis(200);
    while attempts <= provider.max_retries {
        attempts += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(LlmError::Deadline(name.to_owned()));
        }
        let mut req = client()
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.0.clone());
        if let Some(k) = &key {
            req = req.bearer_auth(k);
        }
        let mut wait = backoff;
        match tokio::time::timeout(provider.timeout.min(left), req.send()).await {
            Ok(Ok(resp)) if resp.status().is_success() => {
                return Ok(Sent {
                    response: resp,
                    attempts,
                });
            }
            Ok(Ok(resp)) => {
                let status = resp.status();
                if let Some(s) = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                {
                    wait = Duration::from_secs(s.min(30));
                }
                let text: String = tokio::time::timeout(Duration::from_secs(5), resp.text())
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                if status.as_u16() != 429 && !status.is_server_error() {
                    return Err(LlmError::Refused {
                        provider: name.to_owned(),
                        status: status.as_u16(),
                        body: text,
                    });
                }
                last = format!("HTTP {}: {text}", status.as_u16());
            }
            Ok(Err(e)) => last = format!("cannot connect: {e}"),
            Err(_) => last = "timed out".to_owned(),
        }
        if attempts > provider.max_retries {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if wait >= left {
            return Err(LlmError::Deadline(name.to_owned()));
        }
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
    Err(LlmError::Unavailable {
        provider: name.to_owned(),
        attempts,
        last,
    })
}

/// The body of a non-streamed answer, read within the provider's timeout and the deadline.
pub async fn read_body(
    name: &str,
    provider: &ProviderConfig,
    sent: Sent,
    deadline: Instant,
) -> Result<Vec<u8>, LlmError> {
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(provider.timeout.min(left), sent.response.bytes()).await {
        Ok(Ok(b)) => Ok(b.to_vec()),
        Ok(Err(e)) => Err(LlmError::Unavailable {
            provider: name.to_owned(),
            attempts: sent.attempts,
            last: format!("the answer broke off: {e}"),
        }),
        Err(_) if Instant::now() >= deadline => Err(LlmError::Deadline(name.to_owned())),
        Err(_) => Err(LlmError::Unavailable {
            provider: name.to_owned(),
            attempts: sent.attempts,
            last: "timed out reading the answer".to_owned(),
        }),
    }
}

/// The chat-completions body for `messages` (what a pipeline's `llm` step sends); streamed,
/// it asks for the usage chunk too.
pub fn chat_body(
    provider: &ProviderConfig,
    messages: &[Message],
    max_tokens: Option<u32>,
    stream: bool,
) -> Vec<u8> {
    let mut body = serde_json::json!({
        "model": provider.model,
        "messages": messages,
        "max_tokens": max_tokens.unwrap_or(provider.max_tokens),
        "stream": stream,
    });
    if stream {
        body["stream_options"] = serde_json::json!({"include_usage": true});
    }
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Sends a cleared chat body (from [`chat_body`]) and reads the first choice's text.
pub async fn chat(
    name: &str,
    provider: &ProviderConfig,
    body: &Cleared,
    messages: &[Message],
    deadline: Instant,
) -> Result<Completion, LlmError> {
    let sent = send(name, provider, Endpoint::ChatCompletions, body, deadline).await?;
    let attempts = sent.attempts;
    let bytes = read_body(name, provider, sent, deadline).await?;
    let parsed: ChatResponse =
        serde_json::from_slice(&bytes).map_err(|e| LlmError::Unavailable {
            provider: name.to_owned(),
            attempts,
            last: format!("not a chat-completions answer: {e}"),
        })?;
    let text = parsed
        .choices
        .into_iter()
        .next()
        .map(|c| c.message.content)
        .unwrap_or_default();
    let tokens = parsed.usage.map_or_else(
        || estimate_tokens(messages) + estimate(&text),
        |u| u.total_tokens,
    );
    Ok(Completion {
        text,
        tokens,
        attempts,
    })
}

/// Sends a cleared streaming chat body (from [`chat_body`]) and passes each text delta to
/// `deltas` as it arrives; returns the whole text. A closed `deltas` (the client went away)
/// ends the upstream request at once.
pub async fn stream_chat(
    name: &str,
    provider: &ProviderConfig,
    body: &Cleared,
    messages: &[Message],
    deadline: Instant,
    deltas: &tokio::sync::mpsc::Sender<String>,
) -> Result<Completion, LlmError> {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    let sent = send(name, provider, Endpoint::ChatCompletions, body, deadline).await?;
    let attempts = sent.attempts;
    let broke = |last: String| LlmError::Unavailable {
        provider: name.to_owned(),
        attempts,
        last,
    };
    let mut events = sent.response.bytes_stream().eventsource();
    let mut text = String::new();
    let mut usage = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = match tokio::time::timeout(provider.timeout.min(left), events.next()).await {
            Err(_) if Instant::now() >= deadline => {
                return Err(LlmError::Deadline(name.to_owned()));
            }
            Err(_) => return Err(broke("the stream stalled".into())),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(broke(format!("the stream broke off: {e}"))),
            Ok(Some(Ok(e))) => e,
        };
        let data = event.data.trim();
        if data == "[DONE]" {
            break;
        }
        if data.is_empty() {
            continue;
        }
        let chunk: serde_json::Value = serde_json::from_str(data)
            .map_err(|e| broke(format!("not a chat-completion chunk: {e}")))?;
        if let Some(m) = chunk.pointer("/error/message").and_then(|m| m.as_str()) {
            return Err(broke(m.to_owned()));
        }
        if let Some(t) = chunk
            .pointer("/usage/total_tokens")
            .and_then(|t| t.as_u64())
        {
            usage = Some(t);
        }
        if let Some(piece) = chunk
            .pointer("/choices/0/delta/content")
            .and_then(|c| c.as_str())
            .filter(|c| !c.is_empty())
        {
            text.push_str(piece);
            if deltas.send(piece.to_owned()).await.is_err() {
                return Err(broke("the client went away".into()));
            }
        }
    }
    let tokens = usage.unwrap_or_else(|| estimate_tokens(messages) + estimate(&text));
    Ok(Completion {
        text,
        tokens,
        attempts,
    })
}

/// A rough token count (4 bytes a token) for providers that report no usage.
pub fn estimate(s: &str) -> u64 {
    estimate_bytes(s.len())
}

/// [`estimate`] for a length in bytes.
pub fn estimate_bytes(n: usize) -> u64 {
    (n as u64).div_ceil(4)
}

fn estimate_tokens(messages: &[Message]) -> u64 {
    messages.iter().map(|m| estimate(&m.content)).sum()
}

/// Checks every provider: a valid name, an http(s) base URL, a model, a set API-key variable
/// and a threshold within 0 and 1.
pub fn validate_providers(providers: &Providers) -> Result<(), Invalid> {
    for (name, p) in providers {
        let key = "providers";
        if !crate::names::is_valid(name) {
            return Err(Invalid {
                key,
                message: format!("`{name}` is not a valid provider name"),
            });
        }
        let ok_url = (p.base_url.starts_with("http://") || p.base_url.starts_with("https://"))
            && reqwest::Url::parse(&p.base_url).is_ok();
        if !ok_url {
            return Err(Invalid {
                key,
                message: format!(
                    "providers.{name}.base_url `{}` is not an http(s) URL",
                    p.base_url
                ),
            });
        }
        if p.model.is_empty() {
            return Err(Invalid {
                key,
                message: format!("providers.{name}.model must not be empty"),
            });
        }
        if let Some(var) = &p.api_key_env
            && std::env::var_os(var).is_none()
        {
            return Err(Invalid {
                key,
                message: format!("providers.{name}.api_key_env names `{var}`, which is not set"),
            });
        }
        if !(0.0..=1.0).contains(&p.pii_threshold) {
            return Err(Invalid {
                key,
                message: format!("providers.{name}.pii_threshold must be within 0 and 1"),
            });
        }
    }
    Ok(())
}
