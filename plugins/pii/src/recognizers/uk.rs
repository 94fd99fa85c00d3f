//! Recognizers for the United Kingdom (ported from Presidio's predefined recognizers: NHS
//! numbers, National Insurance numbers, passports, driving licences, postcodes and vehicle
//! registrations).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[
    &NHS,
    &NINO,
    &PASSPORT,
    &DRIVING_LICENCE,
    &POSTCODE,
    &VEHICLE_REGISTRATION,
];

/// NHS number: ten digits, mod 11 over weights 10..1 (Presidio `NhsRecognizer`). Off by
/// default: one ten-digit number in eleven passes, and on the development corpus it took eight
/// telephone and Medicare numbers (the check raises it to 1.0, above their scores).
static NHS: Spec = Spec {
    entity: EntityType::named("UK_NHS"),
    country: Some("GB"),
    kind: Kind::Pii,
    description: "A National Health Service number (England, Wales, Isle of Man).",
    validation: "NHS mod 11 check digit",
    default_enabled: false,
    patterns: &[Pat {
        name: "NHS (medium)",
        regex: r"\b[0-9]{3}[- ]?[0-9]{3}[- ]?[0-9]{4}\b",
        score: 0.5,
    }],
    context: &[
        "national health service",
        "nhs",
        "nhs number",
        "health services authority",
        "health authority",
        "gwasanaeth iechyd gwladol",
    ],
    validate: Some(nhs),
    around: Some(nhs_around),
};

/// National Insurance number: two prefix letters HMRC allocates, six digits, a suffix A-D
/// (Presidio `UkNinoRecognizer`). Off by default: no check digit.
///
/// Presidio's pattern starts with `\b ?`, so after a word it includes the space before the
/// number; Warden's span starts at the number. Presidio's look-ahead for the excluded prefixes
/// (BG, GB, KN, NK, NT, TN, ZZ) is the validation here, which also catches them after a space,
/// where Presidio's look-ahead misses them.
static NINO: Spec = Spec {
    entity: EntityType::named("UK_NINO"),
    country: Some("GB"),
    kind: Kind::Pii,
    description: "A UK National Insurance number.",
    validation: "HMRC prefix and suffix rules",
    default_enabled: false,
    patterns: &[Pat {
        name: "NINO (medium)",
        regex: r"(?i)\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b",
        score: 0.5,
    }],
    context: &[
        "national insurance",
        "national insurance number",
        "ni number",
        "nino",
        "yswiriant gwladol",
    ],
    validate: Some(nino),
    around: None,
};

/// Passport number since 2015: two letters and seven digits (Presidio `UkPassportRecognizer`).
/// Off by default: no check digit in the number alone.
static PASSPORT: Spec = Spec {
    entity: EntityType::named("UK_PASSPORT"),
    country: Some("GB"),
    kind: Kind::Pii,
    description: "A UK passport number.",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "UK Passport (weak)",
        regex: r"(?i)\b[A-Z]{2}\d{7}\b",
        score: 0.1,
    }],
    context: &[
        "passport",
        "passport number",
        "travel document",
        "uk passport",
        "british passport",
        "her majesty",
        "his majesty",
        "hm passport",
        "hmpo",
        "pasbort",
    ],
    validate: None,
    around: None,
};

/// DVLA driving licence number: surname, date of birth, initials and check characters in 16
/// (Presidio `UkDrivingLicenceRecognizer`). Off by default: the DVLA check characters are not
/// public.
static DRIVING_LICENCE: Spec = Spec {
    entity: EntityType::named("UK_DRIVING_LICENCE"),
    country: Some("GB"),
    kind: Kind::Pii,
    description: "A UK (DVLA) driving licence number.",
    validation: "surname padding and birth date",
    default_enabled: false,
    patterns: &[Pat {
        name: "UK Driving Licence",
        regex: r"(?i)\b[A-Z9]{5}[0-9](?:0[1-9]|1[0-2]|5[1-9]|6[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9][A-Z9]{2}[A-Z0-9][A-Z]{2}\b",
        score: 0.5,
    }],
    context: &[
        "driving licence",
        "driving license",
        "driver's licence",
        "driver's license",
        "dvla",
        "dl number",
        "licence number",
        "license number",
        "trwydded yrru",
    ],
    validate: Some(driving_licence),
    around: None,
};

