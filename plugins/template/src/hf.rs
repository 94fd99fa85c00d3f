//! Hugging Face chat templates, rendered as transformers' `apply_chat_template` renders them.
//!
//! transformers compiles a chat template in a Jinja2 `ImmutableSandboxedEnvironment` with
//! `trim_blocks` and `lstrip_blocks` on and the `loopcontrols` extension, replaces `tojson` with
//! `json.dumps(ensure_ascii=False, sort_keys=False)` (plus `indent`/`separators` arguments), adds
//! the `raise_exception` and `strftime_now` globals and a `{% generation %}` block tag, then
//! renders it with `messages`, `tools`, `documents`, `add_generation_prompt`, the tokenizer's
//! special tokens and any extra keyword arguments. This module does the same on the Jinja2
//! dialect of the built-in engine, under the same fuel and recursion limits as any render.

use std::time::{SystemTime, UNIX_EPOCH};

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

/// The [`crate::TemplateError::kind`] of a render stopped by the template's own
/// `raise_exception(message)`; the error's message is the template's message.
pub const RAISED_KIND: &str = "raised";

/// The error source that marks an error as raised by the template itself.
#[derive(Debug)]
pub(crate) struct Raised;

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("raised by the template")
    }
}

impl std::error::Error for Raised {}

/// Adds transformers' chat-template globals to `env`.
pub(crate) fn install(env: &mut Environment<'_>) {
    env.add_function("raise_exception", raise_exception);
    env.add_function("strftime_now", strftime_now);
}

fn raise_exception(message: Value) -> Result<Value, Error> {
    let text = crate::jinja2::py_str(&message);
    Err(Error::new(ErrorKind::InvalidOperation, text).with_source(Raised))
}

