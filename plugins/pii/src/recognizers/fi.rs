//! Recognizers for Finland (ported from Presidio's `country_specific/finland`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&HETU];

/// Personal identity code (henkilötunnus, HETU): `DDMMYY`, a century sign, a three-digit
/// individual number and a mod 31 check character (Presidio
/// `FiPersonalIdentityCodeRecognizer`). The sign includes the letters added in 2023
/// (`Y X W V U` for the 1900s, `B C D E F` for the 2000s). On by default: the sign and the
/// check character make a chance match very unlikely.
static HETU: Spec = Spec {
    entity: EntityType::named("FI_PERSONAL_IDENTITY_CODE"),
    country: Some("FI"),
    kind: Kind::Pii,
    description: "A Finnish personal identity code (henkilötunnus).",
    validation: "birth date with the century sign; mod 31 check character",
    default_enabled: true,
    patterns: &[
        Pat {
            name: "Finnish personal identity code (medium)",
            regex: r"(?i)\b\d{6}[-+A-FYXWVU]\d{3}[0-9A-FHJ-NPR-Y]\b",
            score: 0.5,
        },
        // Presidio's second pattern, without word boundaries, finds a code glued to a word
        // ("is030594W903B"); `around` still refuses one inside a longer token.
        Pat {
            name: "Finnish personal identity code (very weak)",
            regex: r"(?i)\d{6}[-+A-FYXWVU]\d{3}[0-9A-FHJ-NPR-Y]",
            score: 0.1,
        },
    ],
    context: &[
        "hetu",
        "hetun",
        "hetuni",
        "henkilötunnus",
        "henkilötunnukseni",
        "henkilötunnuksen",
        "henkilötunnuksesi",
        "henkilötunnusta",
        "sotu",
        "sosiaaliturvatunnus",
        "personbeteckningen",
        "personbeteckning",
        "personal identity code",
        "finnish personal identity code",
        "identity code",
    ],
    validate: Some(hetu),
    around: Some(standalone),
};

/// The check characters, indexed by the nine-digit number mod 31.
const CHECK_CHARS: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Not inside a longer token: no digit or letter right after the match, and before it at
/// most letters (a code glued to a word, as Presidio's weak pattern allows), never digits.
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

/// HETU: the date must exist in the century of the sign (Presidio ignores the century, so
/// it takes 29 February 1900 for real), the individual number is 002-999 (000 and 001 are
/// never issued) and the check character is the nine digits mod 31.
fn hetu(m: &str) -> Check {
    let b = m.as_bytes();
    if b.len() != 11 {
        return Check::Invalid;
    }
    let century = match b[6].to_ascii_uppercase() {
        b'+' => 1800,
        b'-' | b'Y' | b'X' | b'W' | b'V' | b'U' => 1900,
        b'A'..=b'F' => 2000,
        _ => return Check::Invalid,
    };
    let mut n: u32 = 0;
    for &c in b[..6].iter().chain(&b[7..10]) {
        if !c.is_ascii_digit() {
            return Check::Invalid;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    let (day, month, year) = (n / 10_000_000, n / 100_000 % 100, n / 1000 % 100);
    if !is_date(century + year, month, day) || n % 1000 < 2 {
        return Check::Invalid;
    }
    Check::from(CHECK_CHARS[(n % 31) as usize] == b[10].to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;
    use crate::{DetectOptions, EntityType, detect};

    /// [`presidio_case`] with Presidio's character offsets, converted to byte offsets.
    fn case(text: &str, spans: &[(usize, usize)]) {
        let byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
        let spans: Vec<(usize, usize)> = spans.iter().map(|&(s, e)| (byte(s), byte(e))).collect();
        presidio_case("FI_PERSONAL_IDENTITY_CODE", text, &spans, 1.0, 1.0);
    }

    /// Presidio's `test_fi_personal_identity_code_recognizer.py`: every case as Presidio
    /// expects it (a match scores the maximum, 1.0).
    #[test]
    fn presidio_cases() {
        for (text, spans) in [
            ("010594Y9032", &[(0, 11)][..]),
            (
                "My personal identity code is: 010594Y9032. Thank you.",
                &[(30, 41)],
            ),
            ("010594Y9021", &[(0, 11)]),
            ("020594X903P", &[(0, 11)]),
            ("020594X903P is my hetu.", &[(0, 11)]),
            ("020594X902N", &[(0, 11)]),
            ("Here's my henkilötunnus 020594X902N.", &[(24, 35)]),
            ("030594W903B", &[(0, 11)]),
            ("My finnish id code is030594W903B.", &[(21, 32)]),
            ("030694W9024", &[(0, 11)]),
            ("040594V9030", &[(0, 11)]),
            ("040594V902Y", &[(0, 11)]),
            ("050594U903M", &[(0, 11)]),
            ("050594U902L", &[(0, 11)]),
            ("010516B903X", &[(0, 11)]),
            ("010516B902W", &[(0, 11)]),
            ("020516C903K", &[(0, 11)]),
            ("020516C902J", &[(0, 11)]),
            ("030516D9037", &[(0, 11)]),
            ("030516D9026", &[(0, 11)]),
            ("010501E9032", &[(0, 11)]),
            ("020502E902X", &[(0, 11)]),
            ("020503F9037", &[(0, 11)]),
            ("020504A902E", &[(0, 11)]),
            ("020504B904H", &[(0, 11)]),
            ("131052-308T", &[(0, 11)]),
            ("111111-111A", &[]),
            ("111111+110G", &[]),
            ("311190-1111", &[]),
            ("310289-211C", &[]),
            ("012245A110G", &[]),
            ("010324A110G", &[]),
            ("131052/308T", &[]),
            ("131052:308T", &[]),
            ("131052.308T", &[]),
        ] {
            case(text, spans);
        }
    }

    /// Warden's own: the century decides the leap year, individual numbers 000 and 001 do
    /// not exist, a lower-case sign is accepted, and a code inside a longer token is not one.
    #[test]
    fn own_cases() {
        // 29 February 2000 exists, 29 February 1900 does not (same digits, sign A vs -).
        let feb29 = |sign: char| {
            let n: u32 = 290200 * 1000 + 123;
            let c = char::from(super::CHECK_CHARS[(n % 31) as usize]);
            format!("290200{sign}123{c}")
        };
        case(&feb29('A'), &[(0, 11)]);
        case(&feb29('-'), &[]);
        case("131052-000V", &[]);
        case("131052-001W", &[]);
        case("hetu 131052a308t", &[(5, 16)]);
        case("x9131052-308T", &[]);
        case("131052-308Tx", &[]);
    }

    /// Hard negatives with default options: order numbers, dates, versions and hashes.
    #[test]
    fn hard_negatives() {
        let t = EntityType::named("FI_PERSONAL_IDENTITY_CODE");
        for text in [
            "order 131052-308U shipped",
            "on 2024-03-02 at 14:30",
            "release 131052-3080",
            "hash 9f131052-308T3a1c",
            "ref 111111-111A",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found.iter().all(|f| f.entity_type != t),
                "{text}: {found:?}"
            );
        }
        let found = detect("hetu 131052-308T", &DetectOptions::default());
        assert!(found.iter().any(|f| f.entity_type == t));
    }
}