/// Postcode in the six Royal Mail formats and GIR 0AA (Presidio `UkPostcodeRecognizer`). Off
/// by default: shape only, and short.
static POSTCODE: Spec = Spec {
    entity: EntityType::named("UK_POSTCODE"),
    country: Some("GB"),
    kind: Kind::Pii,
    description: "A UK postcode.",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "UK Postcode",
        regex: r"(?i)\b(?:GIR[ \t]?0AA|[A-PR-UWYZ][0-9][ABCDEFGHJKPSTUW]?[ \t]?[0-9][ABD-HJLNP-UW-Z]{2}|[A-PR-UWYZ][0-9]{2}[ \t]?[0-9][ABD-HJLNP-UW-Z]{2}|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]?[ \t]?[0-9][ABD-HJLNP-UW-Z]{2}|[A-PR-UWYZ][A-HK-Y][0-9]{2}[ \t]?[0-9][ABD-HJLNP-UW-Z]{2})\b",
        score: 0.1,
    }],
    context: &[
        "postcode",
        "post code",
        "postal code",
        "zip",
        "address",
        "delivery",
        "mailing",
        "shipping",
        "correspondence",
        "cod post",
    ],
    validate: None,
    around: None,
};

/// Vehicle registration in the current (2001+), prefix (1983-2001) and suffix (1963-1983)
/// formats (Presidio `UkVehicleRegistrationRecognizer`). Off by default: shape only, but for the
/// current format's age identifier.
static VEHICLE_REGISTRATION: Spec = Spec {
    entity: EntityType::named("UK_VEHICLE_REGISTRATION"),
    country: Some("GB"),
    kind: Kind::Pii,
    description: "A UK vehicle registration mark (number plate).",
    validation: "DVLA age identifier (current format)",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "UK Vehicle Registration (current)",
            regex: r"(?i)\b[A-HJ-PR-Y][A-HJ-PR-Y](?:0[1-9]|[1-7][0-9])[- ]?[A-HJ-PR-Z]{3}\b",
            score: 0.3,
        },
        Pat {
            name: "UK Vehicle Registration (prefix)",
            regex: r"(?i)\b[A-HJ-NPR-TV-Y]\d{1,3}[- ]?[A-HJ-PR-Y][A-HJ-PR-Z]{2}\b",
            score: 0.2,
        },
        Pat {
            name: "UK Vehicle Registration (suffix)",
            regex: r"(?i)\b[A-HJ-PR-Z]{3}[- ]?\d{1,3}[- ]?[A-HJ-NPR-TV-Y]\b",
            score: 0.15,
        },
    ],
    context: &[
        "vehicle",
        "registration",
        "number plate",
        "licence plate",
        "license plate",
        "reg",
        "vrn",
        "dvla",
        "v5c",
        "logbook",
        "mot",
        "car",
        "insured vehicle",
        "cofrestriad",
    ],
    validate: Some(vehicle_registration),
    around: None,
};

/// The NHS check: weights 10..1 over the ten digits sum to a multiple of 11.
fn nhs(m: &str) -> Check {
    let Some(d) = warden_sdk::checksum::digits(m) else {
        return Check::Invalid;
    };
    if d.len() != 10 {
        return Check::Invalid;
    }
    let total: u32 = d
        .iter()
        .zip((1..=10).rev())
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    Check::from(total.is_multiple_of(11))
}

/// Drops the prefixes HMRC never allocates (BG, GB, KN, NK, NT, TN, ZZ); the letters the
/// pattern admits are otherwise allowed, and there is no check digit.
fn nino(m: &str) -> Check {
    let prefix = m.get(..2).map(str::to_ascii_uppercase);
    match prefix.as_deref() {
        Some("BG" | "GB" | "KN" | "NK" | "NT" | "TN" | "ZZ") | None => Check::Invalid,
        Some(_) => Check::Unknown,
    }
}

/// Checks a licence number's surname (letters, then only 9s as padding, not all 9s) and birth
/// date (the day exists in the month, 29 February allowed; Presidio checks only 1-31).
fn driving_licence(m: &str) -> Check {
    let b = m.as_bytes();
    if b.len() != 16 {
        return Check::Invalid;
    }
    let letters = b[..5]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    if letters == 0 || b[letters..5].iter().any(|&c| c != b'9') {
        return Check::Invalid;
    }
    let num = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let month = num(6) % 50;
    let day = num(8);
    let days = match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > days {
        return Check::Invalid;
    }
    Check::Unknown
}

