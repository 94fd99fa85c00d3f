//! The Jinja2 dialect: what Python's Jinja2 does where minijinja does something else.
//!
//! Installed on an environment by [`install`]: Python-style output (`None`, `True`, `['a']`),
//! Python `str`/`list`/`dict` methods (minijinja-contrib's pycompat plus a few it lacks), the
//! Jinja2 filters minijinja leaves out or spells differently (`tojson`, `escape`, `truncate`,
//! `wordwrap`, `center`, `urlize`, `striptags`, `wordcount`, `filesizeformat`, `xmlattr`,
//! `pprint`, positional arguments to `sort` and `unique`, ...), and the `cycler` and `joiner`
//! globals. Every filter here charges engine fuel for the text it produces, like minijinja's own.

use std::fmt::Write as _;

use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Output, State};

/// Which `tojson` a dialect gets: Jinja2's own or the one Hugging Face installs for chat templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonFlavor {
    /// Jinja2's default: `json.dumps(sort_keys=True)` with `<>&'` escaped for HTML.
    Jinja2,
    /// transformers' override: `json.dumps(ensure_ascii=False, sort_keys=False)`, with `indent`,
    /// `separators`, `ensure_ascii` and `sort_keys` arguments.
    HuggingFace,
}

/// Charges fuel for `n` bytes of produced text (one unit per 64 bytes, as minijinja-contrib does).
fn charge(state: &State, n: usize) -> Result<(), Error> {
    if n >= 64 {
        state.consume_fuel((n / 64) as u64)
    } else {
        Ok(())
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// The `i`th positional argument or the keyword argument `name` (which wins).
fn arg(
    pos: &[Option<Value>],
    i: usize,
    kwargs: &Kwargs,
    name: &str,
) -> Result<Option<Value>, Error> {
    Ok(match kwargs.get::<Option<Value>>(name)? {
        Some(v) => Some(v),
        None => pos.get(i).cloned().flatten(),
    })
}

fn max_args(pos: &[Option<Value>], n: usize) -> Result<(), Error> {
    if pos.len() > n {
        Err(Error::from(ErrorKind::TooManyArguments))
    } else {
        Ok(())
    }
}

/// Installs the Jinja2 dialect on `env`.
pub fn install(env: &mut Environment<'_>, json: JsonFlavor) {
    env.set_formatter(py_formatter);
    env.set_unknown_method_callback(methods);
    match json {
        JsonFlavor::Jinja2 => env.add_filter("tojson", tojson_jinja2),
        JsonFlavor::HuggingFace => env.add_filter("tojson", tojson_hf),
    }
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("forceescape", forceescape);
    env.add_filter("string", string);
    env.add_filter("join", join);
    env.add_filter("center", center);
    env.add_filter("truncate", truncate);
    env.add_filter("wordwrap", wordwrap);
    env.add_filter("wordcount", wordcount);
    env.add_filter("filesizeformat", filesizeformat);
    env.add_filter("striptags", striptags);
    env.add_filter("urlize", urlize);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("pprint", pprint);
    env.add_filter("title", title);
    env.add_filter("sort", sort);
    env.add_filter("unique", unique);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("round", round);
    env.add_filter("indent", indent);
    env.add_filter("list", list);
    env.add_test("iterable", is_iterable);
    env.add_test("sequence", is_sequence);
    env.add_filter("attr", attr);
    env.add_filter("dictsort", dictsort);
    env.add_filter("items", items);
    env.add_filter("urlencode", urlencode);
    env.add_function("cycler", cycler);
    env.add_function("joiner", minijinja_contrib::globals::joiner);
}

/// Jinja2's `iterable`: strings, lists, dicts and other iterables; not `none` or numbers.
fn is_iterable(v: &Value) -> bool {
    matches!(
        v.kind(),
        ValueKind::String
            | ValueKind::Seq
            | ValueKind::Map
            | ValueKind::Iterable
            | ValueKind::Bytes
    )
}

/// Jinja2's `sequence`: anything with a length and items (strings, lists, dicts).
fn is_sequence(v: &Value) -> bool {
    matches!(
        v.kind(),
        ValueKind::String | ValueKind::Seq | ValueKind::Map | ValueKind::Bytes
    )
}

/// A Python tuple (what `items`, `dictsort` and `partition` return): a sequence that prints
/// as `(a, b)`.
#[derive(Debug)]
pub struct PyTuple(pub Vec<Value>);

impl Object for PyTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let i = key.as_i64()?;
        let i = if i < 0 { self.0.len() as i64 + i } else { i };
        self.0.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
}

fn tuple(items: Vec<Value>) -> Value {
    Value::from_object(PyTuple(items))
}

// --- Python's str() and repr() -------------------------------------------------------------

/// Python's `repr()` of a float (shortest round-trip digits, scientific outside 1e-4..1e16).
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            let (int_part, frac) = if digits.len() > point {
                (digits[..point].to_owned(), digits[point..].to_owned())
            } else {
                (format!("{digits:0<point$}"), "0".to_owned())
            };
            format!("{sign}{int_part}.{frac}")
        } else {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let mant = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// Python's `repr()` of a string: single quotes unless the text has one and no double quote.
fn py_str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

fn is_float(v: &Value) -> bool {
    v.kind() == ValueKind::Number && !v.is_integer()
}

fn write_py(v: &Value, out: &mut String, repr: bool, depth: usize) {
    if depth > 64 {
        out.push_str("...");
        return;
    }
    match v.kind() {
        ValueKind::Undefined => {
            if repr {
                out.push_str("Undefined");
            }
        }
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number if is_float(v) => {
            out.push_str(&py_float(f64::try_from(v.clone()).unwrap_or(f64::NAN)));
        }
        ValueKind::String => match v.as_str() {
            Some(s) if repr => py_str_repr(s, out),
            Some(s) => out.push_str(s),
            None => {}
        },
        ValueKind::Seq if v.downcast_object_ref::<PyTuple>().is_some() => {
            let items: Vec<Value> = v.try_iter().map(|i| i.collect()).unwrap_or_default();
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py(item, out, true, depth + 1);
            }
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_py(&item, out, true, depth + 1);
                }
            }
            out.push(']');
        }
        ValueKind::Map if v.as_object().is_some() && !is_plain_map(v) => {
            let _ = write!(out, "{v}");
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, key) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_py(&key, out, true, depth + 1);
                    out.push_str(": ");
                    let item = v.get_item(&key).unwrap_or_default();
                    write_py(&item, out, true, depth + 1);
                }
            }
            out.push('}');
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Whether a map value is plain data (JSON objects, `dict()`), not a namespace or loop object.
fn is_plain_map(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.type_name().contains("Map") || o.type_name().contains("map"))
}

