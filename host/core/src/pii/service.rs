//! PII over the server: detection across detectors and dictionaries, anonymisation with vaults
//! encrypted at rest, restoration, and the tenant's dictionaries.
//!
//! Detectors run in the sandbox (the built-in and any uploaded pii-detector plugins); the
//! tenant's deny-lists run beside them on the host; findings are merged by score and
//! allow-lists drop what an organisation knows is safe. A vault holds the token → value map of
//! one pseudonymisation, sealed with the tenant's key (XChaCha20-Poly1305, key derived from
//! the master key) and bound to its tenant and id, with a TTL.

use crate::settings::{Invalid, invalid};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use warden_engine::{
    DetectOptions, DetectorInfo, Finding, LimitOverrides, Recognizer, Rescanned, World,
};
use warden_storage::audit::AuditEvent;
use warden_storage::{Change, Scope, Store, Tx, now_ms, rfc3339, tables};

use super::allow::{AllowList, AllowMatch};
use super::anonymize::{self, Anonymized, Deanonymized, Operators, Pseudonyms, Span};
use super::crypto::MasterKey;
use super::dictionary::{Dictionary, Matcher};
use crate::auth::Principal;
use crate::error::{Error, FieldError, Result};
use crate::registry::plugins::{PluginRef, Plugins};
use crate::sandbox::Sandbox;

/// The built-in detector's name in requests and findings.
pub const BUILTIN: &str = "pii";

/// Compiled dictionaries per tenant, dropped whenever the store announces a change to one of
/// the tenant's dictionaries (made here or through another replica).
#[derive(Default)]
struct MatcherCache {
    inner: Mutex<HashMap<String, Arc<Matcher>>>,
}

impl MatcherCache {
    async fn get(&self, store: &Store, tenant: &str) -> Result<Arc<Matcher>> {
        if let Ok(map) = self.inner.lock()
            && let Some(m) = map.get(tenant)
        {
            return Ok(m.clone());
        }
        let dicts = list_dictionaries_raw(store, tenant).await?;
        let matcher =
            Arc::new(Matcher::build(&dicts).map_err(|e| {
                Error::Internal(format!("stored dictionaries do not compile: {e}"))
            })?);
        if let Ok(mut map) = self.inner.lock() {
            map.insert(tenant.to_owned(), matcher.clone());
        }
        Ok(matcher)
    }

    fn invalidate(&self, change: &Change) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        match change {
            Change::Key { keyspace, .. } if *keyspace != tables::DICTIONARIES => {}
            Change::Key { .. } => {
                if let Some(tenant) = change.tenant() {
                    map.remove(tenant);
                }
            }
            Change::All => map.clear(),
        }
    }
}

/// What to look for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectRequest {
    /// The text to scan (or give `texts`).
    pub text: Option<String>,
    /// A batch of texts, scanned with one sandbox instance per detector (at most
    /// `pii.max_batch`); the answer then holds `results`, one per text.
    pub texts: Option<Vec<String>>,
    /// Only these entity types; empty means the defaults (see `GET /v1/pii/entities`).
    #[serde(default)]
    pub entities: Vec<String>,
    /// With no `entities`: the default types plus every type of these countries (ISO 3166-1
    /// alpha-2, such as `DE`).
    #[serde(default)]
    pub countries: Vec<String>,
    /// Language hint (BCP 47).
    pub language: Option<String>,
    /// Words that make a nearby candidate more likely (Presidio's `context`).
    #[serde(default)]
    pub context: Vec<String>,
    /// Values never reported, whichever detector finds them.
    #[serde(default)]
    pub allow_list: Vec<String>,
    /// How `allow_list` entries match: `exact` (default) or `regex`.
    #[serde(default)]
    pub allow_list_match: AllowMatch,
    /// Ad-hoc recognizers for this request (patterns, deny-lists, context words); they run in
    /// the built-in detector's sandbox.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub recognizers: Vec<Recognizer>,
    /// Drop findings scored below this.
    pub min_score: Option<f32>,
    /// Add each finding's explanation (pattern, validation, context word).
    #[serde(default)]
    pub explain: bool,
    /// Detectors to run: `pii` (the built-in) and uploaded pii-detector plugins (`name` or
    /// `name@version`). Default: the built-in.
    pub detectors: Option<Vec<String>>,
    /// Apply the tenant's dictionaries and stored recognizers (default true).
    pub dictionaries: Option<bool>,
    /// Limits for each detector call.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
}

/// One finding, with who found it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FindingOut {
    /// Entity type.
    pub entity_type: String,
    /// Start, UTF-8 bytes.
    pub start: usize,
    /// End, UTF-8 bytes, exclusive.
    pub end: usize,
    /// Score, rounded to 4 decimals.
    pub score: f64,
    /// `pii`, a plugin name or `dictionary:<name>`.
    pub source: String,
    /// Why it was reported, when the request asked (`explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

impl From<&Span> for FindingOut {
    fn from(s: &Span) -> Self {
        FindingOut {
            entity_type: s.entity_type.clone(),
            start: s.start,
            end: s.end,
            score: (f64::from(s.score) * 1e4).round() / 1e4,
            source: s.source.clone(),
            explanation: s.explanation.clone(),
        }
    }
}

/// The findings of one text of a batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TextFindings {
    /// Merged, non-overlapping findings in text order.
    pub findings: Vec<FindingOut>,
}

/// Detection result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Detected {
    /// Merged, non-overlapping findings in text order (of `text`; empty for a batch).
    pub findings: Vec<FindingOut>,
    /// For `texts`: one entry per text, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<TextFindings>>,
    /// Fuel burned by all detector calls.
    pub fuel: u64,
    /// Total detector time, microseconds.
    pub duration_us: u64,
}

