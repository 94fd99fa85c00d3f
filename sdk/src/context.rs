//! Context-word scoring: a number near "IRD" or "tax number" is far more likely to be one than
//! the same digits near "order". Detectors raise a pattern's base score when cue words occur
//! shortly before (or after) the match.

use crate::span::Span;

/// Raises scores when any of its cue words occurs within a window around a span.
#[derive(Debug, Clone)]
pub struct ContextScorer {
    words: Vec<String>,
    window: usize,
    boost: f32,
}

impl ContextScorer {
    /// Cue `words` (matched case-insensitively as whole words), looked for within `window`
    /// bytes before and after a span; a hit adds `boost` to the score (capped at 1.0).
    pub fn new<I, S>(words: I, window: usize, boost: f32) -> ContextScorer
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        ContextScorer {
            words: words
                .into_iter()
                .map(|w| w.as_ref().to_lowercase())
                .collect(),
            window,
            boost,
        }
    }

    /// The first cue word near `span` in `text`, if any.
    pub fn cue<'a>(&'a self, text: &str, span: Span) -> Option<&'a str> {
        let from = span.start.saturating_sub(self.window);
        let to = (span.end + self.window).min(text.len());
        let around = Span::new(from, to).snap(text);
        let before = text.get(around.start..span.start)?.to_lowercase();
        let after = text.get(span.end..around.end)?.to_lowercase();
        self.words
            .iter()
            .find(|w| has_word(&before, w) || has_word(&after, w))
            .map(String::as_str)
    }

    /// `base` raised by the boost when a cue word is near, else `base`.
    pub fn score(&self, text: &str, span: Span, base: f32) -> f32 {
        if self.cue(text, span).is_some() {
            (base + self.boost).min(1.0)
        } else {
            base
        }
    }
}

fn has_word(haystack: &str, word: &str) -> bool {
    haystack
        .match_indices(word)
        .any(|(at, m)| Span::new(at, at + m.len()).is_whole_word(haystack))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cue_words_raise_the_score_only_when_near() {
        let s = ContextScorer::new(["IRD", "tax number"], 24, 0.3);
        let t = "My IRD is 49-091-850 thanks";
        let span = Span::new(10, 20);
        assert_eq!(s.cue(t, span), Some("ird"));
        assert!((s.score(t, span, 0.5) - 0.8).abs() < 1e-6);
        let far = format!("IRD{}49-091-850", " ".repeat(40));
        let span = Span::new(43, 53);
        assert_eq!(s.score(&far, span, 0.5), 0.5);
        // Whole words only: "third" does not contain the cue "ird".
        assert_eq!(s.cue("the third 49-091-850", Span::new(10, 20)), None);
    }
}
