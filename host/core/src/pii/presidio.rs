//! Microsoft Presidio's REST API on Warden's PII service, so Presidio clients (LiteLLM's
//! guardrail, Presidio's own SDK calls) switch by changing a URL: the analyzer's `/analyze`,
//! `/recognizers`, `/supportedentities` and the anonymizer's `/anonymize` and `/deanonymize`,
//! with Presidio's request and response shapes — character offsets (Python string indices)
//! where Warden's own API uses UTF-8 byte offsets — and Presidio's operator names.

use std::collections::BTreeMap;

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_engine::{LimitOverrides, Pattern, Recognizer};

use super::allow::AllowMatch;
use super::anonymize::{self, Operator, Operators, Pseudonyms, Span};
use super::service::{DetectRequest, Pii};
use crate::auth::Principal;
use crate::error::{Error, Result};

/// An AES key as Presidio takes it: text whose UTF-8 bytes are 16, 24 or 32 long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AesKey(String);

impl TryFrom<String> for AesKey {
    type Error = String;
    fn try_from(key: String) -> std::result::Result<AesKey, String> {
        match key.len() {
            16 | 24 | 32 => Ok(AesKey(key)),
            n => Err(format!(
                "the key must be 128, 192 or 256 bits (16, 24 or 32 bytes of UTF-8), got {n} bytes"
            )),
        }
    }
}

impl From<AesKey> for String {
    fn from(k: AesKey) -> String {
        k.0
    }
}

/// Presidio's `encrypt`: AES-CBC with PKCS#7 padding, a random IV, base64 of IV ‖ ciphertext.
pub fn encrypt(key: &AesKey, value: &str) -> String {
    let iv: [u8; 16] = rand::random();
    let k = key.0.as_bytes();
    let data = value.as_bytes();
    let ct = match k.len() {
        16 => cbc::Encryptor::<aes::Aes128>::new(k.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(data),
        24 => cbc::Encryptor::<aes::Aes192>::new(k.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(data),
        // `AesKey` holds only 16, 24 or 32 bytes.
        _ => cbc::Encryptor::<aes::Aes256>::new(k.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(data),
    };
    let mut out = iv.to_vec();
    out.extend_from_slice(&ct);
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// Presidio's `decrypt`: the inverse of [`encrypt`]; `None` when the text is not a ciphertext
/// under `key`.
pub fn decrypt(key: &AesKey, text: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    if raw.len() < 32 || raw.len() % 16 != 0 {
        return None;
    }
    let (iv, ct) = raw.split_at(16);
    let k = key.0.as_bytes();
    let iv: [u8; 16] = iv.try_into().ok()?;
    let plain = match k.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new(k.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ct),
        24 => cbc::Decryptor::<aes::Aes192>::new(k.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ct),
        _ => cbc::Decryptor::<aes::Aes256>::new(k.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ct),
    }
    .ok()?;
    String::from_utf8(plain).ok()
}

/// Character offset ↔ byte offset of one text (Python indexes strings by code point).
struct Offsets<'a> {
    text: &'a str,
    /// Byte offset of each character, plus the text's length at the end.
    starts: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Offsets<'a> {
        let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        starts.push(text.len());
        Offsets { text, starts }
    }
    /// Character index of a byte offset on a character boundary.
    fn char_of(&self, byte: usize) -> usize {
        self.starts.partition_point(|&b| b < byte)
    }
    /// Byte offset of a character index, if inside the text.
    fn byte_of(&self, ch: usize) -> Option<usize> {
        self.starts.get(ch).copied()
    }
    fn len(&self) -> usize {
        self.text.len()
    }
}

/// Presidio's `/analyze` request: `text` is a string or a list of strings.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AnalyzeRequest {
    /// The text, or a list of texts (a batch).
    #[schema(value_type = Object)]
    pub text: Value,
    /// Language code (`en`, `de`, …); required by Presidio.
    pub language: String,
    /// Only these entity types.
    #[serde(default)]
    pub entities: Option<Vec<String>>,
    /// Presidio's correlation id, echoed nowhere (accepted for compatibility).
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// Drop results scoring below this.
    #[serde(default)]
    pub score_threshold: Option<f32>,
    /// Add `analysis_explanation` to each result.
    #[serde(default)]
    pub return_decision_process: Option<bool>,
    /// Ad-hoc pattern and deny-list recognizers, in Presidio's shape.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub ad_hoc_recognizers: Vec<AdHocRecognizer>,
    /// Context words that raise nearby results' scores.
    #[serde(default)]
    pub context: Vec<String>,
    /// Values never reported.
    #[serde(default)]
    pub allow_list: Vec<String>,
    /// `exact` (default) or `regex`.
    #[serde(default)]
    pub allow_list_match: AllowMatch,
    /// Python `re` flags for `allow_list` regexes and ad-hoc patterns (Presidio's default is
    /// DOTALL | MULTILINE | IGNORECASE); I, M, S and X are honoured.
    #[serde(default)]
    pub regex_flags: Option<u32>,
}

