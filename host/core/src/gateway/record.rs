//! The audit record of one gateway request: its decisions as metadata (provider, counts,
//! tokens, times), never content, written once when the request (or its stream) ends.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use crate::sandbox::Sandbox;
use warden_storage::audit::AuditEvent;

/// One request's decisions, audited once when it ends (streams: when the stream ends or the
/// client goes away) — metadata only, never content.
pub struct Meta {
    pub(crate) sandbox: Arc<Sandbox>,
    pub(crate) tenant: String,
    pub(crate) actor: String,
    /// The model asked for.
    pub model: String,
    pub(crate) provider: String,
    pub(crate) counts: BTreeMap<String, usize>,
    pub(crate) pseudonymised: usize,
    pub(crate) started: Instant,
    pub(crate) detect_us: u64,
    pub(crate) stream: bool,
    /// Provider attempts.
    pub attempts: u32,
    /// Tokens used (the provider's `usage`, else counted).
    pub tokens: u64,
    /// Placeholders restored in the answer.
    pub restored: usize,
    /// What the answer scan masked.
    pub flagged: BTreeMap<String, usize>,
    /// `ok`, or how it ended.
    pub outcome: &'static str,
}

impl Meta {
    /// Queues the audit record.
    pub fn record(&self) {
        let found = if self.counts.is_empty() {
            "none".to_owned()
        } else {
            counts_text(&self.counts)
        };
        let mut detail = format!(
            "provider {}; findings {found}; {} pseudonymised; {} restored; {} tokens; \
             {} attempt(s); guard {} µs; total {} ms{}",
            self.provider,
            self.pseudonymised,
            self.restored,
            self.tokens,
            self.attempts,
            self.detect_us,
            self.started.elapsed().as_millis(),
            if self.stream { "; streamed" } else { "" },
        );
        if !self.flagged.is_empty() {
            detail.push_str(&format!("; answer masked {}", counts_text(&self.flagged)));
        }
        self.sandbox.audit(
            AuditEvent::new(
                &self.tenant,
                &self.actor,
                "openai.chat",
                format!("model/{}", self.model),
            )
            .outcome(self.outcome)
            .detail(detail),
        );
    }
}

/// `TYPE ×n, …`.
pub(crate) fn counts_text(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(e, n)| format!("{e} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
