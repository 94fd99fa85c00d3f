//! Recognizers for Nigeria (ported from Presidio's `country_specific/nigeria`).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&NIN, &VEHICLE_REGISTRATION];

/// National Identification Number: eleven digits (Presidio `NgNinRecognizer`). Presidio
/// validates a Verhoeff check digit, but NIMC publishes no check digit: it describes the NIN
/// as eleven "non-intelligible numbers randomly chosen", and numbers quoted as real fail
/// Verhoeff. Refusing those would lose real NINs, and raising nine in ten random numbers to
/// 1.0 would not be evidence either, so Warden recognizes the shape with a context word
/// only: 0.2 alone (Presidio's 0.01 could never reach the default threshold), 0.55 beside
/// "NIN" or "NIMC". Off by default.
static NIN: Spec = Spec {
    entity: EntityType::named("NG_NIN"),
    country: Some("NG"),
    kind: Kind::Pii,
    description: "A Nigerian National Identification Number (NIN).",
    validation: "none (not all one digit)",
    default_enabled: false,
    patterns: &[Pat {
        name: "NIN (weak)",
        regex: r"\b\d{11}\b",
        score: 0.2,
    }],
    context: &[
        "nin",
        "nin number",
        "nin no",
        "my nin",
        "national identification number",
        "national identity number",
        "national id number",
        "nimc",
        "national identity",
        "nigeria id",
        "nigerian identification",
        "nigerian id",
    ],
    validate: Some(nin),
    around: None,
};

/// Vehicle registration plate (2011 format): `ABC-123DE`, a three-letter LGA code, three
/// digits, two letters (Presidio `NgVehicleRegistrationRecognizer`). Shape only, so off by
/// default. Presidio matches any case at 0.5; Warden keeps 0.5 for the upper case a plate
/// is printed in and scores other cases 0.2 (`for 256gb`, `the 100ms` are text), and
/// refuses unit suffixes.
static VEHICLE_REGISTRATION: Spec = Spec {
    entity: EntityType::named("NG_VEHICLE_REGISTRATION"),
    country: Some("NG"),
    kind: Kind::Pii,
    description: "A Nigerian vehicle registration plate number.",
    validation: "not a unit abbreviation",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Nigeria vehicle registration",
            regex: r"\b[A-Z]{3}[- ]?\d{3}[A-Z]{2}\b",
            score: 0.5,
        },
        Pat {
            name: "Nigeria vehicle registration (any case)",
            regex: r"(?i)\b[A-Z]{3}[- ]?\d{3}[A-Z]{2}\b",
            score: 0.2,
        },
    ],
    context: &[
        "plate number",
        "plate no",
        "vehicle registration",
        "registration number",
        "license plate",
        "licence plate",
        "number plate",
        "plate",
        "plates",
        "vehicle",
        "registration",
        "frsc",
    ],
    validate: Some(vehicle),
    around: None,
};

/// A NIN of one repeated digit (`00000000000`) is a placeholder; anything else cannot be
/// told from a random number.
fn nin(m: &str) -> Check {
    let b = m.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b.iter().all(|&c| c == b[0]) {
        Check::Invalid
    } else {
        Check::Unknown
    }
}

/// Two-letter suffixes that are units, not a plate's year and batch letters.
const UNIT_SUFFIXES: &[&str] = &[
    "GB", "MB", "KB", "TB", "PX", "MS", "KM", "CM", "MM", "KG", "MG", "ML", "HZ", "AM", "PM",
];

