//! Per-tenant deny/allow term lists, matched in one Aho-Corasick pass on word boundaries.
//!
//! Matching ignores ASCII case only: non-ASCII letters match case-sensitively (`Zoë` finds `zoë`
//! but not `ZOË`), which keeps every match offset exact. The exact-text allow check in
//! [`Matcher::filter_allowed`] compares Unicode-lowercased strings.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

use super::anonymize::Span;

/// Most terms one dictionary may hold.
pub const MAX_TERMS: usize = 100_000;
/// Longest term, in UTF-8 bytes.
pub const MAX_TERM_BYTES: usize = 256;
/// Longest entity type name, in bytes.
pub const MAX_ENTITY_TYPE_LEN: usize = 64;

/// Whether a dictionary's terms are personal data to find (deny) or known-safe text (allow).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DictionaryKind {
    /// Terms are reported as spans of the dictionary's entity type.
    Deny,
    /// Spans on these terms are dropped, whichever detector found them.
    Allow,
}

/// One tenant-supplied term list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dictionary {
    /// Deny or allow.
    pub kind: DictionaryKind,
    /// Entity type reported for deny matches (`[A-Z][A-Z0-9_]{0,63}`); must be absent for allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// The terms; surrounding whitespace is ignored when matching.
    #[serde(default)]
    pub terms: Vec<String>,
    /// Allow dictionaries only: regular expressions; a finding whose text one of them matches
    /// (anywhere, as Presidio's `allow_list_match: regex`; anchor with `^…$`) is dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
}

/// Why a dictionary was refused; each message starts with the offending field or term index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictionaryError {
    /// The term list is empty.
    #[error("terms: the dictionary has no terms")]
    NoTerms,
    /// The term list is longer than [`MAX_TERMS`].
    #[error("terms: {count} terms, more than the limit of {MAX_TERMS}")]
    TooManyTerms {
        /// How many terms were given.
        count: usize,
    },
    /// A term is empty or only whitespace.
    #[error("terms[{index}]: empty or only whitespace")]
    EmptyTerm {
        /// Index of the term.
        index: usize,
    },
    /// A term is longer than [`MAX_TERM_BYTES`].
    #[error("terms[{index}]: {len} bytes, more than the limit of {MAX_TERM_BYTES}")]
    TermTooLong {
        /// Index of the term.
        index: usize,
        /// The term's length in bytes.
        len: usize,
    },
    /// A term holds a control character (newline, tab, NUL, ...).
    #[error("terms[{index}]: contains a control character")]
    ControlChar {
        /// Index of the term.
        index: usize,
    },
    /// A deny dictionary has no entity type.
    #[error("entity_type: required for a deny dictionary")]
    MissingEntityType,
    /// The entity type is not `[A-Z][A-Z0-9_]{0,63}`.
    #[error("entity_type: {value:?} must match [A-Z][A-Z0-9_]{{0,63}}")]
    InvalidEntityType {
        /// The entity type given.
        value: String,
    },
    /// An allow dictionary has an entity type, which would mean nothing.
    #[error("entity_type: not allowed for an allow dictionary")]
    EntityTypeOnAllow,
    /// A deny dictionary has patterns; only allow dictionaries take them.
    #[error("patterns: only allow dictionaries take regular expressions")]
    PatternsOnDeny,
    /// A pattern does not compile (or is too large).
    #[error("patterns[{index}]: {message}")]
    InvalidPattern {
        /// Index of the pattern.
        index: usize,
        /// Why it does not compile.
        message: String,
    },
    /// One dictionary of a set given to [`Matcher::build`] is invalid.
    #[error("dictionary {name:?}: {error}")]
    InDictionary {
        /// The dictionary's name.
        name: String,
        /// What is wrong with it.
        #[source]
        error: Box<DictionaryError>,
    },
    /// The automaton could not be built (e.g. too large).
    #[error("building the dictionary matcher failed: {0}")]
    Build(String),
}

