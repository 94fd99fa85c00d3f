//! Recognizers a tenant stores (no-code detection: patterns with scores, deny-lists, context
//! words), managed over the API and importable from Presidio's YAML recognizer format. They
//! run inside the built-in detector's sandbox with every detection, like a request's ad-hoc
//! recognizers; the host only checks them before storing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use regex::RegexBuilder;
use serde::{Deserialize, Serialize};
use warden_engine::{Pattern, Recognizer};
use warden_storage::audit::AuditEvent;
use warden_storage::{Change, Scope, Store, tables};

use super::service::Pii;
use crate::auth::Principal;
use crate::error::{Error, FieldError, Result};

/// Most recognizers one tenant may store (the built-in takes at most 64 per call, request's
/// included).
pub const MAX_STORED: usize = 48;
/// Longest pattern, in bytes (the sandbox's own limit).
const MAX_PATTERN_LEN: usize = 4096;

/// A stored recognizer as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoredRecognizer {
    /// Its name (the key it is stored under).
    #[serde(default)]
    pub name: String,
    /// The entity type its matches are reported as (`[A-Z][A-Z0-9_]{0,63}`).
    pub entity_type: String,
    /// Patterns with the score of their matches.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub patterns: Vec<Pattern>,
    /// Words or phrases always reported.
    #[serde(default)]
    pub deny_list: Vec<String>,
    /// Score of a deny-list match (default 1.0).
    #[serde(default)]
    pub deny_list_score: Option<f32>,
    /// Words near a match that raise its score.
    #[serde(default)]
    pub context: Vec<String>,
    /// Languages it is meant for (informational, as in Presidio).
    #[serde(default)]
    pub languages: Vec<String>,
}

impl StoredRecognizer {
    /// The recognizer the sandbox runs.
    pub fn to_engine(&self) -> Recognizer {
        Recognizer {
            name: self.name.clone(),
            entity_type: self.entity_type.clone(),
            patterns: self.patterns.clone(),
            deny_list: self.deny_list.clone(),
            deny_list_score: self.deny_list_score,
            context: self.context.clone(),
        }
    }
}

/// Checks a recognizer the way the sandbox will compile it, so a bad one is refused when it is
/// stored (422 naming the field), not on every later detection.
pub fn check(r: &Recognizer) -> std::result::Result<(), FieldError> {
    let bad = |path: String, message: String| FieldError { path, message };
    let t = r.entity_type.as_bytes();
    if t.is_empty()
        || t.len() > 64
        || !t[0].is_ascii_uppercase()
        || !t
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
    {
        return Err(bad(
            "/entity_type".into(),
            format!("{:?} must match [A-Z][A-Z0-9_]{{0,63}}", r.entity_type),
        ));
    }
    if r.patterns.is_empty() && r.deny_list.is_empty() {
        return Err(bad(String::new(), "needs patterns or a deny_list".into()));
    }
    if r.patterns.len() > 256 || r.deny_list.len() > 256 {
        return Err(bad(
            String::new(),
            "at most 256 patterns and 256 deny-list entries".into(),
        ));
    }
    for (i, p) in r.patterns.iter().enumerate() {
        if !(0.0..=1.0).contains(&p.score) {
            return Err(bad(
                format!("/patterns/{i}/score"),
                "must be between 0.0 and 1.0".into(),
            ));
        }
        if p.regex.len() > MAX_PATTERN_LEN {
            return Err(bad(
                format!("/patterns/{i}/regex"),
                format!("longer than {MAX_PATTERN_LEN} bytes"),
            ));
        }
        if let Err(e) = RegexBuilder::new(&p.regex)
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 20)
            .build()
        {
            return Err(bad(
                format!("/patterns/{i}/regex"),
                format!(
                    "not a pattern Warden can run (Rust regex syntax: no look-around, no back-references): {e}"
                ),
            ));
        }
    }
    if let Some(s) = r.deny_list_score
        && !(0.0..=1.0).contains(&s)
    {
        return Err(bad(
            "/deny_list_score".into(),
            "must be between 0.0 and 1.0".into(),
        ));
    }
    Ok(())
}

/// Presidio's YAML recognizer file: `recognizers: [{name, supported_entity, patterns, …}]`.
#[derive(Debug, Deserialize)]
struct PresidioFile {
    recognizers: Vec<PresidioRecognizer>,
}

