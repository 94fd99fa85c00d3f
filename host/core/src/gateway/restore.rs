//! Putting original values back into an answer that arrives in pieces: each piece is passed
//! on at once, except a trailing `<…` that may still become a placeholder, which waits for the
//! next piece — so a client never sees half a placeholder, and restoration costs no more
//! latency than that hold-back.

use std::sync::Arc;

use crate::pii::anonymize::{Pseudonyms, deanonymize_with};

/// The longest run after `<` held back: the longest token label plus its number and the
/// escape marks, with room to spare. A longer run cannot be a placeholder and is passed on.
const MAX_HELD: usize = 160;

/// How restored values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As they are (message text).
    Plain,
    /// JSON-escaped, without quotes (inside tool-call arguments, which are JSON text).
    JsonString,
}

/// Restores the placeholders of one stream of text (one choice's content, or one tool call's
/// arguments).
pub struct Restorer {
    vault: Arc<Pseudonyms>,
    encoding: Encoding,
    pending: String,
    /// Placeholders put back so far.
    pub restored: usize,
}

impl Restorer {
    /// A restorer over `vault`.
    pub fn new(vault: Arc<Pseudonyms>, encoding: Encoding) -> Restorer {
        Restorer {
            vault,
            encoding,
            pending: String::new(),
            restored: 0,
        }
    }

    /// Takes the next piece; returns what can be shown now, restored.
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        let cut = held_from(&self.pending);
        if cut == 0 {
            return String::new();
        }
        let rest = self.pending.split_off(cut);
        let ready = std::mem::replace(&mut self.pending, rest);
        self.restore(&ready)
    }

    /// Everything still held, restored (the stream ended).
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.restore(&rest)
    }

    /// Whether nothing is held back.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    fn restore(&mut self, text: &str) -> String {
        if text.is_empty() {
            return String::new();
        }
        let out = match self.encoding {
            Encoding::Plain => deanonymize_with(text, &self.vault, |v, out| out.push_str(v)),
            Encoding::JsonString => deanonymize_with(text, &self.vault, json_escape_into),
        };
        self.restored += out.restored.len();
        out.text
    }
}

/// Restores a whole text at once.
pub fn restore_all(text: &str, vault: &Arc<Pseudonyms>, encoding: Encoding) -> (String, usize) {
    let mut r = Restorer::new(vault.clone(), encoding);
    let out = r.push(text) + &r.finish();
    (out, r.restored)
}

/// Appends `value` JSON-escaped (no surrounding quotes).
fn json_escape_into(value: &str, out: &mut String) {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    out.push_str(&quoted[1..quoted.len() - 1]);
}

/// Where the held-back tail of `text` starts: at its last `<` when everything after it could
/// still grow into a placeholder (`!` escape marks, then `[A-Z0-9_]`), else at the end.
/// A placeholder holds no `<`, so none can cross the cut.
fn held_from(text: &str) -> usize {
    let Some(i) = text.rfind('<') else {
        return text.len();
    };
    let tail = &text.as_bytes()[i + 1..];
    let body = tail.iter().skip_while(|&&c| c == b'!');
    let could_be = tail.len() <= MAX_HELD
        && body
            .clone()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if could_be { i } else { text.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Arc<Pseudonyms> {
        let mut v = Pseudonyms::default();
        assert_eq!(
            v.token_for("EMAIL_ADDRESS", "ann@example.com"),
            "<EMAIL_ADDRESS_1>"
        );
        assert_eq!(v.token_for("PERSON", "Zoë \"Z\" Quinn"), "<PERSON_1>");
        Arc::new(v)
    }

    const ANSWER: &str = "Write to <EMAIL_ADDRESS_1>, dear <PERSON_1> — <NOT_A_TOKEN> <x <3.";

    #[test]
    fn every_split_of_an_answer_restores_the_same_and_never_shows_half_a_placeholder() {
        let v = vault();
        let (whole, n) = restore_all(ANSWER, &v, Encoding::Plain);
        assert_eq!(
            whole,
            "Write to ann@example.com, dear Zoë \"Z\" Quinn — <NOT_A_TOKEN> <x <3."
        );
        assert_eq!(n, 2);
        let chars: Vec<(usize, char)> = ANSWER.char_indices().collect();
        for a in 0..chars.len() {
            for b in a..chars.len() {
                let (ia, ib) = (chars[a].0, chars[b].0);
                let mut r = Restorer::new(v.clone(), Encoding::Plain);
                let mut shown = Vec::new();
                for piece in [&ANSWER[..ia], &ANSWER[ia..ib], &ANSWER[ib..]] {
                    shown.push(r.push(piece));
                }
                shown.push(r.finish());
                for s in &shown {
                    assert!(
                        !s.contains("<EMAIL") && !s.contains("<PERSON") && !s.contains("_1>"),
                        "half or whole placeholder shown at split {ia}/{ib}: {shown:?}"
                    );
                }
                assert_eq!(shown.concat(), whole, "split {ia}/{ib}");
            }
        }
    }

    #[test]
    fn one_byte_pieces_are_held_only_while_they_may_be_a_placeholder() {
        let v = vault();
        let mut r = Restorer::new(v, Encoding::Plain);
        assert_eq!(r.push("a"), "a");
        assert_eq!(r.push("<"), "");
        assert_eq!(r.push("EMAIL_ADDRESS_"), "");
        assert_eq!(r.push("1"), "");
        assert_eq!(r.push(">"), "ann@example.com");
        assert_eq!(r.push("<b"), "<b", "lower case cannot start a placeholder");
        assert!(r.is_idle());
        assert_eq!(r.push("<!PERSON"), "");
        assert_eq!(
            r.push("_1>"),
            "<PERSON_1>",
            "an escaped placeholder loses one mark"
        );
    }

    #[test]
    fn tool_call_arguments_get_json_escaped_values() {
        let v = vault();
        let (args, _) = restore_all(r#"{"to": "<PERSON_1>"}"#, &v, Encoding::JsonString);
        let parsed: serde_json::Value = serde_json::from_str(&args).unwrap();
        assert_eq!(parsed["to"], "Zoë \"Z\" Quinn");
    }

    #[test]
    fn a_long_run_after_a_bracket_is_not_held_forever() {
        let v = vault();
        let mut r = Restorer::new(v, Encoding::Plain);
        let long = format!("<{}", "A".repeat(MAX_HELD + 1));
        assert_eq!(r.push(&long), long);
    }
}
