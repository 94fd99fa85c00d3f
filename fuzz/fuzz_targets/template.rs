//! The built-in template engine on arbitrary templates and contexts: inspect and render never
//! panic (errors are fine), and rendering stops at the engine's fuel and recursion limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_plugin_template::{RenderOptions, inspect, render};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (template, context) = text.split_once('\0').unwrap_or((text, "{}"));
    let _ = inspect(template);
    let options = RenderOptions {
        engine_fuel: Some(20_000),
        ..RenderOptions::default()
    };
    let _ = render(template, context, &options);
});
