//! Recognizers for Italy, ported from Presidio's `country_specific/italy` recognizers (fiscal
//! code with its control character, VAT code with its Luhn check, and the document numbers by
//! shape).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[
    &FISCAL_CODE,
    &VAT_CODE,
    &DRIVER_LICENSE,
    &IDENTITY_CARD,
    &PASSPORT,
];

/// Codice fiscale: surname and name letters, birth date and sex (digits may be replaced by
/// letters, omocodia), place code and control character (Presidio `ItFiscalCodeRecognizer`).
static FISCAL_CODE: Spec = Spec {
    entity: EntityType::named("IT_FISCAL_CODE"),
    country: Some("IT"),
    kind: Kind::Pii,
    description: "An Italian fiscal code (codice fiscale).",
    validation: "structure (omocodia allowed, valid day for the month) and control character",
    default_enabled: true,
    patterns: &[Pat {
        name: "Fiscal Code",
        // Presidio's pattern as is; its lack of word boundaries is made up by `standalone`.
        regex: concat!(
            r"(?i)(?:[A-Z][AEIOU][AEIOUX]|[AEIOU]X{2}",
            r"|[B-DF-HJ-NP-TV-Z]{2}[A-Z]){2}",
            r"(?:[0-9LMNP-V]{2}(?:[A-EHLMPR-T](?:[04LQ][1-9MNP-V]|[15MR][0-9LMNP-V]",
            r"|[26NS][0-8LMNP-U])|[DHPS][37PT][0L]|[ACELMRT][37PT][01LM]",
            r"|[AC-EHLMPR-T][26NS][9V])|(?:[02468LNQSU][048LQU]",
            r"|[13579MPRTV][26NS])B[26NS][9V])(?:[A-MZ][1-9MNP-V][0-9LMNP-V]{2}",
            r"|[A-M][0L](?:[1-9MNP-V][0-9LMNP-V]|[0L][1-9MNP-V]))[A-Z]",
        ),
        score: 0.3,
    }],
    context: &[
        "codice fiscale",
        "cod. fiscale",
        "cf",
        "c.f",
        "tessera sanitaria",
        "fiscal code",
        "tax code",
        "italian tax code",
    ],
    validate: Some(fiscal_code),
    around: Some(standalone),
};

/// Partita IVA: eleven digits (Presidio allows a space or `_` after each), company number,
/// province office and a Luhn check digit (Presidio `ItVatCodeRecognizer`).
static VAT_CODE: Spec = Spec {
    entity: EntityType::named("IT_VAT_CODE"),
    country: Some("IT"),
    kind: Kind::Pii,
    description: "An Italian VAT number (partita IVA).",
    validation: "Luhn check digit; province office 001-100, 120, 121, 888 or 999",
    // Off by default: eleven digits collide with Australian ABNs and spaced phone numbers, and
    // about one in a hundred passes the check by chance (three such findings on the corpus).
    default_enabled: false,
    patterns: &[
        Pat {
            name: "IT Vat code (piva)",
            regex: r"\b(?:[0-9][ _]?){11}\b",
            score: 0.1,
        },
        Pat {
            name: "IT Vat code (IT prefix)",
            regex: r"\bIT ?[0-9]{11}\b",
            score: 0.5,
        },
    ],
    context: &[
        "piva",
        "p.iva",
        "p. iva",
        "partita iva",
        "pi",
        "iva",
        "vat",
        "vat number",
        "vat code",
        "vat id",
    ],
    validate: Some(vat_code),
    around: Some(standalone),
};

/// Patente di guida: two letters, seven digits and a letter, or the `U1` form; shape only
/// (Presidio `ItDriverLicenseRecognizer`).
static DRIVER_LICENSE: Spec = Spec {
    entity: EntityType::named("IT_DRIVER_LICENSE"),
    country: Some("IT"),
    kind: Kind::Pii,
    description: "An Italian driving licence number (patente di guida).",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "Driver License",
        regex: r"(?i)\b(?:[A-Z]{2}[0-9]{7}[A-Z]|U1[BCDEFGHLJKMNPRSTUWYXZ0-9]{7}[A-Z])\b",
        score: 0.2,
    }],
    context: &[
        "patente",
        "patente di guida",
        "licenza",
        "licenza di guida",
        "driving licence",
        "driving license",
        "driver's license",
        "driver license",
        "drivers license",
    ],
    validate: None,
    around: Some(standalone),
};

