//! Presidio-style anonymisation: merges detected spans, applies per-entity operators and reverses pseudonyms.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One piece of personal data in a text (from a detector or a dictionary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// What kind of data this is, e.g. `EMAIL_ADDRESS`.
    pub entity_type: String,
    /// UTF-8 byte offset where the data starts.
    pub start: usize,
    /// UTF-8 byte offset just past the data (exclusive).
    pub end: usize,
    /// Detector confidence; higher wins when spans overlap.
    pub score: f32,
    /// Who found it: `"builtin"`, a plugin name, or `"dictionary:<name>"`.
    pub source: String,
    /// Why it was reported, when the caller asked for explanations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl Span {
    fn byte_len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
}

/// NaN scores rank below every real score so a broken detector cannot win overlaps.
fn score_key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

/// Best first: higher score, then longer, then earlier start, then source name, then entity type.
fn priority(a: &Span, b: &Span) -> Ordering {
    score_key(b.score)
        .total_cmp(&score_key(a.score))
        .then_with(|| b.byte_len().cmp(&a.byte_len()))
        .then_with(|| a.start.cmp(&b.start))
        .then_with(|| a.source.cmp(&b.source))
        .then_with(|| a.entity_type.cmp(&b.entity_type))
}

/// Resolves overlapping spans from several detectors into one sorted, non-overlapping list.
///
/// Higher score wins; ties go to the longer span, then the earlier start, then the source name
/// (then the entity type, for determinism). Exact duplicates collapse; empty or inverted spans
/// (`start >= end`) are dropped. The result is sorted by `start`.
pub fn merge(spans: Vec<Span>) -> Vec<Span> {
    let mut candidates: Vec<Span> = spans.into_iter().filter(|s| s.start < s.end).collect();
    candidates.sort_by(priority);
    // start -> end of every accepted span; they never overlap each other.
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut kept = Vec::new();
    for span in candidates {
        // Accepted spans are disjoint, so only the last one starting before `span.end` can overlap.
        let overlaps = taken
            .range(..span.end)
            .next_back()
            .is_some_and(|(_, &end)| end > span.start);
        if overlaps {
            continue;
        }
        taken.insert(span.start, span.end);
        kept.push(span);
    }
    kept.sort_by_key(|s| s.start);
    kept
}

/// What to do with one piece of detected personal data (Presidio's operator names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operator {
    /// Replace the text with `new_value`, or `<ENTITY_TYPE>` when absent.
    Replace {
        /// The replacement text; `None` means `<ENTITY_TYPE>`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_value: Option<String>,
    },
    /// Remove the text entirely.
    Redact,
    /// Overwrite characters (Unicode scalar values, not bytes) with `masking_char`.
    Mask {
        /// The character written over the masked part.
        #[serde(default = "default_masking_char")]
        masking_char: char,
        /// How many characters to mask; `None` masks all of them.
        #[serde(default)]
        chars_to_mask: Option<usize>,
        /// Mask from the end of the value instead of from its start.
        #[serde(default)]
        from_end: bool,
    },
    /// Lowercase hex SHA-256 (or SHA-512) of the tenant salt followed by the value.
    Hash {
        /// `sha256` (default) or `sha512`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hash_type: Option<HashType>,
    },
    /// Presidio's `encrypt`: AES-CBC (PKCS#7) with a random IV under `key` (16, 24 or 32
    /// bytes of UTF-8), written as base64 of IV and ciphertext; `decrypt` restores it.
    Encrypt {
        /// The AES key as text, as Presidio takes it.
        key: super::presidio::AesKey,
    },
    /// A reversible token such as `<EMAIL_ADDRESS_1>`, recorded in the vault.
    Pseudonymize,
    /// Leave the text as it is (the item is still reported).
    Keep,
}

/// The digest of the `hash` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashType {
    /// SHA-256 (64 hex digits).
    Sha256,
    /// SHA-512 (128 hex digits).
    Sha512,
}

fn default_masking_char() -> char {
    '*'
}

impl Default for Operator {
    fn default() -> Self {
        Operator::Replace { new_value: None }
    }
}

impl Operator {
    /// The operator's name as used in the `type` field, for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Replace { .. } => "replace",
            Operator::Redact => "redact",
            Operator::Mask { .. } => "mask",
            Operator::Hash { .. } => "hash",
            Operator::Encrypt { .. } => "encrypt",
            Operator::Pseudonymize => "pseudonymize",
            Operator::Keep => "keep",
        }
    }
}

/// Which operator applies to which entity type, with a fallback for the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Operators {
    /// Used for entity types not listed in `per_entity` (default: `replace`).
    pub default: Operator,
    /// Operator per entity type, e.g. `"EMAIL_ADDRESS" -> mask`.
    pub per_entity: BTreeMap<String, Operator>,
}

impl Operators {
    /// The operator that applies to `entity_type`.
    pub fn for_entity(&self, entity_type: &str) -> &Operator {
        self.per_entity.get(entity_type).unwrap_or(&self.default)
    }

    /// Every entity type pseudonymised (what the gateway and pipelines' `anonymize` do).
    pub fn pseudonymize_all() -> Operators {
        Operators {
            default: Operator::Pseudonymize,
            per_entity: BTreeMap::new(),
        }
    }
}

