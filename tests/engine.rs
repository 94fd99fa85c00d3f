//! The sandbox engine, driven through its public API with real components: the built-ins
//! embedded in the binary and hostile components built from source in `tests/fixtures/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use warden::engine::{
    CallError, ChatMessage, Engine, EngineConfig, GuestError, InvalidComponent, LimitOverrides, Limits, NoTools, Plugin,
    RenderOptions, World,
};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(EngineConfig::default()).unwrap())
}

fn builtin(name: &str) -> &'static Plugin {
    static TEMPLATE: OnceLock<Plugin> = OnceLock::new();
    static PII: OnceLock<Plugin> = OnceLock::new();
    static PYTHON: OnceLock<Plugin> = OnceLock::new();
    let cell = match name {
        "template" => &TEMPLATE,
        "pii" => &PII,
        "python" => &PYTHON,
        _ => unreachable!(),
    };
    cell.get_or_init(|| engine().load(warden::builtins::get(name).unwrap()).unwrap())
}

fn hostile() -> &'static Plugin {
    static HOSTILE: OnceLock<Plugin> = OnceLock::new();
    HOSTILE.get_or_init(|| engine().load(&common::fixture_bytes("hostile")).unwrap())
}

fn limits() -> Limits {
    engine().limits(&LimitOverrides::default())
}

fn render(plugin: &Plugin, template: &str, ctx: &str) -> Result<String, CallError> {
    engine().render(plugin, template, ctx, RenderOptions::default(), limits()).result
}

