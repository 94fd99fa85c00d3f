//! Source rewrites for the Jinja2 dialect: two places where Jinja2's lexer or loops differ from
//! minijinja's and a rewrite of the template text makes minijinja do exactly what Jinja2 does.
//!
//! - String literals: Jinja2 decodes them with Python's `unicode-escape` codec, minijinja with
//!   JSON-like rules. A backslash before a line break continues the literal on the next line
//!   (Python drops both characters; minijinja keeps them), `\/` stays `\/` (minijinja makes it
//!   `/`), `\a` and `\v` are control characters, `\UXXXXXXXX` is a code point and octal escapes
//!   go up to `\777`. Each such escape is rewritten into one minijinja decodes the same way (a
//!   line continuation closes the literal and opens another after the line break, and minijinja
//!   joins adjacent literals as Jinja2 does). `\N{...}` (Unicode names) is left as it is.
//! - `{% for x in none %}`: Jinja2 fails (`None` is not iterable); minijinja loops zero times.
//!   The iterable of every `for` tag is passed through [`ITERABLE_GUARD`], which fails on
//!   `none` and returns anything else unchanged.
//!
//! Line breaks are never added or removed, so lines stay where they were; [`Rewritten`] maps
//! error offsets in the rewritten text back to the original.

use std::borrow::Cow;

use minijinja::{Error, ErrorKind, Value};

/// The global function the rewrite wraps every `for` loop's iterable in.
pub(crate) const ITERABLE_GUARD: &str = "__warden_iterable";

/// What [`ITERABLE_GUARD`] does: Python's `iter()` refuses `None`.
pub(crate) fn iterable_guard(value: Value) -> Result<Value, Error> {
    if value.is_none() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "'NoneType' object is not iterable",
        ));
    }
    Ok(value)
}

/// A template source rewritten for minijinja, and where its offsets came from.
pub(crate) struct Rewritten<'a> {
    /// The text minijinja compiles.
    pub text: Cow<'a, str>,
    /// `(offset in text, offset in the original)` just after every edit, in order.
    marks: Vec<(usize, usize)>,
}

impl Rewritten<'_> {
    /// The original offset of byte `at` of the rewritten text (inside an edit: its end).
    pub(crate) fn original_offset(&self, at: usize) -> usize {
        let after = self.marks.partition_point(|&(new, _)| new <= at);
        match after.checked_sub(1).and_then(|i| self.marks.get(i)) {
            Some(&(new, old)) => old + (at - new),
            None => at,
        }
    }
}

/// The edits of one rewrite: `(start, end, replacement)` in the original, none overlapping.
struct Writer<'a> {
    /// The template as written.
    src: &'a str,
    /// The edits found so far (an insertion has `start == end`).
    edits: Vec<(usize, usize, String)>,
}

impl<'a> Writer<'a> {
    /// Replaces `src[start..end]` with `with`.
    fn replace(&mut self, start: usize, end: usize, with: impl Into<String>) {
        self.edits.push((start, end, with.into()));
    }

    /// Applies the edits (the source itself, borrowed, when there are none).
    fn finish(mut self) -> Rewritten<'a> {
        if self.edits.is_empty() {
            return Rewritten {
                text: Cow::Borrowed(self.src),
                marks: Vec::new(),
            };
        }
        self.edits.sort_by_key(|&(start, end, _)| (start, end));
        let mut out = String::with_capacity(self.src.len() + 16 * self.edits.len());
        let mut marks = Vec::with_capacity(self.edits.len());
        let mut copied = 0;
        for (start, end, with) in &self.edits {
            out.push_str(self.src.get(copied..*start).unwrap_or_default());
            out.push_str(with);
            copied = *end;
            marks.push((out.len(), *end));
        }
        out.push_str(self.src.get(copied..).unwrap_or_default());
        Rewritten {
            text: Cow::Owned(out),
            marks,
        }
    }
}

/// A token inside a `{{ }}` or `{% %}` block, as far as the rewrite needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    /// A name (or keyword).
    Name(&'a str),
    /// A string literal.
    Str,
    /// An opening bracket.
    Open,
    /// A closing bracket.
    Close,
    /// A comma outside any string.
    Comma,
    /// Anything else (operators, numbers, dots).
    Other,
}

