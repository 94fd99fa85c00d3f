//! A normalised view of the text, so that PII disguised with invisible, format or compatibility
//! characters (`bob\u{200B}@example.com`, a soft hyphen inside a name, `４１１１ １１１１ …`,
//! card groups split by NBSP) is detected like its plain form, with every finding mapped back
//! to the original text's byte offsets.
//!
//! The fold is a hand-written table of specific ranges rather than a crate such as
//! `unicode-normalization` (NFKC), for three reasons:
//! - NFKC does not remove what matters most here: zero-width spaces, soft hyphens, bidi
//!   controls, NUL and the other default-ignorable or control characters survive it untouched.
//! - NFKC folds far more than confusables: `²` becomes `2`, `½` becomes `1⁄2`, `ﬁ` becomes
//!   `fi`. Digits appearing next to numbers, and one character becoming several, would create
//!   false positives and spans that no longer map to one original character each.
//! - This crate carries no Unicode tables so the component stays small; the table below is a
//!   few dozen ranges of code, not hundreds of kilobytes of data.
//!
//! Every character folds to at most one character, so offsets map back monotonically and
//! non-overlapping findings stay non-overlapping.

/// What normalisation does with one character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// Copied unchanged.
    Keep,
    /// Removed: it renders as nothing (or is a control) and only serves to split a value.
    Drop,
    /// Replaced by this ASCII character.
    To(char),
    /// Replaced by `-` when a digit is on both sides, else kept.
    DashBetweenDigits,
}

/// The fold of one character.
fn fold(c: char) -> Fold {
    match c {
        ' '..='~' | '\t' | '\n' | '\r' => Fold::Keep,
        // Vertical tab, form feed, NEL and the Unicode line / paragraph separators break lines
        // (UAX #14 class BK); the name recognizer works line by line, so keep them as breaks.
        '\u{B}' | '\u{C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => Fold::To('\n'),
        // Other C0 and C1 controls (NUL, ESC, …) and DEL have no business inside a value.
        '\0'..='\u{1F}' | '\u{7F}'..='\u{9F}' => Fold::Drop,
        // Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties 15.1): soft hyphen,
        // combining grapheme joiner, Arabic letter mark, Hangul fillers, Khmer inherent vowels,
        // Mongolian free variation selectors and vowel separator, zero-width space / (non-)
        // joiner, LRM / RLM, bidi embeddings and isolates, word joiner and invisible operators,
        // variation selectors, BOM, Hangul half-width filler, unassigned specials, shorthand
        // format controls, musical symbol formatting, tags. Renderers show none of them.
        '\u{AD}'
        | '\u{34F}'
        | '\u{61C}'
        | '\u{115F}'..='\u{1160}'
        | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}' => Fold::Drop,
        // Interlinear annotation controls (category Cf), invisible in plain text.
        '\u{FFF9}'..='\u{FFFB}' => Fold::Drop,
        // Space separators (category Zs): NBSP, Ogham space, en/em/thin/hair/figure spaces,
        // narrow NBSP, medium mathematical space, ideographic space.
        '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            Fold::To(' ')
        }
        // Hyphen, non-breaking hyphen, minus sign, small hyphen-minus: they are hyphens.
        '\u{2010}' | '\u{2011}' | '\u{2212}' | '\u{FE63}' => Fold::To('-'),
        // Figure dash, en dash, em dash, horizontal bar, small em dash: group separators only
        // between digits. Elsewhere they punctuate sentences ("Regards – Dale", "Jane—0414 …"),
        // and a `-` there would hide a sign-off cue or glue onto a number.
        '\u{2012}'..='\u{2015}' | '\u{FE58}' => Fold::DashBetweenDigits,
        '\u{FE6B}' => Fold::To('@'),
        // Small full stop and one dot leader. The ideographic full stop (U+3002) is not folded:
        // it ends CJK sentences without a following space, and a `.` before a number would
        // hide the number from the phone and IP recognizers.
        '\u{FE52}' | '\u{2024}' => Fold::To('.'),
        // Fullwidth ASCII: the block is ASCII shifted by 0xFEE0.
        '\u{FF01}'..='\u{FF5E}' => ascii(u32::from(c) - 0xFEE0),
        // Arabic-Indic, extended Arabic-Indic (Persian, Urdu) and Devanagari digits: real
        // numbers are written with them, not only disguised ones.
        '\u{660}'..='\u{669}' => ascii(u32::from(c) - 0x660 + u32::from(b'0')),
        '\u{6F0}'..='\u{6F9}' => ascii(u32::from(c) - 0x6F0 + u32::from(b'0')),
        '\u{966}'..='\u{96F}' => ascii(u32::from(c) - 0x966 + u32::from(b'0')),
        // Mathematical alphanumeric letters: 13 styled alphabets of A-Z then a-z (the reserved
        // holes in the block are unassigned, so the arithmetic is safe).
        '\u{1D400}'..='\u{1D6A3}' => {
            let i = (u32::from(c) - 0x1D400) % 52;
            if i < 26 {
                ascii(u32::from(b'A') + i)
            } else {
                ascii(u32::from(b'a') + i - 26)
            }
        }
        // Mathematical digits: five styled sets of 0-9.
        '\u{1D7CE}'..='\u{1D7FF}' => ascii(u32::from(b'0') + (u32::from(c) - 0x1D7CE) % 10),
        _ => Fold::Keep,
    }
}

