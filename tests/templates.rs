//! Black-box tests of template fidelity over HTTP and the CLI: the Jinja2 dialect, whitespace
//! and undefined settings per version and per render, Hugging Face chat templates (stored,
//! inline, from a whole `tokenizer_config.json`), and composition in the registry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Server;
use serde_json::{Value, json};

/// Zephyr's chat template, as its `tokenizer_config.json` ships it.
const ZEPHYR: &str = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

fn version(s: &Server, name: &str, body: Value) -> (u16, Value) {
    s.call(
        "POST",
        &format!("/v1/templates/{name}/versions"),
        Some(body),
    )
}

fn render(s: &Server, name: &str, body: Value) -> (u16, Value) {
    s.call("POST", &format!("/v1/templates/{name}/render"), Some(body))
}

#[test]
fn jinja2_dialect_whitespace_and_undefined_modes_per_version_and_per_render() {
    let s = Server::start();
    let (st, v) = version(
        &s,
        "py",
        json!({"template": "{{ text.split(',') }} {{ name.title() }} {{ d.get('x', 'none') }}", "options": {"dialect": "jinja2"}}),
    );
    assert_eq!(st, 201, "{v}");
    let (st, r) = render(
        &s,
        "py",
        json!({"variables": {"text": "a,b", "name": "ada lovelace", "d": {}}}),
    );
    assert_eq!(
        (st, r["text"].as_str()),
        (200, Some("['a', 'b'] Ada Lovelace none")),
        "{r}"
    );
    // Whitespace: off by default, on per render.
    let block = "{% if x %}\n  yes\n{% endif %}\n";
    version(&s, "ws", json!({"template": block}));
    let (_, r) = render(&s, "ws", json!({"variables": {"x": true}}));
    assert_eq!(r["text"], "\n  yes\n", "{r}");
    let (_, r) = render(
        &s,
        "ws",
        json!({"variables": {"x": true}, "options": {"trim_blocks": true, "keep_trailing_newline": true}}),
    );
    assert_eq!(r["text"], "  yes\n", "{r}");
    // Undefined: strict by default (an error with a position), safe to test, chainable on request.
    version(
        &s,
        "u",
        json!({"template": "{% if m.tool_calls %}calls{% endif %}[{{ a.b.c }}]"}),
    );
    let (st, p) = render(&s, "u", json!({"variables": {"m": {"role": "assistant"}}}));
    assert_eq!(st, 422, "{p}");
    let (st, r) = render(
        &s,
        "u",
        json!({"variables": {"m": {}}, "options": {"undefined": "chainable"}}),
    );
    assert_eq!((st, r["text"].as_str()), (200, Some("[]")), "{r}");
    let (st, _) = version(
        &s,
        "bad",
        json!({"template": "x", "options": {"undefined": "sometimes"}}),
    );
    assert_eq!(st, 400);
}

#[test]
fn hugging_face_chat_templates_render_as_transformers_does() {
    let s = Server::start();
    let config = json!({
        "chat_template": ZEPHYR,
        "bos_token": "<s>",
        "eos_token": {"content": "</s>", "lstrip": false},
        "added_tokens_decoder": {"0": {"content": "<unk>"}}
    });
    let (st, v) = version(&s, "zephyr", json!({"tokenizer_config": config}));
    assert_eq!(st, 201, "{v}");
    assert!(
        v["version"]["tokenizer_config"]
            .get("added_tokens_decoder")
            .is_none(),
        "{v}"
    );
    let conversation = json!({
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"}
        ],
        "add_generation_prompt": true
    });
    let expected = "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n";
    let (st, r) = render(&s, "zephyr", json!({"variables": conversation}));
    assert_eq!((st, r["text"].as_str()), (200, Some(expected)), "{r}");
    // Inline, from the template text, gives the same bytes.
    let (st, r) = s.call(
        "POST",
        "/v1/templates/render",
        Some(json!({"chat_template": ZEPHYR, "variables": {
            "messages": conversation["messages"], "add_generation_prompt": true, "eos_token": "</s>"
        }})),
    );
    assert_eq!((st, r["text"].as_str()), (200, Some(expected)), "{r}");
    // raise_exception is a typed template error carrying the template's message.
    let (st, p) = s.call(
        "POST",
        "/v1/templates/render",
        Some(json!({
            "chat_template": "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with a user message') }}{% endif %}ok",
            "variables": {"messages": [{"role": "assistant", "content": "x"}]}
        })),
    );
    assert_eq!(st, 422, "{p}");
    assert!(
        p.to_string()
            .contains("Conversation must start with a user message"),
        "{p}"
    );
    // A config without a chat template is refused when stored.
    let (st, _) = version(
        &s,
        "nochat",
        json!({"tokenizer_config": {"bos_token": "<s>"}}),
    );
    assert_eq!(st, 422);
}

#[test]
fn includes_are_pinned_at_creation_and_never_reach_outside_the_tenant() {
    let s = Server::start();
    assert_eq!(
        version(&s, "footer", json!({"template": "-- {{ sig }}"})).0,
        201
    );
    let (st, v) = version(
        &s,
        "mail",
        json!({"template": "Hello {{ name }}\n{% include \"footer\" %}"}),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["version"]["includes"]["footer"]["version"], 1, "{v}");
    let vars = json!({"variables": {"name": "Ada", "sig": "W"}});
    let (_, r) = render(&s, "mail", vars.clone());
    assert_eq!(r["text"], "Hello Ada\n-- W");
    // A new footer does not change what the pinned version renders.
    version(&s, "footer", json!({"template": "Regards, {{ sig }}"}));
    let (_, r) = render(&s, "mail", vars.clone());
    assert_eq!(r["text"], "Hello Ada\n-- W", "pinned to footer version 1");
    // By label and by version, with import and extends.
    s.call(
        "PUT",
        "/v1/templates/footer/labels/production",
        Some(json!({"version": 2})),
    );
    version(
        &s,
        "base",
        json!({"template": "<{% block body %}{% endblock %}>"}),
    );
    let (st, v) = version(
        &s,
        "mail",
        json!({"template": "{% extends \"base@1\" %}{% block body %}{% include \"footer@production\" %}{% endblock %}"}),
    );
    assert_eq!(st, 201, "{v}");
    let (_, r) = render(&s, "mail", vars.clone());
    assert_eq!(r["text"], "<Regards, W>");
    // Refused: a name that is not a literal, a missing template, itself.
    let (st, p) = version(&s, "x", json!({"template": "{% include which %}"}));
    assert_eq!(st, 422, "{p}");
    let (st, _) = version(
        &s,
        "x",
        json!({"template": "{% include \"nothing-here\" %}"}),
    );
    assert_eq!(st, 422);
    let (st, _) = version(&s, "mail", json!({"template": "{% include \"mail\" %}"}));
    assert_eq!(st, 422);
    // Another tenant cannot include this tenant's template.
    let other = common::token("other", "bob", common::ALL_ROLES);
    let (st, _) = s.call_as(
        Some(&other),
        "POST",
        "/v1/templates/steal/versions",
        Some(json!({"template": "{% include \"footer\" %}"})),
    );
    assert_eq!(st, 422);
    // A template that is included cannot be deleted.
    let (st, p) = s.call("DELETE", "/v1/templates/footer", None);
    assert_eq!(st, 409, "{p}");
}