/// Token values above this are refused when loading a vault, so counters can never overflow.
const MAX_COUNTER: u64 = 1 << 53;

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PseudonymEntry {
    entity_type: String,
    value: String,
}

/// The token↔value map a vault stores (serialisable with serde_json).
///
/// Serialises as `{"tokens": {"<EMAIL_ADDRESS_1>": {"entity_type": ..., "value": ...}}, "counters":
/// {"EMAIL_ADDRESS": 1}}`; loading checks every token's shape and rebuilds the reverse index.
/// Counters only grow, so a token is never reused for another value even if entries are dropped.
/// `Debug` prints only the size, never the values.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PseudonymsRepr")]
pub struct Pseudonyms {
    tokens: BTreeMap<String, PseudonymEntry>,
    /// Last number handed out per token label.
    counters: BTreeMap<String, u64>,
    /// entity type -> value -> token.
    #[serde(skip)]
    by_value: HashMap<String, HashMap<String, String>>,
}

impl fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonyms")
            .field("len", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PseudonymsRepr {
    #[serde(default)]
    tokens: BTreeMap<String, PseudonymEntry>,
    #[serde(default)]
    counters: BTreeMap<String, u64>,
}

impl TryFrom<PseudonymsRepr> for Pseudonyms {
    type Error = String;

    fn try_from(repr: PseudonymsRepr) -> Result<Self, Self::Error> {
        let mut counters = BTreeMap::new();
        for (label, &n) in &repr.counters {
            if n > MAX_COUNTER {
                return Err(format!("counter for {label} is too large"));
            }
            counters.insert(label.clone(), n);
        }
        let mut by_value: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (token, entry) in &repr.tokens {
            let (label, number) =
                parse_token(token).ok_or_else(|| format!("{token:?} is not a token"))?;
            if number == 0 || number > MAX_COUNTER {
                return Err(format!("token {token} has an out-of-range number"));
            }
            if label != token_label(&entry.entity_type) {
                return Err(format!(
                    "token {token} does not match its entity type {:?}",
                    entry.entity_type
                ));
            }
            let counter = counters.entry(label.to_owned()).or_insert(0);
            *counter = (*counter).max(number);
            let previous = by_value
                .entry(entry.entity_type.clone())
                .or_default()
                .insert(entry.value.clone(), token.clone());
            if let Some(previous) = previous {
                return Err(format!("tokens {previous} and {token} hold the same value"));
            }
        }
        Ok(Pseudonyms {
            tokens: repr.tokens,
            counters,
            by_value,
        })
    }
}

impl Pseudonyms {
    /// True when no value has been pseudonymised yet.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// How many tokens the vault holds.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// The token for `value` as `entity`, minting `<LABEL_N>` (N counting per label from 1) if new.
    ///
    /// The label is the entity type upper-cased with every character outside `[A-Z0-9_]` turned
    /// into `_` (and `ENTITY_` put in front if it does not start with a letter), so every token
    /// matches the shape `deanonymize` looks for.
    pub fn token_for(&mut self, entity: &str, value: &str) -> String {
        if let Some(token) = self.by_value.get(entity).and_then(|m| m.get(value)) {
            return token.clone();
        }
        let label = token_label(entity);
        let counter = self.counters.entry(label.clone()).or_insert(0);
        let token = loop {
            *counter = counter.saturating_add(1);
            let candidate = format!("<{label}_{counter}>");
            if !self.tokens.contains_key(&candidate) {
                break candidate;
            }
        };
        self.tokens.insert(
            token.clone(),
            PseudonymEntry {
                entity_type: entity.to_owned(),
                value: value.to_owned(),
            },
        );
        self.by_value
            .entry(entity.to_owned())
            .or_default()
            .insert(value.to_owned(), token.clone());
        token
    }

    /// The original value behind `token`, if this vault minted it.
    pub fn value_of(&self, token: &str) -> Option<&str> {
        self.tokens.get(token).map(|e| e.value.as_str())
    }

    /// Every original value the vault holds.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.tokens.values().map(|e| e.value.as_str())
    }

    /// The entity type `token` was minted for, if this vault minted it.
    pub fn entity_type_of(&self, token: &str) -> Option<&str> {
        self.tokens.get(token).map(|e| e.entity_type.as_str())
    }
}

/// The `[A-Z][A-Z0-9_]*` label used inside tokens for an entity type.
fn token_label(entity: &str) -> String {
    let label: String = entity
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if label.is_empty() {
        "ENTITY".to_owned()
    } else if label.starts_with(|c: char| c.is_ascii_uppercase()) {
        label
    } else {
        format!("ENTITY_{label}")
    }
}