/// A current-format mark (two letters, two digits, three letters) is valid when its age
/// identifier is one the DVLA issues, 02-29 (March) or 51-79 (September), and dropped
/// otherwise; the older formats carry no date to check.
fn vehicle_registration(m: &str) -> Check {
    let s: Vec<u8> = m.bytes().filter(|&c| c != b'-' && c != b' ').collect();
    if s.len() == 7
        && s[..2].iter().all(u8::is_ascii_alphabetic)
        && s[2..4].iter().all(u8::is_ascii_digit)
    {
        let age = u32::from(s[2] - b'0') * 10 + u32::from(s[3] - b'0');
        return Check::from((2..=29).contains(&age) || (51..=79).contains(&age));
    }
    Check::Unknown
}

/// Labels of other identifiers and of telephone numbers, for [`labelled_otherwise`].
const OTHER_LABELS: &[&str] = &[
    "tfn",
    "tax file",
    "abn",
    "medicare",
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

/// An NHS candidate stands alone and is not labelled as another number.
fn nhs_around(text: &str, start: usize, end: usize) -> bool {
    !part_of_longer_number(text, start, end)
        && !labelled_otherwise(text, start, end, NHS.context, OTHER_LABELS)
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

    /// Presidio's `test_uk_nhs_recognizer.py` cases: (text, spans); valid ones score 1.0.
    #[test]
    fn presidio_nhs_cases() {
        for (text, spans) in [
            ("401-023-2137", &[(0, 12)][..]),
            ("221 395 1837", &[(0, 12)]),
            ("0032698674", &[(0, 10)]),
            ("401-023-2138", &[]),
        ] {
            presidio_case("UK_NHS", text, spans, 1.0, 1.0);
        }
        // Warden's own: not part of a longer number, and off by default.
        presidio_case("UK_NHS", "40102321370", &[], 0.0, 1.0);
        assert!(by_default("NHS 401 023 2137").is_empty());
    }

    /// Presidio's `test_uk_nino_recognizer.py` cases: (text, spans, min, max). Two differ:
    /// Presidio's span of `... Number YZ 61 48 68 B` starts at the space before the number
    /// (36), Warden's at the number (37); and Presidio scores the recognizer without context
    /// words, while Warden applies them in the same pass, so the cases with `nino` or
    /// `national insurance` near score 0.85, not 0.5 ("context").
    #[test]
    fn presidio_nino_cases() {
        let cases: &[Case] = &[
            ("AA 12 34 56 B", &[(0, 13)], 0.5, 0.5),
            ("hh 01 02 03 d", &[(0, 13)], 0.5, 0.5),
            ("tw987654a", &[(0, 9)], 0.5, 0.5),
            ("nino: PR 123612C", &[(6, 16)], 0.85, 0.85), // context
            (
                "Here is my National Insurance Number YZ 61 48 68 B",
                &[(37, 50)], // Presidio (36, 50): the leading space
                0.85,        // context
                0.85,
            ),
            ("AA 12 34 56 H", &[], 0.0, 1.0),
            ("AB 12 34 56 1", &[], 0.0, 1.0),
            ("ab1234561", &[], 0.0, 1.0),
            ("FQ 00 00 00 C", &[], 0.0, 1.0),
            ("BG123612A", &[], 0.0, 1.0),
            ("nino: nt 99 88 77 a", &[], 0.0, 1.0),
            (
                "This isn't a valid national insurance number UV 98 76 54 B",
                &[],
                0.0,
                1.0,
            ),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("UK_NINO", text, spans, min, max);
        }
        // Warden's own: an excluded prefix after a space (Presidio's look-ahead misses it).
        presidio_case("UK_NINO", "my NI is GB 12 34 56 A", &[], 0.0, 1.0);
    }

    /// Presidio's `test_uk_passport_recognizer.py` cases: (text, spans, min, max). One differs:
    /// `My passport number is ...` has the context words `passport` and `passport number`,
    /// which Warden applies (0.45, not 0.1: "context").
    #[test]
    fn presidio_passport_cases() {
        let cases: &[Case] = &[
            ("AB1234567", &[(0, 9)], 0.1, 0.1),
            ("XY9876543", &[(0, 9)], 0.1, 0.1),
            ("ab1234567", &[(0, 9)], 0.1, 0.1),
            (
                "My passport number is CD7654321 and it expires soon",
                &[(22, 31)],
                0.45, // context
                0.45,
            ),
            (
                "Passports: AB1234567 and XY9876543",
                &[(11, 20), (25, 34)],
                0.1,
                0.1,
            ),
            ("A12345678", &[], 0.0, 1.0),
            ("ABC123456", &[], 0.0, 1.0),
            ("AB123456", &[], 0.0, 1.0),
            ("AB12345678", &[], 0.0, 1.0),
            ("123456789", &[], 0.0, 1.0),
            ("AB 1234567", &[], 0.0, 1.0),
            ("1234567AB", &[], 0.0, 1.0),
            ("XYZAB1234567QRS", &[], 0.0, 1.0),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("UK_PASSPORT", text, spans, min, max);
        }
    }

    /// Presidio's `test_uk_driving_licence_recognizer.py` cases: valid (text, spans) scoring
    /// 0.3-0.5, then invalid texts. All carry over.
    #[test]
    fn presidio_driving_licence_cases() {
        let valid: &[(&str, &[(usize, usize)])] = &[
            ("MORGA607054SM9IJ", &[(0, 16)]),
            ("MORGA657054SM9IJ", &[(0, 16)]),
            ("FO999512018AA1AB", &[(0, 16)]),
            ("SMIT9801015JK2CD", &[(0, 16)]),
            ("Licence: MORGA607054SM9IJ ok", &[(9, 25)]),
            ("morga607054sm9ij", &[(0, 16)]),
            ("JONES710153J99EF", &[(0, 16)]),
            ("SMITH802290AB1CD", &[(0, 16)]),
            ("SMITH812310AB1CD", &[(0, 16)]),
            ("SMITH851010AB1CD", &[(0, 16)]),
            ("SMITH862310AB1CD", &[(0, 16)]),
        ];
        for &(text, spans) in valid {
            presidio_case("UK_DRIVING_LICENCE", text, spans, 0.3, 0.5);
        }
        for text in [
            "MORGA600054SM9IJ",
            "MORGA613054SM9IJ",
            "MORGA650054SM9IJ",
            "MORGA663054SM9IJ",
            "MORGA601004SM9IJ",
            "MORGA601324SM9IJ",
            "MORGA65705SM9IJ",
            "MORGA6570544SM9IJ",
            "99999657054SM9IJ",
            "MO9G9657054SM9IJ",
        ] {
            presidio_case("UK_DRIVING_LICENCE", text, &[], 0.0, 1.0);
        }
        // Warden's own: days the month does not have (31 April, 30 February for a woman).
        presidio_case("UK_DRIVING_LICENCE", "MORGA604314SM9IJ", &[], 0.0, 1.0);
        presidio_case("UK_DRIVING_LICENCE", "MORGA652304SM9IJ", &[], 0.0, 1.0);
        presidio_case(
            "UK_DRIVING_LICENCE",
            "DVLA licence MORGA607054SM9IJ",
            &[(13, 29)],
            0.85,
            0.85,
        );
    }

    /// Presidio's `test_uk_postcode_recognizer.py` cases: (text, spans, min, max). Two differ
    /// by context, which Warden applies: `address` and `postcode` raise them to 0.45
    /// ("context").
    #[test]
    fn presidio_postcode_cases() {
        let cases: &[Case] = &[
            ("M1 1AA", &[(0, 6)], 0.1, 0.1),
            ("M60 1NW", &[(0, 7)], 0.1, 0.1),
            ("W1A 1HQ", &[(0, 7)], 0.1, 0.1),
            ("CR2 6XH", &[(0, 7)], 0.1, 0.1),
            ("DN55 1PT", &[(0, 8)], 0.1, 0.1),
            ("EC1A 1BB", &[(0, 8)], 0.1, 0.1),
            ("GIR 0AA", &[(0, 7)], 0.1, 0.1),
            ("M11AA", &[(0, 5)], 0.1, 0.1),
            ("EC1A1BB", &[(0, 7)], 0.1, 0.1),
            ("DN551PT", &[(0, 7)], 0.1, 0.1),
            ("GIR0AA", &[(0, 6)], 0.1, 0.1),
            ("My address is SW1A 1AA in London", &[(14, 22)], 0.45, 0.45), // context
            ("Send to postcode EC2A 1NT please", &[(17, 25)], 0.45, 0.45), // context
            ("From SW1A 1AA to EC1A 1BB", &[(5, 13), (17, 25)], 0.1, 0.1),
            ("QA1 1AA", &[], 0.0, 1.0),
            ("VA1 1AA", &[], 0.0, 1.0),
            ("XA1 1AA", &[], 0.0, 1.0),
            ("M1 1CA", &[], 0.0, 1.0),
            ("M1 1AI", &[], 0.0, 1.0),
            ("1A1 1AA", &[], 0.0, 1.0),
            ("ABCM11AADEF", &[], 0.0, 1.0),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("UK_POSTCODE", text, spans, min, max);
        }
    }

    /// Presidio's `test_uk_vehicle_registration_recognizer.py` cases: (text, spans, min, max).
    /// All carry over (the only context word near a match, `car reg`, is beside a
    /// current-format mark that validates to 1.0 anyway).
    #[test]
    fn presidio_vehicle_registration_cases() {
        let cases: &[Case] = &[
            ("AB51 ABC", &[(0, 8)], 1.0, 1.0),
            ("BD62XYZ", &[(0, 7)], 1.0, 1.0),
            ("LN14-HGT", &[(0, 8)], 1.0, 1.0),
            ("aa02 aaa", &[(0, 8)], 1.0, 1.0),
            (
                "My car reg is AB51 ABC and it expires",
                &[(14, 22)],
                1.0,
                1.0,
            ),
            (
                "Vehicles AB51 ABC and BD62XYZ were seen",
                &[(9, 17), (22, 29)],
                1.0,
                1.0,
            ),
            ("AB70 DEF", &[(0, 8)], 1.0, 1.0),
            ("IB51 ABC", &[], 0.0, 1.0),
            ("AQ51 ABC", &[], 0.0, 1.0),
            ("AB00 ABC", &[], 0.0, 1.0),
            ("AB35 ABC", &[], 0.0, 1.0),
            ("AB49 ABC", &[], 0.0, 1.0),
            ("AB80 ABC", &[], 0.0, 1.0),
            ("AB51 AIB", &[], 0.0, 1.0),
            ("A123 BCD", &[(0, 8)], 0.2, 0.2),
            ("K1 ABC", &[(0, 6)], 0.2, 0.2),
            ("M456DEF", &[(0, 7)], 0.2, 0.2),
            ("I123 BCD", &[], 0.0, 1.0),
            ("O123 BCD", &[], 0.0, 1.0),
            ("ABC 123D", &[(0, 8)], 0.15, 0.15),
            ("ABC 1D", &[(0, 6)], 0.15, 0.15),
            ("DEF456G", &[(0, 7)], 0.15, 0.15),
            ("ABC 123I", &[], 0.0, 1.0),
            ("ABC 123Z", &[], 0.0, 1.0),
            ("hello world", &[], 0.0, 1.0),
            ("1234567890", &[], 0.0, 1.0),
            ("XXXAB51ABCYYY", &[], 0.0, 1.0),
        ];
        for &(text, spans, min, max) in cases {
            presidio_case("UK_VEHICLE_REGISTRATION", text, spans, min, max);
        }
    }

    /// None of these types runs by default: postcodes, plates and passport-shaped codes stay
    /// unreported in ordinary text.
    #[test]
    fn off_by_default() {
        for t in [
            "Ship to SW1A 1AA, order AB1234567, car AB51 ABC",
            "NI AA 12 34 56 B, licence MORGA607054SM9IJ",
        ] {
            assert!(by_default(t).is_empty(), "{t}: {:?}", by_default(t));
        }
    }

    /// Warden's own: the end of an international telephone number, and numbers labelled as a
    /// telephone or Medicare number, are not NHS numbers (Presidio reports them).
    #[test]
    fn nhs_not_part_of_other_numbers() {
        presidio_case("UK_NHS", "+1-303-456-5178", &[], 0.0, 1.0);
        presidio_case("UK_NHS", "phone 303-277-2737, card", &[], 0.0, 1.0);
        presidio_case("UK_NHS", "Medicare 2807334369.", &[], 0.0, 1.0);
        presidio_case("UK_NHS", "NHS number 401 023 2137", &[(11, 23)], 1.0, 1.0);
    }
}