/// Python's `str()` of a value.
pub fn py_str(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_owned();
    }
    let mut out = String::new();
    write_py(v, &mut out, false, 0);
    out
}

/// Python's `repr()` of a value.
pub fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_py(v, &mut out, true, 0);
    out
}

fn py_formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        return Ok(());
    }
    let text = py_str(value);
    charge(state, text.len())?;
    out.write_str(&text)
        .map_err(|_| invalid("cannot write output"))
}

// --- json.dumps ----------------------------------------------------------------------------

struct JsonOpts {
    ensure_ascii: bool,
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
}

fn json_str(s: &str, ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_key(k: &Value) -> Result<String, Error> {
    Ok(match k.kind() {
        ValueKind::String => k.as_str().unwrap_or_default().to_owned(),
        ValueKind::None => "null".to_owned(),
        ValueKind::Bool => if k.is_true() { "true" } else { "false" }.to_owned(),
        ValueKind::Number if is_float(k) => py_float(f64::try_from(k.clone()).unwrap_or(0.0)),
        ValueKind::Number => k.to_string(),
        _ => {
            return Err(invalid(format!(
                "keys must be str, int, float, bool or None, not {}",
                k.kind()
            )));
        }
    })
}

fn json_dump(
    v: &Value,
    o: &JsonOpts,
    level: usize,
    out: &mut String,
    state: &State,
) -> Result<(), Error> {
    if level > 256 {
        return Err(invalid("value is nested too deeply for tojson"));
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(ind) = &o.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(ind);
            }
        }
    };
    match v.kind() {
        ValueKind::Undefined => {
            return Err(invalid("Object of type Undefined is not JSON serializable"));
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number if is_float(v) => {
            let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
            if f.is_nan() {
                out.push_str("NaN");
            } else if f.is_infinite() {
                out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                out.push_str(&py_float(f));
            }
        }
        ValueKind::Number => {
            let _ = write!(out, "{v}");
        }
        ValueKind::String => json_str(v.as_str().unwrap_or_default(), o.ensure_ascii, out),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = v.try_iter().map(|i| i.collect()).unwrap_or_default();
            if items.is_empty() {
                out.push_str("[]");
            } else {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&o.item_sep);
                    }
                    newline(out, level + 1);
                    json_dump(item, o, level + 1, out, state)?;
                }
                newline(out, level);
                out.push(']');
            }
        }
        ValueKind::Map => {
            let mut entries = Vec::new();
            for key in v.try_iter()? {
                let item = v.get_item(&key).unwrap_or_default();
                entries.push((json_key(&key)?, item));
            }
            if o.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
            }
            if entries.is_empty() {
                out.push_str("{}");
            } else {
                out.push('{');
                for (i, (key, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&o.item_sep);
                    }
                    newline(out, level + 1);
                    json_str(key, o.ensure_ascii, out);
                    out.push_str(&o.key_sep);
                    json_dump(item, o, level + 1, out, state)?;
                }
                newline(out, level);
                out.push('}');
            }
        }
        kind => {
            return Err(invalid(format!(
                "Object of type {kind} is not JSON serializable"
            )));
        }
    }
    if out.len() > 64 {
        charge(state, 64)?;
    }
    Ok(())
}

