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

/// Sends `messages` to `provider`, retrying on 429, 5xx and connection errors with back-off
/// (honouring `Retry-After`), never past `deadline`.
pub async fn chat(
    name: &str,
    provider: &ProviderConfig,
    messages: &[Message],
    max_tokens: Option<u32>,
    deadline: Instant,
) -> Result<Completion, LlmError> {
    let url = format!(
        "{}/chat/completions",
        provider.base_url.trim_end_matches('/')
    );
    let body = serde_json::json!({
        "model": provider.model,
        "messages": messages,
        "max_tokens": max_tokens.unwrap_or(provider.max_tokens),
        "stream": false,
    });
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
            .timeout(provider.timeout.min(left))
            .json(&body);
        if let Some(k) = &key {
            req = req.bearer_auth(k);
        }
        let mut wait = backoff;
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                let parsed: ChatResponse =
                    resp.json().await.map_err(|e| LlmError::Unavailable {
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
                return Ok(Completion {
                    text,
                    tokens,
                    attempts,
                });
            }
            Ok(resp) => {
                let status = resp.status();
                if let Some(s) = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                {
                    wait = Duration::from_secs(s.min(30));
                }
                let text: String = resp
                    .text()
                    .await
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
            Err(e) if e.is_timeout() => last = "timed out".to_owned(),
            Err(e) => last = format!("cannot connect: {e}"),
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

/// A rough token count (4 bytes a token) for providers that report no usage.
fn estimate(s: &str) -> u64 {
    (s.len() as u64).div_ceil(4)
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