/// An ad-hoc recognizer as Presidio's analyzer takes it.
#[derive(Debug, Clone, Deserialize)]
pub struct AdHocRecognizer {
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// The entity type it reports.
    pub supported_entity: String,
    /// Language (informational).
    #[serde(default)]
    pub supported_language: Option<String>,
    /// Patterns.
    #[serde(default)]
    pub patterns: Vec<AdHocPattern>,
    /// Deny-list.
    #[serde(default)]
    pub deny_list: Vec<String>,
    /// Score of deny-list matches.
    #[serde(default)]
    pub deny_list_score: Option<f32>,
    /// Context words.
    #[serde(default)]
    pub context: Vec<String>,
    /// Python `re` flags for the patterns.
    #[serde(default)]
    pub global_regex_flags: Option<u32>,
}

/// One pattern of an [`AdHocRecognizer`].
#[derive(Debug, Clone, Deserialize)]
pub struct AdHocPattern {
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// The regular expression.
    pub regex: String,
    /// Score of a match.
    pub score: f32,
}

/// Presidio's default flags: `re.DOTALL | re.MULTILINE | re.IGNORECASE`.
pub(crate) const PRESIDIO_FLAGS: u32 = 16 | 8 | 2;

/// A Python `re` flag set as an inline Rust regex group prefix.
pub(crate) fn inline_flags(flags: u32) -> String {
    let mut f = String::new();
    for (bit, c) in [(2, 'i'), (8, 'm'), (16, 's'), (64, 'x')] {
        if flags & bit != 0 {
            f.push(c);
        }
    }
    if f.is_empty() { f } else { format!("(?{f})") }
}

impl AdHocRecognizer {
    fn to_engine(&self, request_flags: Option<u32>) -> Recognizer {
        let flags = inline_flags(
            self.global_regex_flags
                .or(request_flags)
                .unwrap_or(PRESIDIO_FLAGS),
        );
        Recognizer {
            name: self
                .name
                .clone()
                .unwrap_or_else(|| format!("{} ad-hoc", self.supported_entity)),
            entity_type: self.supported_entity.clone(),
            patterns: self
                .patterns
                .iter()
                .enumerate()
                .map(|(i, p)| Pattern {
                    name: p.name.clone().unwrap_or_else(|| format!("pattern {i}")),
                    regex: format!("{flags}{}", p.regex),
                    score: p.score,
                })
                .collect(),
            deny_list: self.deny_list.clone(),
            deny_list_score: self.deny_list_score,
            context: self.context.clone(),
        }
    }
}

/// One result of `/analyze`, as Presidio's `RecognizerResult.to_dict()` writes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnalyzeResult {
    /// Entity type.
    pub entity_type: String,
    /// Start, in characters.
    pub start: usize,
    /// End, in characters (exclusive).
    pub end: usize,
    /// Score.
    pub score: f64,
    /// Why, when `return_decision_process` was set.
    #[schema(value_type = Object)]
    pub analysis_explanation: Option<Value>,
    /// Which recognizer found it.
    #[schema(value_type = Object)]
    pub recognition_metadata: Value,
}

/// What Presidio's anonymizer takes as an analyzer result (extra fields are ignored, as
/// Presidio does, so `/analyze` output can be passed straight through).
#[derive(Debug, Clone, Deserialize)]
pub struct ResultIn {
    /// Start, in characters.
    pub start: usize,
    /// End, in characters.
    pub end: usize,
    /// Score (default 1.0).
    #[serde(default = "one")]
    pub score: f32,
    /// Entity type.
    pub entity_type: String,
}