fn indent_arg(indent: Option<Value>) -> Result<Option<String>, Error> {
    Ok(match indent {
        None => None,
        Some(v) if v.is_none() || v.is_undefined() => None,
        Some(v) if v.kind() == ValueKind::String => Some(v.as_str().unwrap_or_default().to_owned()),
        Some(v) => {
            let n = i64::try_from(v)?;
            Some(" ".repeat(usize::try_from(n.max(0)).unwrap_or(0).min(1024)))
        }
    })
}

fn dumps(state: &State, value: &Value, o: &JsonOpts) -> Result<String, Error> {
    let mut out = String::new();
    json_dump(value, o, 0, &mut out, state)?;
    charge(state, out.len())?;
    Ok(out)
}

fn tojson_jinja2(
    state: &State,
    value: &Value,
    indent: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let indent = match kwargs.get::<Option<Value>>("indent")? {
        Some(v) => indent_arg(Some(v))?,
        None => indent_arg(indent)?,
    };
    kwargs.assert_all_used()?;
    let item_sep = if indent.is_some() { "," } else { ", " }.to_owned();
    let o = JsonOpts {
        ensure_ascii: true,
        indent,
        item_sep,
        key_sep: ": ".to_owned(),
        sort_keys: true,
    };
    let out = dumps(state, value, &o)?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027");
    Ok(Value::from_safe_string(out))
}

fn tojson_hf(
    state: &State,
    value: &Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 4)?;
    let ensure_ascii = arg(&pos, 0, &kwargs, "ensure_ascii")?;
    let indent = arg(&pos, 1, &kwargs, "indent")?;
    let separators = arg(&pos, 2, &kwargs, "separators")?;
    let sort_keys = arg(&pos, 3, &kwargs, "sort_keys")?;
    kwargs.assert_all_used()?;
    let indent = indent_arg(indent)?;
    let (item_sep, key_sep) = match separators {
        Some(sep) if !sep.is_none() => {
            let parts: Vec<Value> = sep.try_iter()?.collect();
            match parts.as_slice() {
                [a, b] => (py_str(a), py_str(b)),
                _ => return Err(invalid("separators must be a pair of strings")),
            }
        }
        _ if indent.is_some() => (",".to_owned(), ": ".to_owned()),
        _ => (", ".to_owned(), ": ".to_owned()),
    };
    let o = JsonOpts {
        ensure_ascii: ensure_ascii.is_some_and(|v| v.is_true()),
        indent,
        item_sep,
        key_sep,
        sort_keys: sort_keys.is_some_and(|v| v.is_true()),
    };
    Ok(Value::from(dumps(state, value, &o)?))
}

// --- escaping --------------------------------------------------------------------------------

fn markup_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn escape(state: &State, v: &Value) -> Result<Value, Error> {
    if v.is_safe() {
        return Ok(v.clone());
    }
    forceescape(state, v)
}

fn forceescape(state: &State, v: &Value) -> Result<Value, Error> {
    let out = markup_escape(&py_str(v));
    charge(state, out.len())?;
    Ok(Value::from_safe_string(out))
}

// --- string filters --------------------------------------------------------------------------

fn string(state: &State, v: &Value) -> Result<Value, Error> {
    if v.kind() == ValueKind::String {
        return Ok(v.clone());
    }
    let out = py_str(v);
    charge(state, out.len())?;
    Ok(Value::from(out))
}

fn join(
    state: &State,
    value: &Value,
    sep: Option<Value>,
    attribute: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let sep = match kwargs.get::<Option<Value>>("d")? {
        Some(d) => py_str(&d),
        None => sep.map(|s| py_str(&s)).unwrap_or_default(),
    };
    let attribute = match kwargs.get::<Option<Value>>("attribute")? {
        Some(a) => Some(a),
        None => attribute,
    };
    kwargs.assert_all_used()?;
    if value.is_undefined() || value.is_none() {
        return Ok(Value::from(""));
    }
    if let Some(s) = value.as_str() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        return Ok(Value::from(chars.join(&sep)));
    }
    let mut out = String::new();
    let mut safe = value.is_safe();
    for (i, item) in value.try_iter()?.enumerate() {
        let item = match &attribute {
            Some(a) => get_attr_path(&item, a),
            None => item,
        };
        if i > 0 {
            out.push_str(&sep);
        }
        safe = safe || item.is_safe();
        out.push_str(&py_str(&item));
        charge(state, out.len() / 64 * 64)?;
    }
    let _ = safe;
    Ok(Value::from(out))
}

fn get_attr_path(item: &Value, attr: &Value) -> Value {
    if let Some(path) = attr.as_str() {
        let mut cur = item.clone();
        for part in path.split('.') {
            cur = match part.parse::<i64>() {
                Ok(n) => cur
                    .get_item(&Value::from(n))
                    .or_else(|_| cur.get_attr(part))
                    .unwrap_or_default(),
                Err(_) => cur.get_attr(part).unwrap_or_default(),
            };
        }
        cur
    } else {
        item.get_item(attr).unwrap_or_default()
    }
}