/// Rewrites `src` for the Jinja2 dialect (see the module documentation).
pub(crate) fn rewrite(src: &str) -> Rewritten<'_> {
    let mut w = Writer {
        src,
        edits: Vec::new(),
    };
    let bytes = src.as_bytes();
    let mut i = 0;
    while let Some(off) = src.get(i..).and_then(|rest| rest.find('{')) {
        let at = i + off;
        match bytes.get(at + 1) {
            Some(b'#') => {
                i = src[at + 2..]
                    .find("#}")
                    .map_or(src.len(), |e| at + 2 + e + 2);
            }
            Some(b'{') => i = block(&mut w, at + 2, b'}'),
            Some(b'%') => {
                if let Some(end) = raw_end(src, at) {
                    i = end;
                } else {
                    i = block(&mut w, at + 2, b'%');
                }
            }
            _ => i = at + 1,
        }
    }
    w.finish()
}

/// If a `{% raw %}` tag starts at `at`, the offset just after its `{% endraw %}`.
fn raw_end(src: &str, at: usize) -> Option<usize> {
    let tag_word = |from: usize| -> Option<(&str, usize)> {
        let rest = src.get(from + 2..)?;
        let body = rest.trim_start_matches(['-', '+']).trim_start();
        let word_len = body
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .unwrap_or(body.len());
        let after = body[word_len..].trim_start().trim_start_matches(['-', '+']);
        after
            .starts_with("%}")
            .then(|| (&body[..word_len], src.len() - after.len() + 2))
    };
    let (word, mut i) = tag_word(at)?;
    if word != "raw" {
        return None;
    }
    while let Some(off) = src.get(i..).and_then(|rest| rest.find("{%")) {
        let start = i + off;
        match tag_word(start) {
            Some(("endraw", end)) => return Some(end),
            _ => i = start + 2,
        }
    }
    Some(src.len())
}

/// Scans the block whose content starts at `start` (`kind` is `}` for `{{ }}` and `%` for
/// `{% %}`), rewriting its string literals and, in a `for` tag, its iterable; returns the offset
/// just after the block.
fn block(w: &mut Writer<'_>, start: usize, kind: u8) -> usize {
    let src = w.src;
    let bytes = src.as_bytes();
    let mut i = start;
    if matches!(bytes.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut depth = 0usize;
    let mut toks: Vec<(Tok<'_>, usize, usize)> = Vec::new();
    let end = loop {
        let Some(&c) = bytes.get(i) else {
            break src.len();
        };
        if depth == 0 && block_end(bytes, i, kind) {
            break i;
        }
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'\'' | b'"' => {
                let close = string_literal(w, i, c);
                toks.push((Tok::Str, i, close));
                i = close;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                toks.push((Tok::Open, i, i + 1));
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                toks.push((Tok::Close, i, i + 1));
                i += 1;
            }
            b',' => {
                toks.push((Tok::Comma, i, i + 1));
                i += 1;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                let len = src[i..]
                    .find(|ch: char| !ch.is_ascii_alphanumeric() && ch != '_')
                    .unwrap_or(src.len() - i);
                toks.push((Tok::Name(&src[i..i + len]), i, i + len));
                i += len;
            }
            _ => {
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                toks.push((Tok::Other, i, i + len));
                i += len;
            }
        }
    };
    if kind == b'%' {
        guard_for_iterable(w, &toks);
    }
    let close_len = if bytes.get(end).is_some_and(|b| matches!(b, b'-' | b'+')) {
        3
    } else {
        2
    };
    (end + close_len).min(src.len())
}

/// Whether the block closes at `i` (`}}`, `%}`, with an optional `-` or `+` before).
fn block_end(bytes: &[u8], i: usize, kind: u8) -> bool {
    let at = if matches!(bytes.get(i), Some(b'-' | b'+')) {
        i + 1
    } else {
        i
    };
    bytes.get(at) == Some(&kind) && bytes.get(at + 1) == Some(&b'}')
}

/// In the tokens of a `{% for ... in ITER [if ...] [recursive] %}` tag, wraps `ITER` in
/// [`ITERABLE_GUARD`].
fn guard_for_iterable(w: &mut Writer<'_>, toks: &[(Tok<'_>, usize, usize)]) {
    if toks.first().map(|t| t.0) != Some(Tok::Name("for")) {
        return;
    }
    let mut depth = 0usize;
    let mut iter_from = None;
    let mut iter_to = None;
    let mut tuple = false;
    for (n, &(tok, _, _)) in toks.iter().enumerate().skip(1) {
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Name("in") if depth == 0 && iter_from.is_none() => {
                iter_from = Some(n + 1);
                continue;
            }
            Tok::Name("if" | "recursive") if depth == 0 && iter_from.is_some() => {
                iter_to = Some(n);
                break;
            }
            Tok::Comma if depth == 0 && iter_from.is_some() => tuple = true,
            _ => {}
        }
    }
    let Some(from) = iter_from else { return };
    let to = iter_to.unwrap_or(toks.len());
    let (Some(first), Some(last)) = (toks.get(from), to.checked_sub(1).and_then(|t| toks.get(t)))
    else {
        return;
    };
    if from >= to {
        return;
    }
    let (open, close) = if tuple { ("((", "))") } else { ("(", ")") };
    w.replace(first.1, first.1, format!("{ITERABLE_GUARD}{open}"));
    w.replace(last.2, last.2, close);
}