/// An anonymisation request: what to find and what to do with it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymizeRequest {
    /// The text (or give `texts`).
    pub text: Option<String>,
    /// A batch of texts anonymised into one vault (at most `pii.max_batch`); the answer then
    /// holds `results`, one per text.
    pub texts: Option<Vec<String>>,
    /// Operators: `{"default": {...}, "per_entity": {"EMAIL_ADDRESS": {"type": "mask"}}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub operators: Operators,
    /// Only these entity types; empty means the defaults.
    #[serde(default)]
    pub entities: Vec<String>,
    /// With no `entities`: the defaults plus every type of these countries.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Language hint (BCP 47).
    pub language: Option<String>,
    /// Words that make a nearby candidate more likely.
    #[serde(default)]
    pub context: Vec<String>,
    /// Values never anonymised, whichever detector finds them.
    #[serde(default)]
    pub allow_list: Vec<String>,
    /// How `allow_list` entries match: `exact` (default) or `regex`.
    #[serde(default)]
    pub allow_list_match: AllowMatch,
    /// Ad-hoc recognizers for this request.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub recognizers: Vec<Recognizer>,
    /// Drop findings scored below this.
    pub min_score: Option<f32>,
    /// Detectors, as for detect.
    pub detectors: Option<Vec<String>>,
    /// Apply the tenant's dictionaries (default true).
    pub dictionaries: Option<bool>,
    /// Add the pseudonyms to this existing vault (consistent tokens across a conversation).
    pub vault_id: Option<String>,
    /// Vault lifetime in seconds (default from configuration, capped).
    pub vault_ttl_seconds: Option<u64>,
    /// Limits for each detector call.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: LimitOverrides,
}

/// One anonymised text of a batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnonymizedText {
    /// The anonymised text.
    pub text: String,
    /// What was done where.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<anonymize::AnonymizedItem>,
}

/// An anonymisation result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnonymizeResponse {
    /// The anonymised text (of `text`; empty for a batch).
    pub text: String,
    /// What was done where.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<anonymize::AnonymizedItem>,
    /// For `texts`: one entry per text, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<AnonymizedText>>,
    /// The vault holding the pseudonyms, when any operator pseudonymised.
    pub vault_id: Option<String>,
    /// When that vault expires (RFC 3339).
    pub vault_expires_at: Option<String>,
    /// Fuel the detectors burned.
    pub fuel: u64,
    /// Detection time, microseconds.
    pub duration_us: u64,
}

/// A restoration request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeanonymizeRequest {
    /// Text holding tokens such as `<EMAIL_ADDRESS_1>`.
    pub text: String,
    /// The vault the tokens came from.
    pub vault_id: String,
}

/// A stored vault: header in clear, token map sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct VaultRecord {
    id: String,
    created_by: String,
    created_at_ms: u64,
    expires_at_ms: u64,
    /// base64 of the sealed JSON token map.
    sealed: String,
}

/// Texts as one audited input or output: a single text as it is, a batch NUL-separated.
fn joined_texts<S: AsRef<str>>(texts: &[S]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(t.as_ref().as_bytes());
    }
    out
}

/// The anonymised texts of a batch as one audited output.
fn joined(done: &[Anonymized]) -> Vec<u8> {
    let texts: Vec<&str> = done.iter().map(|d| d.text.as_str()).collect();
    joined_texts(&texts)
}

fn vault_key(tenant: &str, id: &str) -> String {
    format!("{tenant}/{id}")
}

fn vault_aad(tenant: &str, id: &str) -> Vec<u8> {
    format!("warden/vault/{tenant}/{id}").into_bytes()
}

fn check_vault_id(id: &str) -> Result<()> {
    if id.len() == 38 && id.starts_with("v_") && id[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::not_found(
            "vault",
            id.chars().take(64).collect::<String>(),
        ))
    }
}

/// What one detection pass looks at: the request's choices, borrowed.
pub(crate) struct Scan<'a> {
    pub(crate) texts: Vec<&'a str>,
    pub(crate) entities: &'a [String],
    pub(crate) countries: &'a [String],
    pub(crate) language: Option<&'a str>,
    pub(crate) context: &'a [String],
    pub(crate) allow: AllowList,
    pub(crate) recognizers: &'a [Recognizer],
    pub(crate) min_score: Option<f32>,
    pub(crate) explain: bool,
    pub(crate) detectors: Option<&'a [String]>,
    pub(crate) dictionaries: bool,
    pub(crate) limits: &'a LimitOverrides,
}

/// `text` or `texts` of a request, checked against the batch cap.
fn texts<'a>(
    text: Option<&'a String>,
    texts: Option<&'a Vec<String>>,
    max_batch: usize,
) -> Result<(Vec<&'a str>, bool)> {
    match (text, texts) {
        (Some(t), None) => Ok((vec![t.as_str()], false)),
        (None, Some(list)) if list.len() > max_batch => Err(Error::TooMany {
            what: "texts",
            count: list.len(),
            limit: max_batch,
            setting: "pii.max_batch",
        }),
        (None, Some(list)) => Ok((list.iter().map(String::as_str).collect(), true)),
        (Some(_), Some(_)) => Err(Error::BadRequest(
            "give either text or texts, not both".into(),
        )),
        (None, None) => Err(Error::BadRequest("text (or texts) is required".into())),
    }
}

/// The PII service: detection through the sandbox's detectors and the tenant's dictionaries,
/// anonymisation into sealed vaults, restoration, and the dictionaries themselves.
pub struct Pii {
    store: Store,
    sandbox: Arc<Sandbox>,
    plugins: Arc<Plugins>,
    keys: Arc<MasterKey>,
    config: PiiConfig,
    dictionaries: Arc<MatcherCache>,
    pub(crate) recognizers: Arc<super::recognizers::RecognizerCache>,
    /// Tenants' detection defaults.
    tenants: Arc<crate::tenants::Tenants>,
    /// What each detector (by digest) says it finds: asked once, since it never changes.
    catalogues: Mutex<HashMap<String, Arc<DetectorInfo>>>,
}

impl Pii {
    /// The service over `sandbox`'s database; vaults are sealed with `keys`.
    pub fn new(
        sandbox: Arc<Sandbox>,
        plugins: Arc<Plugins>,
        tenants: Arc<crate::tenants::Tenants>,
        keys: Arc<MasterKey>,
        config: PiiConfig,
    ) -> Pii {
        let store = sandbox.store().clone();
        let dictionaries = Arc::new(MatcherCache::default());
        let cache = dictionaries.clone();
        store.on_change(Arc::new(move |change: &Change| cache.invalidate(change)));
        let recognizers = Arc::new(super::recognizers::RecognizerCache::default());
        let cache = recognizers.clone();
        store.on_change(Arc::new(move |change: &Change| cache.invalidate(change)));
        Pii {
            store,
            sandbox,
            plugins,
            keys,
            config,
            dictionaries,
            recognizers,
            tenants,
            catalogues: Mutex::new(HashMap::new()),
        }
    }

