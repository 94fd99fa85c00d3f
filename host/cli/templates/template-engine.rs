//! {{NAME}}: a Warden template engine. It replaces `{{ path.to.value }}` placeholders with
//! values from the context and refuses undefined ones; replace the logic with your own.

use warden_sdk::Error;
use warden_sdk::json::Context;
use warden_sdk::template::{RenderOptions, TemplateEngine, TemplateInfo};

/// The engine.
pub struct Engine;

/// The placeholders of `template`: (byte range of `{{ … }}`, the trimmed path inside).
fn placeholders(template: &str) -> Result<Vec<(usize, usize, String)>, Error> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(open) = template[rest..].find("{{") {
        let start = rest + open;
        let Some(close) = template[start..].find("}}") else {
            let line = template[..start].lines().count().max(1) as u32;
            return Err(Error::invalid_input_at("syntax", "`{{` without `}}`", line, 1));
        };
        let end = start + close + 2;
        out.push((start, end, template[start + 2..end - 2].trim().to_owned()));
        rest = end;
    }
    Ok(out)
}

impl TemplateEngine for Engine {
    fn render(template: &str, context_json: &str, options: &RenderOptions) -> Result<String, Error> {
        let ctx = Context::parse(context_json)?;
        let strict = options.strict_undefined.unwrap_or(true);
        let mut out = String::with_capacity(template.len());
        let mut last = 0;
        for (start, end, path) in placeholders(template)? {
            out.push_str(&template[last..start]);
            match ctx.text(&path) {
                Some(v) => out.push_str(&v),
                None if strict => return Err(ctx.require(&path).unwrap_err()),
                None => {}
            }
            last = end;
        }
        out.push_str(&template[last..]);
        Ok(out)
    }

    fn inspect(template: &str) -> Result<TemplateInfo, Error> {
        let mut variables = Vec::new();
        let mut paths = Vec::new();
        for (_, _, path) in placeholders(template)? {
            let top = path.split('.').next().unwrap_or_default().to_owned();
            if path.contains('.') {
                paths.push(path);
            }
            variables.push(top);
        }
        variables.sort();
        variables.dedup();
        paths.sort();
        paths.dedup();
        Ok(TemplateInfo { variables, paths })
    }
}

warden_sdk::export_template_engine!(Engine);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_refuses_undefined() {
        let o = RenderOptions::default();
        let out = Engine::render("Hi {{ user.name }}!", r#"{"user": {"name": "Ada"}}"#, &o).unwrap();
        assert_eq!(out, "Hi Ada!");
        assert!(Engine::render("{{ nope }}", "{}", &o).is_err());
        assert_eq!(Engine::inspect("{{ a.b }} {{ c }}").unwrap().variables, ["a", "c"]);
    }
}