/// One entry of Presidio's YAML recognizer format (the fields Warden uses; the rest ignored).
#[derive(Debug, Deserialize)]
struct PresidioRecognizer {
    name: String,
    #[serde(default)]
    supported_entity: Option<String>,
    #[serde(default)]
    supported_entities: Vec<String>,
    #[serde(default)]
    supported_language: Option<String>,
    #[serde(default)]
    supported_languages: Vec<serde_yaml_ng::Value>,
    #[serde(default)]
    patterns: Vec<PresidioPattern>,
    #[serde(default)]
    deny_list: Vec<String>,
    #[serde(default)]
    deny_list_score: Option<f32>,
    #[serde(default)]
    context: Vec<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    global_regex_flags: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct PresidioPattern {
    name: String,
    regex: String,
    score: f32,
}

/// The result of an import: what was stored and what was skipped, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Names stored (created or replaced).
    pub stored: Vec<String>,
    /// Entries not imported, with the reason (predefined recognizers, disabled ones).
    pub skipped: Vec<FieldError>,
}

/// A recognizer name usable as a key: Presidio names have spaces, Warden's names do not.
fn key_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(64);
    out.trim_matches('-').to_owned()
}

/// Parses Presidio's YAML recognizer format into recognizers to store.
pub async fn from_presidio_yaml(yaml: &str) -> Result<(Vec<StoredRecognizer>, Vec<FieldError>)> {
    let file: PresidioFile = crate::documents::parse_yaml(yaml, Error::BadRequest, |yaml| {
        serde_yaml_ng::from_str(yaml)
            .map_err(|e| Error::BadRequest(format!("not a Presidio recognizer file: {e}")))
    })
    .await?;
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    for (i, r) in file.recognizers.into_iter().enumerate() {
        let path = format!("/recognizers/{i}");
        if r.kind.as_deref() == Some("predefined") {
            skipped.push(FieldError {
                path,
                message: format!(
                    "{}: a predefined Presidio recognizer; Warden's built-in has its own (see GET /v1/pii/entities)",
                    r.name
                ),
            });
            continue;
        }
        if r.enabled == Some(false) {
            skipped.push(FieldError {
                path,
                message: format!("{}: disabled", r.name),
            });
            continue;
        }
        let entity = r
            .supported_entity
            .or_else(|| r.supported_entities.first().cloned())
            .ok_or_else(|| Error::Unprocessable {
                message: format!("recognizer {} names no supported_entity", r.name),
                errors: vec![FieldError {
                    path: format!("{path}/supported_entity"),
                    message: "required".into(),
                }],
            })?;
        let mut languages: Vec<String> = r.supported_language.into_iter().collect();
        languages.extend(r.supported_languages.iter().filter_map(|v| {
            match v {
                serde_yaml_ng::Value::String(s) => Some(s.clone()),
                serde_yaml_ng::Value::Mapping(m) => m
                    .get("language")
                    .and_then(|l| l.as_str())
                    .map(str::to_owned),
                _ => None,
            }
        }));
        out.push(StoredRecognizer {
            name: key_name(&r.name),
            entity_type: entity,
            // Presidio compiles patterns with DOTALL | MULTILINE | IGNORECASE unless the file
            // says otherwise; the same flags, written inline, keep their meaning here.
            patterns: {
                let flags = super::presidio::inline_flags(
                    r.global_regex_flags
                        .unwrap_or(super::presidio::PRESIDIO_FLAGS),
                );
                r.patterns
                    .into_iter()
                    .map(|p| Pattern {
                        name: p.name,
                        regex: format!("{flags}{}", p.regex),
                        score: p.score,
                    })
                    .collect()
            },
            deny_list: r.deny_list,
            deny_list_score: r.deny_list_score,
            context: r.context,
            languages,
        });
    }
    Ok((out, skipped))
}

/// Each tenant's stored recognizers, dropped when the store announces a change to them.
#[derive(Default)]
pub(crate) struct RecognizerCache {
    inner: Mutex<HashMap<String, Arc<Vec<Recognizer>>>>,
}

impl RecognizerCache {
    /// Drops what a change touched.
    pub(crate) fn invalidate(&self, change: &Change) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        match change {
            Change::Key { keyspace, .. } if *keyspace != tables::RECOGNIZERS => {}
            Change::Key { .. } => {
                if let Some(tenant) = change.tenant() {
                    map.remove(tenant);
                }
            }
            Change::All => map.clear(),
        }
    }

    async fn get(&self, store: &Store, tenant: &str) -> Result<Arc<Vec<Recognizer>>> {
        if let Ok(map) = self.inner.lock()
            && let Some(r) = map.get(tenant)
        {
            return Ok(r.clone());
        }
        let list: Arc<Vec<Recognizer>> = Arc::new(
            list_raw(store, tenant)
                .await?
                .iter()
                .map(StoredRecognizer::to_engine)
                .collect(),
        );
        if let Ok(mut map) = self.inner.lock() {
            map.insert(tenant.to_owned(), list.clone());
        }
        Ok(list)
    }
}

