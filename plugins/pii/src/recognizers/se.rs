//! Recognizers for Sweden (ported from Presidio's `country_specific/sweden`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&PERSONNUMMER, &ORGANISATIONSNUMMER];

/// Personal identity number: `YYMMDD-XXXX` or `YYYYMMDDXXXX`, `+` for people over 100, day
/// plus 60 for a coordination number (samordningsnummer), Luhn over the last ten digits
/// (Presidio `SePersonnummerRecognizer`). Off by default: ten bare digits pass the date and
/// Luhn about one time in 140 (in the development corpus an Australian Medicare number
/// did, and took the finding from AU_MEDICARE), and so do unix timestamps and 12-digit
/// `YYYYMMDDhhmm` times one in ten.
static PERSONNUMMER: Spec = Spec {
    entity: EntityType::named("SE_PERSONNUMMER"),
    country: Some("SE"),
    kind: Kind::Pii,
    description: "A Swedish personal identity or coordination number (personnummer, samordningsnummer).",
    validation: "birth date (day + 60 for samordningsnummer); Luhn",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Swedish personnummer (medium)",
            regex: r"\b(?:\d{8}|\d{6})[-+]?\d{4}\b",
            score: 0.5,
        },
        // Presidio's second pattern, without word boundaries, finds a number glued to a
        // word ("is199003052397"); `around` still refuses one inside a longer token.
        Pat {
            name: "Swedish personnummer (very weak)",
            regex: r"(?:\d{8}|\d{6})[-+]?\d{4}",
            score: 0.1,
        },
    ],
    context: &[
        "personnummer",
        "personnumret",
        "personnumer",
        "personnr",
        "pnr",
        "svenskt personnummer",
        "svensk id",
        "ssn",
        "personal identity number",
        "swedish personal identity number",
        "samordningsnummer",
        "samordningsnumret",
        "coordination number",
    ],
    validate: Some(personnummer),
    around: Some(standalone),
};

/// Organisation number: `NNNNNN-NNNN`, third digit 2 or more, Luhn (Presidio
/// `SeOrganisationsnummerRecognizer`). Off by default: it identifies an organisation, and
/// Luhn over ten bare digits passes one number in ten.
static ORGANISATIONSNUMMER: Spec = Spec {
    entity: EntityType::named("SE_ORGANISATIONSNUMMER"),
    country: Some("SE"),
    kind: Kind::Pii,
    description: "A Swedish organisation number (organisationsnummer).",
    validation: "group digit, third digit 2 or more; Luhn",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Swedish organisationsnummer (medium)",
            regex: r"\b\d{6}-?\d{4}\b",
            score: 0.6,
        },
        Pat {
            name: "Swedish organisationsnummer (weak)",
            regex: r"\d{6}-?\d{4}",
            score: 0.2,
        },
    ],
    context: &[
        "organisationsnummer",
        "organisationsnumret",
        "orgnummer",
        "orgnr",
        "org nr",
        "org.nr",
        "org. nr",
        "företagsnummer",
        "organisation number",
        "organization number",
        "corporate identity number",
    ],
    validate: Some(organisationsnummer),
    around: Some(standalone),
};

/// Not inside a longer token: no digit or letter right after the match, and before it at
/// most letters (a number glued to a word, as Presidio's weak patterns allow), never digits.
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

/// The number `d[i]d[i+1]` of two decimal digits.
fn two(d: &[u8], i: usize) -> u32 {
    u32::from(d[i]) * 10 + u32::from(d[i + 1])
}

/// The decimal digits of `m`, skipping one `-` or `+`; `None` on anything else.
fn digits(m: &str) -> Option<Vec<u8>> {
    m.bytes()
        .filter(|&c| c != b'-' && c != b'+')
        .map(|c| c.is_ascii_digit().then(|| c - b'0'))
        .collect()
}

/// Personnummer: the date must exist (Presidio accepts any day up to 31 in any month, and a
/// seven-digit date part), an eight-digit date must be in the 1800s to 2000s, and the last
/// ten digits must pass Luhn. A two-digit year may be either century, so 29 February is
/// taken in any year divisible by four.
fn personnummer(m: &str) -> Check {
    let Some(d) = digits(m) else {
        return Check::Invalid;
    };
    let (year, tail) = match d.len() {
        12 => {
            let century = two(&d, 0);
            if !(18..=20).contains(&century) {
                return Check::Invalid;
            }
            (century * 100 + two(&d, 2), &d[2..])
        }
        10 => (2000 + two(&d, 0), &d[..]),
        _ => return Check::Invalid,
    };
    let mut day = two(tail, 4);
    if day > 60 {
        day -= 60;
    }
    if !is_date(year, two(tail, 2), day) {
        return Check::Invalid;
    }
    Check::from(warden_sdk::checksum::luhn_digits(tail))
}

