//! Recognizers for Germany, ported from Presidio's `country_specific/germany` recognizers and
//! tightened where the official format allows it (the tax id's digit-repetition rule, the VAT
//! id's check digit, the driving licence's check digit, birth dates in pension numbers).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};
use warden_sdk::checksum::digits;

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[
    &TAX_ID,
    &TAX_NUMBER,
    &ID_CARD,
    &PASSPORT,
    &HEALTH_INSURANCE,
    &SOCIAL_SECURITY,
    &LANR,
    &BSNR,
    &KFZ,
    &PLZ,
    &VAT_ID,
    &HANDELSREGISTER,
    &FUEHRERSCHEIN,
];

/// Steuerliche Identifikationsnummer: eleven digits, the last an ISO 7064 MOD 11,10 check digit
/// (Presidio `DeTaxIdRecognizer`, with the official digit-repetition rule).
static TAX_ID: Spec = Spec {
    entity: EntityType::named("DE_TAX_ID"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German personal tax identification number (Steuer-IdNr, IdNr).",
    validation: "ISO 7064 MOD 11,10 check digit; exactly one digit repeated in the first ten",
    default_enabled: true,
    patterns: &[
        Pat {
            name: "Steuer-IdNr",
            regex: r"\b[1-9][0-9]{10}\b",
            score: 0.5,
        },
        Pat {
            name: "Steuer-IdNr (grouped 2-3-3-3)",
            regex: r"\b[1-9][0-9] [0-9]{3} [0-9]{3} [0-9]{3}\b",
            score: 0.4,
        },
    ],
    context: &[
        "steueridentifikationsnummer",
        "steuer-id",
        "steuerid",
        "steuer id",
        "steuerliche identifikationsnummer",
        "steuerliche identifikation",
        "persönliche identifikationsnummer",
        "persoenliche identifikationsnummer",
        "identifikationsnummer",
        "steuer identifikation",
        "idnr",
        "id-nr",
        "steuer-idnr",
        "steuernummer",
        "bzst",
        "tax id",
        "tax identification number",
        "taxpayer identification number",
        "tin",
    ],
    validate: Some(tax_id),
    around: Some(standalone),
};

/// Steuernummer: the 13-digit ELSTER form or a state's slash-separated form; shape only, since
/// each state has its own check-digit method (Presidio `DeTaxNumberRecognizer`).
static TAX_NUMBER: Spec = Spec {
    entity: EntityType::named("DE_TAX_NUMBER"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German tax number assigned by the local tax office (Steuernummer).",
    validation: "none",
    default_enabled: false,
    patterns: &[
        // Presidio's 13-digit form: a two-digit state code 01-16 and eleven digits.
        Pat {
            name: "Steuernummer (13 digits, state code)",
            regex: r"\b(?:0[1-9]|1[0-6])[0-9]{11}\b",
            score: 0.5,
        },
        // The ELSTER form as issued: four-digit tax office number (state prefix 10, 11, 21-24,
        // 26-28, 30-32, 40, 41, 51-53 or 91-93), a fixed 0, district and serial with check digit.
        Pat {
            name: "Steuernummer (ELSTER FFFF0BBBUUUUP)",
            regex: r"\b(?:1[01]|2[1-46-8]|3[0-2]|4[01]|5[1-3]|9[1-3])[0-9]{2}0[0-9]{8}\b",
            score: 0.5,
        },
        Pat {
            name: "Steuernummer (3/3/5, BY BB MV SL SN ST TH)",
            regex: r"\b[0-9]{3}/[0-9]{3}/[0-9]{5}\b",
            score: 0.4,
        },
        Pat {
            name: "Steuernummer (2/3/4/1, RP)",
            regex: r"\b[0-9]{2}/[0-9]{3}/[0-9]{4}/[0-9]\b",
            score: 0.4,
        },
        Pat {
            name: "Steuernummer (5/5, BW)",
            regex: r"\b[0-9]{5}/[0-9]{5}\b",
            score: 0.3,
        },
        Pat {
            name: "Steuernummer (2-3/3-4/4-5)",
            regex: r"\b[0-9]{2,3}/[0-9]{3,4}/[0-9]{4,5}\b",
            score: 0.2,
        },
    ],
    context: &[
        "steuernummer",
        "steuer-nr",
        "steuer nr",
        "st.-nr",
        "st-nr",
        "stnr",
        "finanzamt",
        "umsatzsteuer",
        "einkommensteuer",
        "körperschaftsteuer",
        "koerperschaftsteuer",
        "gewerbesteuer",
        "steuerveranlagung",
        "steuerbescheid",
        "tax number",
        "tax no",
        "tax office",
    ],
    validate: None,
    around: Some(standalone),
};

/// Personalausweis document number: nine characters of the ICAO-restricted set (shape only),
/// or ten as the machine-readable zone prints it, with the ICAO 9303 check digit appended
/// (Presidio `DeIdCardRecognizer`).
static ID_CARD: Spec = Spec {
    entity: EntityType::named("DE_ID_CARD"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German identity card (Personalausweis) document number.",
    validation: "ICAO 9303 check digit when written with it (MRZ form); charset otherwise",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Personalausweisnummer (nPA)",
            regex: r"(?i)\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}[0-9]\b",
            score: 0.4,
        },
        Pat {
            name: "Personalausweisnummer (T + 8 digits)",
            regex: r"(?i)\bT[0-9]{8}\b",
            score: 0.5,
        },
        Pat {
            name: "Personalausweisnummer (MRZ, with check digit)",
            regex: r"\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}[0-9]",
            score: 0.4,
        },
    ],
    context: &[
        "personalausweis",
        "ausweis",
        "personalausweisnummer",
        "ausweisnummer",
        "ausweis-nr",
        "ausweisdokument",
        "dokumentennummer",
        "seriennummer",
        "npa",
        "neuer personalausweis",
        "personalausweisgesetz",
        "pauswg",
        "pauwsg",
        "bundespersonalausweis",
        "identity card",
        "id card",
        "national id",
        "document number",
    ],
    validate: Some(id_document),
    around: Some(document_around),
};

/// Reisepass document number: as [`ID_CARD`], the nine-character number or the MRZ form with
/// its check digit (Presidio `DePassportRecognizer`).
static PASSPORT: Spec = Spec {
    entity: EntityType::named("DE_PASSPORT"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German passport (Reisepass) document number.",
    validation: "ICAO 9303 check digit when written with it (MRZ form); charset otherwise",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Reisepassnummer (ICAO charset)",
            regex: r"(?i)\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{7}[0-9]\b",
            score: 0.4,
        },
        Pat {
            name: "Reisepassnummer (MRZ, with check digit)",
            regex: r"\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}[0-9]",
            score: 0.4,
        },
    ],
    context: &[
        "reisepass",
        "pass",
        "passnummer",
        "reisepassnummer",
        "passport",
        "passport number",
        "passport no",
        "pass-nr",
        "pass nr",
        "dokumentennummer",
        "bundesrepublik deutschland",
        "ausweisdokument",
        "mrz",
    ],
    validate: Some(id_document),
    around: Some(document_around),
};

