//! The `template-engine` world: implement [`TemplateEngine`], then
//! `export_template_engine!(YourType)`.
//!
//! A template version in Warden's prompt registry may pin your engine (`"engine":
//! "my-engine@1.0.0"`); Warden then calls `inspect` when the version is created (a syntax
//! error becomes a 422 with its position) and `render` or `render_chat` on every render.

use crate::Error;

/// Per-call options; every field is optional and the engine documents its defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Refuse undefined variables (Warden's built-in defaults to true).
    pub strict_undefined: Option<bool>,
    /// The engine's own instruction budget.
    pub engine_fuel: Option<u64>,
    /// Maximum nesting of includes, macros and recursion.
    pub max_recursion: Option<u32>,
    /// Remove the first newline after a block tag.
    pub trim_blocks: Option<bool>,
    /// Strip whitespace before a block tag.
    pub lstrip_blocks: Option<bool>,
    /// Keep the template's final newline.
    pub keep_trailing_newline: Option<bool>,
}

/// One message of a chat prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, `tool`.
    pub role: String,
    /// The text (a template when given to `render_chat`).
    pub content: String,
}

/// What a template reads, found without rendering it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateInfo {
    /// Top-level variables, sorted, without duplicates.
    pub variables: Vec<String>,
    /// Nested attribute paths such as `user.name`, sorted.
    pub paths: Vec<String>,
}

/// A template engine. Each call runs in a fresh instance; build expensive state in a `static`
/// and warm it in [`TemplateEngine::initialize`].
pub trait TemplateEngine {
    /// Renders `template` with the JSON object `context_json` (see [`crate::json::Context`]).
    fn render(template: &str, context_json: &str, options: &RenderOptions)
    -> Result<String, Error>;

    /// Renders each message's content with the same context; by default one `render` each.
    fn render_chat(
        messages: Vec<ChatMessage>,
        context_json: &str,
        options: &RenderOptions,
    ) -> Result<Vec<ChatMessage>, Error> {
        messages
            .into_iter()
            .map(|m| {
                Ok(ChatMessage {
                    content: Self::render(&m.content, context_json, options)?,
                    role: m.role,
                })
            })
            .collect()
    }

    /// Parses `template` and lists what it reads; a syntax error should carry its position.
    fn inspect(template: &str) -> Result<TemplateInfo, Error>;

    /// Runs once when Warden loads the component; its memory is snapshotted afterwards.
    fn initialize() {}
}

/// Exports a [`TemplateEngine`] implementation as the component's `template-engine` world
/// (needs the SDK's `template-engine` feature; nothing outside wasm32).
#[macro_export]
macro_rules! export_template_engine {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__bindings::exports::warden::plugin::template as w;
            use $crate::__bindings::warden::plugin::types::Error as WireError;
            struct WardenExport;
            impl w::Guest for WardenExport {
                fn render(
                    template: ::std::string::String,
                    context_json: ::std::string::String,
                    options: w::RenderOptions,
                ) -> ::std::result::Result<::std::string::String, WireError> {
                    $crate::template::__glue::render::<$t>(template, context_json, options)
                }
                fn render_chat(
                    messages: ::std::vec::Vec<w::ChatMessage>,
                    context_json: ::std::string::String,
                    options: w::RenderOptions,
                ) -> ::std::result::Result<::std::vec::Vec<w::ChatMessage>, WireError> {
                    $crate::template::__glue::render_chat::<$t>(messages, context_json, options)
                }
                fn inspect(
                    template: ::std::string::String,
                ) -> ::std::result::Result<w::TemplateInfo, WireError> {
                    $crate::template::__glue::inspect::<$t>(template)
                }
            }
            impl $crate::__bindings::Guest for WardenExport {
                fn wizer_initialize() {
                    <$t as $crate::template::TemplateEngine>::initialize()
                }
            }
    $crate::__bindings::__warden_export!(WardenExport with_types_in $crate::__bindings);
        };
    };
}

/// What the export macro calls (wasm32 with the `template-engine` feature only).
#[cfg(all(target_arch = "wasm32", feature = "template-engine"))]
#[doc(hidden)]
pub mod __glue {
    use crate::__bindings::exports::warden::plugin::template as w;
    use crate::__bindings::warden::plugin::types::Error as WireError;

    fn options(o: w::RenderOptions) -> super::RenderOptions {
        super::RenderOptions {
            strict_undefined: o.strict_undefined,
            engine_fuel: o.engine_fuel,
            max_recursion: o.max_recursion,
            trim_blocks: o.trim_blocks,
            lstrip_blocks: o.lstrip_blocks,
            keep_trailing_newline: o.keep_trailing_newline,
        }
    }

    /// `render`, converted.
    pub fn render<T: super::TemplateEngine>(
        template: String,
        context: String,
        o: w::RenderOptions,
    ) -> Result<String, WireError> {
        T::render(&template, &context, &options(o)).map_err(WireError::from)
    }

    /// `render-chat`, converted.
    pub fn render_chat<T: super::TemplateEngine>(
        messages: Vec<w::ChatMessage>,
        context: String,
        o: w::RenderOptions,
    ) -> Result<Vec<w::ChatMessage>, WireError> {
        let messages = messages
            .into_iter()
            .map(|m| super::ChatMessage {
                role: m.role,
                content: m.content,
            })
            .collect();
        let out = T::render_chat(messages, &context, &options(o)).map_err(WireError::from)?;
        Ok(out
            .into_iter()
            .map(|m| w::ChatMessage {
                role: m.role,
                content: m.content,
            })
            .collect())
    }

    /// `inspect`, converted.
    pub fn inspect<T: super::TemplateEngine>(
        template: String,
    ) -> Result<w::TemplateInfo, WireError> {
        let i = T::inspect(&template).map_err(WireError::from)?;
        Ok(w::TemplateInfo {
            variables: i.variables,
            paths: i.paths,
        })
    }
}
