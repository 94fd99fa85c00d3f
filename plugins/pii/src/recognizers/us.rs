//! Recognizers for the United States (ported from Presidio's predefined recognizers: bank
//! accounts, driver licences, ITINs, passports, Medicare and provider identifiers, routing
//! numbers and DEA numbers).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[
    &US_BANK_NUMBER,
    &US_DRIVER_LICENSE,
    &US_ITIN,
    &US_PASSPORT,
    &US_MBI,
    &US_NPI,
    &ABA_ROUTING_NUMBER,
    &MEDICAL_LICENSE,
];

/// The ITIN's middle group: 50-65, 70-88, 90-92 and 94-99 (IRS).
macro_rules! itin_group {
    () => {
        "(?:5[0-9]|6[0-5]|7[0-9]|8[0-8]|9[0-24-9])"
    };
}

/// A bank account number: 8 to 17 digits (Presidio `UsBankRecognizer`). Off by default and very
/// weak: any long number has the shape, so only a context word makes it likely.
static US_BANK_NUMBER: Spec = Spec {
    entity: EntityType::named("US_BANK_NUMBER"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US bank account number.",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "Bank Account (weak)",
        regex: r"\b[0-9]{8,17}\b",
        score: 0.05,
    }],
    context: &[
        "check",
        "checking",
        "account",
        "account#",
        "account number",
        "acct",
        "bank",
        "save",
        "savings",
        "debit",
        "cuenta",
        "cuenta bancaria",
        "número de cuenta",
    ],
    validate: None,
    around: None,
};

/// A driver licence number in one of the states' formats (Presidio `UsLicenseRecognizer`). Off
/// by default: the formats cover most short letter-and-digit codes.
///
/// Warden differs from Presidio in matching upper-case letters only: Presidio matches case-
/// insensitively, so that words such as `v2` or `a1234` are candidates; licences are printed in
/// capitals. It also reads Presidio's mistyped `A-Z]{2}[0-9]{2,5}` as the intended
/// `[A-Z]{2}[0-9]{2,5}`.
static US_DRIVER_LICENSE: Spec = Spec {
    entity: EntityType::named("US_DRIVER_LICENSE"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US driver license number (any state's format).",
    validation: "none",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Driver License - Alphanumeric (weak)",
            regex: r"\b(?:[A-Z][0-9]{1,14}|[A-Z][0-9]{18}|[A-Z]{2}[0-9]{2,7}|[A-Z]{1,2}[0-9]{5,6}|[0-9]{2}[A-Z]{3}[0-9]{5,6}|[A-Z][0-9]{6}R|[0-9]{9}[A-Z]|[A-Z]{2}[0-9]{6}[A-Z]|[0-9]{8}[A-Z]{2}|[0-9]{3}[A-Z]{2}[0-9]{4}|[A-Z][0-9][A-Z][0-9][A-Z]|[0-9]{7,8}[A-Z])\b",
            score: 0.3,
        },
        Pat {
            name: "Driver License - Digits (very weak)",
            regex: r"\b(?:[0-9]{6,14}|[0-9]{16})\b",
            score: 0.01,
        },
    ],
    context: &[
        "driver",
        "license",
        "licence",
        "permit",
        "lic",
        "identification",
        "dls",
        "cdls",
        "lic#",
        "driving",
        "driver's license",
        "licencia",
        "licencia de conducir",
    ],
    validate: None,
    around: None,
};