fn center(state: &State, s: &Value, width: Option<i64>) -> Result<Value, Error> {
    let s = py_str(s);
    let width = width.unwrap_or(80);
    let len = s.chars().count() as i64;
    let marg = width - len;
    if marg <= 0 {
        return Ok(Value::from(s));
    }
    let left = marg / 2 + (marg & width & 1);
    let right = marg - left;
    let out = format!(
        "{}{s}{}",
        " ".repeat(left as usize),
        " ".repeat(right as usize)
    );
    charge(state, out.len())?;
    Ok(Value::from(out))
}

fn truncate(state: &State, s: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 4)?;
    let length = match arg(&pos, 0, &kwargs, "length")? {
        Some(v) => usize::try_from(v)?,
        None => 255,
    };
    let killwords = arg(&pos, 1, &kwargs, "killwords")?.is_some_and(|v| v.is_true());
    let end = arg(&pos, 2, &kwargs, "end")?
        .map(|v| py_str(&v))
        .unwrap_or_else(|| "...".to_owned());
    let leeway = match arg(&pos, 3, &kwargs, "leeway")? {
        Some(v) if !v.is_none() => usize::try_from(v)?,
        _ => 5,
    };
    kwargs.assert_all_used()?;
    let s = py_str(s);
    let chars: Vec<char> = s.chars().collect();
    let end_len = end.chars().count();
    if length < end_len {
        return Err(invalid(format!(
            "expected length >= {end_len}, got {length}"
        )));
    }
    if chars.len() <= length + leeway {
        return Ok(Value::from(s));
    }
    let head: String = chars[..length - end_len].iter().collect();
    let out = if killwords {
        head + &end
    } else {
        let kept = match head.rfind(' ') {
            Some(i) => &head[..i],
            None => &head[..],
        };
        format!("{kept}{end}")
    };
    charge(state, out.len())?;
    Ok(Value::from(out))
}

fn wordwrap(state: &State, s: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 4)?;
    let mut pairs: Vec<(&str, Value)> = Vec::new();
    for (i, name) in [
        "width",
        "break_long_words",
        "wrapstring",
        "break_on_hyphens",
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(v) = arg(&pos, i, &kwargs, name)?.filter(|v| !v.is_none()) {
            pairs.push((name, v));
        }
    }
    kwargs.assert_all_used()?;
    let out =
        minijinja_contrib::filters::wordwrap(&Value::from(py_str(s)), Kwargs::from_iter(pairs))?;
    charge(state, out.as_str().map_or(0, str::len))?;
    Ok(out)
}

fn wordcount(s: &Value) -> usize {
    let s = py_str(s);
    let mut count = 0;
    let mut in_word = false;
    for c in s.chars() {
        let word = c.is_alphanumeric() || c == '_';
        if word && !in_word {
            count += 1;
        }
        in_word = word;
    }
    count
}

fn filesizeformat(value: &Value, binary: Option<bool>) -> Result<String, Error> {
    let bytes = match value.as_str() {
        Some(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| invalid("could not convert string to float"))?,
        None => f64::try_from(value.clone())?,
    };
    let binary = binary.unwrap_or(false);
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes: [&str; 8] = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if bytes == 1.0 {
        return Ok("1 Byte".to_owned());
    }
    if bytes < base {
        return Ok(format!("{} Bytes", bytes.trunc() as i64));
    }
    let mut unit = base;
    for (i, prefix) in prefixes.iter().enumerate() {
        unit = base.powi(i as i32 + 2);
        if bytes < unit {
            return Ok(format!("{:.1} {prefix}", base * bytes / unit));
        }
    }
    Ok(format!("{:.1} {}", base * bytes / unit, prefixes[7]))
}

fn striptags(state: &State, v: &Value) -> Result<Value, Error> {
    let out = minijinja_contrib::filters::striptags(py_str(v));
    charge(state, out.len())?;
    Ok(Value::from(out))
}

fn title(state: &State, v: &Value) -> Result<Value, Error> {
    let s = py_str(v);
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        let sep = c.is_whitespace() || matches!(c, '-' | '(' | '{' | '[' | '<');
        if sep {
            out.push(c);
            start = true;
        } else if start {
            out.extend(c.to_uppercase());
            start = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    charge(state, out.len())?;
    Ok(Value::from(out))
}

fn urlize(state: &State, v: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 5)?;
    let trim_url_limit = arg(&pos, 0, &kwargs, "trim_url_limit")?
        .filter(|v| !v.is_none())
        .map(i64::try_from)
        .transpose()?;
    let nofollow = arg(&pos, 1, &kwargs, "nofollow")?.is_some_and(|v| v.is_true());
    let target = arg(&pos, 2, &kwargs, "target")?.filter(|v| !v.is_none());
    let rel = arg(&pos, 3, &kwargs, "rel")?.filter(|v| !v.is_none());
    let _ = arg(&pos, 4, &kwargs, "extra_schemes")?;
    kwargs.assert_all_used()?;
    let mut rel_parts: Vec<String> = rel
        .map(|r| py_str(&r).split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if nofollow {
        rel_parts.push("nofollow".to_owned());
    }
    rel_parts.push("noopener".to_owned());
    rel_parts.sort();
    rel_parts.dedup();
    let rel_attr = format!(" rel=\"{}\"", markup_escape(&rel_parts.join(" ")));
    let target_attr = target
        .map(|t| format!(" target=\"{}\"", markup_escape(&py_str(&t))))
        .unwrap_or_default();
    let text = markup_escape(&py_str(v));
    let trim = |url: &str| -> String {
        match trim_url_limit {
            Some(limit) if url.chars().count() as i64 > limit => {
                let head: String = url.chars().take(limit.max(0) as usize).collect();
                format!("{head}...")
            }
            _ => url.to_owned(),
        }
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let ws_end = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..ws_end]);
        rest = &rest[ws_end..];
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        rest = &rest[word_end..];
        out.push_str(&urlize_word(word, &rel_attr, &target_attr, &trim));
    }
    charge(state, out.len())?;
    Ok(Value::from_safe_string(out))
}