/// True when `body` (the text between `<` and `>`) is `[A-Z][A-Z0-9_]*_[0-9]+`.
fn is_token_body(body: &str) -> bool {
    let bytes = body.as_bytes();
    let Some((first, _)) = bytes.split_first() else {
        return false;
    };
    if !first.is_ascii_uppercase()
        || !bytes
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
    {
        return false;
    }
    match body.rsplit_once('_') {
        Some((label, digits)) => {
            !label.is_empty() && !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Splits a whole token `<LABEL_N>` into its label and number.
fn parse_token(token: &str) -> Option<(&str, u64)> {
    let body = token.strip_prefix('<')?.strip_suffix('>')?;
    if !is_token_body(body) {
        return None;
    }
    let (label, digits) = body.rsplit_once('_')?;
    Some((label, digits.parse().ok()?))
}

/// If a token starts at byte `start` (which holds `<`), the byte offset just past its `>`.
fn token_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let body_start = start + 1;
    let body_len = bytes
        .get(body_start..)?
        .iter()
        .position(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_'))?;
    let close = body_start + body_len;
    if bytes.get(close) != Some(&b'>') {
        return None;
    }
    is_token_body(text.get(body_start..close)?).then_some(close + 1)
}

/// If an escaped token `<!…!LABEL_N>` (one or more `!`) starts at byte `start`, the offset
/// just past its `>`.
fn escaped_token_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let bangs = bytes
        .get(start + 1..)?
        .iter()
        .take_while(|&&c| c == b'!')
        .count();
    if bangs == 0 {
        return None;
    }
    // `start + bangs` holds the last `!`; pretend it is the `<` of a plain token.
    token_end(text, start + bangs)
}

/// Appends `segment` to `out` with every token-shaped run escaped by one more `!` after its
/// `<` (`<EMAIL_1>` becomes `<!EMAIL_1>`, `<!EMAIL_1>` becomes `<!!EMAIL_1>`).
///
/// Text the user wrote that happens to look like a placeholder must never be restored as a
/// vault value: [`deanonymize`] removes exactly one `!` from such runs, so a round trip returns
/// the original text byte for byte.
fn push_escaped(out: &mut String, segment: &str) {
    let bytes = segment.as_bytes();
    let mut cursor = 0;
    let mut pos = 0;
    while let Some(rel) = bytes
        .get(pos..)
        .and_then(|b| b.iter().position(|&c| c == b'<'))
    {
        let start = pos + rel;
        match token_end(segment, start).or_else(|| escaped_token_end(segment, start)) {
            Some(end) => {
                // `<` is ASCII, so `start + 1` is a char boundary.
                out.push_str(&segment[cursor..=start]);
                out.push('!');
                cursor = start + 1;
                pos = end;
            }
            None => pos = start + 1,
        }
    }
    out.push_str(&segment[cursor..]);
}

/// The result of [`anonymize`]: the new text and what was done where.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Anonymized {
    /// The text with every span replaced by its operator's output.
    pub text: String,
    /// One item per input span, in text order.
    pub items: Vec<AnonymizedItem>,
}

/// What an operator did to one span, with offsets in both the input and the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnonymizedItem {
    /// The span's entity type.
    pub entity_type: String,
    /// The operator applied (`replace`, `redact`, `mask`, `hash`, `pseudonymize`, `keep`).
    pub operator: String,
    /// Byte offset in the output text where the operator's output starts.
    pub start: usize,
    /// Byte offset in the output text just past the operator's output.
    pub end: usize,
    /// Byte offset of the span in the input text.
    pub original_start: usize,
    /// Byte offset just past the span in the input text.
    pub original_end: usize,
    /// The span's score.
    pub score: f32,
    /// The span's source.
    pub source: String,
}

/// Why [`anonymize`] refused its spans; each names the offending span's index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnonymizeError {
    /// The span covers no text (`start >= end`).
    #[error("span {index}: start {start} is not before end {end}")]
    EmptySpan {
        /// Index of the span in the input slice.
        index: usize,
        /// The span's start.
        start: usize,
        /// The span's end.
        end: usize,
    },
    /// The span ends past the end of the text.
    #[error("span {index}: end {end} is past the end of the text ({len} bytes)")]
    OutOfBounds {
        /// Index of the span in the input slice.
        index: usize,
        /// The span's end.
        end: usize,
        /// The text's length in bytes.
        len: usize,
    },
    /// A span offset falls inside a multi-byte UTF-8 character.
    #[error("span {index}: offset {offset} is not on a UTF-8 character boundary")]
    NotCharBoundary {
        /// Index of the span in the input slice.
        index: usize,
        /// The offending offset.
        offset: usize,
    },
    /// The span starts before the previous one ends (spans must be sorted and disjoint).
    #[error(
        "span {index}: starts at {start}, before the previous span ends at {previous_end} (spans must be sorted and non-overlapping; use merge)"
    )]
    Overlapping {
        /// Index of the span in the input slice.
        index: usize,
        /// The span's start.
        start: usize,
        /// Where the previous span ends.
        previous_end: usize,
    },
}

fn check_spans(text: &str, spans: &[Span]) -> Result<(), AnonymizeError> {
    let mut previous_end = 0;
    for (index, span) in spans.iter().enumerate() {
        let (start, end) = (span.start, span.end);
        if start >= end {
            return Err(AnonymizeError::EmptySpan { index, start, end });
        }
        if end > text.len() {
            return Err(AnonymizeError::OutOfBounds {
                index,
                end,
                len: text.len(),
            });
        }
        for offset in [start, end] {
            if !text.is_char_boundary(offset) {
                return Err(AnonymizeError::NotCharBoundary { index, offset });
            }
        }
        if index > 0 && start < previous_end {
            return Err(AnonymizeError::Overlapping {
                index,
                start,
                previous_end,
            });
        }
        previous_end = end;
    }
    Ok(())
}