/// Scans the string literal opening with `quote` at `at`, rewriting the escapes minijinja
/// decodes differently from Python; returns the offset just after the closing quote.
fn string_literal(w: &mut Writer<'_>, at: usize, quote: u8) -> usize {
    let src = w.src;
    let bytes = src.as_bytes();
    let q = char::from(quote);
    let mut i = at + 1;
    while let Some(&c) = bytes.get(i) {
        if c == quote {
            return i + 1;
        }
        if c != b'\\' {
            i += 1;
            continue;
        }
        let Some(&d) = bytes.get(i + 1) else {
            return src.len();
        };
        let esc_end = i + 2;
        match d {
            b'\n' => w.replace(i, esc_end, format!("{q}\n{q}")),
            b'/' => w.replace(i, esc_end, "\\\\/"),
            b'a' => w.replace(i, esc_end, "\\x07"),
            b'v' => w.replace(i, esc_end, "\\x0b"),
            b'U' => {
                let hex = src.get(esc_end..esc_end + 8).unwrap_or("");
                let code = (hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32);
                if let Some(ch) = code {
                    w.replace(i, esc_end + 8, u_escape(ch));
                    i = esc_end + 8;
                    continue;
                }
                // Python rejects it; `\u` without hex digits makes minijinja reject it too.
                w.replace(i, esc_end, "\\u");
            }
            b'0'..=b'7' => {
                let digits = src[i + 1..]
                    .bytes()
                    .take(3)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .count();
                let value = u32::from_str_radix(&src[i + 1..i + 1 + digits], 8).unwrap_or(0);
                if value > 0o377
                    && let Some(ch) = char::from_u32(value)
                {
                    w.replace(i, i + 1 + digits, u_escape(ch));
                }
                i += 1 + digits;
                continue;
            }
            _ => {}
        }
        // The escaped character may take several bytes: step over all of it.
        i = i + 1 + src[i + 1..].chars().next().map_or(1, char::len_utf8);
    }
    src.len()
}

/// `ch` as minijinja `\u` escapes (a surrogate pair above U+FFFF).
fn u_escape(ch: char) -> String {
    let mut units = [0u16; 2];
    ch.encode_utf16(&mut units)
        .iter()
        .map(|u| format!("\\u{u:04x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_continuations_and_python_escapes() {
        let src = "{{ 'a\\\nb' }}|{{ \"\\/\\a\" }}|{{ '\\U0001F600\\501' }}|\\\nx";
        let out = rewrite(src);
        assert_eq!(
            out.text,
            "{{ 'a'\n'b' }}|{{ \"\\\\/\\x07\" }}|{{ '\\ud83d\\ude00\\u0141' }}|\\\nx"
        );
        assert_eq!(out.text.matches('\n').count(), src.matches('\n').count());
    }

    #[test]
    fn for_iterables_are_guarded() {
        let src = "{%- for a, b in x|items if a recursive -%}{% for i in 1, 2 %}{% endfor %}\
                   {% raw %}{% for y in z %}{% endraw %}{# {% for c in d %} #}";
        let out = rewrite(src);
        assert_eq!(
            out.text,
            "{%- for a, b in __warden_iterable(x|items) if a recursive -%}\
             {% for i in __warden_iterable((1, 2)) %}{% endfor %}\
             {% raw %}{% for y in z %}{% endraw %}{# {% for c in d %} #}"
        );
    }

    #[test]
    fn strings_hide_block_ends_and_offsets_map_back() {
        let src = "{% for m in ['%}', \"}}\"] %}{{ m }}{% endfor %}{{ 'x\\/' }}{{ oops";
        let out = rewrite(src);
        assert_eq!(
            out.text,
            "{% for m in __warden_iterable(['%}', \"}}\"]) %}{{ m }}{% endfor %}{{ 'x\\\\/' }}{{ oops"
        );
        let oops = out.text.find("oops").unwrap_or_default();
        assert_eq!(
            out.original_offset(oops),
            src.find("oops").unwrap_or_default()
        );
        assert_eq!(out.original_offset(3), 3);
    }
}