/// An Individual Taxpayer Identification Number: 9xx, a middle group the IRS uses, four digits
/// (Presidio `UsItinRecognizer`). Off by default: no check digit.
static US_ITIN: Spec = Spec {
    entity: EntityType::named("US_ITIN"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US Individual Taxpayer Identification Number.",
    validation: "IRS group ranges",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Itin (very weak)",
            regex: concat!(
                r"\b9\d{2}[- ]",
                itin_group!(),
                r"\d{4}\b|\b9\d{2}",
                itin_group!(),
                r"[- ]\d{4}\b"
            ),
            score: 0.05,
        },
        Pat {
            name: "Itin (weak)",
            regex: concat!(r"\b9\d{2}", itin_group!(), r"\d{4}\b"),
            score: 0.3,
        },
        Pat {
            name: "Itin (medium)",
            regex: concat!(r"\b9\d{2}[- ]", itin_group!(), r"[- ]\d{4}\b"),
            score: 0.5,
        },
    ],
    context: &[
        "individual",
        "taxpayer",
        "itin",
        "tax",
        "payer",
        "taxid",
        "tin",
        "tax id",
        "contribuyente",
    ],
    validate: None,
    around: None,
};

/// A passport number: nine digits, or a letter and eight digits for the Next Generation passport
/// (Presidio `UsPassportRecognizer`). Off by default: the shape alone says nothing.
///
/// Warden matches the letter in upper case only (Presidio: any case).
static US_PASSPORT: Spec = Spec {
    entity: EntityType::named("US_PASSPORT"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US passport number.",
    validation: "none",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Passport (very weak)",
            regex: r"\b[0-9]{9}\b",
            score: 0.05,
        },
        Pat {
            name: "Passport Next Generation (very weak)",
            regex: r"\b[A-Z][0-9]{8}\b",
            score: 0.1,
        },
    ],
    context: &[
        "us",
        "united",
        "states",
        "passport",
        "passport#",
        "passport number",
        "travel",
        "document",
        "pasaporte",
    ],
    validate: None,
    around: None,
};

/// A Medicare Beneficiary Identifier: 11 characters in CMS's position rules, letters other than
/// S, L, O, I, B and Z (Presidio `UsMbiRecognizer`). Off by default: the MBI has no check digit.
static US_MBI: Spec = Spec {
    entity: EntityType::named("US_MBI"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US Medicare Beneficiary Identifier.",
    validation: "CMS position rules",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "MBI (weak)",
            regex: r"(?i)\b[0-9][AC-HJKMNP-RT-Y][0-9AC-HJKMNP-RT-Y][0-9][AC-HJKMNP-RT-Y][0-9AC-HJKMNP-RT-Y][0-9][AC-HJKMNP-RT-Y]{2}[0-9]{2}\b",
            score: 0.3,
        },
        Pat {
            name: "MBI (medium)",
            regex: r"(?i)\b[0-9][AC-HJKMNP-RT-Y][0-9AC-HJKMNP-RT-Y][0-9]-[AC-HJKMNP-RT-Y][0-9AC-HJKMNP-RT-Y][0-9]-[AC-HJKMNP-RT-Y]{2}[0-9]{2}\b",
            score: 0.5,
        },
    ],
    context: &[
        "medicare",
        "mbi",
        "beneficiary",
        "cms",
        "medicaid",
        "hic",
        "hicn",
        "medicare number",
    ],
    validate: None,
    around: None,
};

/// A National Provider Identifier: ten digits from 1 or 2, Luhn over `80840` and the number
/// (Presidio `UsNpiRecognizer`). Off by default: one ten-digit number in ten passes, and US
/// telephone numbers have the same shape.
static US_NPI: Spec = Spec {
    entity: EntityType::named("US_NPI"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US National Provider Identifier (health-care providers).",
    validation: "Luhn with the 80840 prefix",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "NPI (weak)",
            regex: r"\b[12]\d{9}\b",
            score: 0.1,
        },
        Pat {
            name: "NPI (medium)",
            regex: r"\b[12]\d{3}[ -]\d{3}[ -]\d{3}\b",
            score: 0.4,
        },
    ],
    context: &[
        "npi",
        "national provider",
        "provider",
        "npi number",
        "provider id",
        "provider identifier",
        "taxonomy",
    ],
    validate: Some(npi),
    around: Some(npi_around),
};