    /// What `detector` (default: the built-in) finds: every entity type with its country,
    /// validation and default score (`GET /v1/pii/entities`). Asked of the component once per
    /// digest, in the sandbox like any call.
    pub async fn entities(
        &self,
        who: &Principal,
        detector: Option<&str>,
    ) -> Result<Arc<DetectorInfo>> {
        let reference = detector.unwrap_or(BUILTIN);
        let (pref, plugin, limits) = self
            .plugins
            .resolve_limited(
                who,
                reference,
                World::PiiDetector,
                &LimitOverrides::default(),
            )
            .await?;
        if let Ok(map) = self.catalogues.lock()
            && let Some(info) = map.get(&pref.digest)
        {
            return Ok(info.clone());
        }
        let event = AuditEvent::new(
            &who.tenant,
            &who.actor,
            "pii.describe",
            format!("plugin/{}/{}", pref.name, pref.version),
        );
        let (info, _) = self
            .sandbox
            .call(
                event,
                plugin,
                move |e, p| e.describe(p, limits),
                |i: &DetectorInfo| serde_json::to_vec(i).unwrap_or_default(),
            )
            .await?;
        let info = Arc::new(info);
        if let Ok(mut map) = self.catalogues.lock() {
            map.insert(pref.digest, info.clone());
        }
        Ok(info)
    }

