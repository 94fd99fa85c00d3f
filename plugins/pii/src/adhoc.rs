//! Recognizers the caller supplies with a call (Presidio's ad-hoc recognizers, Warden's stored
//! tenant recognizers): patterns with scores, deny-lists and context words, compiled here, in
//! the sandbox, under size limits so a hostile pattern costs only its own call.

use regex::{Regex, RegexBuilder};
use warden_sdk::InputError;
use warden_sdk::pii::Recognizer;

use crate::context::nearest_owned;
use crate::{Candidate, EntityType, OPTION_KIND, Why};

/// Most recognizers one call may bring.
pub const MAX_RECOGNIZERS: usize = 64;
/// Most patterns (and deny-list entries) one recognizer may bring.
pub const MAX_PATTERNS: usize = 256;
/// Longest pattern source, in bytes.
pub const MAX_PATTERN_LEN: usize = 4096;
/// Compiled-program size limit per pattern (the regex crate's `size_limit`).
const COMPILED_LIMIT: usize = 1 << 20;
/// Lazy-DFA cache limit per pattern.
const DFA_LIMIT: usize = 1 << 20;

/// One compiled ad-hoc recognizer.
#[derive(Debug, Clone)]
pub struct AdHoc {
    /// The type its matches are reported as.
    pub entity: EntityType,
    /// Compiled patterns with their names and scores.
    patterns: Vec<(String, Regex, f32)>,
    /// The deny-list as one case-insensitive, whole-word alternation, with its score.
    deny: Option<(Regex, f32)>,
    /// Context words (lower case).
    context: Vec<String>,
}

impl PartialEq for AdHoc {
    fn eq(&self, other: &AdHoc) -> bool {
        self.entity == other.entity
            && self.context == other.context
            && self.patterns.len() == other.patterns.len()
            && self
                .patterns
                .iter()
                .zip(&other.patterns)
                .all(|(a, b)| a.0 == b.0 && a.1.as_str() == b.1.as_str() && a.2 == b.2)
    }
}

fn invalid(message: String) -> InputError {
    InputError {
        kind: OPTION_KIND.to_owned(),
        message,
        position: None,
    }
}

/// An entity type name: upper-case ASCII letters, digits and `_`, 1 to 64 bytes. Leaked once
/// per distinct name so findings can carry `&'static str` like the built-in types.
fn entity_name(name: &str) -> Result<EntityType, InputError> {
    if let Some(known) = EntityType::parse(name) {
        return Ok(known);
    }
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(invalid(format!(
            "entity type {name:?} must be 1 to 64 upper-case letters, digits or '_'"
        )));
    }
    Ok(crate::entity::intern(name))
}

fn score(what: &str, s: f32) -> Result<f32, InputError> {
    if (0.0..=1.0).contains(&s) {
        Ok(s)
    } else {
        Err(invalid(format!(
            "{what}: score must be between 0.0 and 1.0, got {s}"
        )))
    }
}

fn build(what: &str, source: &str) -> Result<Regex, InputError> {
    if source.len() > MAX_PATTERN_LEN {
        return Err(invalid(format!(
            "{what}: pattern is {} bytes, the most is {MAX_PATTERN_LEN}",
            source.len()
        )));
    }
    RegexBuilder::new(source)
        .size_limit(COMPILED_LIMIT)
        .dfa_size_limit(DFA_LIMIT)
        .build()
        .map_err(|e| invalid(format!("{what}: invalid pattern: {e}")))
}

/// Compiles the caller's recognizers, refusing bad ones with an option error naming them.
pub fn compile(recognizers: &[Recognizer]) -> Result<Vec<AdHoc>, InputError> {
    if recognizers.len() > MAX_RECOGNIZERS {
        return Err(invalid(format!(
            "{} recognizers given, the most is {MAX_RECOGNIZERS}",
            recognizers.len()
        )));
    }
    let mut out = Vec::with_capacity(recognizers.len());
    for r in recognizers {
        let who = if r.name.is_empty() {
            format!("recognizer for {}", r.entity_type)
        } else {
            format!("recognizer {:?}", r.name)
        };
        let entity =
            entity_name(&r.entity_type).map_err(|e| invalid(format!("{who}: {}", e.message)))?;
        if r.patterns.is_empty() && r.deny_list.is_empty() {
            return Err(invalid(format!("{who}: needs patterns or a deny-list")));
        }
        if r.patterns.len() > MAX_PATTERNS || r.deny_list.len() > MAX_PATTERNS {
            return Err(invalid(format!(
                "{who}: at most {MAX_PATTERNS} patterns and {MAX_PATTERNS} deny-list entries"
            )));
        }
        let mut patterns = Vec::with_capacity(r.patterns.len());
        for p in &r.patterns {
            let what = format!("{who}, pattern {:?}", p.name);
            patterns.push((
                p.name.clone(),
                build(&what, &p.regex)?,
                score(&what, p.score)?,
            ));
        }
        let deny = if r.deny_list.is_empty() {
            None
        } else {
            let words: Vec<String> = r
                .deny_list
                .iter()
                .filter(|w| !w.trim().is_empty())
                .map(|w| regex::escape(w.trim()))
                .collect();
            if words.is_empty() {
                None
            } else {
                let source = format!(r"(?i)(?:^|\b)(?:{})(?:\b|$)", words.join("|"));
                let what = format!("{who}, deny-list");
                Some((
                    build(&what, &source)?,
                    score(&what, r.deny_list_score.unwrap_or(1.0))?,
                ))
            }
        };
        out.push(AdHoc {
            entity,
            patterns,
            deny,
            context: r.context.iter().map(|w| w.to_lowercase()).collect(),
        });
    }
    Ok(out)
}

/// Runs the compiled recognizers over `text`: all of them, unless the call names entities and
/// not this recognizer's.
pub(crate) fn scan(
    text: &str,
    recognizers: &[AdHoc],
    want: &dyn Fn(EntityType) -> bool,
    out: &mut Vec<Candidate>,
) {
    for r in recognizers.iter().filter(|r| want(r.entity)) {
        let all = r
            .patterns
            .iter()
            .map(|(_, re, s)| (re, *s, "ad-hoc pattern"))
            .chain(r.deny.iter().map(|(re, s)| (re, *s, "ad-hoc deny-list")));
        for (re, base, pattern) in all {
            for m in re.find_iter(text) {
                let (s, e) = (m.start(), m.end());
                if s == e {
                    continue;
                }
                let mut score = base;
                let mut why = Why::pattern(pattern);
                if score < 1.0 && nearest_owned(text, s, e, &r.context).is_some() {
                    score = crate::recognizers::boosted(score);
                    why = why.context("caller's context word");
                }
                out.push(Candidate {
                    entity: r.entity,
                    start: s,
                    end: e,
                    score,
                    why,
                });
            }
        }
    }
}
