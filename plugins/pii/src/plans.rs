//! libphonenumber's validity check, compiled ahead of time: every region's number-type
//! patterns as anchored DFAs built once (in the pre-initialised snapshot), so a call only reads
//! them.
//!
//! `phonenumber::is_valid` looks each pattern up in a shared LRU cache by its source text
//! (hashing and comparing kilobyte-long strings under a mutex) and searches it with a lazy DFA
//! that builds its states as digits arrive. Every national number is a new path through those
//! states, so a fresh sandbox instance rebuilt them on every call: validating one telephone
//! number was about a third of a short prompt's detection time. These DFAs are complete, need
//! no cache and are never written to. The answers are the library's own: the same
//! descriptors, lengths and region choice (`source_for`), and the same match rule (a match
//! starting at the first digit).

use std::collections::HashMap;
use std::sync::LazyLock;

use phonenumber::PhoneNumber;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex_automata::dfa::{Automaton, StartKind, dense, sparse};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};

/// One number type of one region: its possible lengths and its national-number pattern.
struct Kind {
    lengths: Vec<u16>,
    dfa: Option<sparse::DFA<Vec<u8>>>,
}

impl Kind {
    fn new(d: &Descriptor) -> Kind {
        Kind {
            lengths: d.possible_length().to_vec(),
            dfa: compile(d.national_number().as_str()),
        }
    }

    /// `Descriptor::is_match`: a possible length, and the pattern matches from the first digit.
    fn matches(&self, value: &str) -> bool {
        let len = value.len();
        if !self.lengths.is_empty() && !self.lengths.iter().any(|&l| usize::from(l) == len) {
            return false;
        }
        self.dfa.as_ref().is_some_and(|dfa| starts(dfa, value))
    }
}

/// A region's plan: the general descriptor, every number type `number_type` tries, and the
/// leading digits that pick the region among those sharing a country code.
struct Plan {
    general: Kind,
    kinds: Vec<Kind>,
    leading: Option<sparse::DFA<Vec<u8>>>,
}

impl Plan {
    fn new(meta: &Metadata) -> Plan {
        let d = meta.descriptors();
        let kinds = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .map(Kind::new)
        .collect();
        Plan {
            general: Kind::new(d.general()),
            kinds,
            leading: meta.leading_digits().and_then(|r| compile(r.as_str())),
        }
    }

    /// `number_type(meta, value) != Type::Unknown`.
    fn valid(&self, value: &str) -> bool {
        self.general.matches(value) && self.kinds.iter().any(|k| k.matches(value))
    }
}

/// Every region's plan, by metadata id (`US`, `GB`, `001` entries under their own ids).
static PLANS: LazyLock<HashMap<String, Plan>> = LazyLock::new(|| {
    DATABASE
        .iter()
        .map(|m| (m.id().to_owned(), Plan::new(m)))
        .collect()
});

/// Compiles a libphonenumber pattern (written with insignificant whitespace) into an anchored
/// DFA over bytes. `None` only if the metadata held a pattern this engine cannot build, which
/// then never matches, as a missing descriptor does.
fn compile(pattern: &str) -> Option<sparse::DFA<Vec<u8>>> {
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .match_kind(MatchKind::All),
        )
        .syntax(
            syntax::Config::new()
                .unicode(false)
                .utf8(false)
                .ignore_whitespace(true),
        )
        .build(pattern)
        .ok()
        .and_then(|dfa| dfa.to_sparse().ok())
}

/// Whether `dfa` matches a prefix of `value` (any match that starts at its first byte).
fn starts(dfa: &sparse::DFA<Vec<u8>>, value: &str) -> bool {
    let input = Input::new(value).anchored(Anchored::Yes).earliest(true);
    matches!(dfa.try_search_fwd(&input), Ok(Some(_)))
}

/// Builds every region's plan now (for the snapshot).
pub(crate) fn warm() {
    LazyLock::force(&PLANS);
}

/// `phonenumber::is_valid`, answered from the compiled plans.
pub(crate) fn is_valid(number: &PhoneNumber) -> bool {
    let code = number.country().code();
    let national = number.national().to_string();
    let Some(regions) = DATABASE.region(&code) else {
        return false;
    };
    let plan = match regions.as_slice() {
        [only] if *only == "001" => DATABASE
            .by_code(&code)
            .and_then(|m| m.into_iter().next())
            .and_then(|m| PLANS.get(m.id())),
        [only] => PLANS.get(*only),
        _ => source_for(&regions, &national).and_then(|id| PLANS.get(id)),
    };
    plan.is_some_and(|p| p.valid(&national))
}