/// An ABA routing transit number: nine digits, weights 3 7 1 (Presidio `AbaRoutingRecognizer`).
/// Off by default: one nine-digit number in ten passes, and unformatted SSNs have the shape.
static ABA_ROUTING_NUMBER: Spec = Spec {
    entity: EntityType::named("ABA_ROUTING_NUMBER"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US bank routing transit number (ABA).",
    validation: "ABA 3-7-1 checksum and Federal Reserve prefix",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "ABA routing number (weak)",
            regex: r"\b[0123678]\d{8}\b",
            score: 0.05,
        },
        Pat {
            name: "ABA routing number",
            regex: r"\b[0123678]\d{3}-\d{4}-\d\b",
            score: 0.3,
        },
    ],
    context: &[
        "aba",
        "routing",
        "abarouting",
        "association",
        "bankrouting",
        "routing number",
        "rtn",
        "transit number",
    ],
    validate: Some(aba),
    around: Some(aba_around),
};

/// A DEA registration number: a registrant letter, a letter (or 9), seven digits with a check
/// digit (Presidio `MedicalLicenseRecognizer`). Off by default: one candidate in ten passes and
/// order codes share the shape.
static MEDICAL_LICENSE: Spec = Spec {
    entity: EntityType::named("MEDICAL_LICENSE"),
    country: Some("US"),
    kind: Kind::Pii,
    description: "A US DEA registration (medical licence) number.",
    validation: "DEA check digit",
    default_enabled: false,
    patterns: &[Pat {
        name: "USA DEA Certificate Number (weak)",
        regex: r"\b[abcdefghjklmprstuxABCDEFGHJKLMPRSTUX][a-zA-Z]\d{7}\b|\b[abcdefghjklmprstuxABCDEFGHJKLMPRSTUX]9\d{7}\b",
        score: 0.4,
    }],
    context: &[
        "medical",
        "certificate",
        "dea",
        "dea number",
        "dea registration",
        "prescriber",
    ],
    validate: Some(dea),
    around: None,
};

/// Luhn over `80840` and the ten digits (CMS); a body of one repeated digit is not issued.
fn npi(m: &str) -> Check {
    let Some(d) = warden_sdk::checksum::digits(m) else {
        return Check::Invalid;
    };
    if d.len() != 10 || d[..9].iter().all(|&x| x == d[0]) {
        return Check::Invalid;
    }
    let full: Vec<u8> = [8, 0, 8, 4, 0].into_iter().chain(d).collect();
    Check::from(warden_sdk::checksum::luhn_digits(&full))
}

/// The ABA checksum (weights 3 7 1, sum divisible by 10) and a first two digits the Federal
/// Reserve assigns: 00-12, 21-32, 61-72 or 80 (Presidio checks only the first digit).
fn aba(m: &str) -> Check {
    let Some(d) = warden_sdk::checksum::digits(m) else {
        return Check::Invalid;
    };
    if d.len() != 9 {
        return Check::Invalid;
    }
    let prefix = d[0] * 10 + d[1];
    let prefix_ok = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    let sum: u32 = d
        .iter()
        .zip([3, 7, 1].iter().cycle())
        .map(|(&x, &w)| u32::from(x) * w)
        .sum();
    Check::from(prefix_ok && sum.is_multiple_of(10))
}

/// The DEA check digit: (d1 + d3 + d5) + 2 (d2 + d4 + d6) ends in d7.
fn dea(m: &str) -> Check {
    let d: Vec<u32> = m
        .bytes()
        .skip(2)
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    let [d1, d2, d3, d4, d5, d6, d7] = d[..] else {
        return Check::Invalid;
    };
    Check::from((d1 + d3 + d5 + 2 * (d2 + d4 + d6)) % 10 == d7)
}