fn valid_entity_type(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() <= MAX_ENTITY_TYPE_LEN
        && bytes.first().is_some_and(u8::is_ascii_uppercase)
        && bytes
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

impl Dictionary {
    /// Checks the limits and the entity-type rule before a dictionary is stored or used.
    pub fn validate(&self) -> Result<(), DictionaryError> {
        match (&self.kind, &self.entity_type) {
            (DictionaryKind::Deny, None) => return Err(DictionaryError::MissingEntityType),
            (DictionaryKind::Deny, Some(value)) if !valid_entity_type(value) => {
                return Err(DictionaryError::InvalidEntityType {
                    value: value.clone(),
                });
            }
            (DictionaryKind::Allow, Some(_)) => return Err(DictionaryError::EntityTypeOnAllow),
            _ => {}
        }
        if self.terms.is_empty() && self.patterns.is_empty() {
            return Err(DictionaryError::NoTerms);
        }
        if !self.patterns.is_empty() && self.kind == DictionaryKind::Deny {
            return Err(DictionaryError::PatternsOnDeny);
        }
        if self.patterns.len() > MAX_PATTERNS {
            return Err(DictionaryError::TooManyTerms {
                count: self.patterns.len(),
            });
        }
        for (index, p) in self.patterns.iter().enumerate() {
            if let Err(e) = compile_pattern(p) {
                return Err(DictionaryError::InvalidPattern {
                    index,
                    message: e.to_string(),
                });
            }
        }
        if self.terms.len() > MAX_TERMS {
            return Err(DictionaryError::TooManyTerms {
                count: self.terms.len(),
            });
        }
        for (index, term) in self.terms.iter().enumerate() {
            if term.len() > MAX_TERM_BYTES {
                return Err(DictionaryError::TermTooLong {
                    index,
                    len: term.len(),
                });
            }
            if term.chars().any(char::is_control) {
                return Err(DictionaryError::ControlChar { index });
            }
            if term.trim().is_empty() {
                return Err(DictionaryError::EmptyTerm { index });
            }
        }
        Ok(())
    }
}

/// Most patterns one allow dictionary may hold.
pub const MAX_PATTERNS: usize = 1_000;

/// Compiles one allow pattern under a size limit.
fn compile_pattern(p: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(p).size_limit(1 << 20).build()
}

/// Where a deny term came from: the span's source and entity type.
#[derive(Clone)]
struct DenyOwner {
    source: String,
    entity_type: String,
}

/// Deny and allow automata built from a tenant's dictionaries, reused across requests.
#[derive(Clone)]
pub struct Matcher {
    deny: Option<AhoCorasick>,
    /// Deny pattern index -> index into `owners`.
    deny_owner: Vec<usize>,
    owners: Vec<DenyOwner>,
    allow: Option<AhoCorasick>,
    /// Allow terms, trimmed and Unicode-lowercased, for the exact-text check.
    allow_exact: HashSet<String>,
    /// Allow patterns of every allow dictionary.
    allow_patterns: Option<regex::RegexSet>,
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matcher")
            .field("deny_terms", &self.deny_owner.len())
            .field("allow_terms", &self.allow_exact.len())
            .finish()
    }
}

fn automaton(patterns: &[String]) -> Result<Option<AhoCorasick>, DictionaryError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        // Standard semantics allow overlapping search, so a term that fails the word-boundary
        // check cannot hide a shorter one that passes; leftmost-longest is applied afterwards.
        .match_kind(MatchKind::Standard)
        .build(patterns)
        .map(Some)
        .map_err(|e| DictionaryError::Build(e.to_string()))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when the characters just before `start` and just after `end` are not word characters.
fn at_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let (Some(before), Some(after)) = (text.get(..start), text.get(end..)) else {
        return false;
    };
    !before.chars().next_back().is_some_and(is_word_char)
        && !after.chars().next().is_some_and(is_word_char)
}

/// The longest word-bounded match at each start offset: start -> (end, pattern index).
fn matches_by_start(automaton: &AhoCorasick, text: &str) -> BTreeMap<usize, (usize, usize)> {
    let mut best: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    // Only fails for a non-Standard match kind, which `automaton` never builds.
    let Ok(iter) = automaton.try_find_overlapping_iter(text) else {
        return best;
    };
    for m in iter {
        if !at_word_boundaries(text, m.start(), m.end()) {
            continue;
        }
        let entry = best
            .entry(m.start())
            .or_insert((m.end(), m.pattern().as_usize()));
        if m.end() > entry.0 {
            *entry = (m.end(), m.pattern().as_usize());
        }
    }
    best
}