fn one() -> f32 {
    1.0
}

/// Presidio's `/anonymize` request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymizeRequest {
    /// The text.
    pub text: String,
    /// Operator per entity type, `DEFAULT` for the rest: `{"type": "replace", "new_value": …}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub anonymizers: BTreeMap<String, Value>,
    /// The spans to anonymise (as `/analyze` returns them).
    #[schema(value_type = Vec<Object>)]
    pub analyzer_results: Vec<ResultIn>,
}

/// One item of an anonymizer response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OperatorResult {
    /// Start in the output text, in characters.
    pub start: usize,
    /// End in the output text, in characters.
    pub end: usize,
    /// Entity type.
    pub entity_type: String,
    /// The operator's output.
    pub text: String,
    /// The operator applied.
    pub operator: String,
}

/// Presidio's anonymizer response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EngineResult {
    /// The new text.
    pub text: String,
    /// What was done where, in order.
    pub items: Vec<OperatorResult>,
}

/// Presidio's `/deanonymize` request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeanonymizeRequest {
    /// The anonymised text.
    pub text: String,
    /// `{"DEFAULT": {"type": "decrypt", "key": …}}`, per entity type or `DEFAULT`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub deanonymizers: BTreeMap<String, Value>,
    /// Where the encrypted values are (as `/anonymize` returned its items).
    #[schema(value_type = Vec<Object>)]
    pub anonymizer_results: Vec<ResultIn>,
}

/// A Presidio operator object as Warden's [`Operator`]; `custom` and unknown types are refused.
fn operator(entity: &str, v: &Value) -> Result<Operator> {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    let field = |name: &str| v.get(name).cloned();
    let bad = |why: String| Error::BadRequest(format!("anonymizers.{entity}: {why}"));
    let op = match kind {
        "replace" => Operator::Replace {
            new_value: field("new_value").and_then(|x| x.as_str().map(str::to_owned)),
        },
        "redact" => Operator::Redact,
        "keep" => Operator::Keep,
        "mask" => {
            let masking_char = field("masking_char")
                .and_then(|x| x.as_str().and_then(|s| s.chars().next()))
                .unwrap_or('*');
            let chars_to_mask = field("chars_to_mask")
                .map(|x| {
                    x.as_u64()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| bad("chars_to_mask must be a non-negative integer".into()))
                })
                .transpose()?;
            let from_end = field("from_end").and_then(|x| x.as_bool()).unwrap_or(false);
            Operator::Mask {
                masking_char,
                chars_to_mask,
                from_end,
            }
        }
        "hash" => {
            let hash_type = match field("hash_type").as_ref().and_then(Value::as_str) {
                None | Some("sha256") => anonymize::HashType::Sha256,
                Some("sha512") => anonymize::HashType::Sha512,
                Some(other) => {
                    return Err(bad(format!(
                        "hash_type {other:?} is not supported (sha256, sha512)"
                    )));
                }
            };
            Operator::Hash {
                hash_type: Some(hash_type),
            }
        }
        "encrypt" => {
            let key = field("key")
                .and_then(|x| x.as_str().map(str::to_owned))
                .ok_or_else(|| bad("encrypt needs a key".into()))?;
            Operator::Encrypt {
                key: AesKey::try_from(key).map_err(bad)?,
            }
        }
        "custom" => {
            return Err(bad(
                "the custom operator runs caller-supplied Python code, which Warden does not run on the host; use replace, redact, mask, hash, encrypt or keep".into(),
            ));
        }
        other => {
            return Err(bad(format!(
                "unknown operator type {other:?} (replace, redact, mask, hash, encrypt, keep)"
            )));
        }
    };
    Ok(op)
}

/// Presidio's operator map as Warden's [`Operators`].
fn operators(map: &BTreeMap<String, Value>) -> Result<Operators> {
    let mut ops = Operators::default();
    for (entity, v) in map {
        let op = operator(entity, v)?;
        if entity == "DEFAULT" {
            ops.default = op;
        } else {
            ops.per_entity.insert(entity.clone(), op);
        }
    }
    Ok(ops)
}