fn urlize_word(word: &str, rel: &str, target: &str, trim: &dyn Fn(&str) -> String) -> String {
    // Leading and trailing punctuation stay outside the link, as Jinja2's urlize does.
    let mut head = "";
    let mut middle = word;
    for lead in ["(", "<", "&lt;"] {
        if let Some(m) = middle.strip_prefix(lead) {
            head = &word[..lead.len()];
            middle = m;
            break;
        }
    }
    let mut tail_start = middle.len();
    loop {
        let m = &middle[..tail_start];
        let trimmed = ["&gt;", ".", ",", ")", ">", "\n"]
            .iter()
            .find_map(|t| m.strip_suffix(t).map(|r| r.len()));
        match trimmed {
            Some(len) => tail_start = len,
            None => break,
        }
    }
    {
        let m = &middle[..tail_start];
        if middle[tail_start..].starts_with(')') && m.matches('(').count() > m.matches(')').count()
        {
            tail_start += 1;
        }
    }
    let (middle, tail) = middle.split_at(tail_start);
    let lower = middle.to_ascii_lowercase();
    let link = if lower.starts_with("http://") || lower.starts_with("https://") {
        Some(middle.to_owned())
    } else if lower.starts_with("www.")
        || (!middle.contains('@')
            && !middle.starts_with("http")
            && middle.contains('.')
            && [".org", ".net", ".com"].iter().any(|s| lower.ends_with(s)))
    {
        Some(format!("https://{middle}"))
    } else if middle.contains('@')
        && !middle.contains(':')
        && !lower.starts_with("www.")
        && is_email(middle)
    {
        return format!("{head}<a href=\"mailto:{middle}\">{middle}</a>{tail}");
    } else if lower.starts_with("mailto:") {
        return format!("{head}<a href=\"{middle}\">{}</a>{tail}", &middle[7..]);
    } else {
        None
    };
    match link {
        Some(href) => format!(
            "{head}<a href=\"{href}\"{rel}{target}>{}</a>{tail}",
            trim(middle)
        ),
        None => word.to_owned(),
    }
}

fn is_email(s: &str) -> bool {
    let Some((user, domain)) = s.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && user
            .chars()
            .all(|c| c.is_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c))
        && domain.contains('.')
        && domain
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

fn xmlattr(state: &State, d: &Value, autospace: Option<bool>) -> Result<Value, Error> {
    let mut parts = Vec::new();
    for key in d.try_iter()? {
        let v = d.get_item(&key).unwrap_or_default();
        if v.is_none() || v.is_undefined() {
            continue;
        }
        let k = py_str(&key);
        if k.chars().any(|c| c.is_whitespace() || "/>=".contains(c)) {
            return Err(invalid(format!(
                "Invalid character in attribute name: {k:?}"
            )));
        }
        parts.push(format!(
            "{}=\"{}\"",
            markup_escape(&k),
            markup_escape(&py_str(&v))
        ));
    }
    let mut out = parts.join(" ");
    if autospace.unwrap_or(true) && !out.is_empty() {
        out.insert(0, ' ');
    }
    charge(state, out.len())?;
    Ok(Value::from_safe_string(out))
}

fn pprint(state: &State, v: &Value) -> Result<Value, Error> {
    fn sorted(v: &Value) -> Value {
        match v.kind() {
            ValueKind::Map if is_plain_map(v) => {
                let mut keys: Vec<Value> = v.try_iter().map(|i| i.collect()).unwrap_or_default();
                keys.sort();
                Value::from_pairs(keys.into_iter().map(|k| {
                    let item = v.get_item(&k).unwrap_or_default();
                    (k, sorted(&item))
                }))
            }
            ValueKind::Seq => Value::from_iter(
                v.try_iter()
                    .map(|i| i.map(|x| sorted(&x)).collect::<Vec<_>>())
                    .unwrap_or_default(),
            ),
            _ => v.clone(),
        }
    }
    let out = py_repr(&sorted(v));
    charge(state, out.len())?;
    Ok(Value::from(out))
}

// --- filters whose Jinja2 signatures take positional arguments ---------------------------------

