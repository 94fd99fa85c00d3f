//! Recognizers for India (ported from Presidio's predefined recognizers: Aadhaar, PAN, GSTIN,
//! passport, voter ID and vehicle registration).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[
    &AADHAAR,
    &PAN,
    &GSTIN,
    &PASSPORT,
    &VOTER,
    &VEHICLE_REGISTRATION,
];

/// Aadhaar number: twelve digits, the first 2-9, Verhoeff check digit, not a palindrome
/// (Presidio `InAadhaarRecognizer`); a group of a longer number (the first twelve digits of a
/// card) is not taken. Off by default: one twelve-digit number in ten passes Verhoeff, and on
/// the development corpus the case number `4211-6277-6241` did.
static AADHAAR: Spec = Spec {
    entity: EntityType::named("IN_AADHAAR"),
    country: Some("IN"),
    kind: Kind::Pii,
    description: "An Indian Aadhaar (UIDAI) number.",
    validation: "Verhoeff check digit",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "AADHAAR (Very Weak)",
            regex: r"\b[0-9]{12}\b",
            score: 0.01,
        },
        Pat {
            name: "AADHAR (Very Weak)",
            regex: r"\b[0-9]{4}[- :][0-9]{4}[- :][0-9]{4}\b",
            score: 0.01,
        },
    ],
    context: &[
        "aadhaar",
        "aadhar",
        "aadhaar number",
        "uidai",
        "आधार",
        "आधार संख्या",
    ],
    validate: Some(aadhaar),
    around: Some(whole_number),
};

/// Permanent Account Number: five letters (the fourth the holder type), four digits, a letter
/// (Presidio `InPanRecognizer`). Off by default: the last letter is a check character whose
/// algorithm is not published, so only the shape is known.
///
/// Presidio's weakest pattern looks ahead through the rest of the whole text for a letter and
/// four digits; Warden requires them inside the ten characters.
static PAN: Spec = Spec {
    entity: EntityType::named("IN_PAN"),
    country: Some("IN"),
    kind: Kind::Pii,
    description: "An Indian Permanent Account Number (income tax).",
    validation: "holder-type letter (strongest pattern)",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "PAN (High)",
            regex: r"(?i)\b[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]\b",
            score: 0.5,
        },
        Pat {
            name: "PAN (Medium)",
            regex: r"(?i)\b[A-Z]{5}[0-9]{4}[A-Z]\b",
            score: 0.1,
        },
        Pat {
            name: "PAN (Low)",
            regex: r"\b[\w@#$%^?~-]{10}\b",
            score: 0.01,
        },
    ],
    context: &[
        "permanent account number",
        "pan",
        "pan number",
        "pan card",
        "पैन",
        "स्थायी खाता संख्या",
    ],
    validate: Some(pan),
    around: None,
};

/// Goods and Services Tax Identification Number: state code, the holder's PAN, a registration
/// character, `Z`, a check character (Presidio `InGstinRecognizer`, which checks the structure
/// but not the check character). Warden checks it (GSTN's mod 36 scheme), so every match scores
/// 1.0 or is dropped; on by default.
static GSTIN: Spec = Spec {
    entity: EntityType::named("IN_GSTIN"),
    country: Some("IN"),
    kind: Kind::Pii,
    description: "An Indian GST Identification Number.",
    validation: "state code, PAN structure and GSTIN mod 36 check character",
    default_enabled: true,
    patterns: &[
        Pat {
            name: "GSTIN (High)",
            regex: r"(?i)\b(?:0[1-9]|[1-3][0-7])[A-Z0-9]{10}[A-Z0-9]Z[A-Z0-9]\b",
            score: 0.8,
        },
        Pat {
            name: "GSTIN (Medium)",
            regex: r"(?i)\b(?:0[1-9]|[1-3][0-7])[A-Z0-9]{11}Z[A-Z0-9]\b",
            score: 0.4,
        },
        Pat {
            name: "GSTIN (Low)",
            regex: r"(?i)\b[0-9]{2}[A-Z0-9]{11}Z[A-Z0-9]\b",
            score: 0.1,
        },
    ],
    context: &[
        "gstin",
        "gst",
        "goods and services tax",
        "tax identification",
        "gst number",
        "gst registration",
        "जीएसटी",
    ],
    validate: Some(gstin),
    around: None,
};

