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

/// The template language (the `rendering` interface's `dialect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// minijinja's own.
    Minijinja,
    /// Python Jinja2's.
    Jinja2,
}

/// What a missing value does (the `rendering` interface's `undefined-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndefinedMode {
    /// Using a missing value is an error; testing one is not.
    Strict,
    /// Missing values and their attributes render empty.
    Chainable,
    /// A missing value renders empty; its attributes are an error.
    Lenient,
}

/// What [`RenderOptions`] does not carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// The template language; `None` for the engine's default.
    pub dialect: Option<Dialect>,
    /// The undefined behaviour; `None` follows `RenderOptions::strict_undefined`.
    pub undefined: Option<UndefinedMode>,
}

/// A template another may include, import or extend, by the name it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The name as the including template writes it.
    pub name: String,
    /// Its text.
    pub template: String,
}

/// A template engine that also exports the optional `rendering` interface; export it with
/// [`crate::export_template_renderer!`] (feature `template-renderer`).
pub trait Renderer: TemplateEngine {
    /// Renders with settings and included sources.
    fn render_with(
        template: &str,
        context_json: &str,
        options: &RenderOptions,
        settings: &Settings,
        sources: &[Source],
    ) -> Result<String, Error>;

    /// Renders chat messages with settings and included sources.
    fn render_chat_with(
        messages: Vec<ChatMessage>,
        context_json: &str,
        options: &RenderOptions,
        settings: &Settings,
        sources: &[Source],
    ) -> Result<Vec<ChatMessage>, Error>;

    /// Renders a Hugging Face chat template (or the one a `tokenizer_config.json` names).
    fn render_chat_template(
        template: &str,
        tokenizer_config: Option<&str>,
        name: Option<&str>,
        request_json: &str,
        options: &RenderOptions,
        settings: &Settings,
    ) -> Result<String, Error>;
}

/// Exports a [`Renderer`] as the `template-engine` world plus the optional `rendering`
/// interface (needs the SDK's `template-renderer` feature; nothing outside wasm32).
#[macro_export]
macro_rules! export_template_renderer {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__bindings::exports::warden::plugin::rendering as r;
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
            impl r::Guest for WardenExport {
                fn render_with(
                    template: ::std::string::String,
                    context_json: ::std::string::String,
                    options: w::RenderOptions,
                    settings: r::Settings,
                    sources: ::std::vec::Vec<r::Source>,
                ) -> ::std::result::Result<::std::string::String, WireError> {
                    $crate::template::__glue::render_with::<$t>(
                        template,
                        context_json,
                        options,
                        settings,
                        sources,
                    )
                }
                fn render_chat_with(
                    messages: ::std::vec::Vec<w::ChatMessage>,
                    context_json: ::std::string::String,
                    options: w::RenderOptions,
                    settings: r::Settings,
                    sources: ::std::vec::Vec<r::Source>,
                ) -> ::std::result::Result<::std::vec::Vec<w::ChatMessage>, WireError> {
                    $crate::template::__glue::render_chat_with::<$t>(
                        messages,
                        context_json,
                        options,
                        settings,
                        sources,
                    )
                }
                fn render_chat_template(
                    template: ::std::string::String,
                    tokenizer_config: ::std::option::Option<::std::string::String>,
                    name: ::std::option::Option<::std::string::String>,
                    request_json: ::std::string::String,
                    options: w::RenderOptions,
                    settings: r::Settings,
                ) -> ::std::result::Result<::std::string::String, WireError> {
                    $crate::template::__glue::render_chat_template::<$t>(
                        template,
                        tokenizer_config,
                        name,
                        request_json,
                        options,
                        settings,
                    )
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

    /// The `rendering` settings, converted.
    #[cfg(feature = "template-renderer")]
    fn settings(
        s: crate::__bindings::exports::warden::plugin::rendering::Settings,
    ) -> super::Settings {
        use crate::__bindings::exports::warden::plugin::rendering as r;
        super::Settings {
            dialect: s.dialect.map(|d| match d {
                r::Dialect::Minijinja => super::Dialect::Minijinja,
                r::Dialect::Jinja2 => super::Dialect::Jinja2,
            }),
            undefined: s.undefined.map(|u| match u {
                r::UndefinedMode::Strict => super::UndefinedMode::Strict,
                r::UndefinedMode::Chainable => super::UndefinedMode::Chainable,
                r::UndefinedMode::Lenient => super::UndefinedMode::Lenient,
            }),
        }
    }

    /// Included sources, converted.
    #[cfg(feature = "template-renderer")]
    fn sources(
        list: Vec<crate::__bindings::exports::warden::plugin::rendering::Source>,
    ) -> Vec<super::Source> {
        list.into_iter()
            .map(|s| super::Source {
                name: s.name,
                template: s.template,
            })
            .collect()
    }

    /// `rendering.render-with`, converted.
    #[cfg(feature = "template-renderer")]
    pub fn render_with<T: super::Renderer>(
        template: String,
        context: String,
        o: w::RenderOptions,
        s: crate::__bindings::exports::warden::plugin::rendering::Settings,
        list: Vec<crate::__bindings::exports::warden::plugin::rendering::Source>,
    ) -> Result<String, WireError> {
        T::render_with(
            &template,
            &context,
            &options(o),
            &settings(s),
            &sources(list),
        )
        .map_err(WireError::from)
    }

    /// `rendering.render-chat-with`, converted.
    #[cfg(feature = "template-renderer")]
    pub fn render_chat_with<T: super::Renderer>(
        messages: Vec<w::ChatMessage>,
        context: String,
        o: w::RenderOptions,
        s: crate::__bindings::exports::warden::plugin::rendering::Settings,
        list: Vec<crate::__bindings::exports::warden::plugin::rendering::Source>,
    ) -> Result<Vec<w::ChatMessage>, WireError> {
        let messages = messages
            .into_iter()
            .map(|m| super::ChatMessage {
                role: m.role,
                content: m.content,
            })
            .collect();
        let out = T::render_chat_with(
            messages,
            &context,
            &options(o),
            &settings(s),
            &sources(list),
        )
        .map_err(WireError::from)?;
        Ok(out
            .into_iter()
            .map(|m| w::ChatMessage {
                role: m.role,
                content: m.content,
            })
            .collect())
    }

    /// `rendering.render-chat-template`, converted.
    #[cfg(feature = "template-renderer")]
    pub fn render_chat_template<T: super::Renderer>(
        template: String,
        tokenizer_config: Option<String>,
        name: Option<String>,
        request: String,
        o: w::RenderOptions,
        s: crate::__bindings::exports::warden::plugin::rendering::Settings,
    ) -> Result<String, WireError> {
        T::render_chat_template(
            &template,
            tokenizer_config.as_deref(),
            name.as_deref(),
            &request,
            &options(o),
            &settings(s),
        )
        .map_err(WireError::from)
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