/// Carta d'identità: the paper card's two letters and seven digits, or the electronic card's
/// (CIE) forms; shape only, so very weak without context (Presidio `ItIdentityCardRecognizer`).
static IDENTITY_CARD: Spec = Spec {
    entity: EntityType::named("IT_IDENTITY_CARD"),
    country: Some("IT"),
    kind: Kind::Pii,
    description: "An Italian identity card number (carta d'identità, CIE).",
    validation: "none",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Paper-based Identity Card (very weak)",
            regex: r"(?i)\b[A-Z]{2}\s?[0-9]{7}\b",
            score: 0.01,
        },
        Pat {
            name: "Electronic Identity Card (CIE) 2.0 (very weak)",
            regex: r"(?i)\b[0-9]{7}[A-Z]{2}\b",
            score: 0.01,
        },
        Pat {
            name: "Electronic Identity Card (CIE) 3.0 (very weak)",
            regex: r"(?i)\b[A-Z]{2}[0-9]{5}[A-Z]{2}\b",
            score: 0.01,
        },
    ],
    context: &[
        "carta",
        "carta d'identità",
        "carta d'identita",
        "carta di identità",
        "carta di identita",
        "identità",
        "identita",
        "elettronica",
        "cie",
        "documento",
        "riconoscimento",
        "espatrio",
        "identity card",
        "id card",
    ],
    validate: None,
    around: Some(standalone),
};

/// Passaporto: two letters and seven digits; shape only, so very weak without context
/// (Presidio `ItPassportRecognizer`).
static PASSPORT: Spec = Spec {
    entity: EntityType::named("IT_PASSPORT"),
    country: Some("IT"),
    kind: Kind::Pii,
    description: "An Italian passport number.",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "Passport (very weak)",
        regex: r"(?i)\b[A-Z]{2}[0-9]{7}\b",
        score: 0.01,
    }],
    context: &[
        "passaporto",
        "elettronico",
        "italiano",
        "viaggio",
        "viaggiare",
        "estero",
        "documento",
        "dogana",
        "passport",
        "passport number",
    ],
    validate: None,
    around: Some(standalone),
};

/// Whether `text[s..e]` is not glued to a letter, digit or `_` on either side (Presidio's
/// Unicode `\b`).
fn standalone(text: &str, s: usize, e: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    !text[..s].chars().next_back().is_some_and(word) && !text[e..].chars().next().is_some_and(word)
}

