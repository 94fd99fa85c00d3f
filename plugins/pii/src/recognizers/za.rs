//! Recognizers for South Africa (ported from Presidio's `country_specific/south_africa`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&ID_NUMBER];

/// Identity number: `YYMMDDSSSSCAZ`, a birth date, a sequence, citizenship 0-2, the old race
/// digit 8 or 9 and a Luhn check digit (Presidio `ZaIdNumberRecognizer`). On by default: the
/// date, the two fixed digits and Luhn together pass about one random number in 50,000.
static ID_NUMBER: Spec = Spec {
    entity: EntityType::named("ZA_ID_NUMBER"),
    country: Some("ZA"),
    kind: Kind::Pii,
    description: "A South African identity number.",
    validation: "birth date; citizenship and race digits; Luhn",
    default_enabled: true,
    patterns: &[Pat {
        name: "South African ID number",
        regex: r"\b\d{10}[0-2][89]\d\b",
        score: 0.2,
    }],
    context: &[
        "id",
        "identity",
        "identity number",
        "id number",
        "id no",
        "south african id",
        "sa id",
        "rsa id",
        "smart id",
        "national id",
        "identity document",
    ],
    validate: Some(id_number),
    around: None,
};

/// Whether `day`/`month` exist in a year `yy` of either century: 29 February is taken when
/// `yy` is divisible by four (`00` may be 2000).
fn is_date(yy: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if yy.is_multiple_of(4) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The ID number: thirteen digits, a real birth date, citizenship 0 (citizen), 1 (permanent
/// resident) or 2 (refugee), race digit 8 or 9, Luhn over all thirteen. Presidio also
/// refuses a birth date after today, reading the year against the current one; Warden reads
/// no clock (findings must not change with the day they are computed), and a year of either
/// century is accepted, which differs from Presidio only for a birth date later this year.
fn id_number(m: &str) -> Check {
    if m.len() != 13 || !m.bytes().all(|c| c.is_ascii_digit()) {
        return Check::Invalid;
    }
    let d: Vec<u8> = m.bytes().map(|c| c - b'0').collect();
    let two = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
    if !is_date(two(0), two(2), two(4)) || d[10] > 2 || !(8..=9).contains(&d[11]) {
        return Check::Invalid;
    }
    Check::from(warden_sdk::checksum::luhn_digits(&d))
}

#[cfg(test)]
mod tests {
    use super::{Check, id_number, is_date};
    use crate::tests::presidio_case;
    use crate::{DetectOptions, EntityType, detect};

    /// Presidio's `test_za_id_number_recognizer.py`, `test_analyze_valid_and_invalid_za_ids`:
    /// every case as Presidio expects it (a match scores the maximum, 1.0).
    #[test]
    fn presidio_cases() {
        for (text, spans) in [
            ("8001015009087", &[(0, 13)][..]),
            ("8001015000086", &[(0, 13)]),
            ("My South African ID is 9202201234088.", &[(23, 36)]),
            ("RSA ID: 0002294321191", &[(8, 21)]),
            (
                "Permanent resident number 9912316789285 is on file.",
                &[(26, 39)],
            ),
            ("Refugee ID number 0001015002288 is on file.", &[(18, 31)]),
            ("8001015009086", &[]),
            ("9913326789285", &[]),
            ("9902294321191", &[]),
            ("8001015000076", &[]),
            ("8001015009176", &[]),
            ("1234567890123", &[]),
            ("ID 80010150090", &[]),
            ("SA ID 80010150090870", &[]),
            ("AB8001015009087CD", &[]),
        ] {
            presidio_case("ZA_ID_NUMBER", text, spans, 1.0, 1.0);
        }
    }

    /// Presidio's `test_validate_result` and `test_has_valid_birth_date`: the validation
    /// alone, as Presidio expects it.
    #[test]
    fn presidio_validate_cases() {
        for (text, valid) in [
            ("8001015009087", true),
            ("8001015000086", true),
            ("9202201234088", true),
            ("0002294321191", true),
            ("9912316789285", true),
            ("0001015002288", true),
            ("8001015009086", false),
            ("9913326789285", false),
            ("9902294321191", false),
            ("8001015000076", false),
            ("8001015009176", false),
            ("80010150090", false),
            ("80010150090870", false),
            ("80010150090A7", false),
        ] {
            assert_eq!(id_number(text), Check::from(valid), "{text}");
        }
        assert!(is_date(5, 1, 1));
        assert!(is_date(0, 2, 29));
        assert!(!is_date(99, 2, 29));
    }

    /// Differs: Presidio's `test_has_valid_birth_date_rejects_future_date` fixes today at
    /// 2025-06-15 and refuses 251231 as a future birth date. Warden reads no clock and takes
    /// 251231 as 31 December 1925 or 2025, a real date.
    #[test]
    fn no_clock() {
        assert!(is_date(25, 12, 31));
        assert!(is_date(25, 6, 15));
    }

    /// Hard negatives with default options: order numbers, dates, versions and hashes.
    #[test]
    fn hard_negatives() {
        let t = EntityType::named("ZA_ID_NUMBER");
        for text in [
            "order 8001015009086 shipped",
            "ts=1709251200123, serial 2801233255605",
            "due 2024-03-02, version 8.0.10.15009",
            "hash 3f8001015009087ab",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found.iter().all(|f| f.entity_type != t),
                "{text}: {found:?}"
            );
        }
        let found = detect("ID number 8001015009087", &DetectOptions::default());
        assert!(found.iter().any(|f| f.entity_type == t));
    }
}