/// Passport number: a letter, seven digits, neither the first digit nor the last zero (Presidio
/// `InPassportRecognizer`). Off by default: no check digit.
static PASSPORT: Spec = Spec {
    entity: EntityType::named("IN_PASSPORT"),
    country: Some("IN"),
    kind: Kind::Pii,
    description: "An Indian passport number.",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "PASSPORT",
        regex: r"(?i)\b[A-Z][1-9]\d ?\d{4}[1-9]\b",
        score: 0.1,
    }],
    context: &["passport", "indian passport", "passport number", "पासपोर्ट"],
    validate: None,
    around: None,
};

/// Voter ID (EPIC): three letters and seven digits (Presidio `InVoterRecognizer`). Off by
/// default: no check digit.
static VOTER: Spec = Spec {
    entity: EntityType::named("IN_VOTER"),
    country: Some("IN"),
    kind: Kind::Pii,
    description: "An Indian voter ID (Elector's Photo Identity Card) number.",
    validation: "none",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "VOTER",
            regex: r"(?i)\b[A-Z][ABCDGHJKMNPRSY][A-Z][0-9]{7}\b",
            score: 0.4,
        },
        Pat {
            name: "VOTER (weak)",
            regex: r"(?i)\b[A-Z]{3}[0-9]{7}\b",
            score: 0.3,
        },
    ],
    context: &[
        "voter",
        "voter id",
        "epic",
        "elector photo identity card",
        "मतदाता",
        "मतदाता पहचान पत्र",
    ],
    validate: None,
    around: None,
};

/// Vehicle registration plate in the RTO, BH-series, diplomatic and armed-forces formats
/// (Presidio `InVehicleRegistrationRecognizer`). Off by default: a known state and district
/// raise a plate to 1.0, but the shorter formats are any letters and four digits.
static VEHICLE_REGISTRATION: Spec = Spec {
    entity: EntityType::named("IN_VEHICLE_REGISTRATION"),
    country: Some("IN"),
    kind: Kind::Pii,
    description: "An Indian vehicle registration number.",
    validation: "state and RTO district code, or diplomatic mission code",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "India Vehicle Registration (Very Weak)",
            regex: r"(?i)\b[A-Z][0-9]{4}\b",
            score: 0.01,
        },
        Pat {
            name: "India Vehicle Registration (Very Weak)",
            regex: r"(?i)\b[A-Z]{2}\d{4}\b",
            score: 0.01,
        },
        Pat {
            name: "India Vehicle Registration (Very Weak)",
            regex: r"(?i)\bI\d{5}\b",
            score: 0.01,
        },
        Pat {
            name: "India Vehicle Registration (Weak)",
            regex: r"(?i)\b[A-Z]{3}\d{4}\b",
            score: 0.20,
        },
        Pat {
            name: "India Vehicle Registration (Medium)",
            regex: r"(?i)\b\d{1,3}(?:CD|CC|UN)[1-9][0-9]{1,3}\b",
            score: 0.40,
        },
        Pat {
            name: "India Vehicle Registration",
            regex: r"(?i)\b[A-Z]{2}\d[A-Z]{1,3}\d{4}\b",
            score: 0.50,
        },
        Pat {
            name: "India Vehicle Registration",
            regex: r"(?i)\b[A-Z]{2}\d{2}[A-Z]{1,2}\d{4}\b",
            score: 0.50,
        },
        Pat {
            name: "India Vehicle Registration (BH series)",
            regex: r"(?i)\b[2-9][1-9]BH\d{4}[A-HJ-NP-Z]{2}\b",
            score: 0.85,
        },
        Pat {
            name: "India Vehicle Registration (armed forces)",
            regex: r"(?i)\b\d{2}[ABCDEFHKPRX]\d{6}[A-Z]\b",
            score: 0.85,
        },
    ],
    context: &[
        "rto",
        "vehicle",
        "plate",
        "registration",
        "vehicle number",
        "गाड़ी",
        "वाहन",
    ],
    validate: Some(vehicle_registration),
    around: None,
};