    /// Checks detection defaults a tenant's admin sets against what the built-in and the
    /// tenant's stored recognizers report, so a typo is a 422 now rather than on every later
    /// detection.
    pub async fn check_defaults(
        &self,
        who: &Principal,
        d: &crate::tenants::PiiDefaults,
    ) -> Result<()> {
        let info = self.entities(who, None).await?;
        let stored = self.list_recognizers(who).await?;
        let dictionaries = self.dictionaries.get(&self.store, &who.tenant).await?;
        let mut errors = Vec::new();
        for (i, e) in d.entities.iter().enumerate() {
            let known = info.entities.iter().any(|k| &k.entity_type == e)
                || stored.iter().any(|r| &r.entity_type == e)
                || dictionaries.entity_types().any(|t| t == e);
            if !known {
                errors.push(FieldError {
                    path: format!("/pii/entities/{i}"),
                    message: format!("{e} is not an entity type (see GET /v1/pii/entities)"),
                });
            }
        }
        for (i, c) in d.countries.iter().enumerate() {
            if !info
                .entities
                .iter()
                .any(|k| k.country.as_deref() == Some(c.as_str()))
            {
                errors.push(FieldError {
                    path: format!("/pii/countries/{i}"),
                    message: format!(
                        "no entity types for country {c:?} (ISO 3166-1 alpha-2, upper case)"
                    ),
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Unprocessable {
                message: "invalid PII defaults".into(),
                errors,
            })
        }
    }

    /// The tenant's salt for the `hash` operator.
    pub(crate) fn tenant_salt(&self, who: &Principal) -> [u8; 32] {
        self.keys.tenant_key(&who.tenant).hash_salt()
    }

    /// The database this service reads and writes.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Runs the detectors, stored recognizers and dictionaries over each text and merges
    /// what they find; one sandbox instance per detector serves the whole batch.
    pub(crate) async fn find(
        &self,
        who: &Principal,
        scan: Scan<'_>,
    ) -> Result<(Vec<Vec<Span>>, u64, u64)> {
        let texts = scan.texts.clone();
        let resolved = self.resolve(who, scan).await?;
        let (spans, fuel, micros) = self.run_detectors(who, &resolved, &texts, None).await?;
        Ok((resolved.post.finish(&texts, spans), fuel, micros))
    }

    /// [`Pii::find`] on `scan`, then on the text `then` derives from its findings (with its
    /// own threshold), within the same request: a gateway pseudonymises what the first scan
    /// found and re-checks the exact bytes it is about to send. With one detector, both scans
    /// run in one sandbox instance, and `then` on the pool thread between them (one call, one
    /// audit record); with several, each scan calls each detector in turn.
    pub(crate) async fn find_then<X, F>(
        &self,
        who: &Principal,
        scan: Scan<'_>,
        then: F,
    ) -> Result<FoundThen<X>>
    where
        X: Send + 'static,
        F: FnOnce(&[Vec<Span>]) -> (X, Option<(String, Option<f32>)>) + Send + 'static,
    {
        let texts = scan.texts.clone();
        let mut resolved = self.resolve(who, scan).await?;
        if resolved.calls.len() != 1 {
            let (spans, _, _) = self.run_detectors(who, &resolved, &texts, None).await?;
            let first = resolved.post.finish(&texts, spans);
            let (value, next) = then(&first);
            let second = match next {
                None => None,
                Some((text, min)) => {
                    let (spans, _, _) = self
                        .run_detectors(who, &resolved, &[text.as_str()], Some(min))
                        .await?;
                    let post = resolved.post.with_min_score(min);
                    post.finish(&[text.as_str()], spans).pop()
                }
            };
            return Ok(FoundThen { value, second });
        }
        let Some(call) = resolved.calls.pop() else {
            return Err(Error::Internal("no detector to call".into()));
        };
        let event = call
            .event(who, &texts)
            .detail(format!("{} texts, then the text to send", texts.len()));
        let post = Arc::new(resolved.post);
        let for_call = post.clone();
        let owned: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
        let (options, limits, source) = (call.options, call.limits, call.pref.name);
        let (found, _) = self
            .sandbox
            .call(
                event,
                call.plugin,
                move |e, p| {
                    let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
                    e.detect_batch_then(p, &refs, &options, limits, |found| {
                        let spans = found.iter().map(|f| spans_of(f, &source)).collect();
                        let first = for_call.finish(&refs, spans);
                        let (value, next) = then(&first);
                        let next = next.map(|(text, min)| {
                            let options = DetectOptions {
                                min_score: min,
                                ..options.clone()
                            };
                            (text, options)
                        });
                        let min = next.as_ref().map(|(_, o)| o.min_score);
                        ((value, min, source.clone()), next)
                    })
                },
                |r| {
                    let second = r.second.as_ref().map(|(_, f)| f);
                    serde_json::to_vec(&(&r.first, second)).unwrap_or_default()
                },
            )
            .await?;
        let Rescanned { value, second, .. } = found;
        let (value, min, source) = value;
        let second = second.and_then(|(text, found)| {
            let post = post.with_min_score(min.flatten());
            post.finish(&[text.as_str()], vec![spans_of(&found, &source)])
                .pop()
        });
        Ok(FoundThen { value, second })
    }

    /// What `scan` asks for, resolved against the tenant's defaults, stored recognizers,
    /// dictionaries and plugins: each detector to call with its options and limits, and the
    /// host's part after them. A named entity nothing reports is refused here.
    async fn resolve(&self, who: &Principal, scan: Scan<'_>) -> Result<Resolved> {
        let Scan {
            texts: _,
            entities,
            countries,
            language,
            context,
            allow,
            recognizers,
            min_score,
            explain,
            detectors,
            dictionaries,
            limits,
        } = scan;
        if let Some(s) = min_score
            && !(0.0..=1.0).contains(&s)
        {
            return Err(Error::BadRequest(
                "min_score must be between 0 and 1".into(),
            ));
        }
        let default = [BUILTIN.to_owned()];
        let detectors = detectors.unwrap_or(&default);
        if detectors.is_empty() && !dictionaries {
            return Err(Error::BadRequest(
                "nothing to detect with: give at least one detector or enable dictionaries".into(),
            ));
        }
        // What the request leaves out, the tenant's defaults decide.
        let defaults = self.tenants.pii_defaults(&who.tenant);
        let (entities, countries) = if entities.is_empty() && countries.is_empty() {
            (defaults.entities.as_slice(), defaults.countries.as_slice())
        } else {
            (entities, countries)
        };
        let language = language.or(defaults.language.as_deref());
        // The tenant's stored recognizers run with the request's own, in the built-in.
        let mut all_recognizers = recognizers.to_vec();
        if dictionaries {
            all_recognizers.extend(self.stored_recognizers(&who.tenant).await?.iter().cloned());
        }
        let matcher = if dictionaries {
            Some(self.dictionaries.get(&self.store, &who.tenant).await?)
        } else {
            None
        };
        // A named entity nothing here reports is a typo: refused, never silently empty.
        if !entities.is_empty() {
            let mut known: Vec<String> = all_recognizers
                .iter()
                .map(|r| r.entity_type.clone())
                .collect();
            if let Some(m) = &matcher {
                known.extend(m.entity_types().map(str::to_owned));
            }
            for reference in detectors {
                let info = self.entities(who, Some(reference)).await?;
                known.extend(info.entities.iter().map(|e| e.entity_type.clone()));
            }
            let unknown: Vec<&String> = entities.iter().filter(|e| !known.contains(e)).collect();
            if !unknown.is_empty() {
                return Err(Error::Unprocessable {
                    message: format!(
                        "no detector, recognizer or dictionary reports {}",
                        unknown
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    errors: unknown
                        .iter()
                        .map(|e| FieldError {
                            path: "/entities".into(),
                            message: format!(
                                "{e} is not an entity type here (see GET /v1/pii/entities)"
                            ),
                        })
                        .collect(),
                });
            }
        }
        let mut calls = Vec::with_capacity(detectors.len());
        for reference in detectors {
            let (pref, plugin, limits) = self
                .plugins
                .resolve_limited(who, reference, World::PiiDetector, limits)
                .await?;
            let builtin = pref.name == BUILTIN;
            // Named entities go to a detector only as far as it reports them (or, for the
            // built-in, the recognizers it runs); one that reports none of them is skipped.
            let mine: Vec<String> = if entities.is_empty() {
                Vec::new()
            } else {
                let info = self.entities(who, Some(reference)).await?;
                let mine: Vec<String> = entities
                    .iter()
                    .filter(|e| {
                        info.entities.iter().any(|k| &k.entity_type == *e)
                            || (builtin && all_recognizers.iter().any(|r| &r.entity_type == *e))
                    })
                    .cloned()
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                mine
            };
            let options = DetectOptions {
                entities: mine,
                countries: countries.to_vec(),
                min_score,
                explain,
                language: language.map(str::to_owned),
                context: context.to_vec(),
                recognizers: if builtin {
                    all_recognizers.clone()
                } else {
                    Vec::new()
                },
            };
            calls.push(DetectorCall {
                pref,
                plugin,
                limits,
                options,
            });
        }
        Ok(Resolved {
            calls,
            post: Post {
                matcher,
                entities: entities.to_vec(),
                allow: Arc::new(allow),
                min_score,
            },
        })
    }

    /// Calls each of `resolved`'s detectors on `texts` (one sandbox instance per detector for
    /// the whole batch; `min_score`, when given, in place of the scan's), and returns their
    /// findings per text, unmerged, with the fuel and time they took.
    async fn run_detectors(
        &self,
        who: &Principal,
        resolved: &Resolved,
        texts: &[&str],
        min_score: Option<Option<f32>>,
    ) -> Result<(Vec<Vec<Span>>, u64, u64)> {
        let mut spans: Vec<Vec<Span>> = vec![Vec::new(); texts.len()];
        let (mut fuel, mut micros) = (0u64, 0u64);
        let owned: Arc<Vec<String>> = Arc::new(texts.iter().map(|t| (*t).to_owned()).collect());
        for call in &resolved.calls {
            let mut options = call.options.clone();
            if let Some(min) = min_score {
                options.min_score = min;
            }
            let limits = call.limits;
            let event = call
                .event(who, texts)
                .detail(format!("{} texts", texts.len()));
            let batch = owned.clone();
            let (found, report) = self
                .sandbox
                .call(
                    event,
                    call.plugin.clone(),
                    move |e, p| {
                        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
                        e.detect_batch(p, &refs, &options, limits)
                    },
                    |f: &Vec<Vec<Finding>>| serde_json::to_vec(f).unwrap_or_default(),
                )
                .await?;
            fuel += report.fuel_used;
            micros += u64::try_from(report.duration.as_micros()).unwrap_or(u64::MAX);
            for (out, found) in spans.iter_mut().zip(found) {
                out.extend(spans_of(&found, &call.pref.name));
            }
        }
        Ok((spans, fuel, micros))
    }

    /// The most texts one detection call takes (`pii.max_batch`).
    pub fn max_batch(&self) -> usize {
        self.config.max_batch
    }

    /// `POST /v1/pii/detect`.
    pub async fn detect(&self, who: &Principal, req: DetectRequest) -> Result<Detected> {
        let (list, batch) = texts(req.text.as_ref(), req.texts.as_ref(), self.config.max_batch)?;
        let (spans, fuel, duration_us) = self
            .find(
                who,
                Scan {
                    texts: list,
                    entities: &req.entities,
                    countries: &req.countries,
                    language: req.language.as_deref(),
                    context: &req.context,
                    allow: AllowList::new(&req.allow_list, req.allow_list_match)?,
                    recognizers: &req.recognizers,
                    min_score: req.min_score,
                    explain: req.explain,
                    detectors: req.detectors.as_deref(),
                    dictionaries: req.dictionaries.unwrap_or(true),
                    limits: &req.limits,
                },
            )
            .await?;
        let out = |s: &Vec<Span>| s.iter().map(FindingOut::from).collect::<Vec<_>>();
        Ok(if batch {
            Detected {
                findings: Vec::new(),
                results: Some(
                    spans
                        .iter()
                        .map(|s| TextFindings { findings: out(s) })
                        .collect(),
                ),
                fuel,
                duration_us,
            }
        } else {
            Detected {
                findings: spans.first().map(out).unwrap_or_default(),
                results: None,
                fuel,
                duration_us,
            }
        })
    }

    async fn load_vault(&self, who: &Principal, id: &str) -> Result<(VaultRecord, Pseudonyms)> {
        check_vault_id(id)?;
        let record = self
            .store
            .get_json(tables::VAULTS, &vault_key(&who.tenant, id))
            .await?;
        self.open_vault(record, &who.tenant, id)
    }

    /// Unseals vault `id` of `tenant` as read (from a snapshot or inside a write transaction).
    fn open_vault(
        &self,
        record: Option<VaultRecord>,
        tenant: &str,
        id: &str,
    ) -> Result<(VaultRecord, Pseudonyms)> {
        let record = record.ok_or_else(|| Error::not_found("vault", id))?;
        if record.expires_at_ms <= now_ms() {
            return Err(Error::not_found("vault", id));
        }
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&record.sealed)
            .map_err(|e| Error::Internal(format!("vault {id} is not base64: {e}")))?;
        let plain = self
            .keys
            .tenant_key(tenant)
            .open(&vault_aad(tenant, id), &sealed)
            .map_err(|e| Error::Internal(format!("vault {id} cannot be opened: {e}")))?;
        let map: Pseudonyms = serde_json::from_slice(&plain)
            .map_err(|e| Error::Internal(format!("vault {id} is corrupt: {e}")))?;
        Ok((record, map))
    }

    /// `POST /v1/pii/anonymize`.
    ///
    /// Detection runs first, outside any transaction; the vault is then read, merged and written
    /// inside one write transaction, so concurrent calls into the same vault serialise and none
    /// of their pseudonyms is lost or handed to another value.
    pub async fn anonymize(
        &self,
        who: &Principal,
        req: AnonymizeRequest,
    ) -> Result<AnonymizeResponse> {
        let max_ttl = self.config.max_vault_ttl.as_secs();
        let ttl = req
            .vault_ttl_seconds
            .unwrap_or(self.config.vault_ttl.as_secs());
        if ttl == 0 || ttl > max_ttl {
            return Err(Error::BadRequest(format!(
                "vault_ttl_seconds must be between 1 and {max_ttl}"
            )));
        }
        // Fail early (before spending fuel) when the named vault does not exist.
        if let Some(id) = &req.vault_id {
            self.load_vault(who, id).await?;
        }
        let (list, batch) = texts(req.text.as_ref(), req.texts.as_ref(), self.config.max_batch)?;
        let input = joined_texts(&list);
        let (spans, fuel, duration_us) = self
            .find(
                who,
                Scan {
                    texts: list.clone(),
                    entities: &req.entities,
                    countries: &req.countries,
                    language: req.language.as_deref(),
                    context: &req.context,
                    allow: AllowList::new(&req.allow_list, req.allow_list_match)?,
                    recognizers: &req.recognizers,
                    min_score: req.min_score,
                    explain: false,
                    detectors: req.detectors.as_deref(),
                    dictionaries: req.dictionaries.unwrap_or(true),
                    limits: &req.limits,
                },
            )
            .await?;
        let key = self.keys.tenant_key(&who.tenant);
        let salt = key.hash_salt();
        // Every text of a batch into the same token map, so one value gets one token.
        let apply = |map: &mut Pseudonyms| -> Result<Vec<Anonymized>> {
            list.iter()
                .zip(&spans)
                .map(|(text, spans)| {
                    anonymize::anonymize(text, spans, &req.operators, &salt, map)
                        .map_err(|e| Error::Internal(format!("anonymisation failed: {e}")))
                })
                .collect()
        };
        let respond = |mut done: Vec<Anonymized>, vault: Option<&VaultRecord>| {
            let (text, items, results) = if batch {
                let results = done
                    .into_iter()
                    .map(|d| AnonymizedText {
                        text: d.text,
                        items: d.items,
                    })
                    .collect();
                (String::new(), Vec::new(), Some(results))
            } else {
                let one = done.pop().unwrap_or_default();
                (one.text, one.items, None)
            };
            AnonymizeResponse {
                text,
                items,
                results,
                vault_id: vault.map(|r| r.id.clone()),
                vault_expires_at: vault.map(|r| rfc3339(r.expires_at_ms)),
                fuel,
                duration_us,
            }
        };
        let seal = |id: &str, map: &Pseudonyms| -> Result<String> {
            let plain = serde_json::to_vec(map)
                .map_err(|e| Error::Internal(format!("cannot encode vault: {e}")))?;
            let sealed = key
                .seal(&vault_aad(&who.tenant, id), &plain)
                .map_err(|e| Error::Internal(format!("cannot seal vault: {e}")))?;
            Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
        };
        // Writes the vault and its audit record (in the caller's transaction).
        let put = async |tx: &Tx, record: &VaultRecord, action: &str, out: &[u8], tokens, new| {
            tx.put_json(tables::VAULTS, &vault_key(&who.tenant, &record.id), record)
                .await?;
            tx.audit(
                AuditEvent::new(
                    &who.tenant,
                    &who.actor,
                    action,
                    format!("vault/{}", record.id),
                )
                .input(&input)
                .output(out)
                .detail(format!("{tokens} tokens ({new} new)")),
            )
            .await?;
            Ok::<_, Error>(())
        };
        let (put, apply, seal) = (&put, &apply, &seal);
        let now = now_ms();
        let expires_at_ms = now.saturating_add(ttl.saturating_mul(1000));
        let Some(id) = req.vault_id.clone() else {
            let mut map = Pseudonyms::default();
            let done = apply(&mut map)?;
            if !done
                .iter()
                .flat_map(|d| &d.items)
                .any(|i| i.operator == "pseudonymize")
            {
                return Ok(respond(done, None));
            }
            let id = format!("v_{}", hex::encode(rand::random::<[u8; 18]>()));
            let record = VaultRecord {
                id: id.clone(),
                created_by: who.actor.clone(),
                created_at_ms: now,
                expires_at_ms,
                sealed: seal(&id, &map)?,
            };
            let (record_ref, done_ref, n) = (&record, &done, map.len());
            self.store
                .write(Scope::tenant(&who.tenant), |tx| {
                    Box::pin(async move {
                        put(&tx, record_ref, "vault.create", &joined(done_ref), n, n).await
                    })
                })
                .await?;
            return Ok(respond(done, Some(&record)));
        };
        // Read-merge-write in one write transaction, so concurrent calls into one vault
        // serialise (or retry) and none of their pseudonyms is lost.
        let id = &id;
        let (done, record) = self
            .store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let stored = tx
                        .get_json(tables::VAULTS, &vault_key(&who.tenant, id))
                        .await?;
                    let (record, mut map) = self.open_vault(stored, &who.tenant, id)?;
                    let before = map.len();
                    let done = apply(&mut map)?;
                    let record = VaultRecord {
                        expires_at_ms,
                        sealed: seal(id, &map)?,
                        ..record
                    };
                    put(
                        &tx,
                        &record,
                        "vault.update",
                        &joined(&done),
                        map.len(),
                        map.len() - before,
                    )
                    .await?;
                    Ok::<_, Error>((done, record))
                })
            })
            .await?;
        Ok(respond(done, Some(&record)))
    }

    /// `POST /v1/pii/deanonymize`: restores a vault's values; audited as a vault read.
    pub async fn deanonymize(
        &self,
        who: &Principal,
        req: DeanonymizeRequest,
    ) -> Result<Deanonymized> {
        let result = self.load_vault(who, &req.vault_id).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        let (_, map) = match result {
            Ok(v) => v,
            Err(e) => {
                self.sandbox.record(
                    who,
                    "vault.read",
                    format!(
                        "vault/{}",
                        req.vault_id.chars().take(64).collect::<String>()
                    ),
                    outcome,
                );
                return Err(e);
            }
        };
        let out = anonymize::deanonymize(&req.text, &map);
        self.sandbox.audit(
            AuditEvent::new(
                &who.tenant,
                &who.actor,
                "vault.read",
                format!("vault/{}", req.vault_id),
            )
            .input(req.text.as_bytes())
            .detail(format!(
                "{} restored, {} unknown",
                out.restored.len(),
                out.unknown_tokens.len()
            )),
        );
        Ok(out)
    }

    /// The tenant's vaults that have not expired.
    pub async fn list_vaults(&self, who: &Principal) -> Result<Vec<VaultInfo>> {
        let now = now_ms();
        Ok(self
            .store
            .scan_json::<VaultRecord>(tables::VAULTS, &format!("{}/", who.tenant))
            .await?
            .into_iter()
            .filter(|(_, r)| r.expires_at_ms > now)
            .map(|(_, r)| VaultInfo {
                id: r.id,
                created_by: r.created_by,
                created_at: rfc3339(r.created_at_ms),
                expires_at: rfc3339(r.expires_at_ms),
            })
            .collect())
    }

    /// Deletes a vault before its TTL.
    pub async fn delete_vault(&self, who: &Principal, id: &str) -> Result<()> {
        check_vault_id(id)?;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    if !tx
                        .delete(tables::VAULTS, &vault_key(&who.tenant, id))
                        .await?
                    {
                        return Err(Error::not_found("vault", id));
                    }
                    tx.audit(AuditEvent::new(
                        &who.tenant,
                        &who.actor,
                        "vault.delete",
                        format!("vault/{id}"),
                    ))
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Deletes expired vaults of every tenant; returns how many this call removed. Each is
    /// re-read inside the transaction, so a sweep racing another replica's (or a vault renewed
    /// meanwhile) audits only what it actually removed.
    pub async fn purge_expired_vaults(&self) -> Result<usize> {
        let now = now_ms();
        let expired: Vec<String> = self
            .store
            .scan_json::<VaultRecord>(tables::VAULTS, "")
            .await?
            .into_iter()
            .filter(|(_, r)| r.expires_at_ms <= now)
            .map(|(k, _)| k)
            .collect();
        if expired.is_empty() {
            return Ok(0);
        }
        let expired = &expired;
        self.store
            .write(Scope::Global, |tx| {
                Box::pin(async move {
                    let mut removed = 0;
                    for k in expired {
                        let Some(r) = tx.get_json::<VaultRecord>(tables::VAULTS, k).await? else {
                            continue;
                        };
                        if r.expires_at_ms > now {
                            continue;
                        }
                        tx.delete(tables::VAULTS, k).await?;
                        let tenant = k.split('/').next().unwrap_or_default();
                        tx.audit(AuditEvent::new(
                            tenant,
                            "warden",
                            "vault.expire",
                            format!("vault/{}", r.id),
                        ))
                        .await?;
                        removed += 1;
                    }
                    Ok::<_, Error>(removed)
                })
            })
            .await
    }

    /// Every dictionary of the tenant (without terms).
    pub async fn list_dictionaries(&self, who: &Principal) -> Result<Vec<DictionaryInfo>> {
        Ok(list_dictionaries_raw(&self.store, &who.tenant)
            .await?
            .into_iter()
            .map(|(name, d)| DictionaryInfo {
                name,
                kind: d.kind,
                entity_type: d.entity_type,
                terms: d.terms.len(),
            })
            .collect())
    }

    /// One dictionary with its terms.
    pub async fn get_dictionary(&self, who: &Principal, name: &str) -> Result<Dictionary> {
        crate::names::check("dictionary", name)?;
        self.store
            .get_json(tables::DICTIONARIES, &dict_key(&who.tenant, name))
            .await?
            .ok_or_else(|| Error::not_found("dictionary", name))
    }

    /// Creates or replaces a dictionary; returns whether it was created.
    pub async fn put_dictionary(
        &self,
        who: &Principal,
        name: &str,
        dict: Dictionary,
    ) -> Result<bool> {
        crate::names::check("dictionary", name)?;
        dict.validate().map_err(|e| Error::Unprocessable {
            message: format!("invalid dictionary: {e}"),
            errors: vec![FieldError {
                path: String::new(),
                message: e.to_string(),
            }],
        })?;
        let dict = &dict;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let k = dict_key(&who.tenant, name);
                    // The tenant's dictionaries compile into one matcher: check it builds with
                    // this one in it, so no later detection fails on the combination.
                    let mut all: Vec<(String, Dictionary)> = tx
                        .scan_json::<Dictionary>(tables::DICTIONARIES, &format!("{}/", who.tenant))
                        .await?
                        .into_iter()
                        .filter(|(key, _)| key != &k)
                        .collect();
                    all.push((name.to_owned(), dict.clone()));
                    Matcher::build(&all).map_err(|e| Error::Unprocessable {
                        message: format!("the tenant's dictionaries do not compile together: {e}"),
                        errors: vec![FieldError {
                            path: String::new(),
                            message: e.to_string(),
                        }],
                    })?;
                    let existed = tx.get_bytes(tables::DICTIONARIES, &k).await?.is_some();
                    tx.put_json(tables::DICTIONARIES, &k, dict).await?;
                    tx.audit(
                        AuditEvent::new(
                            &who.tenant,
                            &who.actor,
                            if existed {
                                "dictionary.replace"
                            } else {
                                "dictionary.create"
                            },
                            format!("dictionary/{name}"),
                        )
                        .input(&warden_storage::encode(dict)?)
                        .detail(format!("{} terms", dict.terms.len())),
                    )
                    .await?;
                    Ok::<_, Error>(!existed)
                })
            })
            .await
    }

    /// Deletes a dictionary.
    pub async fn delete_dictionary(&self, who: &Principal, name: &str) -> Result<()> {
        crate::names::check("dictionary", name)?;
        self.store
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    if !tx
                        .delete(tables::DICTIONARIES, &dict_key(&who.tenant, name))
                        .await?
                    {
                        return Err(Error::not_found("dictionary", name));
                    }
                    tx.audit(AuditEvent::new(
                        &who.tenant,
                        &who.actor,
                        "dictionary.delete",
                        format!("dictionary/{name}"),
                    ))
                    .await?;
                    Ok(())
                })
            })
            .await
    }
}