fn sort(state: &State, value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 3)?;
    let mut pairs: Vec<(&str, Value)> = Vec::new();
    for (i, name) in ["reverse", "case_sensitive", "attribute"]
        .into_iter()
        .enumerate()
    {
        if let Some(v) = arg(&pos, i, &kwargs, name)?.filter(|v| !v.is_none()) {
            pairs.push((name, v));
        }
    }
    kwargs.assert_all_used()?;
    minijinja::filters::sort(state, value, Kwargs::from_iter(pairs))
}

fn unique(state: &State, value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 2)?;
    let mut pairs: Vec<(&str, Value)> = Vec::new();
    for (i, name) in ["case_sensitive", "attribute"].into_iter().enumerate() {
        if let Some(v) = arg(&pos, i, &kwargs, name)?.filter(|v| !v.is_none()) {
            pairs.push((name, v));
        }
    }
    kwargs.assert_all_used()?;
    minijinja::filters::unique(state, value, Kwargs::from_iter(pairs))
}

fn parse_py_int(s: &str, base: u32) -> Option<i64> {
    let t = s.trim().replace('_', "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_owned()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_owned()),
    };
    let lower = t.to_ascii_lowercase();
    let digits = match base {
        16 => lower.strip_prefix("0x").unwrap_or(&lower),
        8 => lower.strip_prefix("0o").unwrap_or(&lower),
        2 => lower.strip_prefix("0b").unwrap_or(&lower),
        _ => &lower,
    };
    let n = i64::from_str_radix(digits, base).ok()?;
    Some(if neg { -n } else { n })
}

fn int(
    value: &Value,
    default: Option<Value>,
    base: Option<u32>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let default = kwargs
        .get::<Option<Value>>("default")?
        .or(default)
        .unwrap_or(Value::from(0));
    let base = kwargs.get::<Option<u32>>("base")?.or(base).unwrap_or(10);
    kwargs.assert_all_used()?;
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(i64::from(value.is_true())),
        ValueKind::Number if is_float(value) => {
            let f = f64::try_from(value.clone())?;
            if f.is_finite() {
                Value::from(f.trunc() as i64)
            } else {
                default
            }
        }
        ValueKind::Number => value.clone(),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default();
            match parse_py_int(s, base) {
                Some(n) => Value::from(n),
                None => match s.trim().parse::<f64>() {
                    Ok(f) if f.is_finite() => Value::from(f.trunc() as i64),
                    _ => default,
                },
            }
        }
        _ => default,
    })
}

fn float(value: &Value, default: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let default = kwargs
        .get::<Option<Value>>("default")?
        .or(default)
        .unwrap_or(Value::from(0.0));
    kwargs.assert_all_used()?;
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => Value::from(f64::try_from(value.clone())?),
        ValueKind::String => {
            let s = value
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            match s.as_str() {
                "inf" | "+inf" | "infinity" => Value::from(f64::INFINITY),
                "-inf" | "-infinity" => Value::from(f64::NEG_INFINITY),
                "nan" => Value::from(f64::NAN),
                _ => s
                    .replace('_', "")
                    .parse::<f64>()
                    .map(Value::from)
                    .unwrap_or(default),
            }
        }
        _ => default,
    })
}

/// Python's `round(x, n)`: ties to even on the exact binary value.
fn py_round(x: f64, ndigits: i32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let text = format!("{x:.prec$}", prec = ndigits.max(0) as usize);
    if ndigits >= 0 {
        text.parse().unwrap_or(x)
    } else {
        let p = 10f64.powi(-ndigits);
        let y = x / p;
        let r = y.round();
        let r = if (y - y.trunc()).abs() == 0.5 {
            2.0 * (y / 2.0).round()
        } else {
            r
        };
        r * p
    }
}

fn round(
    value: &Value,
    precision: Option<i32>,
    method: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let precision = kwargs
        .get::<Option<i32>>("precision")?
        .or(precision)
        .unwrap_or(0);
    let method = kwargs
        .get::<Option<String>>("method")?
        .or(method)
        .unwrap_or_else(|| "common".to_owned());
    kwargs.assert_all_used()?;
    let x = f64::try_from(value.clone())?;
    let p = 10f64.powi(precision);
    let out = match method.as_str() {
        "common" => py_round(x, precision),
        "ceil" => (x * p).ceil() / p,
        "floor" => (x * p).floor() / p,
        _ => return Err(invalid("method must be 'common', 'ceil' or 'floor'.")),
    };
    Ok(Value::from(out))
}

fn indent(state: &State, s: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 3)?;
    let width = arg(&pos, 0, &kwargs, "width")?;
    let first = arg(&pos, 1, &kwargs, "first")?.is_some_and(|v| v.is_true());
    let blank = arg(&pos, 2, &kwargs, "blank")?.is_some_and(|v| v.is_true());
    kwargs.assert_all_used()?;
    let indention = match width {
        Some(w) if w.kind() == ValueKind::String => w.as_str().unwrap_or_default().to_owned(),
        Some(w) => " ".repeat(
            usize::try_from(i64::try_from(w)?.max(0))
                .unwrap_or(0)
                .min(1024),
        ),
        None => "    ".to_owned(),
    };
    let mut text = py_str(s);
    text.push('\n');
    let lines = py_splitlines(&text);
    let mut rv = if blank {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut it = lines.iter();
        let mut rv = it.next().cloned().unwrap_or_default();
        let rest: Vec<String> = it
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{indention}{l}")
                }
            })
            .collect();
        if !rest.is_empty() {
            rv.push('\n');
            rv.push_str(&rest.join("\n"));
        }
        rv
    };
    if first {
        rv.insert_str(0, &indention);
    }
    charge(state, rv.len())?;
    Ok(Value::from(rv))
}

