//! Spans on UTF-8 byte offsets: what findings are made of, and the fixes every detector needs
//! (snapping to character boundaries, word boundaries, removing overlaps).

/// A half-open byte range `[start, end)` of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First byte (inclusive).
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span; `start` and `end` are swapped if given the wrong way round.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start.min(end),
            end: start.max(end),
        }
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Whether the two share at least one byte.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// The text it covers, if it lies within `text` on character boundaries.
    pub fn slice<'t>(&self, text: &'t str) -> Option<&'t str> {
        text.get(self.start..self.end)
    }

    /// The span widened outwards to the nearest character boundaries, and clamped to `text`.
    pub fn snap(&self, text: &str) -> Span {
        let mut start = self.start.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = self.end.min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        Span { start, end }
    }

    /// Whether the characters just before and just after are not letters or digits, so the span
    /// is a whole word (`12345` in `ID 12345.`, not in `A12345B`).
    pub fn is_whole_word(&self, text: &str) -> bool {
        let before = text.get(..self.start).and_then(|s| s.chars().next_back());
        let after = text.get(self.end..).and_then(|s| s.chars().next());
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    }
}

/// Something with a span and a score (a finding).
pub trait Scored {
    /// Where it is.
    fn span(&self) -> Span;
    /// How sure.
    fn score(&self) -> f32;
}

/// Sorts by start and drops every item that overlaps a higher-scoring one (on equal scores the
/// longer, then the earlier, wins): the shape Warden requires of a detector's findings.
///
/// ```
/// use warden_sdk::pii::Finding;
/// let merged = warden_sdk::span::resolve_overlaps(vec![
///     Finding::new("PHONE", 0, 10, 0.6),
///     Finding::new("ID", 4, 12, 0.9),
///     Finding::new("EMAIL", 20, 30, 0.5),
/// ]);
/// let kinds: Vec<&str> = merged.iter().map(|f| f.entity_type.as_str()).collect();
/// assert_eq!(kinds, ["ID", "EMAIL"]);
/// ```
pub fn resolve_overlaps<T: Scored>(mut items: Vec<T>) -> Vec<T> {
    items.sort_by(|a, b| {
        b.score()
            .total_cmp(&a.score())
            .then(b.span().len().cmp(&a.span().len()))
            .then(a.span().start.cmp(&b.span().start))
    });
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !item.score().is_finite() || item.span().is_empty() {
            continue;
        }
        if kept.iter().all(|k| !k.span().overlaps(&item.span())) {
            kept.push(item);
        }
    }
    kept.sort_by_key(|k| k.span().start);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_widens_to_char_boundaries() {
        let t = "né 123";
        // byte 2 is inside `é`
        assert_eq!(Span::new(2, 3).snap(t), Span::new(1, 3));
        assert_eq!(Span::new(0, 99).snap(t), Span::new(0, t.len()));
    }

    #[test]
    fn whole_words() {
        let t = "ID 12345. A12345B";
        assert!(Span::new(3, 8).is_whole_word(t));
        assert!(!Span::new(11, 16).is_whole_word(t));
    }

    #[test]
    fn overlaps_keep_the_best_and_drop_nan() {
        struct F(Span, f32);
        impl Scored for F {
            fn span(&self) -> Span {
                self.0
            }
            fn score(&self) -> f32 {
                self.1
            }
        }
        let out = resolve_overlaps(vec![
            F(Span::new(0, 5), 0.5),
            F(Span::new(0, 8), 0.5),
            F(Span::new(9, 12), f32::NAN),
        ]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, Span::new(0, 8));
    }
}
