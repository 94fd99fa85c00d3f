//! Composition in the prompt registry: `{% include %}`, `{% import %}`, `{% from %}` and
//! `{% extends %}` of other templates of the same tenant, by name (`greeting`), label
//! (`greeting@production`) or version (`greeting@3`). Each reference is resolved and pinned
//! when a version is created, so a version renders byte-identically forever (a rollback
//! included); at render the pinned texts are handed to the engine as its only sources — there
//! is no loader of files and no other tenant's template.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::templates::{LATEST, PRODUCTION, STORED, TemplateVersion};
use crate::auth::Principal;
use crate::error::{Error, FieldError, Result};
use warden_storage::Store;

/// Most templates one render may pull in, transitively.
pub const MAX_SOURCES: usize = 64;

/// One pinned reference: which template version a name used by a template resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Pinned {
    /// The referenced template.
    pub name: String,
    /// The version it resolved to when the including version was created.
    pub version: u64,
}

/// A composition tag naming a template with a string literal.
static LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern: a failure is a bug caught by every test run.
    #[allow(clippy::expect_used)]
    Regex::new(r#"\{%[-+]?\s*(?:include|import|extends|from)\s+(?:"([^"]*)"|'([^']*)')"#)
        .expect("composition pattern compiles")
});

/// A composition tag naming its template with anything else (a variable, an expression).
static ANY: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"\{%[-+]?\s*(?:include|import|extends|from)\s+([^\s%]+)")
        .expect("composition pattern compiles")
});