fn py_splitlines(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(std::mem::take(&mut cur));
            }
            '\n' | '\u{b}' | '\u{c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn list(state: &State, v: &Value) -> Result<Value, Error> {
    if let Some(s) = v.as_str() {
        return Ok(Value::from_iter(
            s.chars().map(|c| Value::from(c.to_string())),
        ));
    }
    if v.is_undefined() || v.is_none() {
        return Ok(Value::from(Vec::<Value>::new()));
    }
    let items: Vec<Value> = v.try_iter()?.collect();
    charge(state, items.len())?;
    Ok(Value::from(items))
}

fn attr(v: &Value, name: &str) -> Value {
    // Jinja2's attr() reads attributes only: a dict's keys are items, not attributes.
    if v.kind() == ValueKind::Map && is_plain_map(v) {
        return Value::UNDEFINED;
    }
    v.get_attr(name).unwrap_or_default()
}

fn pairs_as_tuples(v: Value) -> Result<Value, Error> {
    let out: Vec<Value> = v
        .try_iter()?
        .map(|pair| tuple(pair.try_iter().map(|i| i.collect()).unwrap_or_default()))
        .collect();
    Ok(Value::from(out))
}

fn dictsort(state: &State, v: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let pos: Vec<Option<Value>> = args.iter().cloned().map(Some).collect();
    max_args(&pos, 3)?;
    let mut pairs: Vec<(&str, Value)> = Vec::new();
    for (i, name) in ["case_sensitive", "by", "reverse"].into_iter().enumerate() {
        if let Some(v) = arg(&pos, i, &kwargs, name)?.filter(|v| !v.is_none()) {
            pairs.push((name, v));
        }
    }
    kwargs.assert_all_used()?;
    let _ = state;
    pairs_as_tuples(minijinja::filters::dictsort(v, Kwargs::from_iter(pairs))?)
}

fn items(v: &Value) -> Result<Value, Error> {
    if v.is_undefined() {
        return Ok(Value::from(Vec::<Value>::new()));
    }
    let out: Vec<Value> = v
        .try_iter()?
        .map(|k| {
            let item = v.get_item(&k).unwrap_or_default();
            tuple(vec![k, item])
        })
        .collect();
    Ok(Value::from(out))
}

fn url_quote(s: &str, safe: &str, plus: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "_.-~".contains(c) || safe.contains(c) {
            out.push(c);
        } else if plus && c == ' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn urlencode(v: &Value) -> Result<String, Error> {
    if let Some(s) = v.as_str() {
        return Ok(url_quote(s, "/", false));
    }
    if v.kind() == ValueKind::Map {
        let mut parts = Vec::new();
        for k in v.try_iter()? {
            let item = v.get_item(&k).unwrap_or_default();
            parts.push(format!(
                "{}={}",
                url_quote(&py_str(&k), "", true),
                url_quote(&py_str(&item), "", true)
            ));
        }
        return Ok(parts.join("&"));
    }
    Ok(url_quote(&py_str(v), "/", false))
}

/// Jinja2's `cycler(*items)`: `next()`, `reset()` and `current`.
#[derive(Debug)]
struct Cycler {
    items: Vec<Value>,
    pos: std::sync::atomic::AtomicUsize,
}

