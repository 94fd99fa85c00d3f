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

    /// Whether it is non-empty and lies within `text` on character boundaries: what Warden
    /// requires of every finding, so a detector can drop a bad candidate before it costs the call.
    pub fn fits(&self, text: &str) -> bool {
        self.start < self.end
            && self.end <= text.len()
            && text.is_char_boundary(self.start)
            && text.is_char_boundary(self.end)
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
/// Items with an empty span or a score that is not finite are dropped. Items with equal score,
/// length and start keep their input order, so the first of them wins. O(n log n): the kept
/// spans are disjoint, so only the kept span starting last before an item's end can overlap it.
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
    items.retain(|i| i.score().is_finite() && !i.span().is_empty());
    // Highest score first, then the longer span, then the earlier one (a stable sort).
    items.sort_by(|a, b| {
        b.score()
            .total_cmp(&a.score())
            .then(b.span().len().cmp(&a.span().len()))
            .then(a.span().start.cmp(&b.span().start))
    });
    // Start -> end of every kept span; they never overlap, so ordered by start they are also
    // ordered by end.
    let mut taken: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        let span = item.span();
        let clash = taken
            .range(..span.end)
            .next_back()
            .is_some_and(|(_, &end)| end > span.start);
        if !clash {
            taken.insert(span.start, span.end);
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
    fn fits_needs_a_non_empty_in_bounds_span_on_char_boundaries() {
        let t = "né 123";
        assert!(Span::new(0, t.len()).fits(t));
        assert!(Span::new(4, 7).fits(t));
        assert!(!Span::new(4, 4).fits(t), "empty");
        assert!(!Span::new(4, 8).fits(t), "past the end");
        assert!(!Span::new(0, 2).fits(t), "ends inside `é`");
        assert!(!Span::new(2, 4).fits(t), "starts inside `é`");
        // Built field by field, a reversed span is not silently swapped.
        assert!(!Span { start: 5, end: 4 }.fits(t));
        // Snapping repairs what `fits` refuses (except emptiness).
        assert!(Span::new(2, 4).snap(t).fits(t));
        assert_eq!(Span::new(2, 4).snap(t).slice(t), Some("é "));
    }

    #[test]
    fn whole_words() {
        let t = "ID 12345. A12345B";
        assert!(Span::new(3, 8).is_whole_word(t));
        assert!(!Span::new(11, 16).is_whole_word(t));
    }

    struct F(Span, f32);
    impl Scored for F {
        fn span(&self) -> Span {
            self.0
        }
        fn score(&self) -> f32 {
            self.1
        }
    }

    fn spans(items: &[F]) -> Vec<(usize, usize)> {
        items.iter().map(|f| (f.0.start, f.0.end)).collect()
    }

    #[test]
    fn overlaps_keep_the_best_and_drop_nan() {
        let out = resolve_overlaps(vec![
            F(Span::new(0, 5), 0.5),
            F(Span::new(0, 8), 0.5),
            F(Span::new(9, 12), f32::NAN),
        ]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, Span::new(0, 8));
    }

    #[test]
    fn overlaps_drop_empty_and_infinite_and_keep_touching_spans() {
        let out = resolve_overlaps(vec![
            F(Span::new(3, 3), 0.9),
            F(Span::new(10, 12), f32::INFINITY),
            F(Span::new(0, 4), 0.5),
            F(Span::new(4, 8), 0.5),
            F(Span::new(8, 9), 0.1),
        ]);
        // Half-open spans that only touch do not overlap.
        assert_eq!(spans(&out), [(0, 4), (4, 8), (8, 9)]);
    }

    #[test]
    fn overlaps_tie_breaks_score_then_length_then_start_then_input_order() {
        // A lower score loses to any overlapping higher one, however long.
        let out = resolve_overlaps(vec![F(Span::new(0, 20), 0.4), F(Span::new(5, 6), 0.6)]);
        assert_eq!(spans(&out), [(5, 6)]);
        // Equal scores: the longer wins; equal lengths: the earlier.
        let out = resolve_overlaps(vec![
            F(Span::new(2, 6), 0.7),
            F(Span::new(0, 4), 0.7),
            F(Span::new(3, 9), 0.7),
        ]);
        assert_eq!(spans(&out), [(3, 9)]);
        let out = resolve_overlaps(vec![F(Span::new(2, 6), 0.7), F(Span::new(0, 4), 0.7)]);
        assert_eq!(spans(&out), [(0, 4)]);
        // Identical score and span: the first given wins.
        let out = resolve_overlaps(vec![F(Span::new(1, 3), 0.5), F(Span::new(1, 3), 0.5)]);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn overlaps_check_the_neighbour_on_each_side() {
        // The kept spans around a candidate: one ends inside it, one starts inside it.
        let out = resolve_overlaps(vec![
            F(Span::new(0, 5), 0.9),
            F(Span::new(10, 15), 0.9),
            F(Span::new(4, 11), 0.8),
            F(Span::new(5, 10), 0.7),
            F(Span::new(20, 30), 0.6),
            F(Span::new(25, 26), 0.95),
        ]);
        assert_eq!(spans(&out), [(0, 5), (5, 10), (10, 15), (25, 26)]);
    }

    /// The O(n log n) resolution keeps exactly what the obvious quadratic one keeps.
    #[test]
    fn overlaps_match_the_quadratic_definition() {
        let mut seed = 0x2545_f491_u32;
        let mut next = |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % n
        };
        for _ in 0..200 {
            let items: Vec<(Span, f32)> = (0..40)
                .map(|_| {
                    let start = next(100) as usize;
                    let len = next(12) as usize;
                    (Span::new(start, start + len), next(5) as f32 / 4.0)
                })
                .collect();
            let mut expected: Vec<(Span, f32)> = items
                .iter()
                .copied()
                .filter(|(s, _)| !s.is_empty())
                .collect();
            expected.sort_by(|a, b| {
                b.1.total_cmp(&a.1)
                    .then(b.0.len().cmp(&a.0.len()))
                    .then(a.0.start.cmp(&b.0.start))
            });
            let mut kept: Vec<(Span, f32)> = Vec::new();
            for i in expected {
                if kept.iter().all(|k| !k.0.overlaps(&i.0)) {
                    kept.push(i);
                }
            }
            kept.sort_by_key(|k| k.0.start);
            let got = resolve_overlaps(items.into_iter().map(|(s, v)| F(s, v)).collect());
            let got: Vec<(Span, f32)> = got.into_iter().map(|f| (f.0, f.1)).collect();
            assert_eq!(got, kept);
        }
    }
}