/// Whether a match is a whole number: not one group of a longer run of digit groups (`1234 5678
/// 9012` inside `4111 1234 5678 9012`).
fn whole_number(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let sep = |c: u8| matches!(c, b' ' | b'-' | b':' | b'.');
    let before = start >= 2 && sep(b[start - 1]) && b[start - 2].is_ascii_digit();
    let after = end + 1 < b.len() && sep(b[end]) && b[end + 1].is_ascii_digit();
    !before && !after
}

/// The Aadhaar rules: twelve digits (separators space, `-` or `:` removed), the first 2-9, a
/// valid Verhoeff check digit, and not a palindrome.
fn aadhaar(m: &str) -> Check {
    let d: Vec<u8> = m
        .bytes()
        .filter(|c| !matches!(c, b' ' | b'-' | b':'))
        .map(|c| c.wrapping_sub(b'0'))
        .collect();
    if d.len() != 12 || d.iter().any(|&x| x > 9) || d[0] < 2 {
        return Check::Invalid;
    }
    let palindrome = d.iter().eq(d.iter().rev());
    Check::from(verhoeff(&d) && !palindrome)
}

/// Verhoeff's dihedral-group check over digits (values 0-9), the check digit last.
fn verhoeff(d: &[u8]) -> bool {
    const MUL: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERM: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = MUL[usize::from(c)][usize::from(PERM[i % 8][usize::from(x)])];
    }
    c == 0
}

/// A PAN candidate needs a letter and four digits in a row inside its ten characters (what
/// Presidio's weakest pattern looks ahead for, there anywhere in the rest of the text); the
/// stronger patterns always have them. No check character is published, so nothing more.
fn pan(m: &str) -> Check {
    let b = m.as_bytes();
    let letter = b.iter().any(u8::is_ascii_alphabetic);
    let four_digits = b.windows(4).any(|w| w.iter().all(u8::is_ascii_digit));
    if letter && four_digits {
        Check::Unknown
    } else {
        Check::Invalid
    }
}

/// The GSTIN rules: 15 characters; a state code (01-38, 97 other territory, 99 centre
/// jurisdiction; Presidio stops at 37, before Ladakh's 38); a PAN-shaped holder part; a
/// registration character; `Z`; and the check character.
fn gstin(m: &str) -> Check {
    let s: Vec<u8> = m.bytes().map(|c| c.to_ascii_uppercase()).collect();
    if s.len() != 15 || !s.iter().all(u8::is_ascii_alphanumeric) {
        return Check::Invalid;
    }
    let state = match (s[0], s[1]) {
        (a @ b'0'..=b'9', b @ b'0'..=b'9') => (a - b'0') * 10 + (b - b'0'),
        _ => return Check::Invalid,
    };
    let ok = matches!(state, 1..=38 | 97 | 99)
        && gstin_pan_part(&s[2..12])
        && s[13] == b'Z'
        && gstin_check_char(&s[..14]) == Some(s[14]);
    Check::from(ok)
}

/// Presidio's PAN shape inside a GSTIN: at least three letters among the first five
/// characters, four digits, a letter.
fn gstin_pan_part(p: &[u8]) -> bool {
    p.len() == 10
        && p[..5].iter().filter(|c| c.is_ascii_alphabetic()).count() >= 3
        && p[5..9].iter().all(u8::is_ascii_digit)
        && p[9].is_ascii_alphabetic()
}

/// GSTN's check character over the first fourteen (upper-case) characters: values 0-35 for
/// 0-9 and A-Z, alternately weighted 1 and 2, each product's base-36 digits summed; the check
/// is what brings the sum to a multiple of 36.
fn gstin_check_char(body: &[u8]) -> Option<u8> {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut sum = 0usize;
    for (i, c) in body.iter().enumerate() {
        let v = DIGITS.iter().position(|d| d == c)?;
        let p = v * if i % 2 == 0 { 1 } else { 2 };
        sum += p / 36 + p % 36;
    }
    DIGITS.get((36 - sum % 36) % 36).copied()
}