fn strftime_now(format: String) -> Result<Value, Error> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(Value::from(strftime(&format, secs)))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// C `strftime` of a UTC time (WASI has no time zone): the directives chat templates use.
pub(crate) fn strftime(format: &str, unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    let month_name = MONTHS[(month - 1) as usize];
    let day_name = DAYS[weekday];
    let cumulative = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = cumulative[(month - 1) as usize] + day + u32::from(month > 2 && is_leap(year));
    let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = chars.next();
        let no_pad = spec == Some('-');
        if no_pad {
            spec = chars.next();
        }
        let num = |n: i64, width: usize| {
            if no_pad {
                n.to_string()
            } else {
                format!("{n:0width$}")
            }
        };
        match spec {
            Some('Y') => out.push_str(&year.to_string()),
            Some('y') => out.push_str(&num(year.rem_euclid(100), 2)),
            Some('m') => out.push_str(&num(i64::from(month), 2)),
            Some('d') => out.push_str(&num(i64::from(day), 2)),
            Some('e') => out.push_str(&format!("{day:2}")),
            Some('H') => out.push_str(&num(hour, 2)),
            Some('I') => out.push_str(&num(hour12, 2)),
            Some('M') => out.push_str(&num(minute, 2)),
            Some('S') => out.push_str(&num(second, 2)),
            Some('j') => out.push_str(&num(i64::from(yday), 3)),
            Some('p') => out.push_str(if hour < 12 { "AM" } else { "PM" }),
            Some('B') => out.push_str(month_name),
            Some('b') | Some('h') => out.push_str(&month_name[..3]),
            Some('A') => out.push_str(day_name),
            Some('a') => out.push_str(&day_name[..3]),
            Some('w') => out.push_str(&((weekday + 1) % 7).to_string()),
            Some('u') => out.push_str(&(weekday + 1).to_string()),
            Some('F') => out.push_str(&format!("{year}-{month:02}-{day:02}")),
            Some('T') => out.push_str(&format!("{hour:02}:{minute:02}:{second:02}")),
            Some('D') => out.push_str(&format!("{month:02}/{day:02}/{:02}", year.rem_euclid(100))),
            Some('Z') => out.push_str("UTC"),
            Some('z') => out.push_str("+0000"),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                if no_pad {
                    out.push('-');
                }
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Rewrites transformers' `{% generation %}` ... `{% endgeneration %}` (which only marks the
/// assistant's tokens) as `{% with %}` ... `{% endwith %}`: the same scope, the same output, the
/// same whitespace control, and the same length so that error positions stay where they were.
pub(crate) fn rewrite_generation_tags(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains("generation") {
        return std::borrow::Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("{%") {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let Some(end) = tag.find("%}") else {
            out.push_str(tag);
            return std::borrow::Cow::Owned(out);
        };
        let inner = &tag[2..end];
        let body = inner.trim_start_matches(['-', '+']);
        let lead = &inner[..inner.len() - body.len()];
        let word_start = body.len() - body.trim_start().len();
        let word = body.trim();
        let word = word.trim_end_matches(['-', '+']).trim_end();
        let replacement = match word {
            "generation" => Some("with      "),
            "endgeneration" => Some("endwith      "),
            _ => None,
        };
        match replacement {
            Some(new) => {
                let after = &body[word_start + word.len()..];
                out.push_str("{%");
                out.push_str(lead);
                out.push_str(&body[..word_start]);
                out.push_str(new);
                out.push_str(after);
                out.push_str("%}");
            }
            None => out.push_str(&tag[..end + 2]),
        }
        rest = &tag[end + 2..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// A special token as `tokenizer_config.json` spells it: a string, or an added-token object
/// with its text in `content`.
fn token_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => {
            o.get("content").and_then(|c| c.as_str()).map(str::to_owned)
        }
        _ => None,
    }
}

/// The special tokens transformers passes to every chat template (`special_tokens_map`).
pub const SPECIAL_TOKENS: [&str; 7] = [
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
];

/// What a chat template needs from a Hugging Face `tokenizer_config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenizerConfig {
    /// The chat templates by name; a single `chat_template` string is named `default`.
    pub templates: Vec<(String, String)>,
    /// The special tokens that are set (`bos_token`, `eos_token`, ...) with their text.
    pub special_tokens: Vec<(String, String)>,
}

fn config_error(message: impl Into<String>) -> crate::TemplateError {
    crate::TemplateError {
        kind: "json".to_owned(),
        message: message.into(),
        position: None,
    }
}

impl TokenizerConfig {
    /// Reads a `tokenizer_config.json`: `chat_template` as a string or as a list of
    /// `{"name", "template"}` objects, special tokens as strings or `{"content": ...}` objects.
    pub fn parse(json: &str) -> Result<Self, crate::TemplateError> {
        let v: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| config_error(format!("tokenizer config is not valid JSON: {e}")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| config_error("tokenizer config must be a JSON object"))?;
        let mut templates = Vec::new();
        match obj.get("chat_template") {
            Some(serde_json::Value::String(t)) => templates.push(("default".to_owned(), t.clone())),
            Some(serde_json::Value::Array(list)) => {
                for item in list {
                    let name = item.get("name").and_then(|n| n.as_str());
                    let template = item.get("template").and_then(|t| t.as_str());
                    match (name, template) {
                        (Some(n), Some(t)) => templates.push((n.to_owned(), t.to_owned())),
                        _ => {
                            return Err(config_error(
                                "each named chat template needs a `name` and a `template` string",
                            ));
                        }
                    }
                }
            }
            Some(serde_json::Value::Object(map)) => {
                for (name, t) in map {
                    let t = t
                        .as_str()
                        .ok_or_else(|| config_error("chat templates must be strings"))?;
                    templates.push((name.clone(), t.to_owned()));
                }
            }
            Some(serde_json::Value::Null) | None => {}
            Some(_) => return Err(config_error("`chat_template` must be a string or a list")),
        }
        let special_tokens = SPECIAL_TOKENS
            .iter()
            .filter_map(|name| {
                obj.get(*name)
                    .and_then(token_text)
                    .map(|t| ((*name).to_owned(), t))
            })
            .collect();
        Ok(TokenizerConfig {
            templates,
            special_tokens,
        })
    }

    /// Picks a template as transformers does: the one named `name`; else `tool_use` when the
    /// chat has tools and there is one; else `default`; a lone template is its own default.
    pub fn template(
        &self,
        name: Option<&str>,
        has_tools: bool,
    ) -> Result<&str, crate::TemplateError> {
        let find = |n: &str| {
            self.templates
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, t)| t.as_str())
        };
        if self.templates.is_empty() {
            return Err(config_error(
                "the tokenizer config has no chat_template: pass a template explicitly",
            ));
        }
        match name {
            Some(n) => find(n).ok_or_else(|| config_error(format!("no chat template named `{n}`"))),
            None => {
                if has_tools && let Some(t) = find("tool_use") {
                    return Ok(t);
                }
                find("default").ok_or_else(|| {
                    config_error("this model has multiple chat templates with no default: name one")
                })
            }
        }
    }
}

/// A chat to render: the arguments of `apply_chat_template`, as one JSON object.
///
/// `messages` (a list) is required; `tools` and `documents` default to `none`,
/// `add_generation_prompt` and `continue_final_message` to false; special tokens
/// (`bos_token`, ...) may be strings or `{"content": ...}` objects; every other key is passed to
/// the template as an extra variable (`enable_thinking`, `date_string`, ...).
pub(crate) struct ChatRequest {
    pub context: Value,
    pub has_tools: bool,
    pub continue_final_message: bool,
    pub final_message: Option<String>,
}

pub(crate) fn parse_request(
    request_json: &str,
    defaults: &[(String, String)],
) -> Result<ChatRequest, crate::TemplateError> {
    let req: Value = crate::parse_json(request_json)?;
    if req.kind() != ValueKind::Map {
        return Err(config_error("the chat request must be a JSON object"));
    }
    let messages = req.get_attr("messages").unwrap_or_default();
    if messages.kind() != ValueKind::Seq {
        return Err(config_error("the chat request needs `messages`, a list"));
    }
    let continue_final_message = req
        .get_attr("continue_final_message")
        .map(|v| v.is_true())
        .unwrap_or(false);
    let add_generation_prompt = req
        .get_attr("add_generation_prompt")
        .map(|v| v.is_true())
        .unwrap_or(false);
    if continue_final_message && add_generation_prompt {
        return Err(config_error(
            "continue_final_message and add_generation_prompt are not compatible",
        ));
    }
    let mut entries: Vec<(String, Value)> = defaults
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    let set = |entries: &mut Vec<(String, Value)>, key: &str, v: Value| match entries
        .iter_mut()
        .find(|(k, _)| k == key)
    {
        Some(slot) => slot.1 = v,
        None => entries.push((key.to_owned(), v)),
    };
    for (key, v) in [
        ("tools", Value::from(())),
        ("documents", Value::from(())),
        ("add_generation_prompt", Value::from(false)),
    ] {
        set(&mut entries, key, v);
    }
    for key in req.try_iter().map_err(|e| config_error(e.to_string()))? {
        let Some(name) = key.as_str() else { continue };
        if name == "continue_final_message" {
            continue;
        }
        let mut v = req.get_item(&key).unwrap_or_default();
        if name.ends_with("_token") && v.kind() == ValueKind::Map {
            v = v.get_attr("content").unwrap_or_default();
        }
        set(&mut entries, name, v);
    }
    let has_tools = entries
        .iter()
        .any(|(k, v)| k == "tools" && !v.is_none() && !v.is_undefined());
    let final_message = if continue_final_message {
        let last = messages
            .try_iter()
            .ok()
            .and_then(|it| it.last())
            .ok_or_else(|| config_error("continue_final_message needs a final message"))?;
        let content = last.get_attr("content").unwrap_or_default();
        let text = if content.kind() == ValueKind::Seq {
            content
                .try_iter()
                .ok()
                .and_then(|it| {
                    it.collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .find_map(|block| block.get_attr("text").ok().filter(|t| !t.is_undefined()))
                })
                .ok_or_else(|| {
                    config_error("continue_final_message needs text in the final message")
                })?
        } else {
            content
        };
        Some(crate::jinja2::py_str(&text))
    } else {
        None
    };
    Ok(ChatRequest {
        context: Value::from_pairs(entries),
        has_tools,
        continue_final_message,
        final_message,
    })
}

/// transformers' `continue_final_message`: cut the rendering after the final message's text.
pub(crate) fn continue_final(
    rendered: String,
    final_message: &str,
) -> Result<String, crate::TemplateError> {
    let needle = final_message.trim();
    match rendered.rfind(needle) {
        Some(i) => {
            let mut out = rendered;
            out.truncate(i + needle.len());
            Ok(out)
        }
        None => Err(crate::TemplateError {
            kind: "render".to_owned(),
            message: "continue_final_message is set but the final message does not appear in the \
                      chat after applying the chat template"
                .to_owned(),
            position: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_knows_the_calendar() {
        // 2024-07-26 13:05:09 UTC, a Friday.
        let t = 1_722_000_000 - 1_722_000_000 % 86_400 + 13 * 3600 + 5 * 60 + 9;
        assert_eq!(strftime("%Y-%m-%d %H:%M:%S", t), "2024-07-26 13:05:09");
        assert_eq!(strftime("%d %b %Y", t), "26 Jul 2024");
        assert_eq!(
            strftime("%B %-d, %Y (%A) %j %p %%", t),
            "July 26, 2024 (Friday) 208 PM %"
        );
        assert_eq!(strftime("%a %y %e", 0), "Thu 70  1");
    }

    #[test]
    fn generation_tags_keep_their_length_and_trim_marks() {
        let src = "{%- generation -%}x{% endgeneration %}{% if a %}generation{% endif %}";
        let out = rewrite_generation_tags(src);
        assert_eq!(out.len(), src.len());
        assert_eq!(
            out,
            "{%- with       -%}x{% endwith       %}{% if a %}generation{% endif %}"
        );
    }

    #[test]
    fn tokenizer_configs_name_their_templates() {
        let cfg = TokenizerConfig::parse(
            r#"{"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}],
                "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}"#,
        )
        .unwrap();
        assert_eq!(cfg.template(None, false).unwrap(), "D");
        assert_eq!(cfg.template(None, true).unwrap(), "T");
        assert_eq!(cfg.template(Some("tool_use"), false).unwrap(), "T");
        assert!(cfg.template(Some("rag"), false).is_err());
        assert_eq!(
            cfg.special_tokens,
            vec![
                ("bos_token".to_owned(), "<s>".to_owned()),
                ("eos_token".to_owned(), "</s>".to_owned())
            ]
        );
        let single = TokenizerConfig::parse(r#"{"chat_template": "S"}"#).unwrap();
        assert_eq!(single.template(None, true).unwrap(), "S");
    }
}
