//! Recognizers for Spain, ported from Presidio's `country_specific/spain` recognizers (NIF and
//! NIE with their mod-23 control letter, passport by shape).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&NIF, &NIE, &PASSPORT];

/// The control letters of DNI/NIF and NIE numbers, indexed by the number mod 23.
const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// NIF (DNI number): seven or eight digits and the control letter; also the K, L and M forms
/// given to Spaniards without a DNI (Presidio `EsNifRecognizer`).
static NIF: Spec = Spec {
    entity: EntityType::named("ES_NIF"),
    country: Some("ES"),
    kind: Kind::Pii,
    description: "A Spanish personal tax and identity number (NIF / DNI number).",
    validation: "mod 23 control letter",
    default_enabled: true,
    patterns: &[
        Pat {
            name: "NIF",
            regex: r"(?i)\b[0-9]?[0-9]{7}-?[A-Z]\b",
            score: 0.5,
        },
        Pat {
            name: "NIF (K, L or M)",
            regex: r"\b[KLM][0-9]{7}-?[A-Z]\b",
            score: 0.5,
        },
    ],
    context: &[
        "documento nacional de identidad",
        "dni",
        "nif",
        "identificación",
        "identificacion",
        "número de identificación fiscal",
        "numero de identificacion fiscal",
        "national identity document",
        "identity document",
        "tax identification number",
        "tax id",
        "spanish id",
    ],
    validate: Some(nif),
    around: Some(standalone),
};

/// NIE (foreigner's identity number): X, Y or Z, seven digits and the control letter
/// (Presidio `EsNieRecognizer`).
static NIE: Spec = Spec {
    entity: EntityType::named("ES_NIE"),
    country: Some("ES"),
    kind: Kind::Pii,
    description: "A Spanish foreigner's identity number (Número de Identidad de Extranjero).",
    validation: "mod 23 control letter (X=0, Y=1, Z=2)",
    default_enabled: true,
    patterns: &[Pat {
        name: "NIE",
        regex: r"(?i)\b[XYZ][0-9]{7}-?[A-Z]\b",
        score: 0.5,
    }],
    context: &[
        "número de identificación de extranjero",
        "numero de identificacion de extranjero",
        "número de identidad de extranjero",
        "numero de identidad de extranjero",
        "nie",
        "tarjeta de residencia",
        "foreigner identity number",
        "foreigner identification number",
        "foreigner's identity number",
    ],
    validate: Some(nie),
    around: Some(standalone),
};

/// Spanish passport: three letters and six digits; shape only, so very weak without context
/// (Presidio `EsPassportRecognizer`).
static PASSPORT: Spec = Spec {
    entity: EntityType::named("ES_PASSPORT"),
    country: Some("ES"),
    kind: Kind::Pii,
    description: "A Spanish passport number.",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "ES_PASSPORT",
        regex: r"(?i)\b[A-Z]{3}[0-9]{6}\b",
        score: 0.05,
    }],
    context: &[
        "pasaporte",
        "passport",
        "número de pasaporte",
        "numero de pasaporte",
        "passport number",
        "passport no",
    ],
    validate: None,
    around: Some(standalone),
};

/// Whether `text[s..e]` is not glued to a letter, digit or `_` on either side (Presidio's
/// Unicode `\b`; the patterns' ASCII `\b` misses letters such as `ñ`).
fn standalone(text: &str, s: usize, e: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    !text[..s].chars().next_back().is_some_and(word) && !text[e..].chars().next().is_some_and(word)
}

/// The upper-cased characters of `m` without the `-` before the letter.
fn compact(m: &str) -> Vec<u8> {
    m.bytes()
        .filter(|&b| b != b'-' && b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect()
}

/// Whether `letter` is the control letter of the decimal number `digits` (ASCII digits).
fn control_ok(digits: &[u8], letter: u8) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = digits
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    LETTERS[(n % 23) as usize] == letter
}

/// NIF: the number (without a K, L or M prefix) mod 23 gives the letter; the all-zero number
/// is never issued.
fn nif(m: &str) -> Check {
    let c = compact(m);
    let Some((&letter, rest)) = c.split_last() else {
        return Check::Invalid;
    };
    let number = match rest.first() {
        Some(b'K' | b'L' | b'M') => &rest[1..],
        _ => rest,
    };
    if number.iter().all(|&d| d == b'0') {
        return Check::Invalid;
    }
    Check::from(control_ok(number, letter))
}