/// The template names `text` includes, imports or extends, in order, without duplicates; a
/// tag whose name is not a string literal is refused (it could not be pinned).
pub fn references(text: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for c in ANY.captures_iter(text) {
        let arg = c.get(1).map_or("", |m| m.as_str());
        if !(arg.starts_with('"') || arg.starts_with('\'')) {
            return Err(Error::Unprocessable {
                message: "included templates must be named with a string literal".into(),
                errors: vec![FieldError {
                    path: "/template".into(),
                    message: format!(
                        "`{}` names its template with {arg:?}; write the name in quotes (\"name\", \"name@label\", \"name@3\") so it can be pinned",
                        c.get(0).map_or("", |m| m.as_str())
                    ),
                }],
            });
        }
    }
    for c in LITERAL.captures_iter(text) {
        let name = c.get(1).or(c.get(2)).map_or("", |m| m.as_str()).to_owned();
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Splits `name@label` / `name@3` / `name`.
fn split(reference: &str) -> (&str, Option<&str>) {
    match reference.split_once('@') {
        Some((n, l)) => (n, Some(l)),
        None => (reference, None),
    }
}

/// Resolves and pins every reference of `texts` (the new version of template `own`), and
/// checks the whole graph: each name means one version everywhere, at most [`MAX_SOURCES`]
/// templates, no template includes itself.
pub async fn pin(
    store: &Store,
    who: &Principal,
    own: &str,
    texts: &[String],
) -> Result<BTreeMap<String, Pinned>> {
    let mut pins = BTreeMap::new();
    for text in texts {
        for reference in references(text)? {
            let (name, at) = split(&reference);
            if name == own {
                return Err(Error::Unprocessable {
                    message: format!("template {own} includes itself"),
                    errors: vec![FieldError {
                        path: "/template".into(),
                        message: format!(
                            "{reference:?} refers to this template: a template may not include, import or extend itself"
                        ),
                    }],
                });
            }
            crate::names::check("template", name)?;
            let version = match at {
                Some(v) if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() => {
                    v.parse::<u64>().map_err(|_| {
                        Error::BadRequest(format!("{reference:?}: version out of range"))
                    })?
                }
                Some(label) => label_version(store, who, name, label).await?,
                None => match label_version(store, who, name, PRODUCTION).await {
                    Ok(v) => v,
                    Err(Error::NotFound { .. }) => label_version(store, who, name, LATEST)
                        .await
                        .map_err(|_| Error::Unprocessable {
                            message: format!("included template {name} does not exist"),
                            errors: vec![FieldError {
                                path: "/template".into(),
                                message: format!(
                                    "{reference:?}: no template {name} in this tenant"
                                ),
                            }],
                        })?,
                    Err(e) => return Err(e),
                },
            };
            if STORED
                .version::<TemplateVersion>(store, &who.tenant, name, version)
                .await?
                .is_none()
            {
                return Err(Error::Unprocessable {
                    message: format!("included template {name} version {version} does not exist"),
                    errors: vec![FieldError {
                        path: "/template".into(),
                        message: format!("{reference:?} resolves to nothing"),
                    }],
                });
            }
            pins.insert(
                reference.clone(),
                Pinned {
                    name: name.to_owned(),
                    version,
                },
            );
        }
    }
    // The graph the pins pull in must be consistent and bounded.
    sources(store, who, &pins).await?;
    Ok(pins)
}

async fn label_version(store: &Store, who: &Principal, name: &str, label: &str) -> Result<u64> {
    let found = if label == LATEST {
        STORED
            .versions::<TemplateVersion>(store, &who.tenant, name)
            .await?
            .iter()
            .map(|v| v.version)
            .max()
    } else {
        crate::names::check("label", label)?;
        STORED
            .labels(store, &who.tenant, name)
            .await?
            .get(label)
            .copied()
    };
    found.ok_or_else(|| Error::not_found("label", format!("{name}@{label}")))
}

/// Every template the pins pull in, transitively, as `(name as written, text)` for the
/// engine; a name that means two versions in different places is refused.
pub async fn sources(
    store: &Store,
    who: &Principal,
    pins: &BTreeMap<String, Pinned>,
) -> Result<Vec<(String, String)>> {
    let mut seen: BTreeMap<String, Pinned> = BTreeMap::new();
    let mut out = Vec::new();
    let mut queue: Vec<(String, Pinned)> =
        pins.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    while let Some((written, pinned)) = queue.pop() {
        if let Some(prev) = seen.get(&written) {
            if prev != &pinned {
                return Err(Error::Unprocessable {
                    message: format!("{written:?} means two template versions"),
                    errors: vec![FieldError {
                        path: "/template".into(),
                        message: format!(
                            "{written:?} is {} version {} in one place and version {} in another; name the version (\"{}@{}\")",
                            pinned.name, prev.version, pinned.version, pinned.name, prev.version
                        ),
                    }],
                });
            }
            continue;
        }
        if seen.len() >= MAX_SOURCES {
            return Err(Error::Unprocessable {
                message: format!("more than {MAX_SOURCES} included templates"),
                errors: vec![],
            });
        }
        let tv: TemplateVersion = STORED
            .version(store, &who.tenant, &pinned.name, pinned.version)
            .await?
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "included template {} version {} is gone",
                    pinned.name, pinned.version
                ))
            })?;
        let Some(text) = tv.template.clone() else {
            return Err(Error::Unprocessable {
                message: format!("{} is not a text template", pinned.name),
                errors: vec![FieldError {
                    path: "/template".into(),
                    message: format!("{written:?}: only text templates can be included"),
                }],
            });
        };
        for (w, p) in &tv.includes {
            queue.push((w.clone(), p.clone()));
        }
        seen.insert(written.clone(), pinned);
        out.push((written, text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_string_literals_in_order_without_duplicates() {
        let text = r#"{% extends "base@2" %}{% from 'macros' import hi %}{%- include "footer" -%}{% include "footer" %}"#;
        assert_eq!(references(text).unwrap(), ["base@2", "macros", "footer"]);
        assert!(references("{% include name %}").is_err());
        assert!(references("{% include 'a' ~ x %}").unwrap() == ["a"]);
        assert_eq!(split("a@3"), ("a", Some("3")));
        assert_eq!(split("a"), ("a", None));
    }
}