fn mask(value: &str, masking_char: char, chars_to_mask: Option<usize>, from_end: bool) -> String {
    let total = value.chars().count();
    let count = chars_to_mask.map_or(total, |n| n.min(total));
    let masked = |i: usize| {
        if from_end {
            i >= total - count
        } else {
            i < count
        }
    };
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if masked(i) { masking_char } else { c })
        .collect()
}

fn apply(
    op: &Operator,
    entity_type: &str,
    value: &str,
    salt: &[u8],
    vault: &mut Pseudonyms,
) -> String {
    match op {
        Operator::Replace { new_value } => match new_value {
            Some(v) => v.clone(),
            None => format!("<{entity_type}>"),
        },
        Operator::Redact => String::new(),
        Operator::Mask {
            masking_char,
            chars_to_mask,
            from_end,
        } => mask(value, *masking_char, *chars_to_mask, *from_end),
        Operator::Hash { hash_type } => match hash_type.unwrap_or(HashType::Sha256) {
            HashType::Sha256 => {
                let mut hasher = Sha256::new();
                hasher.update(salt);
                hasher.update(value.as_bytes());
                hex::encode(hasher.finalize())
            }
            HashType::Sha512 => {
                let mut hasher = sha2::Sha512::new();
                hasher.update(salt);
                hasher.update(value.as_bytes());
                hex::encode(hasher.finalize())
            }
        },
        Operator::Encrypt { key } => super::presidio::encrypt(key, value),
        Operator::Pseudonymize => vault.token_for(entity_type, value),
        Operator::Keep => value.to_owned(),
    }
}

/// Applies each span's operator to `text`, recording pseudonyms in `vault` and hashing with `salt`.
///
/// `spans` must be sorted, non-overlapping, non-empty, on char boundaries and within the text
/// (see [`merge`]); otherwise an [`AnonymizeError`] names the first bad span and `vault` is left
/// untouched.
pub fn anonymize(
    text: &str,
    spans: &[Span],
    ops: &Operators,
    salt: &[u8],
    vault: &mut Pseudonyms,
) -> Result<Anonymized, AnonymizeError> {
    check_spans(text, spans)?;
    let mut out = String::with_capacity(text.len());
    let mut items = Vec::with_capacity(spans.len());
    let mut cursor = 0;
    for span in spans {
        // check_spans guarantees these offsets are in bounds and on char boundaries.
        push_escaped(&mut out, &text[cursor..span.start]);
        let op = ops.for_entity(&span.entity_type);
        let replacement = apply(
            op,
            &span.entity_type,
            &text[span.start..span.end],
            salt,
            vault,
        );
        let start = out.len();
        if matches!(op, Operator::Pseudonymize) {
            out.push_str(&replacement);
        } else {
            push_escaped(&mut out, &replacement);
        }
        items.push(AnonymizedItem {
            entity_type: span.entity_type.clone(),
            operator: op.name().to_owned(),
            start,
            end: out.len(),
            original_start: span.start,
            original_end: span.end,
            score: span.score,
            source: span.source.clone(),
        });
        cursor = span.end;
    }
    push_escaped(&mut out, &text[cursor..]);
    Ok(Anonymized { text: out, items })
}

/// The result of [`deanonymize`]: the restored text and which tokens were put back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deanonymized {
    /// The text with every known token replaced by its original value.
    pub text: String,
    /// One item per token replaced, in text order.
    pub restored: Vec<RestoredItem>,
    /// Token-shaped strings not in the vault, left untouched, deduplicated, in order of appearance.
    pub unknown_tokens: Vec<String>,
}

/// One token that [`deanonymize`] replaced with its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoredItem {
    /// The token that was replaced, e.g. `<EMAIL_ADDRESS_1>`.
    pub token: String,
    /// The entity type the token was minted for.
    pub entity_type: String,
    /// Byte offset in the output text where the restored value starts.
    pub start: usize,
    /// Byte offset in the output text just past the restored value.
    pub end: usize,
}

/// Puts the vault's values back in place of tokens (`<` `[A-Z][A-Z0-9_]*` `_` digits `>`).
///
/// A single left-to-right pass: restored values are never scanned again, so a value that itself
/// looks like a token stays as it is. Escaped tokens (`<!EMAIL_1>`, which [`anonymize`] writes
/// for token-shaped text that was in the input) lose one `!` and are never looked up.
pub fn deanonymize(text: &str, vault: &Pseudonyms) -> Deanonymized {
    deanonymize_with(text, vault, |value, out| out.push_str(value))
}

