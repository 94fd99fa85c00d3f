//! PERSON names without a statistical model: a gazetteer of common first names and surnames
//! (compiled from public-domain US Census name-frequency knowledge, plus common UK/Australian
//! names) combined with capitalisation and context cues.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::{Candidate, EntityType, Why};

static FIRST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("names/first.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect()
});
static LAST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("names/last.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect()
});
static STOP: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| STOPWORDS.iter().copied().collect());

/// Capitalised words that are never part of a name here (greetings, roles, calendar words,
/// organisation words, products).
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "i",
    "we",
    "you",
    "he",
    "she",
    "they",
    "it",
    "this",
    "that",
    "these",
    "those",
    "my",
    "your",
    "our",
    "their",
    "his",
    "her",
    "its",
    "me",
    "us",
    "them",
    "hi",
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "regards",
    "kind",
    "best",
    "cheers",
    "sincerely",
    "yours",
    "good",
    "morning",
    "afternoon",
    "evening",
    "night",
    "please",
    "team",
    "support",
    "customer",
    "customers",
    "sir",
    "madam",
    "all",
    "everyone",
    "there",
    "admin",
    "friend",
    "friends",
    "manager",
    "client",
    "user",
    "users",
    "guys",
    "folks",
    "patient",
    "employee",
    "staff",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "today",
    "tomorrow",
    "yesterday",
    "bank",
    "health",
    "energy",
    "legal",
    "insurance",
    "dental",
    "logistics",
    "traders",
    "trading",
    "software",
    "group",
    "ltd",
    "inc",
    "pty",
    "llc",
    "plc",
    "co",
    "corp",
    "company",
    "services",
    "solutions",
    "systems",
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "lane",
    "drive",
    "city",
    "north",
    "south",
    "east",
    "west",
    "university",
    "college",
    "school",
    "hospital",
    "clinic",
    "council",
    "department",
    "office",
    "centre",
    "center",
    "account",
    "accounts",
    "billing",
    "payroll",
    "invoice",
    "order",
    "ticket",
    "card",
    "visa",
    "mastercard",
    "medicare",
    "amex",
    "server",
    "subject",
    "re",
    "fw",
    "fwd",
    "to",
    "from",
    "cc",
    "bcc",
    "date",
    "sent",
    "and",
    "or",
    "but",
    "if",
    "so",
    "not",
    "no",
    "yes",
    "ok",
    "okay",
    "is",
    "are",
    "was",
    "be",
    "can",
    "will",
    "would",
    "could",
    "should",
    "did",
    "does",
    "do",
    "have",
    "has",
    "had",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "how",
    "here",
    "new",
    "old",
    "first",
    "last",
    "next",
    "in",
    "on",
    "at",
    "for",
    "with",
    "by",
    "of",
    "as",
    "about",
    "after",
    "before",
    "also",
    "just",
    "only",
    "note",
    "notes",
    "urgent",
    "reminder",
    "update",
    "request",
    "issue",
    "priority",
    "escalation",
    "refund",
    "chargeback",
    "identity",
    "background",
    "sample",
    "part",
    "serial",
    "firmware",
    "version",
    "build",
    "release",
    "meeting",
    "room",
    "ref",
    "reference",
    "write",
    "draft",
    "tell",
    "ask",
    "help",
    "summarize",
    "translate",
    "rewrite",
    "generate",
    "format",
    "explain",
    "check",
    "call",
    "email",
    "mail",
    "phone",
    "mobile",
    "contact",
    "details",
    "info",
    "information",
    "general",
    "english",
    "french",
    "german",
    "spanish",
    "italian",
    "chinese",
    "japanese",
    "google",
    "microsoft",
    "apple",
    "amazon",
    "windows",
    "linux",
    "excel",
    "word",
    "outlook",
    "gmail",
    "slack",
    "zoom",
    "teams",
    "grafana",
    "github",
    "jira",
    "london",
    "sydney",
    "melbourne",
    "manchester",
    "boston",
    "denver",
    "new york",
    "street",
    "park",
    "st.",
    "attached",
    "kind",
    "warm",
    "many",
    "love",
    "dashboard",
    "portal",
    "form",
    "forms",
    "legal",
    "fund",
    "super",
    "private",
    "public",
    "limited",
    "holdings",
    "partners",
    "associates",
    "agency",
    "studio",
];