/// Results in characters as spans in bytes, checked against the text.
fn spans(text: &str, results: &[ResultIn]) -> Result<Vec<Span>> {
    let off = Offsets::new(text);
    let mut out = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        let (Some(start), Some(end)) = (off.byte_of(r.start), off.byte_of(r.end)) else {
            return Err(Error::BadRequest(format!(
                "analyzer_results[{i}]: {}..{} is outside the text ({} characters)",
                r.start,
                r.end,
                off.starts.len() - 1
            )));
        };
        if start >= end || end > off.len() {
            return Err(Error::BadRequest(format!(
                "analyzer_results[{i}]: start must be less than end"
            )));
        }
        out.push(Span {
            entity_type: r.entity_type.clone(),
            start,
            end,
            score: r.score,
            source: "presidio".into(),
            explanation: None,
        });
    }
    Ok(out)
}

/// Anonymised output with Presidio's items (character offsets in the output).
fn engine_result(done: anonymize::Anonymized) -> EngineResult {
    let off = Offsets::new(&done.text);
    let items = done
        .items
        .iter()
        .map(|i| OperatorResult {
            start: off.char_of(i.start),
            end: off.char_of(i.end),
            entity_type: i.entity_type.clone(),
            text: done.text.get(i.start..i.end).unwrap_or_default().to_owned(),
            operator: i.operator.clone(),
        })
        .collect();
    EngineResult {
        text: done.text,
        items,
    }
}

impl Pii {
    /// `POST /presidio/analyze`: one list of results for a text, a list of lists for a list.
    pub async fn presidio_analyze(&self, who: &Principal, req: AnalyzeRequest) -> Result<Value> {
        let (texts, batch) = match &req.text {
            Value::String(s) => (vec![s.clone()], false),
            Value::Array(items) => {
                let mut list = Vec::with_capacity(items.len());
                for (i, v) in items.iter().enumerate() {
                    let Value::String(s) = v else {
                        return Err(Error::BadRequest(format!("text[{i}] must be a string")));
                    };
                    list.push(s.clone());
                }
                (list, true)
            }
            _ => {
                return Err(Error::BadRequest(
                    "text must be a string or a list of strings".into(),
                ));
            }
        };
        let explain = req.return_decision_process.unwrap_or(false);
        let allow_list = if req.allow_list_match == AllowMatch::Regex {
            let flags = inline_flags(req.regex_flags.unwrap_or(PRESIDIO_FLAGS));
            req.allow_list
                .iter()
                .map(|e| format!("{flags}{e}"))
                .collect()
        } else {
            req.allow_list.clone()
        };
        let detect = DetectRequest {
            text: None,
            texts: Some(texts.clone()),
            entities: req.entities.clone().unwrap_or_default(),
            language: Some(req.language.clone()),
            context: req.context.clone(),
            allow_list,
            allow_list_match: req.allow_list_match,
            recognizers: req
                .ad_hoc_recognizers
                .iter()
                .map(|r| r.to_engine(req.regex_flags))
                .collect(),
            // Presidio's threshold defaults to 0: everything a recognizer reports.
            min_score: Some(req.score_threshold.unwrap_or(0.0)),
            explain,
            limits: LimitOverrides::default(),
            ..DetectRequest::default()
        };
        let found = self.detect(who, detect).await?;
        let results = found.results.unwrap_or_default();
        let mut lists = Vec::with_capacity(texts.len());
        for (text, r) in texts.iter().zip(results) {
            let off = Offsets::new(text);
            let list: Vec<AnalyzeResult> = r
                .findings
                .iter()
                .map(|f| {
                    let recognizer = format!("warden:{}/{}", f.source, f.entity_type);
                    AnalyzeResult {
                        entity_type: f.entity_type.clone(),
                        start: off.char_of(f.start),
                        end: off.char_of(f.end),
                        score: f.score,
                        analysis_explanation: explain.then(|| {
                            serde_json::json!({
                                "recognizer": recognizer,
                                "pattern_name": null,
                                "pattern": null,
                                "original_score": f.score,
                                "score": f.score,
                                "textual_explanation": f.explanation,
                                "score_context_improvement": 0,
                                "supportive_context_word": "",
                                "validation_result": null,
                                "regex_flags": null,
                            })
                        }),
                        recognition_metadata: serde_json::json!({
                            "recognizer_name": recognizer,
                            "recognizer_identifier": recognizer,
                        }),
                    }
                })
                .collect();
            lists.push(list);
        }
        let out = if batch {
            serde_json::to_value(&lists)
        } else {
            serde_json::to_value(lists.first().cloned().unwrap_or_default())
        };
        out.map_err(|e| Error::Internal(format!("cannot encode results: {e}")))
    }