/// After any hostile call, the same engine must still serve a normal call correctly.
fn assert_engine_still_serves() {
    let out = render(builtin("template"), "Hi {{ who }}", r#"{"who": "there"}"#).unwrap();
    assert_eq!(out, "Hi there");
    assert_eq!(render(hostile(), "ok", "{}").unwrap(), "fine");
}

// ---- template built-in -------------------------------------------------------------------

#[test]
fn template_renders_filters_loops_and_conditionals() {
    let out = render(
        builtin("template"),
        "Dear {{ user.name | title }},{% for d in docs %} [{{ loop.index }}] {{ d }}{% endfor %}{% if urgent %} (urgent){% endif %}",
        r#"{"user": {"name": "grace hopper"}, "docs": ["a.pdf", "b.pdf"], "urgent": true}"#,
    )
    .unwrap();
    assert_eq!(out, "Dear Grace Hopper, [1] a.pdf [2] b.pdf (urgent)");
}

#[test]
fn template_undefined_variables_are_errors_with_position() {
    let err = render(builtin("template"), "line 1\nHello {{ nme }}", r#"{"name": "x"}"#).unwrap_err();
    match err {
        CallError::Guest(GuestError::InvalidInput { kind, position, .. }) => {
            assert_eq!(kind, "undefined");
            let p = position.unwrap();
            assert_eq!((p.line, p.column), (2, 10));
        }
        other => panic!("expected an undefined-variable error, got {other:?}"),
    }
}

#[test]
fn template_syntax_errors_carry_line_and_column() {
    let out = engine().inspect_template(builtin("template"), "ok\n{% for x in %}", limits());
    match out.result.unwrap_err() {
        CallError::Guest(GuestError::InvalidInput { kind, position: Some(p), .. }) => {
            assert_eq!(kind, "syntax");
            assert_eq!(p.line, 2);
            assert!(p.column >= 4, "{p:?}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn template_inspect_lists_variables() {
    let info = engine()
        .inspect_template(builtin("template"), "{{ a }}{% for i in items %}{{ i.x }}{% endfor %}{{ user.email }}", limits())
        .result
        .unwrap();
    assert_eq!(info.variables, vec!["a", "items", "user"]);
    assert_eq!(info.paths, vec!["a", "items", "user.email"]);
}

#[test]
fn template_chat_form_renders_every_message() {
    let msgs = vec![
        ChatMessage { role: "system".into(), content: "You are {{ persona }}.".into() },
        ChatMessage { role: "user".into(), content: "Summarise: {{ text }}".into() },
    ];
    let out = engine()
        .render_chat(builtin("template"), &msgs, r#"{"persona": "terse", "text": "long"}"#, RenderOptions::default(), limits())
        .result
        .unwrap();
    assert_eq!(out[0].content, "You are terse.");
    assert_eq!(out[1].content, "Summarise: long");
}

#[test]
fn template_engine_fuel_is_separate_from_wasm_fuel() {
    let opts = RenderOptions { engine_fuel: Some(1_000), ..Default::default() };
    let out = engine().render(builtin("template"), "{% for i in range(100000) %}x{% endfor %}", "{}", opts, limits());
    match out.result.unwrap_err() {
        CallError::Guest(GuestError::InvalidInput { kind, .. }) => assert_eq!(kind, "fuel"),
        other => panic!("expected minijinja's fuel error, got {other:?}"),
    }
}

#[test]
fn calls_report_their_cost() {
    let out = engine().render(builtin("template"), "{{ x }}", r#"{"x": 1}"#, RenderOptions::default(), limits());
    assert_eq!(out.result.unwrap(), "1");
    assert!(out.report.fuel_used > 0);
    assert!(out.report.peak_memory_bytes > 0);
    assert!(out.report.duration > Duration::ZERO);
}

// ---- isolation and limits ---------------------------------------------------------------

#[test]
fn every_call_gets_a_fresh_instance() {
    for _ in 0..3 {
        assert_eq!(render(hostile(), "count", "{}").unwrap(), "1", "state leaked between calls");
    }
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let l = Limits { fuel: 50_000_000, ..limits() };
    let out = engine().render(hostile(), "loop", "{}", RenderOptions::default(), l);
    assert!(matches!(out.result, Err(CallError::OutOfFuel { limit: 50_000_000 })), "{:?}", out.result);
    assert!(out.report.fuel_used >= 50_000_000);
    assert_engine_still_serves();
}

#[test]
fn infinite_loop_hits_the_deadline_when_fuel_is_plentiful() {
    let l = Limits { fuel: u64::MAX / 2, wall_time: Duration::from_millis(100), ..limits() };
    let out = engine().render(hostile(), "loop", "{}", RenderOptions::default(), l);
    assert!(matches!(out.result, Err(CallError::DeadlineExceeded { .. })), "{:?}", out.result);
    assert_engine_still_serves();
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let l = Limits { memory_bytes: 16 << 20, ..limits() };
    let out = engine().render(hostile(), "memory", "{}", RenderOptions::default(), l);
    assert!(matches!(out.result, Err(CallError::MemoryLimit { limit }) if limit == 16 << 20), "{:?}", out.result);
    assert!(out.report.peak_memory_bytes <= 16 << 20);
    assert_engine_still_serves();
}

#[test]
fn unbounded_recursion_traps_on_stack_exhaustion() {
    let out = engine().render(hostile(), "recurse", "{}", RenderOptions::default(), limits());
    match out.result {
        Err(CallError::Trap { message }) => assert!(message.contains("call stack exhausted"), "{message}"),
        other => panic!("expected a stack-overflow trap, got {other:?}"),
    }
    assert_engine_still_serves();
}

#[test]
fn panics_and_traps_are_reported_with_their_message() {
    match render(hostile(), "panic", "{}") {
        Err(CallError::Trap { message }) => assert!(message.contains("hostile plugin panicked on purpose"), "{message}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    match render(hostile(), "trap", "{}") {
        Err(CallError::Trap { message }) => assert!(message.contains("unreachable"), "{message}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(matches!(render(hostile(), "exit", "{}"), Err(CallError::Trap { .. })));
    assert_engine_still_serves();
}

#[test]
fn huge_output_is_refused() {
    let l = Limits { output_bytes: 1 << 20, ..limits() };
    let out = engine().render(hostile(), "huge:2000000", "{}", RenderOptions::default(), l);
    assert!(matches!(out.result, Err(CallError::OutputTooLarge { size: 2_000_000, limit }) if limit == 1 << 20), "{:?}", out.result);
    let ok = engine().render(hostile(), "huge:1000", "{}", RenderOptions::default(), l);
    assert_eq!(ok.result.unwrap().len(), 1000);
    assert_engine_still_serves();
}

#[test]
fn logs_are_captured_and_truncated_at_the_cap() {
    let l = Limits { log_bytes: 1000, ..limits() };
    let out = engine().render(hostile(), "logs:50000", "{}", RenderOptions::default(), l);
    assert_eq!(out.result.unwrap(), "logged");
    assert!(out.report.logs.starts_with("log line\n"));
    assert_eq!(out.report.logs.len(), 1000);
    assert!(out.report.logs_truncated);
}

#[test]
fn guest_reported_errors_are_not_traps() {
    match render(hostile(), "error", "{}") {
        Err(CallError::Guest(GuestError::GuestFailure { message })) => assert!(message.contains("failure of its own")),
        other => panic!("expected a guest failure, got {other:?}"),
    }
}

#[test]
fn per_call_limits_are_clamped_to_host_caps() {
    let caps = engine().config().caps;
    let l = engine().limits(&LimitOverrides { fuel: Some(u64::MAX), memory_bytes: Some(u64::MAX), ..Default::default() });
    assert_eq!(l.fuel, caps.fuel);
    assert_eq!(l.memory_bytes, caps.memory_bytes);
}

// ---- what gets loaded -------------------------------------------------------------------

#[test]
fn forbidden_imports_are_refused_at_load_naming_the_import() {
    let err = engine().load(&common::fixture_bytes("forbidden")).unwrap_err();
    match &err {
        InvalidComponent::ForbiddenImport { import, why } => {
            assert!(import.starts_with("wasi:filesystem/"), "{import}");
            assert!(why.contains("file system"), "{why}");
        }
        other => panic!("expected a forbidden import, got {other:?}"),
    }
    assert!(err.to_string().starts_with("imports wasi:filesystem/"), "{err}");
    assert_engine_still_serves();
}

#[test]
fn malformed_binaries_and_core_modules_are_refused() {
    assert!(matches!(engine().load(b"definitely not wasm"), Err(InvalidComponent::Malformed { .. })));
    let bytes = common::fixture_bytes("hostile");
    assert!(matches!(engine().load(&bytes[..bytes.len() / 2]), Err(InvalidComponent::Malformed { .. })));
    let core = wat::parse_str("(module (func (export \"f\")))").unwrap();
    assert_eq!(engine().load(&core).unwrap_err(), InvalidComponent::CoreModule);
}

#[test]
fn components_of_no_warden_world_are_refused() {
    let wrong = wat::parse_str(
        r#"(component
            (core module $m (func (export "f")))
            (core instance $i (instantiate $m))
            (func (export "hello") (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    match engine().load(&wrong).unwrap_err() {
        InvalidComponent::WrongWorld { detail } => assert!(detail.contains("hello"), "{detail}"),
        other => panic!("expected a wrong-world refusal, got {other:?}"),
    }
}

#[test]
fn a_plugin_is_only_called_through_its_own_world() {
    let out = engine().detect(builtin("template"), "text", &Default::default(), limits());
    assert!(matches!(out.result, Err(CallError::Invalid(InvalidComponent::WorldMismatch { .. }))));
    assert_eq!(builtin("template").world(), World::TemplateEngine);
}

#[test]
fn oversized_components_are_refused() {
    let e = Engine::new(EngineConfig { max_component_bytes: 1000, pooling: false, ..EngineConfig::default() }).unwrap();
    assert!(matches!(e.load(&common::fixture_bytes("hostile")), Err(InvalidComponent::TooLarge { .. })));
}

#[test]
fn precompiled_cache_is_used_and_corrupt_entries_are_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig { cache_dir: Some(dir.path().to_owned()), pooling: false, ..EngineConfig::default() };
    let bytes = common::fixture_bytes("hostile");
    let first = Engine::new(config.clone()).unwrap().load(&bytes).unwrap();
    assert!(!first.load_report().cache_hit);
    let e = Engine::new(config.clone()).unwrap();
    let second = e.load(&bytes).unwrap();
    assert!(second.load_report().cache_hit, "second load should come from the cache");
    assert_eq!(e.render(&second, "ok", "{}", RenderOptions::default(), limits()).result.unwrap(), "fine");

    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "cwasm") {
            let mut data = std::fs::read(&path).unwrap();
            let mid = data.len() / 2;
            data[mid] ^= 0xFF;
            std::fs::write(&path, data).unwrap();
        }
    }
    let e = Engine::new(config).unwrap();
    let third = e.load(&bytes).unwrap();
    assert!(!third.load_report().cache_hit, "a corrupt artifact must not be trusted");
    assert_eq!(e.render(&third, "ok", "{}", RenderOptions::default(), limits()).result.unwrap(), "fine");
}

#[test]
fn builtins_are_preinitialised_components_of_their_worlds() {
    for (name, world) in [("template", World::TemplateEngine), ("pii", World::PiiDetector), ("python", World::CodeRunner)] {
        let info = warden::engine::inspect(warden::builtins::get(name).unwrap());
        assert_eq!(info.accepted(), Ok(world), "{name}");
        assert!(info.preinit, "{name} should export wizer-initialize");
    }
}

#[test]
fn concurrent_calls_are_isolated() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let ctx = format!(r#"{{"n": {i}}}"#);
                render(builtin("template"), "n={{ n }}", &ctx).unwrap()
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.join().unwrap(), format!("n={i}"));
    }
    let _ = Arc::new(NoTools);
}
