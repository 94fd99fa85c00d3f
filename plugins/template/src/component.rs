//! The component glue: exports the `template-engine` world (and `wizer-initialize`).
// Generated bindings contain the canonical-ABI glue, which is `unsafe` by nature and undocumented.
#![allow(unsafe_code, missing_docs)]

wit_bindgen::generate!({
    path: "../../wit",
    inline: "package warden:builtin-template; world plugin { include warden:plugin/template-engine@0.1.0; include warden:plugin/preinit@0.1.0; }",
    world: "warden:builtin-template/plugin",
    generate_all,
});

use exports::warden::plugin::template::{
    ChatMessage, Guest as Template, RenderOptions, TemplateInfo,
};
use warden::plugin::types::{Error, InputError, Position};

struct Component;

export!(Component);

impl Guest for Component {
    fn wizer_initialize() {
        crate::warm();
    }
}

fn options(o: RenderOptions) -> crate::RenderOptions {
    crate::RenderOptions {
        strict_undefined: o.strict_undefined,
        engine_fuel: o.engine_fuel,
        max_recursion: o.max_recursion,
        trim_blocks: o.trim_blocks,
        lstrip_blocks: o.lstrip_blocks,
        keep_trailing_newline: o.keep_trailing_newline,
    }
}

/// Every error is the caller's input as far as the WIT contract goes; the host turns kind
/// [`crate::FUEL_KIND`] into the `out_of_fuel` outcome.
fn error(e: crate::TemplateError) -> Error {
    Error::InvalidInput(InputError {
        kind: e.kind.to_owned(),
        message: e.message,
        position: e.position.map(|p| Position {
            line: p.line,
            column: p.column,
        }),
    })
}

impl Template for Component {
    fn render(
        template: String,
        context_json: String,
        options: RenderOptions,
    ) -> Result<String, Error> {
        crate::render(&template, &context_json, &self::options(options)).map_err(error)
    }

    fn render_chat(
        messages: Vec<ChatMessage>,
        context_json: String,
        options: RenderOptions,
    ) -> Result<Vec<ChatMessage>, Error> {
        let msgs: Vec<crate::ChatMessage> = messages
            .into_iter()
            .map(|m| crate::ChatMessage {
                role: m.role,
                content: m.content,
            })
            .collect();
        crate::render_chat(&msgs, &context_json, &self::options(options))
            .map(|out| {
                out.into_iter()
                    .map(|m| ChatMessage {
                        role: m.role,
                        content: m.content,
                    })
                    .collect()
            })
            .map_err(error)
    }

    fn inspect(template: String) -> Result<TemplateInfo, Error> {
        crate::inspect(&template)
            .map(|i| TemplateInfo {
                variables: i.variables,
                paths: i.paths,
            })
            .map_err(error)
    }
}
