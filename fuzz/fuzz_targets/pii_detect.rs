//! The built-in PII detector on arbitrary text: it never panics, and every finding is a valid
//! span (in range, on UTF-8 boundaries, sorted, not overlapping, score finite in [0, 1]) — the
//! rules the host enforces on any detector.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_plugin_pii::{DetectOptions, detect};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let found = detect(text, &DetectOptions::default());
    let mut last_end = 0;
    for f in &found {
        assert!(f.start < f.end && f.end <= text.len(), "{f:?} out of range");
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?}"
        );
        assert!(f.start >= last_end, "overlapping or unsorted: {found:?}");
        assert!(
            f.score.is_finite() && (0.0..=1.0).contains(&f.score),
            "{f:?}"
        );
        last_end = f.end;
    }
});