/// Krankenversichertennummer: a letter and nine digits, the last the § 290 SGB V check digit
/// (Presidio `DeHealthInsuranceRecognizer`).
static HEALTH_INSURANCE: Spec = Spec {
    entity: EntityType::named("DE_HEALTH_INSURANCE"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German statutory health insurance number (Krankenversichertennummer, KVNR).",
    validation: "§ 290 SGB V check digit (alternating 1-2 weights, digit sums, mod 10)",
    default_enabled: true,
    patterns: &[Pat {
        name: "KVNR (letter + 9 digits)",
        regex: r"(?i)\b[A-Z][0-9]{9}\b",
        score: 0.3,
    }],
    context: &[
        "krankenversicherungsnummer",
        "krankenversichertennummer",
        "versichertennummer",
        "versicherten-nr",
        "kvnr",
        "krankenkasse",
        "krankenversicherung",
        "gesundheitskarte",
        "egk",
        "elektronische gesundheitskarte",
        "gkv",
        "gesetzliche krankenversicherung",
        "krankenversicherungsausweis",
        "versichertenausweis",
        "versichertenkarte",
        "aok",
        "tk",
        "tkk",
        "techniker krankenkasse",
        "barmer",
        "dak",
        "health insurance",
        "health insurance number",
        "insurance number",
        "health card",
    ],
    validate: Some(health_insurance),
    around: Some(standalone),
};

/// Rentenversicherungsnummer: area, birth date, surname initial, serial and check digit
/// (Presidio `DeSocialSecurityRecognizer`; also the spaced form the insurance card prints).
static SOCIAL_SECURITY: Spec = Spec {
    entity: EntityType::named("DE_SOCIAL_SECURITY"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German pension insurance number (Rentenversicherungsnummer, SV-Nummer).",
    validation: "birth date (day, or day + 50, valid for the month) and VKVV § 4 check digit",
    default_enabled: true,
    patterns: &[
        Pat {
            name: "Rentenversicherungsnummer",
            regex: r"(?i)\b[0-9]{8}[A-Z][0-9]{3}\b",
            score: 0.5,
        },
        Pat {
            name: "Rentenversicherungsnummer (spaced 2 6 1 3)",
            regex: r"(?i)\b[0-9]{2} [0-9]{6} [A-Z] ?[0-9]{3}\b",
            score: 0.5,
        },
    ],
    context: &[
        "rentenversicherungsnummer",
        "sozialversicherungsnummer",
        "versicherungsnummer",
        "rvnr",
        "svnr",
        "sv-nummer",
        "sv nummer",
        "rente",
        "rentenversicherung",
        "deutsche rentenversicherung",
        "drv",
        "sozialversicherung",
        "sozialversicherungsausweis",
        "rentenausweis",
        "social security",
        "social security number",
        "social insurance number",
        "pension insurance",
    ],
    validate: Some(social_security),
    around: Some(standalone),
};

/// Lebenslange Arztnummer: nine digits, the seventh a check digit over the first six with
/// weights 4 and 9 (Presidio `DeLanrRecognizer`).
static LANR: Spec = Spec {
    entity: EntityType::named("DE_LANR"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German lifelong physician number (Lebenslange Arztnummer, LANR).",
    validation: "KBV check digit (weights 4 9 4 9 4 9, mod 10) at the seventh place",
    default_enabled: false,
    patterns: &[Pat {
        name: "LANR (9 digits)",
        regex: r"\b[0-9]{9}\b",
        score: 0.3,
    }],
    context: &[
        "arztnummer",
        "lanr",
        "lebenslange arztnummer",
        "arzt-nr",
        "arzt nr",
        "arzt-nummer",
        "vertragsarzt",
        "kassenarzt",
        "niedergelassener arzt",
        "kbv",
        "kassenärztliche vereinigung",
        "kassenaerztliche vereinigung",
        "kv-nummer",
        "rezept",
        "verschreibung",
        "behandelnder arzt",
        "hausarzt",
        "facharzt",
        "physician number",
        "doctor number",
        "prescription",
    ],
    validate: Some(lanr),
    around: Some(standalone),
};

/// Betriebsstättennummer: nine digits with no public check digit, so only an all-zero number
/// is rejected (Presidio `DeBsnrRecognizer`).
static BSNR: Spec = Spec {
    entity: EntityType::named("DE_BSNR"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German medical practice site number (Betriebsstättennummer, BSNR).",
    validation: "none (not all zeros)",
    default_enabled: false,
    patterns: &[Pat {
        name: "BSNR (9 digits)",
        regex: r"\b[0-9]{9}\b",
        score: 0.2,
    }],
    context: &[
        "betriebsstättennummer",
        "betriebsstaettennummer",
        "betriebsstätten-nummer",
        "betriebsstaetten-nummer",
        "bsnr",
        "betriebsstätte",
        "betriebsstaette",
        "praxisnummer",
        "arztpraxis",
        "praxis",
        "kassenärztliche vereinigung",
        "kassenaerztliche vereinigung",
        "kv-nummer",
        "kv nummer",
        "praxisadresse",
        "praxisstandort",
        "nebenbetriebsstätte",
        "nebenbetriebsstaette",
        "hauptbetriebsstätte",
        "hauptbetriebsstaette",
        "behandlungsort",
        "vertragsarztpraxis",
        "practice number",
        "medical practice",
    ],
    validate: Some(bsnr),
    around: Some(standalone),
};

/// Kfz-Kennzeichen: district code, one or two letters and a number 1-9999 with an optional E
/// or H suffix, separated by spaces or hyphens (Presidio `DeKfzRecognizer`).
static KFZ: Spec = Spec {
    entity: EntityType::named("DE_KFZ"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German vehicle registration plate (Kfz-Kennzeichen).",
    validation: "none (shape; the number has no leading zero)",
    default_enabled: false,
    // Upper case only, unlike Presidio: written plates are upper case, and lower-case words
    // followed by a number ("in an 2024") are not plates.
    patterns: &[Pat {
        name: "Kfz-Kennzeichen",
        regex: r"(?:[A-Z]|Ä|Ö|Ü){1,3}(?: [A-Z]{1,2} |-[A-Z]{1,2}[- ])[1-9][0-9]{0,3}[EH]?",
        score: 0.3,
    }],
    context: &[
        "kennzeichen",
        "kfz-kennzeichen",
        "kraftfahrzeugkennzeichen",
        "nummernschild",
        "fahrzeugkennzeichen",
        "zulassung",
        "kfz",
        "fahrzeug",
        "auto",
        "pkw",
        "lkw",
        "fahrzeugschein",
        "fahrzeugbrief",
        "zulassungsbescheinigung",
        "amtliches kennzeichen",
        "license plate",
        "licence plate",
        "number plate",
        "registration plate",
        "vehicle",
        "car",
    ],
    validate: None,
    around: Some(plate_around),
};

/// Postleitzahl: five digits 01001-99998; shape only and very weak without context (Presidio
/// `DePlzRecognizer`).
static PLZ: Spec = Spec {
    entity: EntityType::named("DE_PLZ"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German postcode (Postleitzahl).",
    validation: "range 01001-99998",
    default_enabled: false,
    patterns: &[Pat {
        name: "Postleitzahl",
        regex: r"\b[0-9]{5}\b",
        score: 0.05,
    }],
    context: &[
        "plz",
        "postleitzahl",
        "postanschrift",
        "adresse",
        "anschrift",
        "wohnort",
        "ort",
        "wohnanschrift",
        "lieferadresse",
        "rechnungsadresse",
        "straße",
        "strasse",
        "hausnummer",
        "postfach",
        "bundesland",
        "gemeinde",
        "stadt",
        "dorf",
        "postcode",
        "postal code",
        "zip",
        "zip code",
        "address",
    ],
    validate: Some(plz),
    around: Some(standalone),
};

/// Umsatzsteuer-Identifikationsnummer: `DE` and nine digits, the last an ISO 7064 MOD 11,10
/// check digit (Presidio `DeVatIdRecognizer` in its strict mode).
static VAT_ID: Spec = Spec {
    entity: EntityType::named("DE_VAT_ID"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German VAT identification number (USt-IdNr).",
    validation: "ISO 7064 MOD 11,10 check digit",
    default_enabled: true,
    patterns: &[
        Pat {
            name: "USt-IdNr (DE + 9 digits)",
            regex: r"\b(?:DE|de)[0-9]{9}\b",
            score: 0.5,
        },
        // Upper-case `DE` only when separated: "de 123 456 789" is Spanish or French prose.
        Pat {
            name: "USt-IdNr (with separators)",
            regex: r"\bDE[ .-]?[0-9]{3}[ .-]?[0-9]{3}[ .-]?[0-9]{3}\b",
            score: 0.4,
        },
    ],
    context: &[
        "umsatzsteuer-identifikationsnummer",
        "umsatzsteueridentifikationsnummer",
        "ust-idnr",
        "ust-id",
        "ust id",
        "ustidnr",
        "ust-id-nr",
        "umsatzsteuer-id",
        "mehrwertsteuer",
        "vat",
        "vat-id",
        "vat id",
        "vat number",
        "vat no",
        "steueridentifikation",
        "bzst",
        "bundeszentralamt für steuern",
        "bundeszentralamt fuer steuern",
        "finanzamt",
        "invoice",
        "rechnung",
    ],
    validate: Some(vat_id),
    around: Some(standalone),
};

/// Handelsregisternummer: section A or B of the commercial register and up to six digits
/// (Presidio `DeHandelsregisterRecognizer`; also `HR B 1234`).
static HANDELSREGISTER: Spec = Spec {
    entity: EntityType::named("DE_HANDELSREGISTER"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German commercial register number (HRA/HRB, with its register court).",
    validation: "none",
    default_enabled: false,
    patterns: &[Pat {
        name: "Handelsregisternummer HRA/HRB",
        regex: r"(?i)\bHR ?[AB]\s*[0-9]{1,6}\b",
        score: 0.5,
    }],
    context: &[
        "handelsregister",
        "handelsregisternummer",
        "amtsgericht",
        "registergericht",
        "hra",
        "hrb",
        "hr-nummer",
        "registerauszug",
        "handelsregistereintrag",
        "firma",
        "gesellschaft",
        "gmbh",
        "ag",
        "ug",
        "kg",
        "ohg",
        "einzelkaufmann",
        "einzelkauffrau",
        "handelsregisterblattnummer",
        "commercial register",
        "trade register",
        "company register",
        "registration court",
    ],
    validate: None,
    around: Some(standalone),
};

/// Führerscheinnummer: eleven characters; the card licence's authority code, serial, check digit
/// (mod 11, weights 9..1) and issue number, or Presidio's looser two-letter shape
/// (Presidio `DeFuehrerscheinRecognizer`).
static FUEHRERSCHEIN: Spec = Spec {
    entity: EntityType::named("DE_FUEHRERSCHEIN"),
    country: Some("DE"),
    kind: Kind::Pii,
    description: "A German driving licence number (Führerscheinnummer, field 5).",
    validation: "mod 11 check digit (weights 9..1, 10 = X) for card licences; shape otherwise",
    default_enabled: false,
    patterns: &[
        Pat {
            name: "Führerscheinnummer (card, with check digit)",
            regex: r"\b[A-P][0-9]{2}[0-9A-Z]{6}[0-9X][0-9A-Z]\b",
            score: 0.35,
        },
        Pat {
            name: "Führerscheinnummer (2 letters + 8 digits + 1)",
            regex: r"(?i)\b[A-Z]{2}[0-9]{8}[A-Z0-9]\b",
            score: 0.35,
        },
    ],
    context: &[
        "führerscheinnummer",
        "fuehrerscheinnummer",
        "führerschein",
        "fuehrerschein",
        "führerschein-nr",
        "fuehrerschein-nr",
        "fahrerlaubnis",
        "fahrerlaubnisnummer",
        "fahrerlaubnisklasse",
        "führerscheininhaber",
        "fuehrerscheininhaber",
        "fev",
        "kba",
        "kraftfahrt-bundesamt",
        "driving licence",
        "driving license",
        "driver's license",
        "drivers license",
        "driver license",
        "licence number",
        "license number",
        "dokument nr",
        "dokument-nr",
        "feld 5",
    ],
    validate: Some(fuehrerschein),
    around: Some(standalone),
};

/// Whether `c` counts as part of a word, as Python's Unicode `\w` does.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `text[s..e]` is not glued to a letter, digit or `_` on either side (Presidio's
/// Unicode `\b`; the patterns' ASCII `\b` misses letters such as `ü`).
fn standalone(text: &str, s: usize, e: usize) -> bool {
    !text[..s].chars().next_back().is_some_and(is_word)
        && !text[e..].chars().next().is_some_and(is_word)
}

/// A document number stands alone, or (passport MRZ) is followed by the nationality `D<`.
fn document_around(text: &str, s: usize, e: usize) -> bool {
    !text[..s].chars().next_back().is_some_and(is_word)
        && (!text[e..].chars().next().is_some_and(is_word) || text[e..].starts_with("D<"))
}

/// A plate is not preceded by a word character or `-` (Presidio's `(?<![\w-])`) and not
/// followed by a word character.
fn plate_around(text: &str, s: usize, e: usize) -> bool {
    !text[..s]
        .chars()
        .next_back()
        .is_some_and(|c| is_word(c) || c == '-')
        && !text[e..].chars().next().is_some_and(is_word)
}

/// The ISO 7064 MOD 11,10 check digit of `body` (digit values 0-9).
fn iso7064_mod11_10(body: &[u8]) -> u8 {
    let mut product = 10u32;
    for &x in body {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    // `product` is 1..=10 here, so the difference is 1..=10; 10 is written 0.
    ((11 - product) % 10) as u8
}

/// Steuer-IdNr: first digit not 0; in the first ten exactly one digit occurs twice or three
/// times and every other at most once (the BZSt rule; Presidio only caps repetitions at three);
/// the eleventh is the MOD 11,10 check digit.
fn tax_id(m: &str) -> Check {
    let Some(d) = digits(m) else {
        return Check::Invalid;
    };
    if d.len() != 11 || d[0] == 0 {
        return Check::Invalid;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[usize::from(x)] += 1;
    }
    let mut repeated = counts.iter().filter(|&&c| c > 1);
    let one_repeat = matches!(repeated.next(), Some(2 | 3)) && repeated.next().is_none();
    Check::from(one_repeat && iso7064_mod11_10(&d[..10]) == d[10])
}

/// The ICAO 9303 value of an MRZ character: digits as is, letters A=10 .. Z=35, `<` = 0.
fn icao_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// The ICAO 9303 check digit of `data` (weights 7, 3, 1), `None` for a character outside the
/// MRZ set.
fn icao_check(data: &[u8]) -> Option<u32> {
    let mut sum = 0u32;
    for (i, &b) in data.iter().enumerate() {
        sum += icao_value(b)? * [7, 3, 1][i % 3];
    }
    Some(sum % 10)
}

/// German identity card and passport numbers. The printed number has nine characters and no
/// check digit of its own (Presidio wrongly treats the ninth as one, so it drops the specimen
/// `L01X00T47`): shape only. Written as the MRZ does, with the ICAO check digit appended (ten
/// characters), the check digit decides.
fn id_document(m: &str) -> Check {
    let up = m.to_ascii_uppercase();
    let b = up.as_bytes();
    let charset = |c: &u8| c.is_ascii_digit() || b"CFGHJKLMNPRTVWXYZ".contains(c);
    let shape = matches!(b.len(), 9 | 10)
        && b"CFGHJKLMNPRTVWXYZ".contains(&b[0])
        && b.iter().all(charset)
        && b[b.len() - 1].is_ascii_digit();
    if !shape {
        return Check::Invalid;
    }
    match b.len() {
        9 => Check::Unknown,
        10 => match (icao_check(&b[..9]), b[9]) {
            (Some(c), last @ b'0'..=b'9') => Check::from(c == u32::from(last - b'0')),
            _ => Check::Invalid,
        },
        _ => Check::Invalid,
    }
}

/// KVNR: the letter becomes two digits (A=01 .. Z=26), followed by the eight data digits;
/// weights 1, 2 alternate, two-digit products are replaced by their digit sum, and the sum
/// mod 10 is the tenth character.
fn health_insurance(m: &str) -> Check {
    let b = m.as_bytes();
    if b.len() != 10 || !b[0].is_ascii_alphabetic() || !b[1..].iter().all(u8::is_ascii_digit) {
        return Check::Invalid;
    }
    let letter = u32::from(b[0].to_ascii_uppercase() - b'A') + 1;
    let mut eff = vec![letter / 10, letter % 10];
    eff.extend(b[1..9].iter().map(|&c| u32::from(c - b'0')));
    let sum: u32 = eff
        .iter()
        .zip([1, 2].iter().cycle())
        .map(|(&x, &w)| cross_sum(x * w))
        .sum();
    Check::from(sum % 10 == u32::from(b[9] - b'0'))
}

/// The digit sum of a product below 100.
fn cross_sum(p: u32) -> u32 {
    p / 10 + p % 10
}

/// Rentenversicherungsnummer: a real birth day (01-31, or 51-81 with the +50 marker, within
/// the month's length; Presidio checks the ranges only) and month, then the VKVV check digit:
/// the letter becomes two digits, weights 2 1 2 5 7 1 2 1 2 1 2 1, digit sums, mod 10.
fn social_security(m: &str) -> Check {
    let up: Vec<u8> = m
        .bytes()
        .filter(|&b| b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if up.len() != 12
        || !up[..8].iter().all(u8::is_ascii_digit)
        || !up[8].is_ascii_uppercase()
        || !up[9..].iter().all(u8::is_ascii_digit)
    {
        return Check::Invalid;
    }
    let num = |i: usize| u32::from(up[i] - b'0') * 10 + u32::from(up[i + 1] - b'0');
    let (day, month) = (num(2), num(4));
    let day = if day > 50 { day - 50 } else { day };
    let max_day = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // The century is not written, so 29 February is allowed in every year.
        2 => 29,
        _ => return Check::Invalid,
    };
    if day == 0 || day > max_day {
        return Check::Invalid;
    }
    let letter = u32::from(up[8] - b'A') + 1;
    let mut eff: Vec<u32> = up[..8].iter().map(|&c| u32::from(c - b'0')).collect();
    eff.extend([letter / 10, letter % 10]);
    eff.extend(up[9..11].iter().map(|&c| u32::from(c - b'0')));
    let sum: u32 = eff
        .iter()
        .zip([2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1])
        .map(|(&x, w)| cross_sum(x * w))
        .sum();
    Check::from(sum % 10 == u32::from(up[11] - b'0'))
}

/// LANR: the seventh digit is (10 - sum mod 10) mod 10 of the first six weighted 4, 9, 4, 9, 4, 9.
fn lanr(m: &str) -> Check {
    let Some(d) = digits(m) else {
        return Check::Invalid;
    };
    if d.len() != 9 {
        return Check::Invalid;
    }
    let sum: u32 = d[..6]
        .iter()
        .zip([4, 9, 4, 9, 4, 9])
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    Check::from((10 - sum % 10) % 10 == u32::from(d[6]))
}

/// BSNR: no public check digit; only the all-zero number is rejected.
fn bsnr(m: &str) -> Check {
    if m.len() != 9 || !m.bytes().all(|b| b.is_ascii_digit()) || m.bytes().all(|b| b == b'0') {
        Check::Invalid
    } else {
        Check::Unknown
    }
}

/// PLZ: 01001-99998 (Presidio's range; no postcode starts with 00).
fn plz(m: &str) -> Check {
    if m.starts_with("00") || m == "01000" || m == "99999" {
        Check::Invalid
    } else {
        Check::Unknown
    }
}

/// USt-IdNr: `DE` and nine digits after dropping separators; the ninth is the MOD 11,10 check
/// digit of the first eight. A failing check drops the match (Presidio keeps it unless strict).
fn vat_id(m: &str) -> Check {
    let Some(rest) = m.get(2..) else {
        return Check::Invalid;
    };
    if !m[..2].eq_ignore_ascii_case("DE") {
        return Check::Invalid;
    }
    match digits(rest) {
        Some(d) if d.len() == 9 => Check::from(iso7064_mod11_10(&d[..8]) == d[8]),
        _ => Check::Invalid,
    }
}

/// Führerscheinnummer. A card licence (letter A-P for the state, two digits) carries a check
/// digit at the tenth place: the first nine characters (A=10 .. Z=35) weighted 9..1, mod 11,
/// 10 written `X`. Presidio's two-letter shape has no known check: kept at its score.
fn fuehrerschein(m: &str) -> Check {
    let b = m.as_bytes();
    if b.len() != 11 {
        return Check::Invalid;
    }
    if !b[1].is_ascii_digit() {
        return Check::Unknown;
    }
    let mut sum = 0u32;
    for (&c, w) in b[..9].iter().zip((1..=9).rev()) {
        let Some(v) = icao_value(c) else {
            return Check::Invalid;
        };
        sum += v * w;
    }
    let expected = match sum % 11 {
        10 => b'X',
        r => b'0' + r as u8,
    };
    Check::from(b[9] == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::presidio_case;

    /// The byte span of the first `needle` in `text`.
    fn at(text: &str, needle: &str) -> (usize, usize) {
        let s = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {text}"));
        (s, s + needle.len())
    }

    /// Presidio's `test_de_tax_id_recognizer.py` cases (analyze and validate_result).
    #[test]
    fn presidio_tax_id_cases() {
        // Warden differs: the first ten digits of these have no repeated digit, which the BZSt
        // rule requires (exactly one digit twice or three times), so they are not tax ids.
        for text in [
            "12345678903",
            "98765432106",
            "Meine Steuer-ID: 12345678903.",
            "IdNr. 98765432106 liegt vor.",
        ] {
            presidio_case("DE_TAX_ID", text, &[], 0.0, 1.0);
        }
        for text in [
            "12345678901",
            "98765432100",
            "02345678901",
            "1234567890",
            "123456789030",
            "11111111111",
            "11112345678",
            "02345678903",
            "abcdefghijk",
            "12222234567",
        ] {
            presidio_case("DE_TAX_ID", text, &[], 0.0, 1.0);
        }
        // Presidio's valid examples rebuilt so the BZSt rule holds (one repeated digit).
        for (text, span) in [
            ("86095742719", (0, 11)),
            ("36574261809", (0, 11)),
            ("Meine Steuer-ID: 86095742719.", (17, 28)),
            ("IdNr. 36574261809 liegt vor.", (6, 17)),
        ] {
            presidio_case("DE_TAX_ID", text, &[span], 1.0, 1.0);
        }
    }

    /// Warden's own: grouped form, hard negatives and a failing check digit.
    #[test]
    fn tax_id_own_cases() {
        presidio_case("DE_TAX_ID", "IdNr 86 095 742 719", &[(5, 19)], 1.0, 1.0);
        presidio_case("DE_TAX_ID", "IdNr 86095742718", &[], 0.0, 1.0);
        // Three times the same digit is allowed, four times (or two digits repeated) is not.
        let with_check = |body: &str| {
            let d = digits(body).unwrap_or_default();
            format!("{body}{}", iso7064_mod11_10(&d))
        };
        assert_eq!(tax_id(&with_check("1112345678")), Check::Valid);
        assert_eq!(tax_id(&with_check("1111234567")), Check::Invalid);
        assert_eq!(tax_id(&with_check("1122345678")), Check::Invalid);
    }

    /// Presidio's `test_de_tax_number_recognizer.py` cases (counts only; spans are the number).
    #[test]
    fn presidio_tax_number_cases() {
        for (text, value) in [
            ("0281508150123", Some("0281508150123")),
            ("0981508150999", Some("0981508150999")),
            ("1681508150001", Some("1681508150001")),
            ("0181508150000", Some("0181508150000")),
            ("1781508150001", None),
            ("0081508150001", None),
            ("028150815012", None),
            ("123/456/78901", Some("123/456/78901")),
            ("987/654/32100", Some("987/654/32100")),
            ("12/345/6789", Some("12/345/6789")),
            ("12/3456/7890", Some("12/3456/7890")),
            ("123/3456/7890", Some("123/3456/7890")),
            (
                "Steuernummer: 0981508150999 wurde vergeben.",
                Some("0981508150999"),
            ),
            (
                "St.-Nr. 123/456/78901 bitte angeben.",
                Some("123/456/78901"),
            ),
        ] {
            let spans: Vec<_> = value.map(|v| at(text, v)).into_iter().collect();
            presidio_case("DE_TAX_NUMBER", text, &spans, 0.2, 0.85);
        }
    }

    /// Warden's own: the ELSTER form as issued, Rhineland-Palatinate and Baden-Württemberg.
    #[test]
    fn tax_number_own_cases() {
        presidio_case("DE_TAX_NUMBER", "2893081508152", &[(0, 13)], 0.5, 0.5);
        presidio_case(
            "DE_TAX_NUMBER",
            "Steuernummer 22/815/0815/4",
            &[(13, 26)],
            0.75,
            0.75,
        );
        presidio_case("DE_TAX_NUMBER", "93815/08152", &[(0, 11)], 0.3, 0.3);
        // A date is not a tax number.
        presidio_case("DE_TAX_NUMBER", "am 12/03/2024", &[], 0.0, 1.0);
    }

    /// Presidio's `test_de_id_card_recognizer.py` cases.
    #[test]
    fn presidio_id_card_cases() {
        // Warden differs: the nine-character number has no check digit of its own (the specimen
        // card `L01X00T47` has MRZ `L01X00T471`), so these keep the pattern score 0.4 (0.75
        // with a context word) instead of Presidio's 1.0, and the "wrong check digit" ones match.
        for (text, span, lo) in [
            ("L01X00T44", (0, 9), 0.4),
            ("C01234565", (0, 9), 0.4),
            ("CZ6311T03", (0, 9), 0.4),
            ("G00000002", (0, 9), 0.4),
            ("Personalausweis: L01X00T44.", (17, 26), 0.75),
            ("l01x00t44", (0, 9), 0.4),
            ("L01X00T47", (0, 9), 0.4),
            ("C01234567", (0, 9), 0.4),
        ] {
            presidio_case("DE_ID_CARD", text, &[span], lo, lo);
        }
        // As Presidio: the T + 8 digits form at its pattern score (0.85 with "Ausweis").
        for (text, span, lo) in [
            ("T22000129", (0, 9), 0.5),
            ("T00000000", (0, 9), 0.5),
            ("T99999999", (0, 9), 0.5),
            ("Ausweis Nr. T22000129 gültig bis 2025.", (12, 21), 0.85),
            ("t22000129", (0, 9), 0.5),
        ] {
            presidio_case("DE_ID_CARD", text, &[span], lo, lo);
        }
        for text in [
            "T2200012",
            "T220001290",
            "123456789",
            "L01X00T4",
            "L01X00T440",
        ] {
            presidio_case("DE_ID_CARD", text, &[], 0.0, 1.0);
        }
    }

    /// Warden's own: the MRZ forms of the specimen cards, with and without a valid check digit.
    #[test]
    fn id_card_mrz_cases() {
        presidio_case("DE_ID_CARD", "L01X00T471", &[(0, 10)], 1.0, 1.0);
        presidio_case(
            "DE_ID_CARD",
            "IDD<<L01X00T471<<<<<<<<<<<<<<<",
            &[(5, 15)],
            1.0,
            1.0,
        );
        presidio_case(
            "DE_ID_CARD",
            "IDD<<T220001293<<<<<<<<<<<<<<<",
            &[(5, 15)],
            1.0,
            1.0,
        );
        presidio_case("DE_ID_CARD", "L01X00T472", &[], 0.0, 1.0);
        // Letters outside the ICAO set (vowels, B D Q S) do not start a number.
        presidio_case("DE_ID_CARD", "A01234567", &[], 0.0, 1.0);
    }

    /// Presidio's `test_de_passport_recognizer.py` cases.
    #[test]
    fn presidio_passport_cases() {
        // As Presidio, but at the pattern score (0.4; 0.75 with a context word): the printed
        // number has no check digit of its own.
        for (text, span, lo) in [
            ("C01234565", (0, 9), 0.4),
            ("F12345671", (0, 9), 0.4),
            ("L01X00T44", (0, 9), 0.4),
            ("CZ6311T03", (0, 9), 0.4),
            ("G00000002", (0, 9), 0.4),
            ("C01X00T41", (0, 9), 0.4),
            (
                "Reisepass C01234565 ausgestellt am 01.01.2020.",
                (10, 19),
                0.75,
            ),
            ("Pass-Nr.: F12345671", (10, 19), 0.75),
            ("c01234565", (0, 9), 0.4),
            // Warden differs: Presidio drops these for a check digit they do not have.
            ("C01234567", (0, 9), 0.4),
            ("F12345678", (0, 9), 0.4),
            ("L01X00T47", (0, 9), 0.4),
        ] {
            presidio_case("DE_PASSPORT", text, &[span], lo, lo);
        }
        for text in [
            "C0123456",
            "C012345678",
            "901234567",
            "A01234567",
            "IOQSUBDE1",
        ] {
            presidio_case("DE_PASSPORT", text, &[], 0.0, 1.0);
        }
    }

    /// Warden's own: the specimen passport's MRZ line, the number followed by nationality `D`.
    #[test]
    fn passport_mrz_cases() {
        let line = "C01X00T478D<<6408125F2702283<<<<<<<<<<<<<<<4";
        presidio_case("DE_PASSPORT", line, &[(0, 10)], 1.0, 1.0);
        presidio_case("DE_PASSPORT", "C01X00T479D<<", &[], 0.0, 1.0);
    }

    /// Presidio's `test_de_health_insurance_recognizer.py` cases.
    #[test]
    fn presidio_health_insurance_cases() {
        for (text, span) in [
            ("A000500015", (0, 10)),
            ("C000500021", (0, 10)),
            ("A123456780", (0, 10)),
            ("M123456785", (0, 10)),
            ("B123456782", (0, 10)),
            ("Z000000005", (0, 10)),
            ("Z999999997", (0, 10)),
            ("Krankenkasse KVNR: A123456780", (19, 29)),
            ("eGK-Nummer M123456785 bitte angeben.", (11, 21)),
            ("a123456780", (0, 10)),
        ] {
            presidio_case("DE_HEALTH_INSURANCE", text, &[span], 1.0, 1.0);
        }
        for text in [
            "A123456787",
            "M123456789",
            "1123456780",
            "A12345678",
            "A1234567890",
            "A000500010",
        ] {
            presidio_case("DE_HEALTH_INSURANCE", text, &[], 0.0, 1.0);
        }
    }

    /// Presidio's `test_de_social_security_recognizer.py` cases.
    #[test]
    fn presidio_social_security_cases() {
        for (text, span) in [
            ("15070649C103", (0, 12)),
            ("65070803A019", (0, 12)),
            ("20151090B023", (0, 12)),
            ("38551285K051", (0, 12)),
            (
                "RVNR: 15070649C103 laut Sozialversicherungsausweis.",
                (6, 18),
            ),
        ] {
            presidio_case("DE_SOCIAL_SECURITY", text, &[span], 1.0, 1.0);
        }
        for text in [
            "15070649C100",
            "65070803A012",
            "15070049C103",
            "15071349C103",
            "150706491103",
            "15070649C10",
            "15070649C1030",
            "65070803A018",
            "15420649C103",
            "15850649C103",
        ] {
            presidio_case("DE_SOCIAL_SECURITY", text, &[], 0.0, 1.0);
        }
    }

    /// Warden's own: the spaced form, and a checksum-valid number on 31 June.
    #[test]
    fn social_security_own_cases() {
        presidio_case(
            "DE_SOCIAL_SECURITY",
            "SV-Nr. 15 070649 C 103",
            &[(7, 22)],
            1.0,
            1.0,
        );
        presidio_case("DE_SOCIAL_SECURITY", "15 070649 C103", &[(0, 14)], 1.0, 1.0);
        assert_eq!(social_security("15310649C103"), Check::Invalid);
        assert_eq!(social_security("15300249C103"), Check::Invalid);
    }

    /// Presidio's `test_de_lanr_recognizer.py` cases.
    #[test]
    fn presidio_lanr_cases() {
        for (text, span) in [
            ("123456601", (0, 9)),
            ("234567701", (0, 9)),
            ("100000601", (0, 9)),
            ("987654401", (0, 9)),
            ("555555501", (0, 9)),
            ("999999901", (0, 9)),
            ("LANR: 123456601 des behandelnden Arztes.", (6, 15)),
            ("Arztnummer 987654401 auf dem Rezept.", (11, 20)),
        ] {
            presidio_case("DE_LANR", text, &[span], 1.0, 1.0);
        }
        for text in [
            "123456901",
            "234567601",
            "100000401",
            "12345660",
            "1234566010",
            "12345660a",
        ] {
            presidio_case("DE_LANR", text, &[], 0.0, 1.0);
        }
    }

    /// Presidio's `test_de_bsnr_recognizer.py` cases. Presidio tests the recognizer without its
    /// context enhancer; Warden's engine applies context words, so the two texts with one score
    /// 0.55 instead of 0.2.
    #[test]
    fn presidio_bsnr_cases() {
        for (text, span, score) in [
            ("021234568", (0, 9), 0.2),
            ("521234567", (0, 9), 0.2),
            ("711234567", (0, 9), 0.2),
            ("351234567", (0, 9), 0.2),
            ("Betriebsstättennummer: 021234568", (24, 33), 0.55),
            ("BSNR 711234567 der Praxis.", (5, 14), 0.55),
            ("991234567", (0, 9), 0.2),
            ("051234567", (0, 9), 0.2),
            ("741234567", (0, 9), 0.2),
        ] {
            presidio_case("DE_BSNR", text, &[span], score, score);
        }
        for text in ["000000000", "02123456", "0212345689", "02123456A"] {
            presidio_case("DE_BSNR", text, &[], 0.0, 1.0);
        }
    }

    /// Presidio's `test_de_kfz_recognizer.py` cases (counts only; spans are the plate).
    #[test]
    fn presidio_kfz_cases() {
        for (text, value) in [
            ("B AB 1234", Some("B AB 1234")),
            ("M XY 999", Some("M XY 999")),
            ("HH AB 1234", Some("HH AB 1234")),
            ("KA EF 12H", Some("KA EF 12H")),
            ("S AB 12E", Some("S AB 12E")),
            ("MIL E 1234", Some("MIL E 1234")),
            ("MIL EF 1234E", Some("MIL EF 1234E")),
            ("B-AB-1234", Some("B-AB-1234")),
            ("M-XY-999", Some("M-XY-999")),
            ("HH-AB-1234", Some("HH-AB-1234")),
            (
                "Das Fahrzeug mit Kennzeichen B AB 1234 wurde gesehen.",
                Some("B AB 1234"),
            ),
            ("Kennzeichen: HH-AB-1234.", Some("HH-AB-1234")),
            // Warden differs: upper case only (Presidio matches "b ab 1234" and "m xy 999"
            // through its global IGNORECASE); lower-case words before a number are prose.
            ("b ab 1234", None),
            ("m xy 999", None),
            ("BAB1234", None),
            ("B 1234", None),
            ("BXYZ AB 1234", None),
        ] {
            let spans: Vec<_> = value.map(|v| at(text, v)).into_iter().collect();
            presidio_case("DE_KFZ", text, &spans, 0.3, 0.65);
        }
    }

    /// Warden's own: umlaut districts, hyphen and space, and no leading zero.
    #[test]
    fn kfz_own_cases() {
        presidio_case("DE_KFZ", "Auto: MÜ-AB 12", &[(6, 15)], 0.65, 0.65);
        presidio_case("DE_KFZ", "B AB 0123", &[], 0.0, 1.0);
        presidio_case("DE_KFZ", "X-B AB 1234", &[], 0.0, 1.0);
    }

    /// Presidio's `test_de_plz_recognizer.py` cases.
    #[test]
    fn presidio_plz_cases() {
        for (text, value) in [
            ("10115", Some("10115")),
            ("80331", Some("80331")),
            ("22085", Some("22085")),
            ("01001", Some("01001")),
            ("99998", Some("99998")),
            ("PLZ: 10115", Some("10115")),
            ("Postleitzahl 80331 München", Some("80331")),
            ("PLZ 80331", Some("80331")),
            ("00000", None),
            ("01000", None),
            ("99999", None),
            ("101150", None),
            ("1011", None),
        ] {
            let spans: Vec<_> = value.map(|v| at(text, v)).into_iter().collect();
            presidio_case("DE_PLZ", text, &spans, 0.05, 0.4);
        }
    }

    /// Presidio's `test_de_vat_id_recognizer.py` cases.
    #[test]
    fn presidio_vat_id_cases() {
        for (text, value) in [
            ("DE136695976", "DE136695976"),
            ("DE129273398", "DE129273398"),
            ("DE123456788", "DE123456788"),
            ("DE111111117", "DE111111117"),
            ("USt-IdNr.: DE136695976", "DE136695976"),
            (
                "Bitte angeben: DE129273398 auf der Rechnung.",
                "DE129273398",
            ),
            ("de136695976", "de136695976"),
            ("DE 136 695 976", "DE 136 695 976"),
            ("DE 129 273 398", "DE 129 273 398"),
            ("DE 136695976", "DE 136695976"),
            ("DE-136-695-976", "DE-136-695-976"),
            ("DE.136.695.976", "DE.136.695.976"),
            ("DE 136-695.976", "DE 136-695.976"),
            (
                "Rechnung USt-IdNr. DE 136 695 976 von Beispiel GmbH",
                "DE 136 695 976",
            ),
        ] {
            presidio_case("DE_VAT_ID", text, &[at(text, value)], 1.0, 1.0);
        }
        // Warden differs from Presidio's default (heuristic) mode and follows its strict mode: a
        // failing check digit drops the match. And a separated lower-case "de" is prose
        // ("de 136 695 976" is found by Presidio through IGNORECASE).
        for text in [
            "DE123456789",
            "DE987654321",
            "DE100000001",
            "de 136 695 976",
            "AT123456789",
            "FR12345678901",
            "DE12345678",
            "DE1234567890",
        ] {
            presidio_case("DE_VAT_ID", text, &[], 0.0, 1.0);
        }
    }

    /// Presidio's `test_de_handelsregister_recognizer.py` cases (counts only).
    #[test]
    fn presidio_handelsregister_cases() {
        for (text, value) in [
            ("HRB 123456", Some("HRB 123456")),
            ("HRB 1", Some("HRB 1")),
            ("HRB123456", Some("HRB123456")),
            ("HRA 12345", Some("HRA 12345")),
            ("HRA12345", Some("HRA12345")),
            ("Amtsgericht München HRB 12345.", Some("HRB 12345")),
            ("eingetragen im HRA 99999 Köln", Some("HRA 99999")),
            ("Handelsregisternummer: HRB 123456", Some("HRB 123456")),
            ("HRB 999999", Some("HRB 999999")),
            ("HRC 12345", None),
            ("HR 12345", None),
            ("HRB 1234567", None),
            ("hrb 12345", Some("hrb 12345")),
        ] {
            let spans: Vec<_> = value.map(|v| at(text, v)).into_iter().collect();
            presidio_case("DE_HANDELSREGISTER", text, &spans, 0.5, 0.85);
        }
        presidio_case(
            "DE_HANDELSREGISTER",
            "Amtsgericht Charlottenburg HR B 4711",
            &[(27, 36)],
            0.85,
            0.85,
        );
    }

    /// Presidio's `test_de_fuehrerschein_recognizer.py` cases (counts only).
    #[test]
    fn presidio_fuehrerschein_cases() {
        for (text, value) in [
            ("BO12345678A", Some("BO12345678A")),
            ("MU12345678B", Some("MU12345678B")),
            ("HH98765432C", Some("HH98765432C")),
            ("KO12345678X", Some("KO12345678X")),
            ("DO98765432Z", Some("DO98765432Z")),
            ("GE123456780", Some("GE123456780")),
            ("MU123456785", Some("MU123456785")),
            ("Führerscheinnummer: BO12345678A", Some("BO12345678A")),
            (
                "Fahrerlaubnis MU12345678B wurde ausgestellt.",
                Some("MU12345678B"),
            ),
            ("mu12345678b", Some("mu12345678b")),
            ("BO12345678", None),
            ("BO12345678AB", None),
            ("12345678901", None),
            ("B12345678A", None),
        ] {
            let spans: Vec<_> = value.map(|v| at(text, v)).into_iter().collect();
            presidio_case("DE_FUEHRERSCHEIN", text, &spans, 0.35, 0.7);
        }
    }

    /// Warden's own: the specimen card licence `B072RRE2I55` (check digit 5) and a typo.
    #[test]
    fn fuehrerschein_card_cases() {
        presidio_case("DE_FUEHRERSCHEIN", "B072RRE2I55", &[(0, 11)], 1.0, 1.0);
        presidio_case("DE_FUEHRERSCHEIN", "B072RRE2I65", &[], 0.0, 1.0);
    }

    /// Presidio's `validate_result` tables of the German test files (True = Valid, False =
    /// Invalid, None = Unknown), each against the Warden function that plays that part.
    #[test]
    fn presidio_validate_result_cases() {
        use Check::{Invalid, Unknown, Valid};
        type Table = &'static [(&'static str, Check)];
        type Validator = fn(&str) -> Check;
        let tables: [(&str, Validator, Table); 8] = [
            // test_de_tax_id_recognizer.py. Warden differs on the two "valid" numbers: their
            // first ten digits repeat none, which the BZSt rule requires.
            (
                "tax id",
                tax_id,
                &[
                    ("12345678903", Invalid),
                    ("98765432106", Invalid),
                    ("12345678901", Invalid),
                    ("98765432100", Invalid),
                    ("02345678903", Invalid),
                    ("abcdefghijk", Invalid),
                    ("1234567890", Invalid),
                    ("123456789030", Invalid),
                    ("11111111111", Invalid),
                    ("11112345678", Invalid),
                    ("12222234567", Invalid),
                ],
            ),
            // test_de_id_card_recognizer.py. Warden differs on the nPA rows (Presidio: True or
            // False by a check digit the printed number does not have): Unknown, shape only.
            (
                "id card",
                id_document,
                &[
                    ("L01X00T44", Unknown),
                    ("C01234565", Unknown),
                    ("CZ6311T03", Unknown),
                    ("G00000002", Unknown),
                    ("l01x00t44", Unknown),
                    ("L01X00T47", Unknown),
                    ("C01234567", Unknown),
                    ("T22000129", Unknown),
                    ("T00000000", Unknown),
                    ("L01X00T4", Invalid),
                    ("L01X00T440", Invalid),
                    ("L01X00T4A", Invalid),
                ],
            ),
            // test_de_passport_recognizer.py; Warden differs on the nine rows with a check
            // verdict (Unknown), as for the identity card.
            (
                "passport",
                id_document,
                &[
                    ("C01234565", Unknown),
                    ("F12345671", Unknown),
                    ("L01X00T44", Unknown),
                    ("CZ6311T03", Unknown),
                    ("G00000002", Unknown),
                    ("C01X00T41", Unknown),
                    ("c01234565", Unknown),
                    ("C01234567", Unknown),
                    ("L01X00T47", Unknown),
                    ("C0123456", Invalid),
                    ("C012345678", Invalid),
                    ("C0123456A", Invalid),
                    ("A01234567", Invalid),
                    ("IOQSUBDE1", Invalid),
                ],
            ),
            // test_de_health_insurance_recognizer.py, as is.
            (
                "health insurance",
                health_insurance,
                &[
                    ("A000500015", Valid),
                    ("C000500021", Valid),
                    ("A123456780", Valid),
                    ("M123456785", Valid),
                    ("B123456782", Valid),
                    ("Z000000005", Valid),
                    ("Z999999997", Valid),
                    ("A123456787", Invalid),
                    ("M123456789", Invalid),
                    ("A000500010", Invalid),
                    ("1123456780", Invalid),
                    ("A12345678", Invalid),
                    ("A1234567890", Invalid),
                    ("a123456780", Valid),
                ],
            ),
            // test_de_social_security_recognizer.py, as is.
            (
                "social security",
                social_security,
                &[
                    ("15070649C103", Valid),
                    ("65070803A019", Valid),
                    ("20151090B023", Valid),
                    ("38551285K051", Valid),
                    ("15070649C100", Invalid),
                    ("65070803A012", Invalid),
                    ("65070803A018", Invalid),
                    ("150706491103", Invalid),
                    ("15070649C10", Invalid),
                    ("15070649C1030", Invalid),
                    ("15420649C103", Invalid),
                    ("15850649C103", Invalid),
                    ("15070049C103", Invalid),
                    ("15071349C103", Invalid),
                ],
            ),
            // test_de_lanr_recognizer.py, as is.
            (
                "lanr",
                lanr,
                &[
                    ("123456601", Valid),
                    ("234567701", Valid),
                    ("100000601", Valid),
                    ("987654401", Valid),
                    ("555555501", Valid),
                    ("999999901", Valid),
                    ("123456901", Invalid),
                    ("234567601", Invalid),
                    ("100000401", Invalid),
                    ("12345660", Invalid),
                    ("1234566010", Invalid),
                    ("12345660a", Invalid),
                ],
            ),
            // test_de_bsnr_recognizer.py, as is.
            (
                "bsnr",
                bsnr,
                &[
                    ("021234568", Unknown),
                    ("521234567", Unknown),
                    ("711234567", Unknown),
                    ("351234567", Unknown),
                    ("741234567", Unknown),
                    ("991234567", Unknown),
                    ("051234567", Unknown),
                    ("000000000", Invalid),
                    ("02123456", Invalid),
                    ("0212345689", Invalid),
                    ("02123456A", Invalid),
                ],
            ),
            // test_de_vat_id_recognizer.py, default and strict tables. Warden is strict: the
            // three default-mode None rows are Invalid (as in Presidio's strict table).
            (
                "vat id",
                vat_id,
                &[
                    ("DE136695976", Valid),
                    ("DE129273398", Valid),
                    ("DE123456788", Valid),
                    ("DE111111117", Valid),
                    ("de136695976", Valid),
                    ("DE 136 695 976", Valid),
                    ("DE-136-695-976", Valid),
                    ("DE.136.695.976", Valid),
                    ("de 136-695.976", Valid),
                    ("DE12345678", Invalid),
                    ("DE1234567890", Invalid),
                    ("AT123456789", Invalid),
                    ("", Invalid),
                    ("DEabcdefghi", Invalid),
                    ("DE123456789", Invalid),
                    ("DE987654321", Invalid),
                    ("DE100000001", Invalid),
                ],
            ),
        ];
        for (name, f, table) in tables {
            for &(number, expected) in table {
                assert_eq!(f(number), expected, "{name} {number:?}");
            }
        }
    }

    /// Hard negatives: with default options none of this module's types flags order numbers,
    /// dates, versions or hashes.
    #[test]
    fn hard_negatives_stay_clean() {
        for text in [
            "order 12345678901 shipped",
            "invoice 2024-03-22 at 11:43:58",
            "version 10.15.7 build 19H15",
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "ticket A123456789 closed",
            "serial 12345678A123",
            "ref 15070649C100",
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