/// Organisationsnummer: ten digits, a group digit in use (0 and 4 are not), the third digit
/// 2 or more (which keeps personnummer out: their month starts with 0 or 1), Luhn.
fn organisationsnummer(m: &str) -> Check {
    let Some(d) = warden_sdk::checksum::digits(m).filter(|d| d.len() == 10) else {
        return Check::Invalid;
    };
    if d[0] == 0 || d[0] == 4 || d[2] < 2 {
        return Check::Invalid;
    }
    Check::from(warden_sdk::checksum::luhn_digits(&d))
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;
    use crate::{DetectOptions, EntityType, detect};

    /// [`presidio_case`] with Presidio's character offsets, converted to byte offsets; a match
    /// scores the maximum, 1.0, as Presidio's tests expect.
    fn case(entity: &str, text: &str, spans: &[(usize, usize)]) {
        let byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
        let spans: Vec<(usize, usize)> = spans.iter().map(|&(s, e)| (byte(s), byte(e))).collect();
        presidio_case(entity, text, &spans, 1.0, 1.0);
    }

    /// Presidio's `test_se_personnummer_recognizer.py`: every case as Presidio expects it.
    #[test]
    fn presidio_personnummer_cases() {
        for (text, spans) in [
            ("189004119807", &[(0, 12)][..]),
            (
                "My personal identity code is: 189110089811. Thank you.",
                &[(30, 42)],
            ),
            ("191005059801", &[(0, 12)]),
            ("198712202384", &[(0, 12)]),
            ("871220-2384", &[(0, 11)]),
            ("199109242397 är mitt pnr.", &[(0, 12)]),
            ("19910924-2397 är mitt pnr.", &[(0, 13)]),
            ("199201232387", &[(0, 12)]),
            ("9201232387", &[(0, 10)]),
            ("Here's my personnummer 200109022392.", &[(23, 35)]),
            ("201109252385", &[(0, 12)]),
            ("20110925-2385", &[(0, 13)]),
            ("My swedish id code is199003052397.", &[(21, 33)]),
            ("19000309-3393", &[]),
            ("19001309-2393", &[]),
            ("200504422381", &[]),
            ("189x09179809", &[]),
            ("18970c17-9809", &[]),
        ] {
            case("SE_PERSONNUMMER", text, spans);
        }
    }

    /// Presidio's `test_se_organisationsnummer_recognizer.py`: every case as Presidio
    /// expects it.
    #[test]
    fn presidio_organisationsnummer_cases() {
        for (text, spans) in [
            ("212000-0142", &[(0, 11)][..]),
            (
                "Our company identity code is: 212000-0142. Thank you.",
                &[(30, 41)],
            ),
            ("2120000142", &[(0, 10)]),
            ("556703-7485", &[(0, 11)]),
            ("5567037485", &[(0, 10)]),
            ("556703-7485 är vårt orgnummer.", &[(0, 11)]),
            ("556703-7485 tillhör vårt företag.", &[(0, 11)]),
            ("19000309-3393", &[]),
            ("19001309-2393", &[]),
            ("55670x-7485", &[]),
            ("556703-7r85", &[]),
        ] {
            case("SE_ORGANISATIONSNUMMER", text, spans);
        }
    }

    /// The Luhn digit that completes nine digits.
    fn luhn_complete(nine: &str) -> String {
        (0..10)
            .map(|c| format!("{nine}{c}"))
            .find(|s| warden_sdk::checksum::luhn(s))
            .unwrap_or_default()
    }

    /// Warden's own: samordningsnummer, impossible dates that Presidio accepts, the century
    /// of an eight-digit date, and numbers inside longer tokens.
    #[test]
    fn own_cases() {
        // Coordination number: day 24 + 60.
        let s = luhn_complete("910984239");
        assert_eq!(s.len(), 10);
        case(
            "SE_PERSONNUMMER",
            &format!("{}-{}", &s[..6], &s[6..]),
            &[(0, 11)],
        );
        // 31 April and 29 February 2023 do not exist.
        let apr31 = luhn_complete("910431239");
        case("SE_PERSONNUMMER", &apr31, &[]);
        let feb29 = luhn_complete("230229239");
        case("SE_PERSONNUMMER", &feb29, &[]);
        let feb29 = luhn_complete("240229239");
        case("SE_PERSONNUMMER", &feb29, &[(0, 10)]);
        // A seven-digit date part (Presidio's \d{6,8}) and a 2100s date are refused.
        case("SE_PERSONNUMMER", "1987122-2384", &[]);
        case("SE_PERSONNUMMER", "218712202384", &[]);
        // Inside a longer token.
        case("SE_PERSONNUMMER", "a1b198712202384", &[]);
        case("SE_PERSONNUMMER", "8712202384abc", &[]);
        case("SE_PERSONNUMMER", "987122023845", &[]);
        // Organisation group digits 0 and 4 are not used.
        let group4 = luhn_complete("456703748");
        case("SE_ORGANISATIONSNUMMER", &group4, &[]);
    }

    /// Hard negatives with default options: order numbers, dates, versions and hashes.
    #[test]
    fn hard_negatives() {
        let pnr = EntityType::named("SE_PERSONNUMMER");
        for text in [
            "order 8712202385 shipped",
            "on 2024-03-02 at 14:30",
            "release 19.12.20.2384",
            "hash 3f198712202384ab",
            "org 556703-7485",
            "My Medicare number is 4908737713",
            "ts=1709251200",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found
                    .iter()
                    .all(|f| !f.entity_type.as_str().starts_with("SE_")),
                "{text}: {found:?}"
            );
        }
        // With the country asked for, it is found.
        let se = DetectOptions::from_wire(&[] as &[&str], &["SE"], None, false).unwrap();
        let found = detect("personnummer 871220-2384", &se);
        assert!(found.iter().any(|f| f.entity_type == pnr));
    }
}