/// A vault as listed: when it was made and when it expires, never its tokens or values.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VaultInfo {
    /// Its id.
    pub id: String,
    /// Who created it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
}

fn dict_key(tenant: &str, name: &str) -> String {
    format!("{tenant}/{name}")
}

async fn list_dictionaries_raw(store: &Store, tenant: &str) -> Result<Vec<(String, Dictionary)>> {
    let prefix = format!("{tenant}/");
    Ok(store
        .scan_json::<Dictionary>(tables::DICTIONARIES, &prefix)
        .await?
        .into_iter()
        .map(|(k, d)| (k[prefix.len()..].to_owned(), d))
        .collect())
}

/// A dictionary as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DictionaryInfo {
    /// Its name.
    pub name: String,
    /// `deny` or `allow`.
    #[schema(value_type = String)]
    pub kind: super::dictionary::DictionaryKind,
    /// The entity type of a deny-list.
    pub entity_type: Option<String>,
    /// How many terms.
    pub terms: usize,
}

/// PII vaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiConfig {
    /// How long a vault lives when the request does not say.
    #[serde(with = "humantime_serde")]
    pub vault_ttl: Duration,
    /// The longest TTL a request may ask for.
    #[serde(with = "humantime_serde")]
    pub max_vault_ttl: Duration,
    /// The vault master key (base64 of 32 bytes). Unset: a key file in the data directory,
    /// created with mode 0600 on first start.
    pub master_key: Option<String>,
    /// Most texts one detect or anonymise request may batch (`texts`); more is a 413.
    pub max_batch: usize,
}

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            vault_ttl: Duration::from_secs(24 * 3600),
            max_vault_ttl: Duration::from_secs(30 * 24 * 3600),
            master_key: None,
            max_batch: 256,
        }
    }
}