/// A plate ending in a unit (`RAM 512GB`) is refused; any other keeps its pattern's score.
fn vehicle(m: &str) -> Check {
    let b = m.as_bytes();
    let suffix = b
        .get(b.len().saturating_sub(2)..)
        .map(|s| [s[0].to_ascii_uppercase(), s[1].to_ascii_uppercase()]);
    match suffix {
        Some(s) if UNIT_SUFFIXES.iter().any(|u| u.as_bytes() == s) => Check::Invalid,
        Some(_) => Check::Unknown,
        None => Check::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;
    use crate::{DetectOptions, detect};

    /// Presidio's `VALID_NIN_1`: `1234567890` and its Verhoeff digit.
    const VALID_NIN_1: &str = "12345678902";
    /// Presidio's `VALID_NIN_2`.
    const VALID_NIN_2: &str = "98765432102";
    /// Presidio's `VALID_NIN_3`.
    const VALID_NIN_3: &str = "55512345672";
    /// Presidio's `VALID_NIN_LEADING_ZERO`.
    const VALID_NIN_LEADING_ZERO: &str = "01234567895";

    /// Presidio's `test_ng_nin_recognizer.py`. Spans of the valid cases and the "no match"
    /// cases for wrong lengths, embedded numbers and letters are Presidio's; the scores
    /// differ by design (Warden validates no Verhoeff digit, see `NIN`): 0.2 alone, 0.55
    /// beside "NIN" (Presidio 1.0).
    #[test]
    fn presidio_nin_cases() {
        let text_2 = format!("NIN: {VALID_NIN_2}");
        let text_3 = format!("My NIN is {VALID_NIN_1} and yours is {VALID_NIN_3}");
        let embedded = format!("99{VALID_NIN_1}88");
        for (text, spans, score) in [
            (VALID_NIN_1, &[(0, 11)][..], 0.2),
            (text_2.as_str(), &[(5, 16)], 0.55),
            (text_3.as_str(), &[(10, 21), (35, 46)], 0.55),
            (VALID_NIN_LEADING_ZERO, &[(0, 11)], 0.2),
            ("1234567890", &[], 0.0),
            ("123456789012", &[], 0.0),
            (embedded.as_str(), &[], 0.0),
            ("1234567890a", &[], 0.0),
        ] {
            presidio_case("NG_NIN", text, spans, score, score);
        }
        // Differs: Presidio refuses this number for its Verhoeff digit; Warden has no check
        // digit to refuse it by, so it is a weak (0.2) match, under the default threshold.
        presidio_case("NG_NIN", "12345678901", &[(0, 11)], 0.2, 0.2);
    }

    /// Presidio's `test_ng_vehicle_registration_recognizer.py`, the cases Warden scores as
    /// Presidio does (0.5).
    #[test]
    fn presidio_vehicle_cases() {
        for (text, spans) in [
            ("APP-456CV", &[(0, 9)][..]),
            ("ABJ-001AA", &[(0, 9)]),
            ("KJA-999PZ", &[(0, 9)]),
            ("APP 456CV", &[(0, 9)]),
            ("APP456CV", &[(0, 8)]),
            ("AB-1234CD", &[]),
            ("123-456AB", &[]),
            ("AB-12CD", &[]),
            ("ABCD-123EF", &[]),
            ("", &[]),
        ] {
            presidio_case("NG_VEHICLE_REGISTRATION", text, spans, 0.5, 0.5);
        }
        // Differs: "plate number" and "plates" add 0.35 in Warden (Presidio's raw test
        // applies no context and expects 0.5).
        presidio_case(
            "NG_VEHICLE_REGISTRATION",
            "Plates: APP-456CV and KJA-999PZ",
            &[(8, 17), (22, 31)],
            0.85,
            0.85,
        );
        presidio_case(
            "NG_VEHICLE_REGISTRATION",
            "The plate number is ABJ-123XY for this vehicle",
            &[(20, 29)],
            0.85,
            0.85,
        );
        // Differs: lower case scores 0.2 in Warden (Presidio 0.5).
        presidio_case("NG_VEHICLE_REGISTRATION", "app-456cv", &[(0, 9)], 0.2, 0.2);
    }

    /// Warden's own: placeholders, units, and nothing by default.
    #[test]
    fn own_cases_and_hard_negatives() {
        presidio_case("NG_NIN", "NIN 00000000000", &[], 0.0, 0.0);
        presidio_case(
            "NG_NIN",
            "NIMC number: 61961438053",
            &[(13, 24)],
            0.55,
            0.55,
        );
        for text in ["RAM 512GB", "for 256gb", "the 100ms timeout", "USB 100MB"] {
            presidio_case("NG_VEHICLE_REGISTRATION", text, &[], 0.0, 0.0);
        }
        for text in [
            "batch 30255613422 and order 12345678902",
            "due 2024-03-02, version 1.2.3, hash 8d35e59",
            "plate APP-456CV",
        ] {
            let found = detect(text, &DetectOptions::default());
            assert!(
                found
                    .iter()
                    .all(|f| !f.entity_type.as_str().starts_with("NG_")),
                "{text}: {found:?}"
            );
        }
    }
}