/// [`deanonymize`], writing each restored value with `write` (the OpenAI gateway JSON-escapes
/// values it puts back inside tool-call arguments, which are JSON text).
pub fn deanonymize_with(
    text: &str,
    vault: &Pseudonyms,
    write: impl Fn(&str, &mut String),
) -> Deanonymized {
    let mut out = String::with_capacity(text.len());
    let mut restored = Vec::new();
    let mut unknown_tokens = Vec::new();
    let mut seen_unknown: HashSet<&str> = HashSet::new();
    let mut cursor = 0;
    let mut pos = 0;
    let bytes = text.as_bytes();
    while let Some(rel) = bytes
        .get(pos..)
        .and_then(|b| b.iter().position(|&c| c == b'<'))
    {
        let start = pos + rel;
        if let Some(end) = escaped_token_end(text, start) {
            // Drop the first `!` (ASCII: both offsets are char boundaries).
            out.push_str(&text[cursor..=start]);
            cursor = start + 2;
            pos = end;
            continue;
        }
        let Some(end) = token_end(text, start) else {
            pos = start + 1;
            continue;
        };
        // `<` and `>` are ASCII, so both offsets are char boundaries.
        let token = &text[start..end];
        if let Some(entry) = vault.tokens.get(token) {
            out.push_str(&text[cursor..start]);
            let value_start = out.len();
            write(&entry.value, &mut out);
            restored.push(RestoredItem {
                token: token.to_owned(),
                entity_type: entry.entity_type.clone(),
                start: value_start,
                end: out.len(),
            });
            cursor = end;
        } else if seen_unknown.insert(token) {
            unknown_tokens.push(token.to_owned());
        }
        pos = end;
    }
    out.push_str(&text[cursor..]);
    Deanonymized {
        text: out,
        restored,
        unknown_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(entity: &str, start: usize, end: usize, score: f32, source: &str) -> Span {
        Span {
            entity_type: entity.to_owned(),
            start,
            end,
            score,
            source: source.to_owned(),
            explanation: None,
        }
    }

    fn ops_json(json: &str) -> Operators {
        serde_json::from_str(json).unwrap()
    }

    fn run(text: &str, spans: &[Span], ops: &Operators) -> Anonymized {
        let mut vault = Pseudonyms::default();
        anonymize(text, spans, ops, b"salt", &mut vault).unwrap()
    }

    #[test]
    fn merge_higher_score_wins_over_longer() {
        let merged = merge(vec![span("A", 0, 10, 0.5, "x"), span("B", 2, 4, 0.9, "x")]);
        assert_eq!(merged, vec![span("B", 2, 4, 0.9, "x")]);
    }

    #[test]
    fn merge_tie_breaks_longer_then_earlier_then_source() {
        let longer = merge(vec![span("A", 0, 3, 0.8, "x"), span("B", 1, 6, 0.8, "x")]);
        assert_eq!(longer, vec![span("B", 1, 6, 0.8, "x")]);
        let earlier = merge(vec![span("B", 2, 6, 0.8, "x"), span("A", 0, 4, 0.8, "x")]);
        assert_eq!(earlier, vec![span("A", 0, 4, 0.8, "x")]);
        let by_source = merge(vec![
            span("B", 0, 4, 0.8, "zeta"),
            span("A", 0, 4, 0.8, "alpha"),
        ]);
        assert_eq!(by_source, vec![span("A", 0, 4, 0.8, "alpha")]);
    }

    #[test]
    fn merge_collapses_duplicates_sorts_and_keeps_adjacent() {
        let merged = merge(vec![
            span("B", 10, 12, 0.3, "x"),
            span("A", 0, 5, 0.9, "x"),
            span("A", 0, 5, 0.9, "x"),
            span("C", 5, 10, 0.1, "x"),
            span("E", 7, 7, 1.0, "x"),
        ]);
        assert_eq!(
            merged,
            vec![
                span("A", 0, 5, 0.9, "x"),
                span("C", 5, 10, 0.1, "x"),
                span("B", 10, 12, 0.3, "x"),
            ]
        );
    }

    #[test]
    fn merge_greedy_drops_low_span_bridging_two_winners() {
        let merged = merge(vec![
            span("A", 0, 4, 0.9, "x"),
            span("B", 6, 9, 0.9, "x"),
            span("C", 3, 7, 0.5, "x"),
            span("D", 20, 25, f32::NAN, "x"),
            span("E", 21, 22, 0.01, "x"),
        ]);
        let kept: Vec<&str> = merged.iter().map(|s| s.entity_type.as_str()).collect();
        assert_eq!(kept, vec!["A", "B", "E"]);
    }

    #[test]
    fn operators_deserialize_with_defaults() {
        let ops = ops_json(
            r#"{"per_entity": {
                "EMAIL": {"type": "mask", "chars_to_mask": 3},
                "PHONE": {"type": "redact"},
                "NAME": {"type": "replace", "new_value": "someone"}
            }}"#,
        );
        assert_eq!(ops.default, Operator::Replace { new_value: None });
        assert_eq!(
            ops.for_entity("EMAIL"),
            &Operator::Mask {
                masking_char: '*',
                chars_to_mask: Some(3),
                from_end: false
            }
        );
        assert_eq!(ops.for_entity("PHONE"), &Operator::Redact);
        assert_eq!(ops.for_entity("OTHER"), &Operator::default());
        assert_eq!(ops_json("{}"), Operators::default());
        let round: Operators = serde_json::from_str(&serde_json::to_string(&ops).unwrap()).unwrap();
        assert_eq!(round, ops);
    }

    #[test]
    fn operators_reject_unknown_fields_and_types() {
        for bad in [
            r##"{"default": {"type": "mask", "masking_chr": "#"}}"##,
            r#"{"default": {"type": "encrypt"}}"#,
            r#"{"default": {"type": "replace", "value": "x"}}"#,
            r#"{"defaults": {"type": "keep"}}"#,
            r#"{"default": {"type": "mask", "masking_char": "ab"}}"#,
        ] {
            assert!(serde_json::from_str::<Operators>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replace_and_redact() {
        let text = "mail bob@x.io now";
        let spans = [span("EMAIL_ADDRESS", 5, 13, 0.9, "builtin")];
        let out = run(text, &spans, &Operators::default());
        assert_eq!(out.text, "mail <EMAIL_ADDRESS> now");
        let item = &out.items[0];
        assert_eq!(&out.text[item.start..item.end], "<EMAIL_ADDRESS>");
        assert_eq!((item.original_start, item.original_end), (5, 13));
        assert_eq!(item.operator, "replace");

        let custom = ops_json(r#"{"default": {"type": "replace", "new_value": "[x]"}}"#);
        assert_eq!(run(text, &spans, &custom).text, "mail [x] now");

        let redact = ops_json(r#"{"default": {"type": "redact"}}"#);
        let out = run(text, &spans, &redact);
        assert_eq!(out.text, "mail  now");
        assert_eq!((out.items[0].start, out.items[0].end), (5, 5));
        assert_eq!(out.items[0].operator, "redact");
    }

    #[test]
    fn mask_counts_chars_not_bytes() {
        let text = "név: Zoë Ünal!";
        let start = text.find('Z').unwrap();
        let end = text.find('!').unwrap();
        let spans = [span("PERSON", start, end, 1.0, "builtin")];
        let all = ops_json(r#"{"default": {"type": "mask"}}"#);
        assert_eq!(run(text, &spans, &all).text, "név: ********!");
        let first =
            ops_json(r##"{"default": {"type": "mask", "masking_char": "#", "chars_to_mask": 3}}"##);
        assert_eq!(run(text, &spans, &first).text, "név: ### Ünal!");
        let last = ops_json(
            r#"{"default": {"type": "mask", "masking_char": "é", "chars_to_mask": 4, "from_end": true}}"#,
        );
        let out = run(text, &spans, &last);
        assert_eq!(out.text, "név: Zoë éééé!");
        assert_eq!(&out.text[out.items[0].start..out.items[0].end], "Zoë éééé");
        let too_many =
            ops_json(r#"{"default": {"type": "mask", "chars_to_mask": 99, "from_end": true}}"#);
        assert_eq!(run(text, &spans, &too_many).text, "név: ********!");
    }

    #[test]
    fn hash_is_salted_sha256_hex() {
        let spans = [span("X", 0, 2, 1.0, "builtin")];
        let ops = ops_json(r#"{"default": {"type": "hash"}}"#);
        let mut vault = Pseudonyms::default();
        // sha256("abc"): salt "a" followed by value "bc".
        let out = anonymize("bc", &spans, &ops, b"a", &mut vault).unwrap();
        assert_eq!(
            out.text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let other = anonymize("bc", &spans, &ops, b"b", &mut vault).unwrap();
        assert_ne!(other.text, out.text);
        assert!(vault.is_empty());
    }

    #[test]
    fn pseudonymize_is_consistent_per_type() {
        let text = "a@x b@x a@x 555 a@x";
        let spans = [
            span("EMAIL_ADDRESS", 0, 3, 1.0, "b"),
            span("EMAIL_ADDRESS", 4, 7, 1.0, "b"),
            span("EMAIL_ADDRESS", 8, 11, 1.0, "b"),
            span("PHONE", 12, 15, 1.0, "b"),
            span("USERNAME", 16, 19, 1.0, "b"),
        ];
        let ops = ops_json(r#"{"default": {"type": "pseudonymize"}}"#);
        let mut vault = Pseudonyms::default();
        let out = anonymize(text, &spans, &ops, b"", &mut vault).unwrap();
        assert_eq!(
            out.text,
            "<EMAIL_ADDRESS_1> <EMAIL_ADDRESS_2> <EMAIL_ADDRESS_1> <PHONE_1> <USERNAME_1>"
        );
        assert_eq!(vault.len(), 4);
        assert_eq!(vault.value_of("<EMAIL_ADDRESS_2>"), Some("b@x"));
        assert_eq!(vault.value_of("<USERNAME_1>"), Some("a@x"));
        assert_eq!(vault.entity_type_of("<PHONE_1>"), Some("PHONE"));
        for item in &out.items {
            assert!(out.text[item.start..item.end].starts_with('<'));
        }
        // The same vault keeps numbering across calls.
        let again = anonymize(
            "c@x",
            &[span("EMAIL_ADDRESS", 0, 3, 1.0, "b")],
            &ops,
            b"",
            &mut vault,
        )
        .unwrap();
        assert_eq!(again.text, "<EMAIL_ADDRESS_3>");
    }

    #[test]
    fn per_entity_operators_and_keep() {
        let text = "Ann 555-1234";
        let spans = [
            span("PERSON", 0, 3, 0.8, "p"),
            span("PHONE", 4, 12, 0.7, "q"),
        ];
        let ops = ops_json(
            r#"{"default": {"type": "redact"}, "per_entity": {"PERSON": {"type": "keep"}}}"#,
        );
        let out = run(text, &spans, &ops);
        assert_eq!(out.text, "Ann ");
        assert_eq!(out.items[0].operator, "keep");
        assert_eq!(out.items[1].operator, "redact");
        assert_eq!(out.items[1].source, "q");
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["items"][0]["original_end"], 3);
    }

    #[test]
    fn bad_spans_are_errors_naming_the_index() {
        let text = "héllo world";
        let ops = ops_json(r#"{"default": {"type": "pseudonymize"}}"#);
        let cases = [
            (
                vec![span("A", 0, 1, 1.0, "s"), span("A", 3, 3, 1.0, "s")],
                AnonymizeError::EmptySpan {
                    index: 1,
                    start: 3,
                    end: 3,
                },
            ),
            (
                vec![span("A", 0, 99, 1.0, "s")],
                AnonymizeError::OutOfBounds {
                    index: 0,
                    end: 99,
                    len: 12,
                },
            ),
            (
                vec![span("A", 0, 1, 1.0, "s"), span("A", 2, 4, 1.0, "s")],
                AnonymizeError::NotCharBoundary {
                    index: 1,
                    offset: 2,
                },
            ),
            (
                vec![span("A", 4, 6, 1.0, "s"), span("A", 0, 1, 1.0, "s")],
                AnonymizeError::Overlapping {
                    index: 1,
                    start: 0,
                    previous_end: 6,
                },
            ),
            (
                vec![span("A", 0, 6, 1.0, "s"), span("A", 5, 8, 1.0, "s")],
                AnonymizeError::Overlapping {
                    index: 1,
                    start: 5,
                    previous_end: 6,
                },
            ),
        ];
        for (spans, expected) in cases {
            let mut vault = Pseudonyms::default();
            let err = anonymize(text, &spans, &ops, b"", &mut vault).unwrap_err();
            assert!(err.to_string().starts_with(&format!(
                "span {}",
                match &expected {
                    AnonymizeError::EmptySpan { index, .. }
                    | AnonymizeError::OutOfBounds { index, .. }
                    | AnonymizeError::NotCharBoundary { index, .. }
                    | AnonymizeError::Overlapping { index, .. } => *index,
                }
            )));
            assert_eq!(err, expected);
            assert!(vault.is_empty(), "vault must be untouched on error");
        }
    }

    #[test]
    fn round_trip_through_deanonymize() {
        let text = "Write to ann@x.io or call ann@x.io; Bob says hi.";
        let spans = merge(vec![
            span("EMAIL_ADDRESS", 9, 17, 0.9, "builtin"),
            span("EMAIL_ADDRESS", 26, 34, 0.9, "builtin"),
            span("PERSON", 36, 39, 0.6, "dictionary:staff"),
        ]);
        let ops = ops_json(r#"{"default": {"type": "pseudonymize"}}"#);
        let mut vault = Pseudonyms::default();
        let anon = anonymize(text, &spans, &ops, b"", &mut vault).unwrap();
        assert!(!anon.text.contains("ann@x.io"));
        let back = deanonymize(&anon.text, &vault);
        assert_eq!(back.text, text);
        assert_eq!(back.restored.len(), 3);
        assert!(back.unknown_tokens.is_empty());
        for item in &back.restored {
            assert_eq!(
                &back.text[item.start..item.end],
                vault.value_of(&item.token).unwrap()
            );
        }
        assert_eq!(back.restored[2].entity_type, "PERSON");
    }

    #[test]
    fn literal_token_shaped_input_round_trips_exactly() {
        // Regression: a literal `<EMAIL_ADDRESS_1>` in the input used to collide with the token
        // minted for bob's address, and deanonymize turned the user's text into bob's address.
        let text = "literal <EMAIL_ADDRESS_1> and <!EMAIL_ADDRESS_1> <!!X_2> then bob@example.com";
        let start = text.find("bob@").unwrap();
        let spans = vec![span("EMAIL_ADDRESS", start, text.len(), 0.9, "builtin")];
        let ops = ops_json(r#"{"default": {"type": "pseudonymize"}}"#);
        let mut vault = Pseudonyms::default();
        let anon = anonymize(text, &spans, &ops, b"", &mut vault).unwrap();
        assert_eq!(
            anon.text,
            "literal <!EMAIL_ADDRESS_1> and <!!EMAIL_ADDRESS_1> <!!!X_2> then <EMAIL_ADDRESS_1>"
        );
        let item = &anon.items[0];
        assert_eq!(&anon.text[item.start..item.end], "<EMAIL_ADDRESS_1>");
        let back = deanonymize(&anon.text, &vault);
        assert_eq!(back.text, text);
        assert_eq!(back.restored.len(), 1);
        assert!(back.unknown_tokens.is_empty());
        // A replacement that looks like a token is escaped too; a masked one is not token-shaped.
        let ops = ops_json(r#"{"default": {"type": "replace", "new_value": "<X_1>"}}"#);
        let anon = anonymize(text, &spans, &ops, b"", &mut vault).unwrap();
        assert!(anon.text.ends_with("then <!X_1>"), "{}", anon.text);
    }

    #[test]
    fn deanonymize_reports_unknown_tokens_once_in_order() {
        let mut vault = Pseudonyms::default();
        let t = vault.token_for("EMAIL_ADDRESS", "a@b.c");
        let text = format!("<PHONE_9> {t} <EMAIL_ADDRESS_7> <PHONE_9> <X_1>");
        let out = deanonymize(&text, &vault);
        assert_eq!(
            out.text,
            "<PHONE_9> a@b.c <EMAIL_ADDRESS_7> <PHONE_9> <X_1>"
        );
        assert_eq!(
            out.unknown_tokens,
            vec!["<PHONE_9>", "<EMAIL_ADDRESS_7>", "<X_1>"]
        );
        assert_eq!(out.restored[0].start, 10);
    }

    #[test]
    fn deanonymize_token_shape() {
        let vault = Pseudonyms::default();
        let text = "<a_1> <A1> <_A_1> <A_> <A_1x> <A__1> <<B_2>> <A_1_2> < A_1> <A_١>";
        let out = deanonymize(text, &vault);
        assert_eq!(out.text, text);
        assert_eq!(out.unknown_tokens, vec!["<A__1>", "<B_2>", "<A_1_2>"]);
    }

    #[test]
    fn values_that_look_like_tokens_are_not_re_expanded() {
        let mut vault = Pseudonyms::default();
        let inner = vault.token_for("PERSON", "Eve");
        let outer = vault.token_for("NOTE", &format!("see {inner}"));
        let out = deanonymize(&format!("[{outer}]"), &vault);
        assert_eq!(out.text, format!("[see {inner}]"));
        assert_eq!(out.restored.len(), 1);
        assert!(out.unknown_tokens.is_empty());
    }

    #[test]
    fn token_labels_are_token_shaped() {
        let mut vault = Pseudonyms::default();
        assert_eq!(vault.token_for("email", "x"), "<EMAIL_1>");
        assert_eq!(vault.token_for("EMAIL", "x"), "<EMAIL_2>");
        assert_eq!(vault.token_for("credit-card", "x"), "<CREDIT_CARD_1>");
        assert_eq!(vault.token_for("", "x"), "<ENTITY_1>");
        assert_eq!(vault.token_for("9lives", "x"), "<ENTITY_9LIVES_1>");
        assert_eq!(vault.token_for("nombre_ñ", "x"), "<NOMBRE___1>");
        let text = "<EMAIL_1> <EMAIL_2> <CREDIT_CARD_1> <ENTITY_1> <ENTITY_9LIVES_1> <NOMBRE___1>";
        let out = deanonymize(text, &vault);
        assert_eq!(out.text, "x x x x x x");
        assert_eq!(out.restored[0].entity_type, "email");
        assert_eq!(out.restored[1].entity_type, "EMAIL");
    }

    #[test]
    fn vault_serde_round_trip_keeps_numbering() {
        let mut vault = Pseudonyms::default();
        vault.token_for("PERSON", "Ann");
        vault.token_for("PERSON", "Bob");
        let json = serde_json::to_string(&vault).unwrap();
        assert!(!format!("{vault:?}").contains("Ann"));
        let mut loaded: Pseudonyms = serde_json::from_str(&json).unwrap();
        assert_eq!(loaded, vault);
        assert_eq!(loaded.token_for("PERSON", "Bob"), "<PERSON_2>");
        assert_eq!(loaded.token_for("PERSON", "Cy"), "<PERSON_3>");

        // Dropping an entry does not let its token be handed out again.
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["tokens"]
            .as_object_mut()
            .unwrap()
            .remove("<PERSON_2>");
        let mut pruned: Pseudonyms = serde_json::from_value(value).unwrap();
        assert_eq!(pruned.len(), 1);
        assert_eq!(pruned.token_for("PERSON", "Dee"), "<PERSON_3>");

        // Counters are rebuilt from tokens when missing.
        let no_counters = r#"{"tokens": {"<PERSON_5>": {"entity_type": "PERSON", "value": "Z"}}}"#;
        let mut rebuilt: Pseudonyms = serde_json::from_str(no_counters).unwrap();
        assert_eq!(rebuilt.token_for("PERSON", "Z"), "<PERSON_5>");
        assert_eq!(rebuilt.token_for("PERSON", "Y"), "<PERSON_6>");
    }

    #[test]
    fn vault_rejects_inconsistent_json() {
        for bad in [
            r#"{"tokens": {"PERSON_1": {"entity_type": "PERSON", "value": "a"}}}"#,
            r#"{"tokens": {"<PERSON_1>": {"entity_type": "EMAIL", "value": "a"}}}"#,
            r#"{"tokens": {"<PERSON_0>": {"entity_type": "PERSON", "value": "a"}}}"#,
            r#"{"tokens": {"<PERSON_1>": {"entity_type": "PERSON", "value": "a"},
                           "<PERSON_2>": {"entity_type": "PERSON", "value": "a"}}}"#,
            r#"{"tokens": {}, "counters": {"PERSON": 18446744073709551615}}"#,
            r#"{"tokens": {}, "extra": 1}"#,
        ] {
            assert!(serde_json::from_str::<Pseudonyms>(bad).is_err(), "{bad}");
        }
    }
}