/// A state's RTO district codes: whether the codes are written with two digits (`KA05`) or
/// without a leading zero (`DL5`, which also takes `DL05`), and their ranges.
struct Districts {
    /// The state or union territory code.
    state: &'static str,
    /// Whether a code must be two digits.
    padded: bool,
    /// The codes, as inclusive ranges.
    ranges: &'static [(u8, u8)],
}

/// The district codes Presidio lists, per state (its `state_rto_district_map`).
const DISTRICTS: &[Districts] = &[
    d("AN", &[(1, 1)]),
    d("AP", &[(39, 40)]),
    d("AR", &[(1, 17), (19, 20), (22, 22)]),
    d("AS", &[(1, 20), (22, 34)]),
    d(
        "BR",
        &[
            (1, 11),
            (19, 19),
            (21, 22),
            (24, 34),
            (37, 39),
            (43, 46),
            (50, 53),
            (55, 56),
        ],
    ),
    d("CG", &[(1, 30)]),
    d("CH", &[(1, 4)]),
    d("DD", &[(1, 3)]),
    d("DN", &[(9, 9)]),
    Districts {
        state: "DL",
        padded: false,
        ranges: &[(1, 13)],
    },
    d("GA", &[(1, 12)]),
    Districts {
        state: "GJ",
        padded: false,
        ranges: &[(1, 39)],
    },
    d("HP", &[(1, 20), (22, 99)]),
    d("HR", &[(1, 20), (22, 99)]),
    d("JH", &[(1, 20), (22, 24)]),
    d("JK", &[(1, 20), (22, 22)]),
    d("KA", &[(1, 20), (22, 71)]),
    d("KL", &[(1, 20), (22, 99)]),
    d("LA", &[(1, 2)]),
    d("LD", &[(1, 9)]),
    d("MH", &[(1, 20), (22, 51)]),
    d("ML", &[(1, 10)]),
    d("MN", &[(1, 7)]),
    d("MP", &[(1, 20), (22, 71)]),
    d("MZ", &[(1, 8)]),
    d("NL", &[(1, 10)]),
    d("OD", &[(1, 20), (22, 35)]),
    d("OR", &[(1, 20), (22, 31)]),
    d("PB", &[(1, 20), (22, 99)]),
    d("PY", &[(1, 5)]),
    d("RJ", &[(1, 20), (22, 58)]),
    d("SK", &[(1, 8)]),
    d("TN", &[(1, 20), (22, 99)]),
    d("TR", &[(1, 8)]),
    d("TS", &[(1, 20), (22, 38)]),
    d("UK", &[(1, 20)]),
    d("UP", &[(11, 20), (22, 96)]),
    d("WB", &[(1, 20), (22, 98)]),
];

/// A state whose district codes are written with two digits.
const fn d(state: &'static str, ranges: &'static [(u8, u8)]) -> Districts {
    Districts {
        state,
        padded: true,
        ranges,
    }
}

/// The two-digit codes of foreign missions' diplomatic plates beyond 1-80 (Presidio's list).
const FOREIGN_MISSIONS: &[u16] = &[
    84, 85, 89, 93, 94, 95, 97, 98, 99, 102, 104, 105, 106, 109, 111, 112, 113, 117, 119, 120, 121,
    122, 123, 125, 126, 128, 133, 134, 135, 137, 141, 145, 147, 149, 152, 153, 155, 156, 157, 159,
    160,
];