fn key(tenant: &str, name: &str) -> String {
    format!("{tenant}/{name}")
}

async fn list_raw(store: &Store, tenant: &str) -> Result<Vec<StoredRecognizer>> {
    let prefix = format!("{tenant}/");
    Ok(store
        .scan_json::<StoredRecognizer>(tables::RECOGNIZERS, &prefix)
        .await?
        .into_iter()
        .map(|(k, mut r)| {
            r.name = k[prefix.len()..].to_owned();
            r
        })
        .collect())
}

impl Pii {
    /// The tenant's stored recognizers, as the sandbox runs them (cached).
    pub(crate) async fn stored_recognizers(&self, tenant: &str) -> Result<Arc<Vec<Recognizer>>> {
        self.recognizers.get(self.store(), tenant).await
    }

    /// Every stored recognizer of the caller's tenant, by name.
    pub async fn list_recognizers(&self, who: &Principal) -> Result<Vec<StoredRecognizer>> {
        list_raw(self.store(), &who.tenant).await
    }

    /// One stored recognizer.
    pub async fn get_recognizer(&self, who: &Principal, name: &str) -> Result<StoredRecognizer> {
        crate::names::check("recognizer", name)?;
        let mut r: StoredRecognizer = self
            .store()
            .read()
            .await?
            .get_json(tables::RECOGNIZERS, &key(&who.tenant, name))
            .await?
            .ok_or_else(|| Error::not_found("recognizer", name))?;
        r.name = name.to_owned();
        Ok(r)
    }

    /// Creates or replaces recognizers (one audit record each, one transaction); returns
    /// whether the first was new.
    pub async fn put_recognizers(
        &self,
        who: &Principal,
        list: Vec<StoredRecognizer>,
    ) -> Result<bool> {
        for r in &list {
            crate::names::check("recognizer", &r.name)?;
            check(&r.to_engine()).map_err(|e| Error::Unprocessable {
                message: format!("recognizer {}: {}{}", r.name, e.path, e.message),
                errors: vec![e],
            })?;
        }
        let list = &list;
        self.store()
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    let existing = tx
                        .keys(tables::RECOGNIZERS, &format!("{}/", who.tenant))
                        .await?;
                    let mut first_new = false;
                    let mut count = existing.len();
                    for (i, r) in list.iter().enumerate() {
                        let k = key(&who.tenant, &r.name);
                        let existed = existing.contains(&k);
                        if !existed {
                            count += 1;
                            if count > MAX_STORED {
                                return Err(Error::TooMany {
                                    what: "stored recognizers",
                                    count,
                                    limit: MAX_STORED,
                                    setting: "a tenant's recognizer cap",
                                });
                            }
                        }
                        if i == 0 {
                            first_new = !existed;
                        }
                        tx.put_json(tables::RECOGNIZERS, &k, r).await?;
                        tx.audit(
                            AuditEvent::new(
                                &who.tenant,
                                &who.actor,
                                if existed {
                                    "recognizer.replace"
                                } else {
                                    "recognizer.create"
                                },
                                format!("recognizer/{}", r.name),
                            )
                            .input(&warden_storage::encode(r)?)
                            .detail(format!(
                                "{} patterns, {} deny-list entries",
                                r.patterns.len(),
                                r.deny_list.len()
                            )),
                        )
                        .await?;
                    }
                    Ok::<_, Error>(first_new)
                })
            })
            .await
    }

    /// Deletes a stored recognizer.
    pub async fn delete_recognizer(&self, who: &Principal, name: &str) -> Result<()> {
        crate::names::check("recognizer", name)?;
        self.store()
            .write(Scope::tenant(&who.tenant), |tx| {
                Box::pin(async move {
                    if !tx
                        .delete(tables::RECOGNIZERS, &key(&who.tenant, name))
                        .await?
                    {
                        return Err(Error::not_found("recognizer", name));
                    }
                    tx.audit(AuditEvent::new(
                        &who.tenant,
                        &who.actor,
                        "recognizer.delete",
                        format!("recognizer/{name}"),
                    ))
                    .await?;
                    Ok(())
                })
            })
            .await
    }
}