impl PiiConfig {
    /// Checks the vault TTLs and the master key's encoding.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.vault_ttl.is_zero() || self.vault_ttl > self.max_vault_ttl {
            return invalid(
                "pii.vault_ttl",
                "must be greater than 0 and at most pii.max_vault_ttl",
            );
        }
        if self.max_batch == 0 || self.max_batch > 100_000 {
            return invalid("pii.max_batch", "must be between 1 and 100000");
        }
        if let Some(key) = &self.master_key
            && crate::pii::crypto::MasterKey::from_base64(key).is_err()
        {
            return invalid("pii.master_key", "must be the base64 encoding of 32 bytes");
        }
        Ok(())
    }
}

/// What [`Pii::find_then`] gives back: the continuation's value, and the findings in its
/// text (if it gave one).
pub(crate) struct FoundThen<X> {
    pub(crate) value: X,
    pub(crate) second: Option<Vec<Span>>,
}

/// A scan resolved: the detectors to call, and the host's part after them.
struct Resolved {
    calls: Vec<DetectorCall>,
    post: Post,
}

/// One detector of a scan, with what it is asked and the limits it runs under.
struct DetectorCall {
    pref: PluginRef,
    plugin: Arc<warden_engine::Plugin>,
    limits: warden_engine::Limits,
    options: DetectOptions,
}

