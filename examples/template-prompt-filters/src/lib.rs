//! A Warden template engine: minijinja (strict undefined, engine fuel, no loader) plus filters
//! that prompt authors keep asking for:
//!
//! - `truncate_tokens(n)`: at most `n` whitespace-separated tokens, then `…` (keeps prompts
//!   inside a context budget without cutting words in half);
//! - `json_escape`: the text escaped for the inside of a JSON string literal (for prompts that
//!   ask the model to answer in JSON and embed user text);
//! - `bullet_list`: a list as `- item` lines.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};
use warden_sdk::Error;
use warden_sdk::json::Context;
use warden_sdk::template::{RenderOptions, TemplateEngine, TemplateInfo};

/// The engine.
pub struct PromptFilters;

/// At most `n` tokens of `s`, `…` appended when anything was cut.
pub fn truncate_tokens(s: &str, n: usize) -> String {
    let mut words = s.split_whitespace();
    let kept: Vec<&str> = words.by_ref().take(n).collect();
    let mut out = kept.join(" ");
    if words.next().is_some() {
        out.push('…');
    }
    out
}

/// `s` escaped for the inside of a JSON string literal.
pub fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn bullet_list(items: Vec<Value>) -> String {
    items
        .iter()
        .map(|v| format!("- {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn environment(options: &RenderOptions) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(if options.strict_undefined.unwrap_or(true) {
        UndefinedBehavior::Strict
    } else {
        UndefinedBehavior::Lenient
    });
    env.set_fuel(Some(options.engine_fuel.unwrap_or(1_000_000)));
    env.set_recursion_limit(options.max_recursion.unwrap_or(64) as usize);
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(options.trim_blocks.unwrap_or(false))
        .lstrip_blocks(options.lstrip_blocks.unwrap_or(false))
        .keep_trailing_newline(options.keep_trailing_newline.unwrap_or(false))
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("truncate_tokens", |s: String, n: usize| {
        truncate_tokens(&s, n)
    });
    env.add_filter("json_escape", |s: String| json_escape(&s));
    env.add_filter("bullet_list", bullet_list);
    env
}

fn to_error(e: &minijinja::Error) -> Error {
    let kind = match e.kind() {
        minijinja::ErrorKind::SyntaxError => "syntax",
        minijinja::ErrorKind::UndefinedError => "undefined",
        _ => "render",
    };
    let mut message = e.to_string();
    if let Some(detail) = e.detail() {
        message = format!("{}: {detail}", e.kind());
    }
    match e.line() {
        Some(line) => Error::invalid_input_at(kind, message, line as u32, 1),
        None => Error::invalid_input(kind, message),
    }
}

impl TemplateEngine for PromptFilters {
    fn render(
        template: &str,
        context_json: &str,
        options: &RenderOptions,
    ) -> Result<String, Error> {
        let ctx = Context::parse(context_json)?;
        let env = environment(options);
        let tmpl = env.template_from_str(template).map_err(|e| to_error(&e))?;
        tmpl.render(Value::from(minijinja::value::Serde(ctx.value().clone())))
            .map_err(|e| to_error(&e))
    }

    fn inspect(template: &str) -> Result<TemplateInfo, Error> {
        let env = environment(&RenderOptions::default());
        let tmpl = env.template_from_str(template).map_err(|e| to_error(&e))?;
        let mut variables: Vec<String> = tmpl.undeclared_variables(false).into_iter().collect();
        let mut paths: Vec<String> = tmpl
            .undeclared_variables(true)
            .into_iter()
            .filter(|p| p.contains('.'))
            .collect();
        variables.sort();
        paths.sort();
        Ok(TemplateInfo { variables, paths })
    }
}

warden_sdk::export_template_engine!(PromptFilters);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert_eq!(truncate_tokens("one two  three four", 2), "one two…");
        assert_eq!(truncate_tokens("one two", 5), "one two");
        assert_eq!(json_escape("say \"hi\"\n"), "say \\\"hi\\\"\\n");
    }

    #[test]
    fn renders_with_filters_and_reports_syntax_errors() {
        let out = PromptFilters::render(
            "Q: {{ q | truncate_tokens(3) }}\n{\"text\": \"{{ q | json_escape }}\"}\n{{ tags | bullet_list }}",
            r#"{"q": "is \"this\" too long to fit", "tags": ["a", "b"]}"#,
            &RenderOptions::default(),
        )
        .unwrap();
        assert_eq!(
            out,
            "Q: is \"this\" too…\n{\"text\": \"is \\\"this\\\" too long to fit\"}\n- a\n- b"
        );
        let e =
            PromptFilters::render("{{ missing }}", "{}", &RenderOptions::default()).unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput(ref i) if i.kind == "undefined"),
            "{e}"
        );
        let e = PromptFilters::inspect("{% if %}").unwrap_err();
        assert!(
            matches!(e, Error::InvalidInput(ref i) if i.kind == "syntax" && i.position.is_some()),
            "{e}"
        );
        let info = PromptFilters::inspect("{{ user.name }} {{ q }}").unwrap();
        assert_eq!(info.variables, ["q", "user"]);
        assert_eq!(info.paths, ["user.name"]);
    }
}