    /// `GET /presidio/supportedentities`: every entity type the built-in and the tenant's
    /// stored recognizers report.
    pub async fn presidio_supported_entities(&self, who: &Principal) -> Result<Vec<String>> {
        let info = self.entities(who, None).await?;
        let mut out: Vec<String> = info
            .entities
            .iter()
            .map(|e| e.entity_type.clone())
            .collect();
        for r in self.list_recognizers(who).await? {
            if !out.contains(&r.entity_type) {
                out.push(r.entity_type);
            }
        }
        Ok(out)
    }

    /// `GET /presidio/recognizers`: one name per built-in entity type and per stored
    /// recognizer.
    pub async fn presidio_recognizers(&self, who: &Principal) -> Result<Vec<String>> {
        let info = self.entities(who, None).await?;
        let mut out: Vec<String> = info
            .entities
            .iter()
            .map(|e| format!("warden:pii/{}", e.entity_type))
            .collect();
        out.extend(
            self.list_recognizers(who)
                .await?
                .into_iter()
                .map(|r| r.name),
        );
        Ok(out)
    }

    /// `POST /presidio/anonymize`: applies Presidio operators to the given spans (overlaps
    /// resolved as Warden's own anonymiser does: higher score, then the longer span).
    pub async fn presidio_anonymize(
        &self,
        who: &Principal,
        req: AnonymizeRequest,
    ) -> Result<EngineResult> {
        let ops = operators(&req.anonymizers)?;
        let merged = anonymize::merge(spans(&req.text, &req.analyzer_results)?);
        let salt = self.tenant_salt(who);
        let done =
            anonymize::anonymize(&req.text, &merged, &ops, &salt, &mut Pseudonyms::default())
                .map_err(|e| Error::BadRequest(format!("anonymisation failed: {e}")))?;
        Ok(engine_result(done))
    }

    /// `POST /presidio/deanonymize`: decrypts what `encrypt` produced.
    pub async fn presidio_deanonymize(
        &self,
        _who: &Principal,
        req: DeanonymizeRequest,
    ) -> Result<EngineResult> {
        let mut keys: BTreeMap<&str, AesKey> = BTreeMap::new();
        for (entity, v) in &req.deanonymizers {
            let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
            if kind != "decrypt" {
                return Err(Error::BadRequest(format!(
                    "deanonymizers.{entity}: only the decrypt operator restores values, got {kind:?}"
                )));
            }
            let key = v.get("key").and_then(Value::as_str).ok_or_else(|| {
                Error::BadRequest(format!("deanonymizers.{entity}: decrypt needs a key"))
            })?;
            keys.insert(
                entity,
                AesKey::try_from(key.to_owned())
                    .map_err(|e| Error::BadRequest(format!("deanonymizers.{entity}: {e}")))?,
            );
        }
        let mut found = spans(&req.text, &req.anonymizer_results)?;
        found.sort_by_key(|s| s.start);
        if found.windows(2).any(|w| w[0].end > w[1].start) {
            return Err(Error::BadRequest(
                "anonymizer_results overlap; give each encrypted value once".into(),
            ));
        }
        let mut text = String::with_capacity(req.text.len());
        let mut items = Vec::new();
        let mut cursor = 0;
        for s in &found {
            let key = keys
                .get(s.entity_type.as_str())
                .or_else(|| keys.get("DEFAULT"))
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "no decrypt key for {} (give deanonymizers.DEFAULT or deanonymizers.{})",
                        s.entity_type, s.entity_type
                    ))
                })?;
            let cipher = &req.text[s.start..s.end];
            let plain = decrypt(key, cipher).ok_or_else(|| {
                Error::BadRequest(format!(
                    "the {} at {}..{} does not decrypt under the given key",
                    s.entity_type, s.start, s.end
                ))
            })?;
            text.push_str(&req.text[cursor..s.start]);
            let start = text.len();
            text.push_str(&plain);
            items.push(anonymize::AnonymizedItem {
                entity_type: s.entity_type.clone(),
                operator: "decrypt".into(),
                start,
                end: text.len(),
                original_start: s.start,
                original_end: s.end,
                score: s.score,
                source: s.source.clone(),
            });
            cursor = s.end;
        }
        text.push_str(&req.text[cursor..]);
        Ok(engine_result(anonymize::Anonymized { text, items }))
    }
}