impl DetectorCall {
    /// The audit record of a call of this detector on `texts` (before the call fills it in).
    fn event(&self, who: &Principal, texts: &[&str]) -> AuditEvent {
        AuditEvent::new(
            &who.tenant,
            &who.actor,
            "pii.detect",
            format!("plugin/{}/{}", self.pref.name, self.pref.version),
        )
        .input(&joined_texts(texts))
    }
}

/// The host's part of a scan after the detectors: the tenant's dictionaries, merging by
/// score, dictionary and request allow-lists, and the threshold. Owned, so it can run on
/// the pool thread between two scans of one call.
struct Post {
    matcher: Option<Arc<Matcher>>,
    entities: Vec<String>,
    allow: Arc<AllowList>,
    min_score: Option<f32>,
}

impl Post {
    /// The same part with `min_score` as its threshold.
    fn with_min_score(&self, min_score: Option<f32>) -> Post {
        Post {
            matcher: self.matcher.clone(),
            entities: self.entities.clone(),
            allow: self.allow.clone(),
            min_score,
        }
    }

    /// The detectors' `spans` per text of `texts`, with the dictionaries' findings added,
    /// merged, allow-listed and thresholded.
    fn finish(&self, texts: &[&str], spans: Vec<Vec<Span>>) -> Vec<Vec<Span>> {
        let mut out = Vec::with_capacity(texts.len());
        for (text, mut found) in texts.iter().zip(spans) {
            if let Some(m) = &self.matcher {
                found.extend(m.find(text).into_iter().filter(|s| {
                    self.entities.is_empty() || self.entities.contains(&s.entity_type)
                }));
            }
            let mut merged = anonymize::merge(found);
            if let Some(m) = &self.matcher {
                merged = m.filter_allowed(text, merged);
            }
            merged = self.allow.filter(text, merged);
            if let Some(min) = self.min_score {
                merged.retain(|s| s.score >= min);
            }
            out.push(merged);
        }
        out
    }
}