/// `Fold::To` the character with code `code` (always ASCII by construction of [`fold`]).
fn ascii(code: u32) -> Fold {
    char::from_u32(code).map_or(Fold::Keep, Fold::To)
}

/// Whether `b` is an ASCII byte that normalisation leaves alone (printable or tab / LF / CR).
fn plain_ascii(b: u8) -> bool {
    matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r')
}

/// A run of the normalised text and where it came from.
#[derive(Debug, Clone, Copy)]
struct Seg {
    /// Start in the normalised text.
    norm: usize,
    /// Start in the original text.
    orig: usize,
    /// Length in the normalised text.
    len: usize,
    /// Length in the original text.
    orig_len: usize,
    /// Copied unchanged (`len == orig_len`, offsets inside map one to one); otherwise one
    /// folded character, which maps back only as a whole.
    verbatim: bool,
}

/// Text with invisible characters removed and compatibility forms folded, and the way back to
/// the original's offsets.
#[derive(Debug)]
pub(crate) struct Normalised {
    /// The normalised text the recognizers run on.
    text: String,
    /// Runs covering `text` in order, without gaps (removed characters leave gaps only in the
    /// original offsets).
    segs: Vec<Seg>,
}

impl Normalised {
    /// The normalised view of `text`, or `None` when it would equal `text` (pure printable
    /// ASCII is checked byte-wise first, so the common case allocates nothing).
    pub(crate) fn of(text: &str) -> Option<Normalised> {
        if text.bytes().all(plain_ascii) {
            return None;
        }
        let first = text.char_indices().find(|&(_, c)| fold(c) != Fold::Keep)?.0;
        let mut n = Normalised {
            text: String::with_capacity(text.len()),
            segs: Vec::new(),
        };
        n.keep(&text[..first], 0);
        for (i, c) in text[first..].char_indices() {
            let i = first + i;
            match fold(c) {
                Fold::Keep => n.keep(&text[i..i + c.len_utf8()], i),
                Fold::Drop => {}
                Fold::DashBetweenDigits => {
                    let after = text[i + c.len_utf8()..].chars().next().map(fold);
                    let digit_after = matches!(after, Some(Fold::To('0'..='9')))
                        || text[i + c.len_utf8()..].starts_with(|d: char| d.is_ascii_digit());
                    let digit_before = n.text.ends_with(|d: char| d.is_ascii_digit());
                    if digit_before && digit_after {
                        n.fold(i, c, '-');
                    } else {
                        n.keep(&text[i..i + c.len_utf8()], i);
                    }
                }
                Fold::To(a) => n.fold(i, c, a),
            }
        }
        Some(n)
    }