impl Object for Cycler {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str() {
            Some("current") => self
                .items
                .get(self.pos.load(std::sync::atomic::Ordering::Relaxed))
                .cloned(),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        use std::sync::atomic::Ordering::Relaxed;
        let () = minijinja::value::from_args(args)?;
        match method {
            "next" => {
                let i = self.pos.load(Relaxed);
                self.pos.store((i + 1) % self.items.len().max(1), Relaxed);
                Ok(self.items.get(i).cloned().unwrap_or_default())
            }
            "reset" => {
                self.pos.store(0, Relaxed);
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

fn cycler(items: Rest<Value>) -> Result<Value, Error> {
    if items.is_empty() {
        return Err(invalid("at least one item has to be provided"));
    }
    Ok(Value::from_object(Cycler {
        items: items.to_vec(),
        pos: std::sync::atomic::AtomicUsize::new(0),
    }))
}

// --- Python methods --------------------------------------------------------------------------

fn methods(state: &mut State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        if let Some(rv) = string_method(state, s, method, args)? {
            return Ok(rv);
        }
    } else if value.kind() == ValueKind::Seq {
        if method == "index" {
            let (needle,): (Value,) = minijinja::value::from_args(args)?;
            return value
                .try_iter()?
                .position(|x| x == needle)
                .map(Value::from)
                .ok_or_else(|| invalid(format!("{} is not in list", py_repr(&needle))));
        }
    } else if value.kind() == ValueKind::Map && method == "copy" {
        let () = minijinja::value::from_args(args)?;
        return Ok(value.clone());
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

fn pad(s: &str, width: i64, fill: char, align: char) -> String {
    let len = s.chars().count() as i64;
    let marg = width - len;
    if marg <= 0 {
        return s.to_owned();
    }
    let (left, right) = match align {
        '<' => (0, marg),
        '>' => (marg, 0),
        _ => {
            let left = marg / 2 + (marg & width & 1);
            (left, marg - left)
        }
    };
    let f = |n: i64| std::iter::repeat_n(fill, n as usize).collect::<String>();
    format!("{}{s}{}", f(left), f(right))
}

fn fill_char(fill: Option<String>) -> Result<char, Error> {
    match fill {
        None => Ok(' '),
        Some(f) => {
            let mut chars = f.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(c),
                _ => Err(invalid(
                    "The fill character must be exactly one character long",
                )),
            }
        }
    }
}

fn string_method(
    state: &State,
    s: &str,
    method: &str,
    args: &[Value],
) -> Result<Option<Value>, Error> {
    let rv = match method {
        "center" | "ljust" | "rjust" => {
            let (width, fill): (i64, Option<String>) = minijinja::value::from_args(args)?;
            let align = match method {
                "ljust" => '<',
                "rjust" => '>',
                _ => '^',
            };
            let out = pad(s, width.min(1 << 20), fill_char(fill)?, align);
            charge(state, out.len())?;
            Value::from(out)
        }
        "zfill" => {
            let (width,): (i64,) = minijinja::value::from_args(args)?;
            let (sign, digits) = match s.chars().next() {
                Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                _ => (String::new(), s),
            };
            let pad_len = (width.min(1 << 20) - s.chars().count() as i64).max(0) as usize;
            Value::from(format!("{sign}{}{digits}", "0".repeat(pad_len)))
        }
        "removeprefix" => {
            let (p,): (String,) = minijinja::value::from_args(args)?;
            Value::from(s.strip_prefix(p.as_str()).unwrap_or(s))
        }
        "removesuffix" => {
            let (p,): (String,) = minijinja::value::from_args(args)?;
            Value::from(s.strip_suffix(p.as_str()).unwrap_or(s))
        }
        "partition" | "rpartition" => {
            let (sep,): (String,) = minijinja::value::from_args(args)?;
            if sep.is_empty() {
                return Err(invalid("empty separator"));
            }
            let found = if method == "partition" {
                s.find(sep.as_str())
            } else {
                s.rfind(sep.as_str())
            };
            let parts = match found {
                Some(i) => [&s[..i], sep.as_str(), &s[i + sep.len()..]],
                None if method == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            tuple(parts.iter().map(|p| Value::from(*p)).collect())
        }
        "rsplit" => {
            let (sep, maxsplit): (Option<Value>, Option<i64>) = minijinja::value::from_args(args)?;
            let maxsplit = maxsplit.unwrap_or(-1);
            let mut parts: Vec<String> = match sep.filter(|v| !v.is_none()) {
                Some(sep) => {
                    let sep = py_str(&sep);
                    if sep.is_empty() {
                        return Err(invalid("empty separator"));
                    }
                    if maxsplit < 0 {
                        s.rsplit(sep.as_str()).map(str::to_owned).collect()
                    } else {
                        s.rsplitn(maxsplit as usize + 1, sep.as_str())
                            .map(str::to_owned)
                            .collect()
                    }
                }
                None => {
                    let words: Vec<&str> = s.split_whitespace().collect();
                    if maxsplit < 0 || words.len() <= maxsplit as usize {
                        words.iter().rev().map(|w| (*w).to_owned()).collect()
                    } else {
                        let mut rest = s.trim_end();
                        let mut out = Vec::new();
                        for _ in 0..maxsplit {
                            let i = rest.rfind(char::is_whitespace).unwrap_or(0);
                            out.push(rest[i..].trim_start().to_owned());
                            rest = rest[..i].trim_end();
                        }
                        out.push(rest.to_owned());
                        out
                    }
                }
            };
            parts.reverse();
            Value::from(parts)
        }
        "index" | "rindex" => {
            let (sub,): (String,) = minijinja::value::from_args(args)?;
            let found = if method == "index" {
                s.find(sub.as_str())
            } else {
                s.rfind(sub.as_str())
            };
            match found {
                Some(i) => Value::from(s[..i].chars().count()),
                None => return Err(invalid("substring not found")),
            }
        }
        "swapcase" => Value::from(
            s.chars()
                .flat_map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<Vec<_>>()
                    } else {
                        c.to_uppercase().collect::<Vec<_>>()
                    }
                })
                .collect::<String>(),
        ),
        "casefold" => Value::from(s.to_lowercase()),
        "isdecimal" => Value::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())),
        _ => return Ok(None),
    };
    Ok(Some(rv))
}