/// A detector's findings as spans from `source`.
fn spans_of(found: &[Finding], source: &str) -> Vec<Span> {
    found
        .iter()
        .map(|f| Span {
            entity_type: f.entity_type.clone(),
            start: f.start as usize,
            end: f.end as usize,
            score: f.score,
            source: source.to_owned(),
            explanation: f.explanation.clone(),
        })
        .collect()
}

#[cfg(test)]
mod service_tests {
    use super::*;
    use crate::auth::Role;
    use crate::testing::{sandbox, store, who};

    async fn pii(store: &Store) -> Pii {
        let sandbox = sandbox(store);
        let plugins = Arc::new(Plugins::new(sandbox.clone(), 1 << 20, Vec::new()));
        let tenants = Arc::new(
            crate::tenants::Tenants::open(
                store.clone(),
                &crate::quota::QuotaConfig::default(),
                Vec::new(),
            )
            .await
            .unwrap(),
        );
        Pii::new(
            sandbox,
            plugins,
            tenants,
            Arc::new(MasterKey::generate()),
            PiiConfig::default(),
        )
    }

    fn project_names() -> Dictionary {
        serde_json::from_value(serde_json::json!({
            "kind": "deny", "entity_type": "PROJECT", "terms": ["Bluebird"]
        }))
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_dictionary_finds_its_terms_and_stays_in_its_tenant() {
        let s = store();
        let pii = pii(&s.store).await;
        let acme = who("acme", &[Role::Admin, Role::Author]);
        let other = who("other", &[Role::Admin, Role::Author]);
        assert!(
            pii.put_dictionary(&acme, "projects", project_names())
                .await
                .unwrap()
        );
        let scan = |text: &str| DetectRequest {
            text: Some(text.into()),
            detectors: Some(Vec::new()),
            ..DetectRequest::default()
        };
        let found = pii
            .detect(&acme, scan("ship Bluebird today"))
            .await
            .unwrap();
        let spans: Vec<(&str, u32, u32)> = found
            .findings
            .iter()
            .map(|f| (f.entity_type.as_str(), f.start as u32, f.end as u32))
            .collect();
        assert_eq!(spans, [("PROJECT", 5, 13)]);
        let elsewhere = pii
            .detect(&other, scan("ship Bluebird today"))
            .await
            .unwrap();
        assert!(elsewhere.findings.is_empty());
        // A change is seen at once (the compiled matcher is dropped).
        pii.delete_dictionary(&acme, "projects").await.unwrap();
        let after = pii
            .detect(&acme, scan("ship Bluebird today"))
            .await
            .unwrap();
        assert!(after.findings.is_empty());
        assert!(matches!(
            pii.get_dictionary(&acme, "projects").await,
            Err(Error::NotFound { .. })
        ));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn anonymised_text_restores_from_its_vault_and_only_in_its_tenant() {
        let s = store();
        let pii = pii(&s.store).await;
        let acme = who("acme", &[Role::Admin, Role::PiiReader]);
        pii.put_dictionary(&acme, "projects", project_names())
            .await
            .unwrap();
        let text = "Bluebird ships; Bluebird is late.";
        let out = pii
            .anonymize(
                &acme,
                AnonymizeRequest {
                    text: Some(text.into()),
                    detectors: Some(Vec::new()),
                    operators: Operators {
                        default: anonymize::Operator::Pseudonymize,
                        ..Operators::default()
                    },
                    ..AnonymizeRequest::default()
                },
            )
            .await
            .unwrap();
        assert!(!out.text.contains("Bluebird"), "{}", out.text);
        let vault_id = out.vault_id.clone().unwrap();
        let back = pii
            .deanonymize(
                &acme,
                DeanonymizeRequest {
                    text: out.text.clone(),
                    vault_id: vault_id.clone(),
                },
            )
            .await
            .unwrap();
        assert_eq!(back.text, text);
        let thief = who("other", &[Role::Admin, Role::PiiReader]);
        let refused = pii
            .deanonymize(
                &thief,
                DeanonymizeRequest {
                    text: out.text,
                    vault_id,
                },
            )
            .await;
        assert!(matches!(refused, Err(Error::NotFound { .. })));
        assert_eq!(pii.list_vaults(&acme).await.unwrap().len(), 1);
        assert!(pii.list_vaults(&thief).await.unwrap().is_empty());
    }
}