/// Checks a plate. The zero runs Presidio's patterns exclude by look-ahead (a serial `0000`, an
/// `I` series `00000`, an armed-forces year `00`) drop it. A plate of eight or more characters
/// with a known state, a district code that state has and a serial 0001-9999 is valid, as is a
/// diplomatic plate (`77CD1234`) of a mission code 1-80 or in the missions list. Anything else
/// keeps its pattern score.
///
/// Presidio checks the diplomatic codes only inside its state-prefix branch, which a diplomatic
/// plate (it starts with digits) never reaches; Warden checks them on their own.
fn vehicle_registration(m: &str) -> Check {
    let s: Vec<u8> = m
        .bytes()
        .filter(|c| !matches!(c, b'-' | b' ' | b':'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let n = s.len();
    let all_zero = |r: &[u8]| r.iter().all(|&c| c == b'0');
    let zero_run = if n >= 4 && &s[2..4] == b"BH" {
        n >= 8 && all_zero(&s[4..8])
    } else if n >= 3 && s[0].is_ascii_digit() && s[n - 1].is_ascii_alphabetic() {
        all_zero(&s[..2])
    } else if n == 6 && s[0] == b'I' && s[1].is_ascii_digit() {
        all_zero(&s[1..])
    } else if n >= 4 && s[0].is_ascii_alphabetic() {
        all_zero(&s[n - 4..])
    } else {
        false
    };
    if zero_run {
        return Check::Invalid;
    }
    if n < 8 {
        return Check::Unknown;
    }
    if state_plate(&s) || diplomatic_plate(&s) {
        Check::Valid
    } else {
        Check::Unknown
    }
}

/// A plate of a known state with one of its district codes and a serial 0001-9999.
fn state_plate(s: &[u8]) -> bool {
    let Some(districts) = DISTRICTS.iter().find(|d| d.state.as_bytes() == &s[..2]) else {
        return false;
    };
    if !s[2].is_ascii_digit() {
        return false;
    }
    let code: &[u8] = if s[3].is_ascii_digit() {
        &s[2..4]
    } else {
        &s[2..3]
    };
    let serial = &s[s.len() - 4..];
    if !serial.iter().all(u8::is_ascii_digit) || serial.iter().all(|&c| c == b'0') {
        return false;
    }
    if districts.padded && code.len() != 2 {
        return false;
    }
    let value = code.iter().fold(0u8, |v, &c| v * 10 + (c - b'0'));
    districts
        .ranges
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&value))
}