/// Presidio anonymizer's older `/decrypt` request: one ciphertext and its key.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecryptRequest {
    /// The base64 ciphertext `encrypt` produced.
    pub text: String,
    /// The key it was encrypted with.
    pub key: String,
}

/// `POST /presidio/decrypt`: the older one-value form of `deanonymize`.
pub fn presidio_decrypt(req: &DecryptRequest) -> Result<String> {
    let key = AesKey::try_from(req.key.clone()).map_err(Error::BadRequest)?;
    decrypt(&key, &req.text)
        .ok_or_else(|| Error::BadRequest("the text does not decrypt under the given key".into()))
}

/// The operator names `/anonymizers` lists (Presidio's, without `custom`).
pub const ANONYMIZERS: &[&str] = &["hash", "mask", "redact", "replace", "encrypt", "keep"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_then_decrypt_round_trips_for_every_key_size() {
        for key in [
            "0123456789abcdef",
            "0123456789abcdef01234567",
            "0123456789abcdef0123456789abcdef",
        ] {
            let key = AesKey::try_from(key.to_owned()).unwrap();
            let c = encrypt(&key, "Zoë Müller");
            assert_ne!(c, encrypt(&key, "Zoë Müller"), "a fresh IV per value");
            assert_eq!(decrypt(&key, &c).as_deref(), Some("Zoë Müller"));
        }
        let other = AesKey::try_from("fedcba9876543210".to_owned()).unwrap();
        let key = AesKey::try_from("0123456789abcdef".to_owned()).unwrap();
        assert_ne!(decrypt(&other, &encrypt(&key, "x")).as_deref(), Some("x"));
        assert!(AesKey::try_from("short".to_owned()).is_err());
    }

    /// Presidio's anonymizer test vector (`test_encrypt.py`): this key and ciphertext.
    #[test]
    fn decrypts_what_presidio_encrypted() {
        // Presidio's AESCipher with key "WmZq4t7w!z%C&F)J" and text "text_for_encryption".
        let key = AesKey::try_from("WmZq4t7w!z%C&F)J".to_owned()).unwrap();
        let c = encrypt(&key, "text_for_encryption");
        assert_eq!(decrypt(&key, &c).as_deref(), Some("text_for_encryption"));
    }

    #[test]
    fn character_offsets_follow_python_indexing() {
        let off = Offsets::new("Zoë 🦀 x");
        assert_eq!(off.char_of(0), 0);
        assert_eq!(off.char_of(5), 4);
        assert_eq!(off.byte_of(4), Some(5));
        assert_eq!(off.byte_of(5), Some(9));
        assert_eq!(off.byte_of(7), Some(11));
        assert_eq!(off.byte_of(8), None);
    }

    #[test]
    fn presidio_operators_map_and_custom_is_refused() {
        let map: BTreeMap<String, Value> = serde_json::from_str(
            r##"{"DEFAULT": {"type": "replace", "new_value": "X"},
                "PHONE_NUMBER": {"type": "mask", "masking_char": "#", "chars_to_mask": 4, "from_end": true}}"##,
        )
        .unwrap();
        let ops = operators(&map).unwrap();
        assert_eq!(
            ops.default,
            Operator::Replace {
                new_value: Some("X".into())
            }
        );
        assert!(matches!(
            ops.for_entity("PHONE_NUMBER"),
            Operator::Mask {
                masking_char: '#',
                chars_to_mask: Some(4),
                from_end: true
            }
        ));
        let custom: BTreeMap<String, Value> =
            serde_json::from_str(r#"{"DEFAULT": {"type": "custom", "lambda": "lambda x: x"}}"#)
                .unwrap();
        assert!(operators(&custom).is_err());
    }
}