/// NIE: the prefix X, Y or Z becomes 0, 1 or 2 before the mod 23 check.
fn nie(m: &str) -> Check {
    let c = compact(m);
    if c.len() != 9 {
        return Check::Invalid;
    }
    let prefix = match c[0] {
        b'X' => b'0',
        b'Y' => b'1',
        b'Z' => b'2',
        _ => return Check::Invalid,
    };
    let mut number = vec![prefix];
    number.extend_from_slice(&c[1..8]);
    Check::from(control_ok(&number, c[8]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::presidio_case;

    /// Presidio's `test_es_nif_recognizer.py` cases.
    #[test]
    fn presidio_nif_cases() {
        for (text, span) in [
            ("55555555K", (0, 9)),
            ("55555555-K", (0, 10)),
            ("1111111-G", (0, 9)),
            ("1111111G", (0, 8)),
            ("01111111G", (0, 9)),
            ("55555555k", (0, 9)),
            ("12345678z", (0, 9)),
            ("12345678Z", (0, 9)),
        ] {
            presidio_case("ES_NIF", text, &[span], 1.0, 1.0);
        }
        for text in ["401-023-2138", "12345678a"] {
            presidio_case("ES_NIF", text, &[], 0.0, 1.0);
        }
    }

    /// Warden's own: the K/L/M forms, the never-issued zero number and a wrong letter.
    #[test]
    fn nif_own_cases() {
        // 1234567 mod 23 = 19: L.
        presidio_case("ES_NIF", "NIF K1234567L", &[(4, 13)], 1.0, 1.0);
        presidio_case("ES_NIF", "NIF K1234567T", &[], 0.0, 1.0);
        presidio_case("ES_NIF", "00000000T", &[], 0.0, 1.0);
        presidio_case("ES_NIF", "DNI 12345678A", &[], 0.0, 1.0);
    }

    /// Presidio's `test_es_nie_recognizer.py` cases.
    #[test]
    fn presidio_nie_cases() {
        let long = "Mi Número de identificación de extranjero es Y8063915-Z";
        // Presidio's (45, 55) counts characters; "ú" and "ó" take two bytes each in UTF-8.
        for (text, span) in [
            ("Z8078221M", (0, 9)),
            ("X9613851N", (0, 9)),
            ("Y8063915Z", (0, 9)),
            ("Y8063915-Z", (0, 10)),
            ("Mi NIE es X9613851N", (10, 19)),
            ("Z8078221M en mi NIE", (0, 9)),
            (long, (47, 57)),
            ("x9613851n", (0, 9)),
            ("z8078221m", (0, 9)),
        ] {
            presidio_case("ES_NIE", text, &[span], 1.0, 1.0);
        }
        for text in [
            "Y8063915Q",
            "Y806391Q",
            "58063915Q",
            "W8063915Q",
            "x9613851q",
        ] {
            presidio_case("ES_NIE", text, &[], 0.0, 1.0);
        }
    }

    /// Presidio's `test_es_passport_recognizer.py` cases. Presidio's score range 0.05-1.0 for
    /// the texts with a context word; Warden's engine adds the context boost (0.4).
    #[test]
    fn presidio_passport_cases() {
        for (text, span, lo, hi) in [
            ("AAA123456", (0, 9), 0.05, 0.05),
            ("XYZ987654", (0, 9), 0.05, 0.05),
            ("Mi pasaporte es AAA123456", (16, 25), 0.05, 1.0),
            ("AAA123456 es mi número de pasaporte", (0, 9), 0.05, 1.0),
            ("aaa123456", (0, 9), 0.05, 0.05),
            ("xyz987654", (0, 9), 0.05, 0.05),
            ("Mi pasaporte es aaa123456", (16, 25), 0.05, 1.0),
            ("aaa123456 es mi número de pasaporte", (0, 9), 0.05, 1.0),
            ("AaA123456", (0, 9), 0.05, 0.05),
            ("XyZ987654", (0, 9), 0.05, 0.05),
            ("Mi pasaporte es AaA123456", (16, 25), 0.05, 1.0),
            ("AaA123456 es mi número de pasaporte", (0, 9), 0.05, 1.0),
        ] {
            presidio_case("ES_PASSPORT", text, &[span], lo, hi);
        }
        for text in ["AA123456", "AAAA12345", "AAA12345"] {
            presidio_case("ES_PASSPORT", text, &[], 0.0, 1.0);
        }
        presidio_case(
            "ES_PASSPORT",
            "Mi pasaporte es AAA123456",
            &[(16, 25)],
            0.4,
            0.4,
        );
    }

    /// Hard negatives: with default options no Spanish type flags order numbers, dates,
    /// versions, hashes or prose.
    #[test]
    fn hard_negatives_stay_clean() {
        for text in [
            "order 12345678A shipped",
            "invoice 2024-03-22 at 11:43:58",
            "version 10.15.7 build 19H15",
            "sha1 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
            "el pedido de 12345678 llegó",
            "ref X1234567A",
        ] {
            let found = crate::detect(text, &crate::DetectOptions::default());
            assert!(
                found
                    .iter()
                    .all(|f| SPECS.iter().all(|s| s.entity != f.entity_type)),
                "{text}: {found:?}"
            );
        }
    }
}