/// A diplomatic plate: a mission code, CD, CC or UN, a serial; the code 1-80 or a listed
/// foreign mission.
fn diplomatic_plate(s: &[u8]) -> bool {
    let Some(pos) = s
        .windows(2)
        .position(|w| matches!(w, b"CD" | b"CC" | b"UN"))
    else {
        return false;
    };
    let prefix = &s[..pos];
    if prefix.is_empty() || prefix.len() > 3 || !prefix.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let code = prefix
        .iter()
        .fold(0u16, |v, &c| v * 10 + u16::from(c - b'0'));
    (1..=80).contains(&code) || FOREIGN_MISSIONS.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::presidio_case;

    /// A ported case with one expected score: text, expected spans, score.
    type Scored = (&'static str, &'static [(usize, usize)], f32);

    /// The types found in `text` with default options.
    fn by_default(text: &str) -> Vec<String> {
        crate::detect(text, &crate::DetectOptions::default())
            .into_iter()
            .map(|f| f.entity_type.to_string())
            .collect()
    }

    /// Presidio's `test_in_aadhaar_recognizer.py` recognizer cases: (text, spans); valid ones
    /// score 1.0. All carry over.
    #[test]
    fn presidio_aadhaar_cases() {
        let cases: &[(&str, &[(usize, usize)])] = &[
            ("123456789012", &[]),
            ("312345678909", &[(0, 12)]),
            ("399876543211", &[(0, 12)]),
            ("1234 5678 9012", &[]),
            ("3123 4567 8909", &[(0, 14)]),
            ("3998 7654 3211", &[(0, 14)]),
            ("1234-5678-9012", &[]),
            ("3123-4567-8909", &[(0, 14)]),
            ("3998-7654-3211", &[(0, 14)]),
            ("1234:5678:9012", &[]),
            ("3123:4567:8909", &[(0, 14)]),
            ("3998:7654:3211", &[(0, 14)]),
            (
                "My Aadhaar number is 400123456787 with a lot of text beyond it",
                &[(21, 33)],
            ),
        ];
        for &(text, spans) in cases {
            presidio_case("IN_AADHAAR", text, spans, 1.0, 1.0);
        }
    }

    /// Presidio's Verhoeff and palindrome unit cases from the same file.
    #[test]
    fn presidio_aadhaar_helpers() {
        let digits = |s: &str| s.bytes().map(|c| c - b'0').collect::<Vec<u8>>();
        assert!(verhoeff(&digits("312345678909")));
        assert!(verhoeff(&digits("400123456787")));
        assert!(!verhoeff(&digits("123456789012")));
        // Presidio's palindrome helper cases are about its string helper; the rule they
        // guard is this one: a Verhoeff-valid palindrome is not an Aadhaar number.
        let p = "200009900002";
        assert!(verhoeff(&digits(p)) && p.bytes().eq(p.bytes().rev()));
        assert_eq!(aadhaar(p), Check::Invalid);
    }

    /// Warden's own Aadhaar cases: groups of a longer number are not taken; off by default.
    #[test]
    fn aadhaar_whole_numbers() {
        presidio_case("IN_AADHAAR", "card 4111 3123 4567 8909", &[], 0.0, 1.0);
        presidio_case("IN_AADHAAR", "3123 4567 8909 1234", &[], 0.0, 1.0);
        presidio_case("IN_AADHAAR", "3123456789091", &[], 0.0, 1.0);
        assert!(by_default("Aadhaar 3123 4567 8909.").is_empty());
        assert!(by_default("case 4211-6277-6241, v2.3.4").is_empty());
        let india = crate::DetectOptions::from_wire(&[] as &[&str], &["IN"], None, false).unwrap();
        let found = crate::detect("Aadhaar 3123 4567 8909.", &india);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].entity_type.as_str(), "IN_AADHAAR");
    }

    /// Presidio's `test_in_pan_recognizer.py` cases: (text, spans, score). One differs by
    /// context, which Warden applies: `My PAN number ...` scores 0.85, not 0.5 ("context").
    #[test]
    fn presidio_pan_cases() {
        let cases: &[Scored] = &[
            ("AAASA1111R", &[(0, 10)], 0.1),
            ("ABCPD1234Z", &[(0, 10)], 0.5),
            ("ABCND1234Z", &[(0, 10)], 0.1),
            ("A1111DFSFS", &[(0, 10)], 0.01),
            ("ABCD1234", &[], 0.0),
            (
                "My PAN number is ABBPM4567S with a lot of text beyond it",
                &[(17, 27)],
                0.85, // context
            ),
        ];
        for &(text, spans, score) in cases {
            presidio_case("IN_PAN", text, spans, score, score);
        }
        // Warden's own: the weakest pattern needs its letter and four digits inside the match.
        presidio_case("IN_PAN", "user_name1 then 1234", &[], 0.0, 1.0);
    }

    /// Presidio's `test_in_gstin_recognizer.py` detection cases. Warden differs in checking
    /// the check character, which Presidio does not: every "valid" GSTIN of Presidio's has a
    /// wrong one (`27ABCDE1234F1Z5` should end in `0`), so Warden drops it ("dropped"). Each is
    /// followed by the same number with its right check character, which Warden finds at 1.0.
    #[test]
    fn presidio_gstin_cases() {
        let cases: &[(&str, &[(usize, usize)])] = &[
            ("27ABCDE1234F1Z5", &[]), // dropped
            ("27ABCDE1234F1Z0", &[(0, 15)]),
            ("07PQRST6789K1Z2", &[]), // dropped
            ("07PQRST6789K1ZY", &[(0, 15)]),
            ("01ABCDE1234F1Z5", &[]), // dropped
            ("01ABCDE1234F1ZE", &[(0, 15)]),
            ("37ABCDE1234F1Z5", &[]), // dropped
            ("37ABCDE1234F1ZZ", &[(0, 15)]),
            (
                "My GSTIN number is 27ABCDE1234F1Z5 for business registration",
                &[], // dropped
            ),
            (
                "My GSTIN number is 27ABCDE1234F1Z0 for business registration",
                &[(19, 34)],
            ),
            ("GST registration: 07PQRST6789K1Z2", &[]), // dropped
            ("GST registration: 07PQRST6789K1ZY", &[(18, 33)]),
            ("Tax identification GSTIN: 01ABCDE1234F1Z5", &[]), // dropped
            ("Tax identification GSTIN: 01ABCDE1234F1ZE", &[(26, 41)]),
            ("GSTINs: 27ABCDE1234F1Z5 and 07PQRST6789K1Z2", &[]), // dropped
            (
                "GSTINs: 27ABCDE1234F1Z0 and 07PQRST6789K1ZY",
                &[(8, 23), (28, 43)],
            ),
            ("27ABCDE1234F1Z", &[]),
            ("27ABCDE1234F1Z55", &[]),
            ("00ABCDE1234F1Z5", &[]),
            ("38ABCDE1234F1Z5", &[]),
            ("27ABCDE1234F1Y5", &[]),
            // From `test_gstin_validation`.
            ("", &[]),
            ("123456789012345", &[]),
            ("ABCDEFGHIJKLMNO", &[]),
        ];
        for &(text, spans) in cases {
            presidio_case("IN_GSTIN", text, spans, 1.0, 1.0);
        }
        // Warden's own: Ladakh's 38 (Presidio stops at 37) and lower case.
        presidio_case("IN_GSTIN", "38ABCDE1234F1ZX", &[(0, 15)], 1.0, 1.0);
        presidio_case("IN_GSTIN", "27abcde1234f1z0", &[(0, 15)], 1.0, 1.0);
        assert_eq!(by_default("GSTIN 27ABCDE1234F1Z0"), ["IN_GSTIN"]);
    }

    /// Presidio's `test_validate_result` and `test_validate_pan_format` cases of the same file,
    /// against Warden's checks: the structural verdicts carry over; the "valid" GSTINs fail
    /// the check character.
    #[test]
    fn presidio_gstin_validation_helpers() {
        for (g, presidio) in [
            ("27ABCDE1234F1Z5", true),
            ("07PQRST6789K1Z2", true),
            ("01ABCDE1234F1Z5", true),
            ("37ABCDE1234F1Z5", true),
            ("27ABCDE1234F1Z", false),
            ("27ABCDE1234F1Z55", false),
            ("00ABCDE1234F1Z5", false),
            ("38ABCDE1234F1Z5", false),
            ("27ABCDE1234F1Y5", false),
        ] {
            // Warden: invalid either way (the structure, or the check character) ...
            assert_eq!(gstin(g), Check::Invalid, "{g}");
            // ... and what Presidio accepts is valid once its check character is right.
            if presidio {
                let body = &g.as_bytes()[..14];
                let fixed = format!(
                    "{}{}",
                    &g[..14],
                    char::from(gstin_check_char(body).unwrap())
                );
                assert_eq!(gstin(&fixed), Check::Valid, "{fixed}");
            }
        }
        for (p, ok) in [
            ("ABCDE1234F", true),
            ("PQRST6789K", true),
            ("ABCD1234F", false),
            ("ABCDE12345F", false),
            ("12345ABCDE", false),
            ("ABCDE1234", false),
        ] {
            assert_eq!(gstin_pan_part(p.as_bytes()), ok, "{p}");
        }
        assert_eq!(gstin_check_char(b"27AAPFU0939F1Z"), Some(b'V'));
    }

    /// Presidio's `test_in_passport_recognizer.py` cases: (text, spans, score). Two differ by
    /// context (`passport number` near), which Warden applies: 0.45, not 0.1 ("context").
    #[test]
    fn presidio_passport_cases() {
        let cases: &[Scored] = &[
            ("A3456781", &[(0, 8)], 0.1),
            ("B3097651", &[(0, 8)], 0.1),
            ("C3590543", &[(0, 8)], 0.1),
            ("my passport number is T3569075", &[(22, 30)], 0.45), // context
            ("passport number: J6932157", &[(17, 25)], 0.45),      // context
            ("b0097650", &[], 0.0),
            ("my passport number is T356907", &[], 0.0),
        ];
        for &(text, spans, score) in cases {
            presidio_case("IN_PASSPORT", text, spans, score, score);
        }
    }

    /// Presidio's `test_in_voter_recognizer.py` cases: (text, spans, score). One differs by
    /// context (`voter` near), which Warden applies: 0.75, not 0.4 ("context").
    #[test]
    fn presidio_voter_cases() {
        let cases: &[Scored] = &[
            ("KSD1287349", &[(0, 10)], 0.4),
            ("my voter: DBJ2289013", &[(10, 20)], 0.75), // context
            ("uzb2345117", &[(0, 10)], 0.3),
            ("this MUP5632811", &[(5, 15)], 0.3),
            ("You can vote with your CPJ4467918 number", &[(23, 33)], 0.4),
            ("zxdf8923q1", &[], 0.0),
            ("A8923571WZ", &[], 0.0),
        ];
        for &(text, spans, score) in cases {
            presidio_case("IN_VOTER", text, spans, score, score);
        }
    }

    /// Presidio's `test_in_vehicle_registration_recognizer.py` cases: (text, spans, score).
    /// All carry over.
    #[test]
    fn presidio_vehicle_registration_cases() {
        let cases: &[Scored] = &[
            ("KA53ME3456", &[(0, 10)], 1.0),
            ("KA99ME3456", &[(0, 10)], 0.5),
            ("MN2412", &[(0, 6)], 0.01),
            ("MCX1243", &[(0, 7)], 0.2),
            ("I15432", &[(0, 6)], 0.01),
            ("DL3CJI0001", &[(0, 10)], 1.0),
            ("DL01CA1234", &[(0, 10)], 1.0),
            ("GJ09AB1234", &[(0, 10)], 1.0),
            ("ABNE123456", &[], 0.0),
            (
                "My Bike's registration number is OD02BA2341 with a lot of text beyond",
                &[(33, 43)],
                1.0,
            ),
        ];
        for &(text, spans, score) in cases {
            presidio_case("IN_VEHICLE_REGISTRATION", text, spans, score, score);
        }
    }

    /// Presidio's `test_list_length` checks the sizes of its district tables; the same sizes
    /// from Warden's ranges (Presidio lists the codes one by one).
    #[test]
    fn presidio_district_table_sizes() {
        let size = |state: &str| -> usize {
            DISTRICTS
                .iter()
                .find(|d| d.state == state)
                .map(|d| {
                    d.ranges
                        .iter()
                        .map(|&(lo, hi)| usize::from(hi - lo) + 1)
                        .sum()
                })
                .unwrap_or(0)
        };
        for (state, n) in [
            ("WB", 97),
            ("UP", 85),
            ("UK", 20),
            ("TS", 37),
            ("TR", 8),
            ("TN", 98),
            ("SK", 8),
            ("RJ", 57),
            ("PY", 5),
            ("PB", 98),
            ("OR", 30),
            ("OD", 34),
            ("NL", 10),
            ("MZ", 8),
            ("MP", 70),
            ("MN", 7),
            ("ML", 10),
            ("MH", 50),
            ("LD", 9),
            ("LA", 2),
            ("KL", 98),
            ("KA", 70),
            ("JH", 23),
            ("HR", 98),
            ("HP", 98),
            ("GJ", 39),
            ("GA", 12),
            ("DL", 13),
            ("DN", 1),
            ("DD", 3),
            ("CH", 4),
            ("CG", 30),
            ("BR", 38),
            ("AS", 33),
            ("AR", 20),
            ("AP", 2),
            ("AN", 1),
        ] {
            assert_eq!(size(state), n, "{state}");
        }
        assert_eq!(FOREIGN_MISSIONS.len(), 41);
    }

    /// Warden's own plate cases: Presidio's zero look-aheads, and diplomatic plates.
    #[test]
    fn vehicle_zero_runs_and_diplomatic_plates() {
        for no in ["KA53ME0000", "MN0000", "I00000", "22BH0000AB", "00B123456X"] {
            presidio_case("IN_VEHICLE_REGISTRATION", no, &[], 0.0, 1.0);
        }
        presidio_case("IN_VEHICLE_REGISTRATION", "77CD1234", &[(0, 8)], 1.0, 1.0);
        presidio_case("IN_VEHICLE_REGISTRATION", "99UN1234", &[(0, 8)], 1.0, 1.0);
        presidio_case("IN_VEHICLE_REGISTRATION", "83CD1234", &[(0, 8)], 0.4, 0.4);
        presidio_case(
            "IN_VEHICLE_REGISTRATION",
            "22BH1234AB",
            &[(0, 10)],
            0.85,
            0.85,
        );
        // Off by default, like the passport, voter and PAN types.
        assert!(by_default("plate KA53ME3456, PAN ABCPD1234Z, voter KSD1287349").is_empty());
    }
}