/// `validator::source_for` among the several regions sharing a country code: the first whose
/// leading digits start the number or, for one without leading digits, whose plan accepts it.
fn source_for<'r>(regions: &[&'r str], national: &str) -> Option<&'r str> {
    regions.iter().copied().find(|id| {
        PLANS.get(*id).is_some_and(|p| match &p.leading {
            Some(dfa) => starts(dfa, national),
            None => p.valid(national),
        })
    })
}

/// `phonenumber::parse(None, text)` for an international candidate (`+`, digits and
/// separators). Where several regions share its country code, the library would pick one by
/// searching their plans with its lazily built automata; the region is found here from the
/// compiled plans and handed to the library instead, which then parses exactly as before.
/// Every other case is the library's own parse.
pub(crate) fn parse_international(text: &str) -> Option<PhoneNumber> {
    let digits: String = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(char::from)
        .collect();
    let shared = || -> Option<(Option<&'static str>, bool)> {
        if digits.len() <= 2 || digits.starts_with('0') {
            return None;
        }
        let (code, len) = (1..=3usize.min(digits.len())).find_map(|l| {
            let c: u16 = digits[..l].parse().ok()?;
            DATABASE.by_code(&c).map(|_| (c, l))
        })?;
        let regions = DATABASE.region(&code)?;
        if regions.len() < 2 {
            return None;
        }
        let rest = &digits[len..];
        let national = rest.trim_start_matches('0');
        Some((source_for(&regions, national), rest.len() != national.len()))
    };
    match shared() {
        Some((Some(id), _)) => phonenumber::parse(Some(id.parse().ok()?), text).ok(),
        // No region takes it: the library parses it without a region and, the national number
        // being the same digits, its validity check finds none either.
        Some((None, false)) => None,
        _ => phonenumber::parse(None, text).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled plans parse and answer exactly what `phonenumber` does, over every
    /// region's example numbers (national and international), their neighbours one digit
    /// longer and shorter, and numbers of the wrong region.
    #[test]
    fn agrees_with_libphonenumber() {
        let mut checked = 0;
        let mut valid = 0;
        for meta in DATABASE.iter() {
            let code = meta.country_code();
            let d = meta.descriptors();
            let examples: Vec<&str> = [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.voip(),
                d.uan(),
                d.pager(),
                d.personal_number(),
                d.shared_cost(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            .filter_map(|x| x.example())
            .collect();
            for ex in examples {
                for text in [
                    format!("+{code} {ex}"),
                    format!("+{code} {ex}1"),
                    format!("+{code} {}", &ex[..ex.len().saturating_sub(1)]),
                    format!("+{code} 9{ex}"),
                    format!("+1 {ex}"),
                    format!("+44 {ex}"),
                ] {
                    let parsed = phonenumber::parse(None, &text).ok();
                    let ours = parse_international(&text);
                    // Where this parse gives a number, it is the library's; where it gives
                    // none, the library's number is invalid.
                    if ours.is_some() {
                        assert_eq!(ours, parsed, "{text} ({})", meta.id());
                    }
                    let Some(n) = parsed else {
                        continue;
                    };
                    let theirs = phonenumber::is_valid(&n);
                    assert_eq!(is_valid(&n), theirs, "{text} ({})", meta.id());
                    assert_eq!(ours.is_some_and(|n| is_valid(&n)), theirs, "{text}");
                    checked += 1;
                    valid += usize::from(theirs);
                }
            }
        }
        // Both answers occur often enough for the comparison to mean something.
        assert!(
            checked > 3000 && valid > 1000,
            "{checked} checked, {valid} valid"
        );
    }

    /// Every pattern of the metadata compiles (none silently never matches).
    #[test]
    fn every_pattern_compiles() {
        for meta in DATABASE.iter() {
            let p = &PLANS[meta.id()];
            assert!(p.general.dfa.is_some(), "{}", meta.id());
            assert!(p.kinds.iter().all(|k| k.dfa.is_some()), "{}", meta.id());
            assert_eq!(
                p.leading.is_some(),
                meta.leading_digits().is_some(),
                "{}",
                meta.id()
            );
        }
    }
}
