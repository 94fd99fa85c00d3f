//! Allow-lists given with a request (Presidio's `allow_list` and `allow_list_match`): values
//! the caller knows are safe are never reported, whichever detector found them.

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use super::anonymize::Span;
use crate::error::{Error, Result};

/// Most entries of one request's allow-list.
pub const MAX_ENTRIES: usize = 10_000;
/// Compiled-program size limit of a regex allow-list.
const REGEX_LIMIT: usize = 4 << 20;

/// How allow-list entries are compared with a finding's text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllowMatch {
    /// The finding's text equals an entry (ignoring case and surrounding whitespace).
    #[default]
    Exact,
    /// An entry, as a regular expression, matches somewhere in the finding's text (Presidio's
    /// `re.search` semantics; anchor with `^…$` for whole values).
    Regex,
}

/// A compiled allow-list.
#[derive(Debug, Default)]
pub struct AllowList {
    exact: std::collections::HashSet<String>,
    regex: Option<Regex>,
}

impl AllowList {
    /// Compiles `entries`; a bad regex or too many entries is a 400 naming the entry.
    pub fn new(entries: &[String], how: AllowMatch) -> Result<AllowList> {
        if entries.len() > MAX_ENTRIES {
            return Err(Error::BadRequest(format!(
                "allow_list: {} entries, more than the limit of {MAX_ENTRIES}",
                entries.len()
            )));
        }
        match how {
            AllowMatch::Exact => Ok(AllowList {
                exact: entries.iter().map(|e| e.trim().to_lowercase()).collect(),
                regex: None,
            }),
            AllowMatch::Regex if entries.is_empty() => Ok(AllowList::default()),
            AllowMatch::Regex => {
                for (i, e) in entries.iter().enumerate() {
                    if let Err(err) = Regex::new(e) {
                        return Err(Error::BadRequest(format!(
                            "allow_list[{i}]: not a valid regular expression: {err}"
                        )));
                    }
                }
                let joined = entries
                    .iter()
                    .map(|e| format!("(?:{e})"))
                    .collect::<Vec<_>>()
                    .join("|");
                let regex = RegexBuilder::new(&joined)
                    .size_limit(REGEX_LIMIT)
                    .build()
                    .map_err(|e| Error::BadRequest(format!("allow_list: {e}")))?;
                Ok(AllowList {
                    exact: Default::default(),
                    regex: Some(regex),
                })
            }
        }
    }

    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.regex.is_none()
    }

    /// Whether `value` (a finding's text) is allowed.
    pub fn allows(&self, value: &str) -> bool {
        (!self.exact.is_empty() && self.exact.contains(&value.trim().to_lowercase()))
            || self.regex.as_ref().is_some_and(|r| r.is_match(value))
    }

    /// `spans` without the allowed ones.
    pub fn filter(&self, text: &str, spans: Vec<Span>) -> Vec<Span> {
        if self.is_empty() {
            return spans;
        }
        spans
            .into_iter()
            .filter(|s| !text.get(s.start..s.end).is_some_and(|v| self.allows(v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize) -> Span {
        Span {
            entity_type: "X".into(),
            start,
            end,
            score: 1.0,
            source: "t".into(),
            explanation: None,
        }
    }

    #[test]
    fn exact_entries_ignore_case_and_regexes_search() {
        let text = "mail Bob@Example.com or ops@corp.example";
        let spans = vec![span(5, 20), span(24, 40)];
        let exact = AllowList::new(&["bob@example.com".into()], AllowMatch::Exact).unwrap();
        assert_eq!(exact.filter(text, spans.clone()), vec![spans[1].clone()]);
        let re = AllowList::new(&[r"@corp\.example$".into()], AllowMatch::Regex).unwrap();
        assert_eq!(re.filter(text, spans.clone()), vec![spans[0].clone()]);
        assert!(AllowList::new(&["(".into()], AllowMatch::Regex).is_err());
        assert!(AllowList::new(&[], AllowMatch::Regex).unwrap().is_empty());
    }
}