/// Cues before a name strong enough to accept a capitalised word that is not a known first name.
const STRONG_CUES: &[&str] = &[
    "dear",
    "hi",
    "hello",
    "hey",
    "hiya",
    "howdy",
    "greetings",
    "name is",
    "name's",
    "i'm",
    "i am",
    "im",
    "this is",
    "it's",
    "its",
    "mr",
    "mrs",
    "ms",
    "mx",
    "miss",
    "dr",
    "prof",
    "sir",
    "dame",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "prof.",
    "signed",
    "sincerely",
    "regards",
    "thanks",
    "cheers",
    "thank you",
    "called",
    "named",
    "cardholder",
    "attn",
    "attn.",
    "morning",
    "afternoon",
    "evening",
];
/// Greetings that address the following name directly.
const GREETINGS: &[&str] = &["dear", "hi", "hello", "hey", "hiya", "morning", "thanks"];
/// Titles: the following capitalised word is a name even when it is only a surname.
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "mx", "miss", "dr", "prof", "mr.", "mrs.", "ms.", "dr.", "prof.", "sir",
    "dame",
];
/// Cues before a name that make it somewhat more likely.
const WEAK_CUES: &[&str] = &[
    "to",
    "for",
    "from",
    "with",
    "by",
    "of",
    "and",
    "cc",
    "ask",
    "asking",
    "tell",
    "ping",
    "remind",
    "email",
    "message",
    "customer",
    "patient",
    "employee",
    "user",
    "contact",
    "client",
    "member",
    "applicant",
    "tenant",
    "candidate",
    "student",
    "manager",
    "colleague",
    "agent",
    "owner",
    "holder",
    "-",
    "best",
    "love",
    "so",
    "met",
    "meet",
    "contact:",
    "customer:",
    "assigned to",
    "cardholder",
    "said",
    "says",
    "invite",
    "thank",
    "congratulate",
    "introduce",
    "is",
];
/// Words before a capitalised word that point to a place or a date rather than a person.
const NEGATIVE_CUES: &[&str] = &[
    "in", "at", "near", "on", "via", "until", "since", "visit", "visiting", "downtown",
];
/// Words after a name that suggest a person did something.
const VERBS: &[&str] = &[
    "says",
    "said",
    "called",
    "calls",
    "asked",
    "asks",
    "wants",
    "wanted",
    "will",
    "would",
    "requested",
    "requests",
    "supplied",
    "uploaded",
    "updated",
    "used",
    "uses",
    "starts",
    "started",
    "cannot",
    "can't",
    "can",
    "could",
    "wrote",
    "writes",
    "sent",
    "sends",
    "replied",
    "confirmed",
    "needs",
    "needed",
    "reported",
    "reports",
    "is",
    "was",
    "has",
    "had",
    "and i",
    "here",
    "mentioned",
    "emailed",
    "phoned",
    "paid",
    "joined",
    "left",
    "submitted",
    "approved",
    "signed",
    "agreed",
    "complained",
    "noticed",
    "thinks",
    "told",
    "tried",
    "went",
    "lives",
    "works",
    "worked",
    "did",
    "does",
    "from",
    "on",
    "(",
    "'s",
    "\u{2019}s",
];
/// Sign-offs ending the line before a name on its own line.
const SIGNOFFS: &[&str] = &[
    "regards",
    "thanks",
    "thank you",
    "cheers",
    "sincerely",
    "best",
    "best wishes",
    "yours",
    "yours truly",
    "yours sincerely",
    "warmly",
    "love",
    "many thanks",
    "kind regards",
    "warm regards",
    "with thanks",
    "respectfully",
    "ta",
];

/// Forces the gazetteers to load.
pub(crate) fn warm() {
    LazyLock::force(&FIRST);
    LazyLock::force(&LAST);
    LazyLock::force(&STOP);
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Capitalised word: upper-case first letter, some lower-case letters.
    Cap,
    /// A single capital letter (a middle initial), with or without a dot after it.
    Initial,
    /// Anything else (lower-case words, acronyms).
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
    kind: Kind,
}

/// Lower-case ASCII key of a word for the gazetteers: common Latin accents folded, apostrophes
/// and hyphens removed (so `O'Neill` looks up `oneill`).
fn key(word: &str) -> String {
    let mut k = String::with_capacity(word.len());
    for c in word.chars() {
        let f = match c {
            'à'..='å' | 'À'..='Å' => 'a',
            'ç' | 'Ç' => 'c',
            'è'..='ë' | 'È'..='Ë' => 'e',
            'ì'..='ï' | 'Ì'..='Ï' => 'i',
            'ñ' | 'Ñ' => 'n',
            'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' => 'o',
            'ù'..='ü' | 'Ù'..='Ü' => 'u',
            'ý' | 'ÿ' | 'Ý' => 'y',
            '\'' | '\u{2019}' | '-' => continue,
            c => c.to_ascii_lowercase(),
        };
        k.push(f);
    }
    k
}

