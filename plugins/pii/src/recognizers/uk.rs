//! Recognizers for the United Kingdom (ported from Presidio's predefined recognizers).

use super::{Check, Pat, Spec};
use crate::entity::{EntityType, Kind};

/// This module's recognizers.
pub(crate) const SPECS: &[&Spec] = &[&NHS];

/// NHS number: ten digits, mod 11 over weights 10..1 (Presidio `NhsRecognizer`).
static NHS: Spec = Spec {
    entity: EntityType::named("UK_NHS"),
    country: Some("GB"),
    kind: Kind::Pii,
    description: "A National Health Service number (England, Wales, Isle of Man).",
    validation: "NHS mod 11 check digit",
    default_enabled: true,
    patterns: &[Pat {
        name: "NHS (medium)",
        regex: r"\b[0-9]{3}[- ]?[0-9]{3}[- ]?[0-9]{4}\b",
        score: 0.5,
    }],
    context: &[
        "national health service",
        "nhs",
        "health services authority",
        "health authority",
    ],
    validate: Some(nhs),
    around: None,
};

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

#[cfg(test)]
mod tests {
    use crate::tests::presidio_case;

    /// Presidio's `test_uk_nhs_recognizer.py` cases: (text, expected spans, score range).
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
    }
}
