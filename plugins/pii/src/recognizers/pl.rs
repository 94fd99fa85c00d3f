//! Recognizers for Poland (ported from Presidio's `country_specific/poland`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&PESEL];

/// PESEL: `YYMMDDZZZXQ`, the month carrying the century (+20 for the 2000s), a check digit
/// over weights 1,3,7,9 (Presidio `PlPeselRecognizer`). On by default: a real birth date and
/// the check digit.
static PESEL: Spec = Spec {
    entity: EntityType::named("PL_PESEL"),
    country: Some("PL"),
    kind: Kind::Pii,
    description: "A Polish national identification number (PESEL).",
    validation: "birth date with the century in the month; weighted check digit",
    default_enabled: true,
    patterns: &[Pat {
        name: "PESEL",
        regex: r"\d{2}(?:[02468][1-9]|[13579][012])(?:0[1-9]|[12]\d|3[01])\d{5}",
        score: 0.4,
    }],
    context: &[
        "pesel",
        "numer pesel",
        "nr pesel",
        "numerem pesel",
        "peselu",
        "pesel number",
        "polish national id",
    ],
    validate: Some(pesel),
    around: Some(standalone),
};

/// Presidio's pattern has no boundaries at all; Warden keeps its tolerance of a number glued
/// to a word (`PESEL44051401458`) but refuses one inside a longer run of digits, or inside a
/// token of letters and digits such as a hash.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let before = b[..start]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric())
        .all(u8::is_ascii_alphabetic);
    let after = end >= b.len() || !b[end].is_ascii_alphanumeric();
    before && after
}

/// Whether the Gregorian `year` is a leap year.
fn leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Whether `day`/`month`/`year` is a real calendar date.
fn is_date(year: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(year) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// PESEL: exactly eleven digits, a birth date that exists in the century its month encodes, and
/// the check digit `(10 - Σ dᵢwᵢ mod 10) mod 10`. Stricter than Presidio on the date: the
/// 2100s and 2200s (month + 40, + 60) have not happened yet, and nobody born in the 1800s
/// (month + 80) is alive, so those months are refused; 31 April and 29 February of a
/// common year are refused too.
fn pesel(m: &str) -> Check {
    if m.len() != 11 || !m.bytes().all(|c| c.is_ascii_digit()) {
        return Check::Invalid;
    }
    let d: Vec<u8> = m.bytes().map(|c| c - b'0').collect();
    let two = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
    let (century, month) = match two(2) {
        m @ 1..=12 => (1900, m),
        m @ 21..=32 => (2000, m - 20),
        _ => return Check::Invalid,
    };
    if !is_date(century + two(0), month, two(4)) {
        return Check::Invalid;
    }
    const W: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum();
    Check::from((10 - sum % 10) % 10 == u32::from(d[10]))
}

#[cfg(test)]
mod tests {
    use super::{Check, pesel};
    use crate::tests::presidio_case;
    use crate::{DetectOptions, EntityType, detect};

    /// Presidio's `test_pl_pesel_recognizer.py`, `test_when_all_pl_pesels_then_succeed`:
    /// every case as Presidio expects it (a match scores the maximum, 1.0).
    #[test]
    fn presidio_cases() {
        for (text, spans) in [
            ("44051401458", &[(0, 11)][..]),
            ("My pesel is 44051401458.", &[(12, 23)]),
            ("02070803628", &[(0, 11)]),
            ("11111111116", &[(0, 11)]),
            ("44051401459", &[]),
            ("85040812345", &[]),
            ("1111321111", &[]),
            ("11110021111", &[]),
            ("11-11-11-11114", &[]),
        ] {
            presidio_case("PL_PESEL", text, spans, 1.0, 1.0);
        }
    }

    /// Presidio's `test_pl_pesel_recognizer.py`, `test_validate_result_checksum`: the
    /// validation alone, as Presidio expects it.
    #[test]
    fn presidio_validate_cases() {
        for (pesel_text, valid) in [
            ("44051401458", true),
            ("02070803628", true),
            ("11111111116", true),
            ("44051401459", false),
            ("85040812345", false),
            ("4405140145", false),
            ("440514014588", false),
            ("4405140145A", false),
            ("44-051401458", false),
        ] {
            assert_eq!(pesel(pesel_text), Check::from(valid), "{pesel_text}");
        }
    }

    /// The check digit that completes ten digits.
    fn complete(ten: &str) -> String {
        (0..10)
            .map(|c| format!("{ten}{c}"))
            .find(|s| pesel(s) == Check::Valid)
            .unwrap_or_else(|| format!("{ten}?"))
    }

    /// Warden's own: the 2000s, impossible dates, centuries that cannot hold a living
    /// person, and numbers inside longer tokens.
    #[test]
    fn own_cases() {
        // 2004-02-29 (month 22) exists; 2003-02-29 (month 22) does not; 31 April does not.
        case_valid(&complete("0422290123"));
        assert_eq!(complete("0322290123").len(), 11);
        assert_eq!(pesel(&complete("0322290123")), Check::Invalid);
        assert_eq!(pesel(&complete("9004310123")), Check::Invalid);
        // The 1800s (month + 80) and the 2100s (month + 40) are refused.
        assert_eq!(pesel(&complete("9085140123")), Check::Invalid);
        assert_eq!(pesel(&complete("2045140123")), Check::Invalid);
        presidio_case("PL_PESEL", "PESEL44051401458", &[(5, 16)], 1.0, 1.0);
        presidio_case("PL_PESEL", "144051401458", &[], 0.0, 0.0);
        presidio_case("PL_PESEL", "ab3c44051401458", &[], 0.0, 0.0);
        presidio_case("PL_PESEL", "44051401458f00d", &[], 0.0, 0.0);
    }

    /// Asserts `text` alone is found as a PESEL.
    fn case_valid(text: &str) {
        presidio_case("PL_PESEL", text, &[(0, text.len())], 1.0, 1.0);
    }

    /// Hard negatives with default options: order numbers, dates, versions and hashes.
    #[test]
    fn hard_negatives() {
        let t = EntityType::named("PL_PESEL");
        for text in [
            "order 44051401459 shipped",
            "due 20240302, batch 30255613422",
            "release 44.05.14.01458",
            "hash 9c44051401458bd",
            "call 07911123456 now",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found.iter().all(|f| f.entity_type != t),
                "{text}: {found:?}"
            );
        }
    }
}