    /// Appends `a`, the fold of `c` found at `orig` in the original.
    fn fold(&mut self, orig: usize, c: char, a: char) {
        self.segs.push(Seg {
            norm: self.text.len(),
            orig,
            len: a.len_utf8(),
            orig_len: c.len_utf8(),
            verbatim: false,
        });
        self.text.push(a);
    }

    /// Appends `s`, found at `orig` in the original, unchanged.
    fn keep(&mut self, s: &str, orig: usize) {
        if s.is_empty() {
            return;
        }
        let norm = self.text.len();
        self.text.push_str(s);
        if let Some(last) = self.segs.last_mut()
            && last.verbatim
            && last.norm + last.len == norm
            && last.orig + last.orig_len == orig
        {
            last.len += s.len();
            last.orig_len += s.len();
            return;
        }
        self.segs.push(Seg {
            norm,
            orig,
            len: s.len(),
            orig_len: s.len(),
            verbatim: true,
        });
    }

    /// The normalised text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Maps the normalised span `start..end` (non-empty, on char boundaries) to the original:
    /// from the original of its first character to the end of the original of its last, so
    /// removed characters inside the span are covered and those around it are not.
    pub(crate) fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end || end > self.text.len() {
            return None;
        }
        // The run holding byte `start`, and the run holding the span's last byte.
        let first = self.segs.get(
            self.segs
                .partition_point(|s| s.norm <= start)
                .checked_sub(1)?,
        )?;
        let last = self
            .segs
            .get(self.segs.partition_point(|s| s.norm < end).checked_sub(1)?)?;
        let s = if first.verbatim {
            first.orig + (start - first.norm)
        } else {
            first.orig
        };
        let e = if last.verbatim {
            last.orig + (end - last.norm)
        } else {
            last.orig + last.orig_len
        };
        (s < e).then_some((s, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_not_copied() {
        assert!(Normalised::of("plain ascii\twith\r\nbreaks").is_none());
        assert!(Normalised::of("Zoë ☎ 日本語 a@b.cd").is_none());
        assert!(Normalised::of("").is_none());
    }

    #[test]
    fn folds_and_maps_back() {
        let t = "\u{202A}ｂｏｂ\u{200B}＠x.io\u{202C} 4111\u{A0}1\0";
        let Some(n) = Normalised::of(t) else {
            panic!("needs normalising");
        };
        assert_eq!(n.text(), "bob@x.io 4111 1");
        // "bob@x.io" → from the fullwidth b to the end of "io", not the pop directional.
        let (s, e) = n.original_span(0, 8).unwrap_or_default();
        assert_eq!(&t[s..e], "ｂｏｂ\u{200B}＠x.io");
        let (s, e) = n.original_span(9, 15).unwrap_or_default();
        assert_eq!(&t[s..e], "4111\u{A0}1");
        assert_eq!(n.original_span(3, 3), None);
        assert_eq!(n.original_span(0, 99), None);
    }

    #[test]
    fn fold_table_samples() {
        assert_eq!(fold('\u{FF10}'), Fold::To('0'));
        assert_eq!(fold('\u{FF5E}'), Fold::To('~'));
        assert_eq!(fold('\u{1D41B}'), Fold::To('b'));
        assert_eq!(fold('\u{1D7D7}'), Fold::To('9'));
        assert_eq!(fold('\u{1D7F6}'), Fold::To('0'));
        assert_eq!(fold('\u{669}'), Fold::To('9'));
        assert_eq!(fold('\u{2014}'), Fold::DashBetweenDigits);
        assert_eq!(fold('é'), Fold::Keep);
        assert_eq!(fold('\u{180E}'), Fold::Drop);
        assert_eq!(fold('\u{E0041}'), Fold::Drop);
    }
}