/// The value of a character at an odd (1st, 3rd, ...) place of a fiscal code.
#[rustfmt::skip]
const ODD: [u32; 36] = [
    // 0-9
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
    // A-Z
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// The index of an upper-case letter or digit: digits 0-9, letters 10-35.
fn alnum_index(b: u8) -> Option<usize> {
    match b {
        b'0'..=b'9' => Some(usize::from(b - b'0')),
        b'A'..=b'Z' => Some(usize::from(b - b'A') + 10),
        _ => None,
    }
}

/// Fiscal code control character: the odd places by the odd table, the even places by their
/// value (digits 0-9, letters A=0 .. Z=25), the sum mod 26 as a letter. Presidio keeps a match
/// whose control character fails at its pattern score; Warden drops it.
fn fiscal_code(m: &str) -> Check {
    let up = m.to_ascii_uppercase();
    let b = up.as_bytes();
    if b.len() != 16 {
        return Check::Invalid;
    }
    let mut sum = 0u32;
    for (i, &c) in b[..15].iter().enumerate() {
        let Some(k) = alnum_index(c) else {
            return Check::Invalid;
        };
        sum += if i % 2 == 0 {
            ODD[k]
        } else if k < 10 {
            k as u32
        } else {
            (k - 10) as u32
        };
    }
    Check::from(b[15] == b'A' + (sum % 26) as u8)
}

/// Partita IVA: eleven digits once spaces, `_`, `-` and an `IT` prefix are gone; not all-zero
/// company number; a province office 001-100, 120, 121, 888 or 999; and Luhn.
fn vat_code(m: &str) -> Check {
    let body = m
        .strip_prefix("IT")
        .unwrap_or(m)
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'_' | b'-'));
    let mut d = Vec::with_capacity(11);
    for b in body {
        if !b.is_ascii_digit() {
            return Check::Invalid;
        }
        d.push(b - b'0');
    }
    if d.len() != 11 || d[..7].iter().all(|&x| x == 0) {
        return Check::Invalid;
    }
    let office = u32::from(d[7]) * 100 + u32::from(d[8]) * 10 + u32::from(d[9]);
    if !matches!(office, 1..=100 | 120 | 121 | 888 | 999) {
        return Check::Invalid;
    }
    Check::from(warden_sdk::checksum::luhn_digits(&d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::presidio_case;

    /// Presidio's `test_it_fiscal_code_recognizer.py` cases.
    #[test]
    fn presidio_fiscal_code_cases() {
        presidio_case("IT_FISCAL_CODE", "AAAAAA00B11C333Y", &[(0, 16)], 0.3, 1.0);
        // Warden differs: a wrong control character drops the match (Presidio keeps it at 0.3).
        presidio_case("IT_FISCAL_CODE", "AAAAAA00B11C333N", &[], 0.0, 1.0);
        presidio_case("IT_FISCAL_CODE", "AAAAAA - 00B11C333N", &[], 0.0, 1.0);
        presidio_case("IT_FISCAL_CODE", "A55AAA00B11C333N", &[], 0.0, 1.0);
        // Warden differs as above: only the first of the two has a valid control character.
        presidio_case(
            "IT_FISCAL_CODE",
            "AAAAAA00B11C333Y and AAAAAA00B11C333N",
            &[(0, 16)],
            0.3,
            1.0,
        );
    }

    /// Warden's own: a real-shaped code, its omocodic form, lower case, and one inside a token.
    #[test]
    fn fiscal_code_own_cases() {
        presidio_case(
            "IT_FISCAL_CODE",
            "CF: RSSMRA85T10A562S",
            &[(4, 20)],
            1.0,
            1.0,
        );
        // Omocodia: the last digits of the place code replaced by letters (2 -> N, 6 -> S),
        // with the control character recomputed.
        presidio_case("IT_FISCAL_CODE", "RSSMRA85T10A5SNT", &[(0, 16)], 1.0, 1.0);
        presidio_case("IT_FISCAL_CODE", "rssmra85t10a562s", &[(0, 16)], 1.0, 1.0);
        presidio_case("IT_FISCAL_CODE", "XRSSMRA85T10A562S", &[], 0.0, 1.0);
        presidio_case("IT_FISCAL_CODE", "RSSMRA85T10A562T", &[], 0.0, 1.0);
    }

    /// Presidio's `test_it_vat_code_recognizer.py` cases.
    #[test]
    fn presidio_vat_code_cases() {
        for text in ["00000000000", "00000000001"] {
            presidio_case("IT_VAT_CODE", text, &[], 0.0, 1.0);
        }
        presidio_case("IT_VAT_CODE", "01333550323", &[(0, 11)], 0.9, 1.0);
        presidio_case(
            "IT_VAT_CODE",
            "00000000000 and 01333550323",
            &[(16, 27)],
            0.9,
            1.0,
        );
        presidio_case("IT_VAT_CODE", "01333550_323", &[(0, 12)], 0.9, 1.0);
    }

    /// Warden's own: the `IT` prefix, a Luhn-valid number with an impossible province office,
    /// and a wrong check digit.
    #[test]
    fn vat_code_own_cases() {
        presidio_case("IT_VAT_CODE", "P.IVA IT01333550323", &[(6, 19)], 1.0, 1.0);
        // 1234567 + office 890 + Luhn digit: office 890 does not exist.
        assert_eq!(vat_code("12345678903"), Check::Invalid);
        presidio_case("IT_VAT_CODE", "01333550324", &[], 0.0, 1.0);
    }

    /// Presidio's `test_it_driver_license_recognizer.py` cases.
    #[test]
    fn presidio_driver_license_cases() {
        for (text, spans) in [
            ("AA0123456B", &[(0, 10)][..]),
            ("AA0123456B and AA0123456B", &[(0, 10), (15, 25)]),
            ("U1H00B000C", &[(0, 10)]),
            ("U1H00A000B", &[]),
            ("990123456B", &[]),
            ("U1K711J11M", &[(0, 10)]),
        ] {
            presidio_case("IT_DRIVER_LICENSE", text, spans, 0.1, 0.4);
        }
        // "license" is a context word of Warden's (English), so the score is 0.55 here.
        presidio_case(
            "IT_DRIVER_LICENSE",
            "license U1K711J11M here",
            &[(8, 18)],
            0.1,
            0.55,
        );
    }

    /// Presidio's `test_it_identity_card_recognizer.py` cases.
    #[test]
    fn presidio_identity_card_cases() {
        presidio_case(
            "IT_IDENTITY_CARD",
            "AA1234567 aa 1234567",
            &[(0, 9), (10, 20)],
            0.0,
            0.05,
        );
        presidio_case("IT_IDENTITY_CARD", "1234567Aa", &[(0, 9)], 0.0, 0.05);
        presidio_case("IT_IDENTITY_CARD", "AA12345aa", &[(0, 9)], 0.0, 0.05);
    }

    /// Presidio's `test_it_passport_recognizer.py` cases.
    #[test]
    fn presidio_passport_cases() {
        presidio_case("IT_PASSPORT", "AA1234567", &[(0, 9)], 0.0, 0.05);
        presidio_case("IT_PASSPORT", "aa7654321", &[(0, 9)], 0.0, 0.05);
        presidio_case("IT_PASSPORT", "passaporto YA1234567", &[(11, 20)], 0.4, 0.4);
    }

    /// Hard negatives: with default options no Italian type flags order numbers, dates,
    /// versions or hashes.
    #[test]
    fn hard_negatives_stay_clean() {
        for text in [
            "order 12345678901 shipped",
            "invoice 2024-03-22 at 11:43:58",
            "version 10.15.7 build 19H15",
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "token RSSMRA85T10A562SXYZ",
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