impl Matcher {
    /// Validates and compiles named dictionaries; a term in several deny lists goes to the first.
    pub fn build(dicts: &[(String, Dictionary)]) -> Result<Matcher, DictionaryError> {
        let mut deny_patterns = Vec::new();
        let mut deny_owner = Vec::new();
        let mut owners = Vec::new();
        let mut deny_seen = HashSet::new();
        let mut allow_patterns = Vec::new();
        let mut allow_seen = HashSet::new();
        let mut allow_exact = HashSet::new();
        let mut allow_regexes: Vec<String> = Vec::new();
        for (name, dict) in dicts {
            dict.validate()
                .map_err(|error| DictionaryError::InDictionary {
                    name: name.clone(),
                    error: Box::new(error),
                })?;
            match dict.kind {
                DictionaryKind::Deny => {
                    let owner = owners.len();
                    owners.push(DenyOwner {
                        source: format!("dictionary:{name}"),
                        entity_type: dict.entity_type.clone().unwrap_or_default(),
                    });
                    for term in &dict.terms {
                        let term = term.trim();
                        if deny_seen.insert(term.to_ascii_lowercase()) {
                            deny_patterns.push(term.to_owned());
                            deny_owner.push(owner);
                        }
                    }
                }
                DictionaryKind::Allow => {
                    allow_regexes.extend(dict.patterns.iter().cloned());
                    for term in &dict.terms {
                        let term = term.trim();
                        if allow_seen.insert(term.to_ascii_lowercase()) {
                            allow_patterns.push(term.to_owned());
                        }
                        allow_exact.insert(term.to_lowercase());
                    }
                }
            }
        }
        Ok(Matcher {
            deny: automaton(&deny_patterns)?,
            deny_owner,
            owners,
            allow: automaton(&allow_patterns)?,
            allow_exact,
            allow_patterns: if allow_regexes.is_empty() {
                None
            } else {
                Some(
                    regex::RegexSetBuilder::new(&allow_regexes)
                        .size_limit(16 << 20)
                        .build()
                        .map_err(|e| DictionaryError::Build(e.to_string()))?,
                )
            },
        })
    }

    /// The entity types the deny dictionaries report.
    pub fn entity_types(&self) -> impl Iterator<Item = &str> {
        self.owners.iter().map(|o| o.entity_type.as_str())
    }

    /// True when no dictionary contributed a term, so the caller can skip matching.
    pub fn is_empty(&self) -> bool {
        self.deny.is_none() && self.allow.is_none() && self.allow_patterns.is_none()
    }

    /// Deny-term occurrences in `text` (leftmost-longest, word-bounded), sorted and disjoint.
    ///
    /// Each span has score 1.0, the dictionary's entity type and source `dictionary:<name>`.
    pub fn find(&self, text: &str) -> Vec<Span> {
        let Some(deny) = &self.deny else {
            return Vec::new();
        };
        let mut spans = Vec::new();
        let mut last_end = 0;
        for (start, (end, pattern)) in matches_by_start(deny, text) {
            if start < last_end {
                continue;
            }
            let Some(owner) = self
                .deny_owner
                .get(pattern)
                .and_then(|&i| self.owners.get(i))
            else {
                continue;
            };
            spans.push(Span {
                entity_type: owner.entity_type.clone(),
                start,
                end,
                score: 1.0,
                source: owner.source.clone(),
                explanation: None,
            });
            last_end = end;
        }
        spans
    }