/// Labels of other identifiers and of telephone numbers, for [`labelled_otherwise`].
const OTHER_LABELS: &[&str] = &[
    "tfn",
    "tax file",
    "abn",
    "medicare",
    "ssn",
    "social security",
    "phone",
    "mobile",
    "call",
    "called",
    "tel",
    "telephone",
    "fax",
];

/// Whether `start..end` is one group of a longer run of digit groups: `32 078 716 168` (an ABN)
/// holds a nine-digit `078 716 168`, and `+1-303-456-5178` (a telephone number) a ten-digit
/// `303-456-5178`; Presidio's `\b` lets both through.
fn part_of_longer_number(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let sep = |c: u8| matches!(c, b' ' | b'-' | b'.' | b'/');
    let before = start >= 2 && sep(b[start - 1]) && b[start - 2].is_ascii_digit();
    let after = end + 1 < b.len() && sep(b[end]) && b[end + 1].is_ascii_digit();
    before || after
}

/// Whether the nearest label around `start..end` names something else (one of `others`) rather
/// than this type (one of `own`): `TFN 877 800 630` is not an ACN, `Medicare 2807334369` not an
/// NHS number, `called from 0429472447` a telephone number.
fn labelled_otherwise(
    text: &str,
    start: usize,
    end: usize,
    own: &[&'static str],
    others: &[&'static str],
) -> bool {
    use super::{CONTEXT_AFTER, CONTEXT_BEFORE};
    let near =
        |words| crate::context::nearest(text, start, end, CONTEXT_BEFORE, CONTEXT_AFTER, words);
    match (near(others), near(own)) {
        (Some((_, other)), Some((_, mine))) => other < mine,
        (Some(_), None) => true,
        _ => false,
    }
}

/// An NPI candidate stands alone and is not labelled as another number.
fn npi_around(text: &str, start: usize, end: usize) -> bool {
    !part_of_longer_number(text, start, end)
        && !labelled_otherwise(text, start, end, US_NPI.context, OTHER_LABELS)
}

/// A routing number candidate stands alone and is not labelled as another number.
fn aba_around(text: &str, start: usize, end: usize) -> bool {
    !part_of_longer_number(text, start, end)
        && !labelled_otherwise(text, start, end, ABA_ROUTING_NUMBER.context, OTHER_LABELS)
}

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;

    /// A ported case: text, expected spans, least and greatest score.
    type Case = (&'static str, &'static [(usize, usize)], f32, f32);

    /// The types found in `text` with default options.
    fn by_default(text: &str) -> Vec<String> {
        crate::detect(text, &crate::DetectOptions::default())
            .into_iter()
            .map(|f| f.entity_type.to_string())
            .collect()
    }

    /// Presidio's `test_us_bank_recognizer.py` cases: (text, spans, score).
    #[test]
    fn presidio_bank_cases() {
        presidio_case("US_BANK_NUMBER", "945456787654", &[(0, 12)], 0.05, 0.05);
        presidio_case("US_BANK_NUMBER", "1234567", &[], 0.0, 1.0);
        // Warden's own: a context word raises it.
        presidio_case(
            "US_BANK_NUMBER",
            "checking account 945456787654",
            &[(17, 29)],
            0.4,
            0.4,
        );
    }

    /// Presidio's `test_us_driver_license_recognizer.py` cases: (text, spans, min, max). All
    /// carry over as is (they are upper case).
    #[test]
    fn presidio_driver_license_cases() {
        let cases: &[Case] = &[
            ("H12234567", &[(0, 9)], 0.3, 0.4),
            ("C12T345672", &[], 0.0, 1.0),
            (
                "123456789 1234567890 12345679012 123456790123 1234567901234 1234",
                &[(0, 9), (10, 20), (21, 32), (33, 45), (46, 59)],
                0.0,
                0.02,
            ),
            ("ABCDEFG ABCDEFGH ABCDEFGHI", &[], 0.0, 1.0),
            ("ABCD ABCDEFGHIJ", &[], 0.0, 1.0),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("US_DRIVER_LICENSE", text, spans, min, max);
        }
        // Warden differs: lower-case words are not licences.
        presidio_case("US_DRIVER_LICENSE", "use v2 or h12234567", &[], 0.0, 1.0);
        presidio_case(
            "US_DRIVER_LICENSE",
            "driver license H12234567",
            &[(15, 24)],
            0.65,
            0.65,
        );
    }

    /// Presidio's `test_us_itin_recognizer.py` cases: (text, spans, min, max). All carry over.
    #[test]
    fn presidio_itin_cases() {
        let cases: &[Case] = &[
            ("911-701234 91170-1234", &[(0, 10), (11, 21)], 0.0, 0.3),
            ("911701234", &[(0, 9)], 0.3, 0.4),
            ("911-70-1234", &[(0, 11)], 0.5, 0.6),
            ("911-53-1234", &[(0, 11)], 0.5, 0.6),
            ("911-64-1234", &[(0, 11)], 0.5, 0.6),
            ("911-89-1234", &[], 0.0, 1.0),
            ("my tax id 911-89-1234", &[], 0.0, 1.0),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("US_ITIN", text, spans, min, max);
        }
    }

    /// Presidio's `test_us_passport_recognizer.py` cases: (text, spans, min, max). Presidio runs
    /// the recognizer without context; Warden applies context words in the same pass, so the
    /// two cases with `travel`/`document`/`passport` near score 0.45, not at most 0.15
    /// ("context").
    #[test]
    fn presidio_passport_cases() {
        let cases: &[Case] = &[
            ("912803456", &[(0, 9)], 0.0, 0.1),
            ("Z12803456", &[(0, 9)], 0.0, 0.15),
            ("A12803456", &[(0, 9)], 0.0, 0.15),
            ("my travel document is A12803456", &[(22, 31)], 0.45, 0.45), // context
            ("my travel passport is A12803456", &[(22, 31)], 0.45, 0.45), // context
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("US_PASSPORT", text, spans, min, max);
        }
    }

    /// Presidio's `test_us_mbi_recognizer.py` cases: (text, spans, min, max). The two cases with
    /// `medicare`/`mbi` near score 0.35 higher here ("context").
    #[test]
    fn presidio_mbi_cases() {
        let cases: &[Case] = &[
            ("1EG4-TE5-MK73", &[(0, 13)], 0.5, 0.6),
            ("1EG4TE5MK73", &[(0, 11)], 0.3, 0.4),
            (
                "Patient 1EG4-TE5-MK73 and 2AG9-XC4-NN22",
                &[(8, 21), (26, 39)],
                0.5,
                0.6,
            ),
            ("9XX9-XX9-XX99", &[(0, 13)], 0.5, 0.6),
            ("Medicare ID: 3CD5-FG7-HJ89", &[(13, 26)], 0.85, 0.85), // context
            (
                "The MBI is 4EF6GH8JK12 for this patient",
                &[(11, 22)],
                0.65,
                0.65,
            ), // context
            ("1SG4-TE5-MK73", &[], 0.0, 1.0),
            ("1EG4-LE5-MK73", &[], 0.0, 1.0),
            ("1EG4-TE5-OK73", &[], 0.0, 1.0),
            ("1EG4-TE5-MI73", &[], 0.0, 1.0),
            ("1BG4-TE5-MK73", &[], 0.0, 1.0),
            ("1EG4-ZE5-MK73", &[], 0.0, 1.0),
            ("AEG4-TE5-MK73", &[], 0.0, 1.0),
            ("12G4-TE5-MK73", &[], 0.0, 1.0),
            ("1EG4TE5MK7", &[], 0.0, 1.0),
            ("1EG4TE5MK734", &[], 0.0, 1.0),
            ("1eg4-te5-mk73", &[(0, 13)], 0.5, 0.6),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("US_MBI", text, spans, min, max);
        }
    }

    /// Presidio's `test_us_npi_recognizer.py` cases: (text, spans); valid ones score 1.0.
    #[test]
    fn presidio_npi_cases() {
        let cases: &[(&str, &[(usize, usize)])] = &[
            ("1234567893", &[(0, 10)]),
            ("1245319599", &[(0, 10)]),
            ("1003000126", &[(0, 10)]),
            ("1234-567-893", &[(0, 12)]),
            ("1234 567 893", &[(0, 12)]),
            ("NPI: 1234567893", &[(5, 15)]),
            ("Provider identifier 1245319599", &[(20, 30)]),
            ("NPI 1234567893 and NPI 1245319599", &[(4, 14), (23, 33)]),
            ("0234567893", &[]),
            ("3234567893", &[]),
            ("9234567893", &[]),
            ("123456789", &[]),
            ("12345678934", &[]),
            ("1111111112", &[]),
            ("1234567890", &[]),
        ];
        for &(text, spans) in cases {
            presidio_case("US_NPI", text, spans, 1.0, 1.0);
        }
    }

    /// Presidio's `test_aba_routing_recognizer.py` cases: (text, spans); valid ones score 1.0.
    #[test]
    fn presidio_aba_cases() {
        let cases: &[(&str, &[(usize, usize)])] = &[
            ("121000358", &[(0, 9)]),
            ("3222-7162-7", &[(0, 11)]),
            ("121042882", &[(0, 9)]),
            ("0711-0130-7", &[(0, 11)]),
            ("421042111", &[]),
            ("1234-0000-0", &[]),
        ];
        for &(text, spans) in cases {
            presidio_case("ABA_ROUTING_NUMBER", text, spans, 1.0, 1.0);
        }
        // Warden's own: checksum-valid but a prefix the Federal Reserve does not assign (13).
        presidio_case("ABA_ROUTING_NUMBER", "131000351", &[], 0.0, 1.0);
    }

    /// Presidio's `test_certificate_number_recognizer.py` cases (`MedicalLicenseRecognizer`):
    /// (text, spans); valid ones score 1.0.
    #[test]
    fn presidio_medical_license_cases() {
        let cases: &[(&str, &[(usize, usize)])] = &[
            ("GL0285191 EU4488929", &[(0, 9), (10, 19)]),
            ("K92993548", &[(0, 9)]),
            ("my certificate number is: BB1388568", &[(26, 35)]),
            ("The DEA number is  BG8207031", &[]),
            ("123 456\n789", &[]),
        ];
        for &(text, spans) in cases {
            presidio_case("MEDICAL_LICENSE", text, spans, 1.0, 1.0);
        }
        // Warden's own: not inside a longer token (Presidio's pattern has no word boundary).
        presidio_case("MEDICAL_LICENSE", "XGL0285191", &[], 0.0, 1.0);
    }

    /// None of these types runs by default, so order numbers, dates and versions stay clean.
    #[test]
    fn off_by_default() {
        for t in [
            "order 1234567893 shipped",
            "routing 121000358",
            "ref GL0285191",
            "id 911-70-1234 on 2024-03-02, v1.2.3",
            "acct 945456787654",
        ] {
            assert!(by_default(t).is_empty(), "{t}: {:?}", by_default(t));
        }
    }

    /// Warden's own: numbers labelled as a Medicare number or a TFN are not NPIs or routing
    /// numbers, and neither is the end of a longer number.
    #[test]
    fn not_part_of_other_numbers() {
        presidio_case("US_NPI", "Medicare field rejects 2982496541", &[], 0.0, 1.0);
        presidio_case("US_NPI", "call 1-1234567893", &[], 0.0, 1.0);
        presidio_case("ABA_ROUTING_NUMBER", "my TFN 264991670", &[], 0.0, 1.0);
        presidio_case(
            "ABA_ROUTING_NUMBER",
            "routing 121000358",
            &[(8, 17)],
            1.0,
            1.0,
        );
    }
}
