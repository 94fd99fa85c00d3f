//! {{NAME}}: a Warden PII detector. It finds employee ids such as `EMP-123456`; replace the
//! logic with your own.

use warden_sdk::Error;
use warden_sdk::context::ContextScorer;
use warden_sdk::pii::{DetectOptions, DetectorInfo, Finding, PiiDetector};
use warden_sdk::span::{Span, resolve_overlaps};

/// The detector.
pub struct Detector;

impl PiiDetector for Detector {
    fn describe() -> DetectorInfo {
        DetectorInfo::new("{{NAME}}", env!("CARGO_PKG_VERSION"), ["EMPLOYEE_ID"])
    }

    fn detect(text: &str, options: &DetectOptions) -> Result<Vec<Finding>, Error> {
        let cues = ContextScorer::new(["employee", "staff"], 30, 0.2);
        let mut found = Vec::new();
        if options.wants("EMPLOYEE_ID") {
            for (at, _) in text.match_indices("EMP-") {
                let digits = text[at + 4..].bytes().take_while(u8::is_ascii_digit).count();
                let span = Span::new(at, at + 4 + digits);
                if digits == 6 && span.is_whole_word(text) {
                    let score = cues.score(text, span, 0.7);
                    found.push(Finding::new("EMPLOYEE_ID", span.start, span.end, score)
                        .explained("EMP- followed by six digits"));
                }
            }
        }
        found.retain(|f| options.keeps(f.score));
        Ok(resolve_overlaps(found))
    }
}

warden_sdk::export_pii_detector!(Detector);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_employee_ids() {
        let text = "Ask employee EMP-123456, not EMP-12 or XEMP-123456.";
        let found = Detector::detect(text, &DetectOptions::default()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].start..found[0].end], "EMP-123456");
        assert!(found[0].score > 0.8);
    }
}