    /// Drops spans whose text is an allow term (case-insensitively) or that lie inside an
    /// allow-term occurrence (word-bounded, as for deny terms).
    ///
    /// Spans whose offsets do not fit `text` are only checked for containment and otherwise kept.
    pub fn filter_allowed(&self, text: &str, spans: Vec<Span>) -> Vec<Span> {
        let spans = match &self.allow_patterns {
            None => spans,
            Some(set) => spans
                .into_iter()
                .filter(|s| !text.get(s.start..s.end).is_some_and(|v| set.is_match(v)))
                .collect(),
        };
        let Some(allow) = &self.allow else {
            return spans;
        };
        // Occurrences sorted by start, with the furthest end reached so far.
        let mut starts = Vec::new();
        let mut reach = Vec::new();
        let mut furthest = 0;
        for (start, (end, _)) in matches_by_start(allow, text) {
            furthest = furthest.max(end);
            starts.push(start);
            reach.push(furthest);
        }
        let inside_occurrence = |span: &Span| {
            let before = starts.partition_point(|&s| s <= span.start);
            before
                .checked_sub(1)
                .and_then(|i| reach.get(i))
                .is_some_and(|&end| end >= span.end)
        };
        spans
            .into_iter()
            .filter(|span| {
                let exact = text
                    .get(span.start..span.end)
                    .is_some_and(|t| self.allow_exact.contains(&t.trim().to_lowercase()));
                !exact && !inside_occurrence(span)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deny(entity: &str, terms: &[&str]) -> Dictionary {
        Dictionary {
            kind: DictionaryKind::Deny,
            entity_type: Some(entity.to_owned()),
            terms: terms.iter().map(|t| t.to_string()).collect(),
            patterns: Vec::new(),
        }
    }

    fn allow(terms: &[&str]) -> Dictionary {
        Dictionary {
            kind: DictionaryKind::Allow,
            entity_type: None,
            terms: terms.iter().map(|t| t.to_string()).collect(),
            patterns: Vec::new(),
        }
    }

    fn matcher(dicts: Vec<(&str, Dictionary)>) -> Matcher {
        let named: Vec<(String, Dictionary)> =
            dicts.into_iter().map(|(n, d)| (n.to_owned(), d)).collect();
        Matcher::build(&named).unwrap()
    }

    fn found<'a>(text: &'a str, spans: &[Span]) -> Vec<&'a str> {
        spans.iter().map(|s| &text[s.start..s.end]).collect()
    }

    fn span(start: usize, end: usize) -> Span {
        Span {
            entity_type: "ORG".to_owned(),
            start,
            end,
            score: 0.5,
            source: "builtin".to_owned(),
            explanation: None,
        }
    }

    #[test]
    fn validate_reports_field_or_term_index() {
        let long = "x".repeat(MAX_TERM_BYTES + 1);
        let cases = [
            (deny("ORG", &[]), DictionaryError::NoTerms, "terms:"),
            (
                deny("ORG", &["ok", "  "]),
                DictionaryError::EmptyTerm { index: 1 },
                "terms[1]",
            ),
            (
                deny("ORG", &["a", "b", &long]),
                DictionaryError::TermTooLong { index: 2, len: 257 },
                "terms[2]",
            ),
            (
                deny("ORG", &["a\tb"]),
                DictionaryError::ControlChar { index: 0 },
                "terms[0]",
            ),
            (
                deny("org", &["a"]),
                DictionaryError::InvalidEntityType {
                    value: "org".to_owned(),
                },
                "entity_type:",
            ),
            (
                deny(&format!("A{}", "B".repeat(64)), &["a"]),
                DictionaryError::InvalidEntityType {
                    value: format!("A{}", "B".repeat(64)),
                },
                "entity_type:",
            ),
            (
                Dictionary {
                    entity_type: None,
                    ..deny("X", &["a"])
                },
                DictionaryError::MissingEntityType,
                "entity_type:",
            ),
            (
                Dictionary {
                    entity_type: Some("ORG".to_owned()),
                    ..allow(&["a"])
                },
                DictionaryError::EntityTypeOnAllow,
                "entity_type:",
            ),
        ];
        for (dict, expected, prefix) in cases {
            let err = dict.validate().unwrap_err();
            assert!(err.to_string().starts_with(prefix), "{err}");
            assert_eq!(err, expected);
        }
        let many: Vec<String> = (0..=MAX_TERMS).map(|i| i.to_string()).collect();
        let too_many = Dictionary {
            terms: many,
            ..allow(&[])
        };
        assert_eq!(
            too_many.validate(),
            Err(DictionaryError::TooManyTerms {
                count: MAX_TERMS + 1
            })
        );
        assert_eq!(
            deny(&format!("A{}", "_".repeat(63)), &[" x "]).validate(),
            Ok(())
        );
        assert_eq!(allow(&["Zoë"]).validate(), Ok(()));
    }

    #[test]
    fn serde_shape() {
        let dict: Dictionary = serde_json::from_str(
            r#"{"kind": "deny", "entity_type": "PROJECT", "terms": ["Apollo"]}"#,
        )
        .unwrap();
        assert_eq!(dict, deny("PROJECT", &["Apollo"]));
        let allow_dict: Dictionary =
            serde_json::from_str(r#"{"kind": "allow", "terms": ["ACME"]}"#).unwrap();
        assert_eq!(allow_dict.kind, DictionaryKind::Allow);
        assert!(serde_json::from_str::<Dictionary>(r#"{"kind": "Deny", "terms": ["a"]}"#).is_err());
        assert!(
            serde_json::from_str::<Dictionary>(r#"{"kind": "allow", "terms": ["a"], "x": 1}"#)
                .is_err()
        );
    }

    #[test]
    fn build_names_the_bad_dictionary() {
        let dicts = vec![
            ("good".to_owned(), deny("ORG", &["a"])),
            ("bad".to_owned(), deny("ORG", &["a", ""])),
        ];
        let err = Matcher::build(&dicts).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dictionary \"bad\": terms[1]: empty or only whitespace"
        );
        assert!(Matcher::build(&[]).unwrap().is_empty());
        assert!(!matcher(vec![("a", allow(&["x"]))]).is_empty());
    }

    #[test]
    fn finds_case_insensitive_word_bounded_terms() {
        let m = matcher(vec![("projects", deny("PROJECT", &[" Apollo ", "Zoë"]))]);
        let text = "apollo, APOLLO-11 Apollonia _apollo xapollo é apollo éapollo «Apollo» zoë ZOË";
        let spans = m.find(text);
        assert_eq!(
            found(text, &spans),
            vec!["apollo", "APOLLO", "apollo", "Apollo", "zoë"]
        );
        assert_eq!(spans[0].source, "dictionary:projects");
        assert_eq!(spans[0].entity_type, "PROJECT");
        assert_eq!(spans[0].score, 1.0);
        // Non-ASCII letters match case-sensitively: "zoë" matches, "ZOË" does not.
        let m = matcher(vec![("p", deny("PERSON", &["zoë"]))]);
        let text = "Zoë and ZOË";
        assert_eq!(found(text, &m.find(text)), vec!["Zoë"]);
    }

    #[test]
    fn leftmost_longest_with_boundary_fallback() {
        let m = matcher(vec![(
            "places",
            deny("LOCATION", &["new", "new york", "york", "ab cd", "cd ef"]),
        )]);
        let text = "new york; new yorker; ab cd ef; york";
        assert_eq!(
            found(text, &m.find(text)),
            vec!["new york", "new", "ab cd", "york"]
        );
    }

    #[test]
    fn first_dictionary_wins_a_shared_term() {
        let m = matcher(vec![
            ("staff", deny("PERSON", &["Ada"])),
            ("codes", deny("CODE", &["ADA", "X1"])),
        ]);
        let spans = m.find("ada X1");
        assert_eq!(spans.len(), 2);
        assert_eq!(
            (spans[0].entity_type.as_str(), spans[0].source.as_str()),
            ("PERSON", "dictionary:staff")
        );
        assert_eq!(
            (spans[1].entity_type.as_str(), spans[1].source.as_str()),
            ("CODE", "dictionary:codes")
        );
    }

    #[test]
    fn filter_allowed_drops_exact_and_contained_spans() {
        let m = matcher(vec![("safe", allow(&["Acme Corp", "Århus", "Corp Bank"]))]);
        let text = "Acme Corp Bank in ÅRHUS, acme corporation, Acme Corp.";
        let acme = text.find("Acme").unwrap();
        let corp = acme + 5;
        let bank = text.find("Bank").unwrap();
        let arhus = text.find("ÅRHUS").unwrap();
        let corporation = text.find("corporation").unwrap();
        let last = text.rfind("Acme").unwrap();
        let spans = vec![
            span(corp, corp + 4),                    // inside "Acme Corp": dropped
            span(bank, bank + 4), // inside "Corp Bank" (overlapping occurrence): dropped
            span(acme, bank + 4), // "Acme Corp Bank": not inside one occurrence: kept
            span(arhus, arhus + "ÅRHUS".len()), // exact match, Unicode case-insensitive: dropped
            span(corporation - 5, corporation + 11), // "acme corporation": no occurrence: kept
            span(last, last + 9), // exact occurrence: dropped
            span(last + 2, last + 10), // runs past the occurrence: kept
        ];
        let kept = m.filter_allowed(text, spans.clone());
        assert_eq!(
            kept,
            vec![spans[2].clone(), spans[4].clone(), spans[6].clone()]
        );
        // Without allow terms nothing is dropped.
        let none = matcher(vec![("d", deny("ORG", &["Acme"]))]);
        assert_eq!(none.filter_allowed(text, spans.clone()), spans);
    }

    #[test]
    fn fifty_thousand_terms_on_a_large_text() {
        let terms: Vec<String> = (0..50_000usize)
            .map(|i| {
                if i.is_multiple_of(7) {
                    format!("name{i:05} holdings")
                } else {
                    format!("name{i:05}")
                }
            })
            .collect();
        let dict = Dictionary {
            kind: DictionaryKind::Deny,
            entity_type: Some("ORG".to_owned()),
            terms,
            patterns: Vec::new(),
        };
        let m = Matcher::build(&[("big".to_owned(), dict)]).unwrap();
        let mut text = String::new();
        let mut expected = Vec::new();
        let mut i = 0usize;
        while text.len() < 100_000 {
            text.push_str("lorem ipsum dolor sit amet ");
            let n = (i * 7919) % 50_000;
            match i % 4 {
                0 => {
                    let word = format!("NAME{n:05}");
                    expected.push(if n.is_multiple_of(7) {
                        format!("{word} Holdings")
                    } else {
                        word
                    });
                    let hit = expected.last().unwrap();
                    text.push_str(hit);
                }
                1 => text.push_str(&format!("xname{n:05} name{n:05}_ name{n:05}9 ")),
                2 => {
                    // Multiples of 7 only exist as "... holdings" terms.
                    let n = if n.is_multiple_of(7) { n + 1 } else { n };
                    let word = format!("Name{n:05}");
                    text.push_str(&format!("({word}) "));
                    expected.push(word);
                }
                _ => text.push_str("name5 nam "),
            }
            text.push(' ');
            i += 1;
        }
        let spans = m.find(&text);
        assert_eq!(found(&text, &spans), expected);
        assert!(expected.len() > 1000);
        assert!(expected.iter().any(|e| e.ends_with("Holdings")));
    }

    #[test]
    fn allow_patterns_drop_matching_findings_and_only_allow_lists_take_them() {
        let mut safe = allow(&[]);
        safe.patterns = vec![r"@example\.com$".into(), r"^\+1 555".into()];
        let m = matcher(vec![("safe", safe)]);
        let text = "ops@example.com, bob@corp.example, +1 555 0100";
        let spans = vec![span(0, 15), span(17, 33), span(35, 46)];
        assert_eq!(
            m.filter_allowed(text, spans.clone()),
            vec![spans[1].clone()]
        );
        let mut bad = deny("X", &["y"]);
        bad.patterns = vec!["z".into()];
        assert_eq!(bad.validate(), Err(DictionaryError::PatternsOnDeny));
        let mut broken = allow(&[]);
        broken.patterns = vec!["(?<=a)b".into()];
        assert!(matches!(
            broken.validate(),
            Err(DictionaryError::InvalidPattern { index: 0, .. })
        ));
        assert_eq!(allow(&[]).validate(), Err(DictionaryError::NoTerms));
    }
}