/// Splits one line into word tokens (letters, with inner apostrophes and hyphens).
fn tokenize(line: &str, base: usize, out: &mut Vec<Token>) {
    out.clear();
    let mut it = line.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if !c.is_alphabetic() {
            continue;
        }
        let mut end = i + c.len_utf8();
        let mut lower = 0usize;
        let mut letters = 1usize;
        let first_upper = c.is_uppercase();
        while let Some(&(j, d)) = it.peek() {
            if d.is_alphabetic() {
                lower += usize::from(d.is_lowercase());
                letters += 1;
                end = j + d.len_utf8();
                it.next();
            } else if matches!(d, '\'' | '\u{2019}' | '-') {
                // Keep an inner apostrophe or hyphen when a letter follows, but not a
                // possessive "'s" at the end of the word.
                let rest = &line[j + d.len_utf8()..];
                let mut r = rest.chars();
                let n1 = r.next();
                let n2 = r.next();
                let possessive =
                    d != '-' && n1 == Some('s') && !n2.is_some_and(char::is_alphabetic);
                if n1.is_some_and(char::is_alphabetic) && !possessive {
                    it.next();
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        let kind = if letters == 1 && first_upper {
            Kind::Initial
        } else if first_upper && lower > 0 {
            Kind::Cap
        } else {
            Kind::Other
        };
        out.push(Token {
            start: base + i,
            end: base + end,
            kind,
        });
    }
}

/// Whether `hay` (lower-cased text before a word, trailing spaces and punctuation removed)
/// ends with one of `cues` as a whole word; returns the cue.
fn ends_with_cue(hay: &str, cues: &[&'static str]) -> Option<&'static str> {
    cues.iter().copied().find(|&c| {
        hay.ends_with(c)
            && hay[..hay.len() - c.len()]
                .chars()
                .next_back()
                .is_none_or(|p| !p.is_alphanumeric())
    })
}

/// Whether the text after a name starts with one of `VERBS` as a whole word.
fn starts_with_verb(after: &str) -> Option<&'static str> {
    let t = after.trim_start_matches([' ', '\t']);
    let lower: String = t.chars().take(16).flat_map(char::to_lowercase).collect();
    VERBS.iter().copied().find(|&v| {
        lower.starts_with(v)
            && (!v.chars().all(char::is_alphabetic)
                || lower[v.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// Whether the text after a name is an appositive list of contact details, such as
/// `, 555-0100` or `, jo@example.com`.
fn contact_details(after: &str) -> bool {
    let Some(t) = after.strip_prefix(", ") else {
        return false;
    };
    let first_word = t.split([' ', ',']).next().unwrap_or_default();
    t.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '(') || first_word.contains('@')
}

/// Text of the line before `pos`, lower-cased, trailing whitespace and punctuation removed.
fn before_text(line: &str, rel: usize) -> String {
    let start = line[..rel]
        .char_indices()
        .rev()
        .nth(28)
        .map_or(0, |(i, _)| i);
    let t = line[start..rel].trim_end_matches([
        ' ', '\t', ',', ':', ';', '(', '"', '\'', '[', '\u{2014}', '\u{2013}',
    ]);
    t.to_lowercase()
}

/// Finds person names in `text`, appending candidates to `out`.
pub(crate) fn scan(text: &str, out: &mut Vec<Candidate>) {
    let mut tokens = Vec::new();
    let mut prev_line: &str = "";
    let mut base = 0usize;
    for line in text.split('\n') {
        tokenize(line, base, &mut tokens);
        scan_line(text, line, base, prev_line, &tokens, out);
        prev_line = line;
        base += line.len() + 1;
    }
}

fn scan_line(
    text: &str,
    line: &str,
    base: usize,
    prev_line: &str,
    toks: &[Token],
    out: &mut Vec<Candidate>,
) {
    let word = |t: &Token| &text[t.start..t.end];
    let gap = |a: &Token, b: &Token| &text[a.end..b.start];
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        if t.kind != Kind::Cap {
            i += 1;
            continue;
        }
        let k = key(word(&t));
        // Month names that are also given names count only when a greeting addresses them;
        // every other stop word (`The`, `I`, most capitals in prose) ends here, before the
        // text around it is read.
        let month = matches!(k.as_str(), "april" | "may" | "june" | "august");
        if !month && STOP.contains(k.as_str()) {
            i += 1;
            continue;
        }
        let rel = t.start - base;
        let before = before_text(line, rel);
        let addressed =
            month && ends_with_cue(&before, GREETINGS).is_some() && text[t.end..].starts_with(',');
        if STOP.contains(k.as_str()) && !addressed {
            i += 1;
            continue;
        }
        let line_start = before.trim().is_empty();
        let signoff = line_start && {
            let p = prev_line
                .trim_end()
                .trim_end_matches([',', '.', '!'])
                .to_lowercase();
            ends_with_cue(&p, SIGNOFFS).is_some()
        };
        let strong = ends_with_cue(&before, STRONG_CUES).or(signoff.then_some("sign-off"));
        let is_first = FIRST.contains(k.as_str());
        if !is_first && strong.is_none() {
            i += 1;
            continue;
        }
        let title = ends_with_cue(&before, TITLES).is_some();
        let weak = ends_with_cue(&before, WEAK_CUES);
        let negative = ends_with_cue(&before, NEGATIVE_CUES);
        // Extend: [initial | second given name] surname.
        let mut end = t.end;
        let mut j = i + 1;
        let mut initial = false;
        let mut surname_known = false;
        let mut surname = false;
        let single_space = |a: &Token, b: &Token| gap(a, b) == " ";
        if j + 1 < toks.len()
            && toks[j].kind == Kind::Initial
            && matches!(gap(&toks[j - 1], &toks[j]), " ")
            && matches!(gap(&toks[j], &toks[j + 1]), ". " | " ")
            && toks[j + 1].kind == Kind::Cap
        {
            initial = true;
            j += 1;
        } else if j + 1 < toks.len()
            && toks[j].kind == Kind::Cap
            && toks[j + 1].kind == Kind::Cap
            && single_space(&toks[j - 1], &toks[j])
            && single_space(&toks[j], &toks[j + 1])
            && FIRST.contains(key(word(&toks[j])).as_str())
            && LAST.contains(key(word(&toks[j + 1])).as_str())
            && !STOP.contains(key(word(&toks[j + 1])).as_str())
        {
            j += 1;
        }
        if j < toks.len() && toks[j].kind == Kind::Cap {
            let g = gap(&toks[j - 1], &toks[j]);
            let sk = key(word(&toks[j]));
            let known = LAST.contains(sk.as_str());
            if (g == " " || (initial && g == ". ")) && (known || !STOP.contains(sk.as_str())) {
                surname = true;
                surname_known = LAST.contains(sk.as_str());
                end = toks[j].end;
                j += 1;
            }
        }
        if initial && !surname {
            // "X." without a surname after it is not a middle initial.
            j = i + 1;
            initial = false;
        }
        let rest = &text[end..base + line.len()];
        let verb =
            starts_with_verb(rest).or_else(|| contact_details(rest).then_some("contact details"));
        let mut score: f32;
        let mut why = Why::pattern(if is_first {
            "first-name gazetteer"
        } else {
            "capitalised word after cue"
        });
        if surname {
            score = if is_first { 0.5 } else { 0.45 };
            score += if surname_known { 0.3 } else { 0.15 };
            if surname_known {
                why = why.check("surname gazetteer");
            }
            if initial {
                score += 0.1;
            }
        } else {
            score = if is_first { 0.35 } else { 0.2 };
        }
        if let Some(c) = strong {
            score += 0.35;
            why = why.context(c);
        } else if let Some(c) = weak {
            score += 0.2;
            why = why.context(c);
        } else if let Some(v) = verb {
            score += 0.2;
            why = why.context(v);
        }
        if title && !surname {
            score += 0.1;
        }
        if negative.is_some() && strong.is_none() {
            score -= 0.4;
        }
        if !surname && !is_first && !title {
            // A lone unknown word after a greeting: only when the greeting addresses it directly.
            let next = text[end..].chars().next();
            if !next.is_none_or(|c| matches!(c, ',' | '.' | '!' | '\n' | ':' | ' ')) {
                score -= 0.3;
            }
        }
        out.push(Candidate {
            entity: EntityType::PERSON,
            start: t.start,
            end,
            // A gazetteer and cues never make a name certain.
            score: score.clamp(0.0, 0.95),
            why,
        });
        i = j.max(i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_accents_and_apostrophes() {
        assert_eq!(key("Zoë"), "zoe");
        assert_eq!(key("O'Neill"), "oneill");
        assert!(FIRST.contains("james") && LAST.contains("smith"));
    }

    #[test]
    fn tokenizer_drops_possessive() {
        let mut v = Vec::new();
        tokenize("Zoë's O'Neill x-ray", 0, &mut v);
        let words: Vec<&str> = v
            .iter()
            .map(|t| &"Zoë's O'Neill x-ray"[t.start..t.end])
            .collect();
        assert_eq!(words, ["Zoë", "s", "O'Neill", "x-ray"]);
    }
}
