//! The sandbox engine, driven through its public API with real components: the built-ins
//! embedded in the binary and hostile components built from source in `tests/fixtures/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use warden_engine::{
    CallError, ChatMessage, CodeSession, DetectOptions, Engine, EngineConfig, EvalOutput, Finding,
    GuestError, InvalidComponent, LimitOverrides, Limits, NoTools, Plugin, RenderOptions,
    SessionOptions, ToolError, Tools, World,
};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    // The disk cache is shared with the CLI tests, so each built-in is compiled once per run.
    ENGINE.get_or_init(|| {
        Engine::new(EngineConfig {
            cache_dir: Some(common::cache_dir()),
            ..EngineConfig::default()
        })
        .unwrap()
    })
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
    cell.get_or_init(|| engine().load(warden_builtins::get(name).unwrap()).unwrap())
}

fn hostile() -> &'static Plugin {
    static HOSTILE: OnceLock<Plugin> = OnceLock::new();
    HOSTILE.get_or_init(|| engine().load(&common::fixture_bytes("hostile")).unwrap())
}

fn limits() -> Limits {
    engine().limits(&LimitOverrides::default())
}

fn render(plugin: &Plugin, template: &str, ctx: &str) -> Result<String, CallError> {
    engine()
        .render(plugin, template, ctx, RenderOptions::default(), limits())
        .result
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
    let err = render(
        builtin("template"),
        "line 1\nHello {{ nme }}",
        r#"{"name": "x"}"#,
    )
    .unwrap_err();
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
        CallError::Guest(GuestError::InvalidInput {
            kind,
            position: Some(p),
            ..
        }) => {
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
        .inspect_template(
            builtin("template"),
            "{{ a }}{% for i in items %}{{ i.x }}{% endfor %}{{ user.email }}",
            limits(),
        )
        .result
        .unwrap();
    assert_eq!(info.variables, vec!["a", "items", "user"]);
    assert_eq!(info.paths, vec!["a", "items", "user.email"]);
}

#[test]
fn template_chat_form_renders_every_message() {
    let msgs = vec![
        ChatMessage {
            role: "system".into(),
            content: "You are {{ persona }}.".into(),
        },
        ChatMessage {
            role: "user".into(),
            content: "Summarise: {{ text }}".into(),
        },
    ];
    let out = engine()
        .render_chat(
            builtin("template"),
            &msgs,
            r#"{"persona": "terse", "text": "long"}"#,
            RenderOptions::default(),
            limits(),
        )
        .result
        .unwrap();
    assert_eq!(out[0].content, "You are terse.");
    assert_eq!(out[1].content, "Summarise: long");
}

#[test]
fn template_engine_fuel_is_separate_from_wasm_fuel() {
    let opts = RenderOptions {
        engine_fuel: Some(1_000),
        ..Default::default()
    };
    let out = engine().render(
        builtin("template"),
        "{% for i in range(100000) %}x{% endfor %}",
        "{}",
        opts,
        limits(),
    );
    // minijinja's own budget running out is the caller's budget: the `out_of_fuel` outcome,
    // in its own variant (the wasm fuel was not used up, and raising it would not help).
    let err = out.result.unwrap_err();
    assert_eq!(err.outcome(), "out_of_fuel");
    match err {
        CallError::EngineOutOfFuel { message } => {
            assert!(message.contains("fuel"), "{message}")
        }
        other => panic!("expected minijinja's fuel error, got {other:?}"),
    }
    assert!(out.report.fuel_used < limits().fuel);
}

#[test]
fn calls_report_their_cost() {
    let out = engine().render(
        builtin("template"),
        "{{ x }}",
        r#"{"x": 1}"#,
        RenderOptions::default(),
        limits(),
    );
    assert_eq!(out.result.unwrap(), "1");
    assert!(out.report.fuel_used > 0);
    assert!(out.report.peak_memory_bytes > 0);
    assert!(out.report.duration > Duration::ZERO);
}

// ---- isolation and limits ---------------------------------------------------------------

#[test]
fn every_call_gets_a_fresh_instance() {
    for _ in 0..3 {
        assert_eq!(
            render(hostile(), "count", "{}").unwrap(),
            "1",
            "state leaked between calls"
        );
    }
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let l = Limits {
        fuel: 50_000_000,
        ..limits()
    };
    let out = engine().render(hostile(), "loop", "{}", RenderOptions::default(), l);
    assert!(
        matches!(out.result, Err(CallError::OutOfFuel { limit: 50_000_000 })),
        "{:?}",
        out.result
    );
    assert!(out.report.fuel_used >= 50_000_000);
    assert_engine_still_serves();
}

#[test]
fn infinite_loop_hits_the_deadline_when_fuel_is_plentiful() {
    let l = Limits {
        fuel: u64::MAX / 2,
        wall_time: Duration::from_millis(100),
        ..limits()
    };
    let out = engine().render(hostile(), "loop", "{}", RenderOptions::default(), l);
    assert!(
        matches!(out.result, Err(CallError::DeadlineExceeded { .. })),
        "{:?}",
        out.result
    );
    assert_engine_still_serves();
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let l = Limits {
        memory_bytes: 16 << 20,
        ..limits()
    };
    let out = engine().render(hostile(), "memory", "{}", RenderOptions::default(), l);
    assert!(
        matches!(out.result, Err(CallError::MemoryLimit { limit }) if limit == 16 << 20),
        "{:?}",
        out.result
    );
    assert!(out.report.peak_memory_bytes <= 16 << 20);
    assert_engine_still_serves();
}

#[test]
fn unbounded_recursion_traps_on_stack_exhaustion() {
    let out = engine().render(
        hostile(),
        "recurse",
        "{}",
        RenderOptions::default(),
        limits(),
    );
    match out.result {
        Err(CallError::Trap { message }) => {
            assert!(message.contains("call stack exhausted"), "{message}")
        }
        other => panic!("expected a stack-overflow trap, got {other:?}"),
    }
    assert_engine_still_serves();
}

#[test]
fn panics_and_traps_are_reported_with_their_message() {
    match render(hostile(), "panic", "{}") {
        Err(CallError::Trap { message }) => assert!(
            message.contains("hostile plugin panicked on purpose"),
            "{message}"
        ),
        other => panic!("expected a trap, got {other:?}"),
    }
    match render(hostile(), "trap", "{}") {
        Err(CallError::Trap { message }) => assert!(message.contains("unreachable"), "{message}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(matches!(
        render(hostile(), "exit", "{}"),
        Err(CallError::Trap { .. })
    ));
    assert_engine_still_serves();
}

#[test]
fn huge_output_is_refused() {
    let l = Limits {
        output_bytes: 1 << 20,
        ..limits()
    };
    let out = engine().render(hostile(), "huge:2000000", "{}", RenderOptions::default(), l);
    assert!(
        matches!(out.result, Err(CallError::OutputTooLarge { size: 2_000_000, limit }) if limit == 1 << 20),
        "{:?}",
        out.result
    );
    let ok = engine().render(hostile(), "huge:1000", "{}", RenderOptions::default(), l);
    assert_eq!(ok.result.unwrap().len(), 1000);
    assert_engine_still_serves();
}

#[test]
fn logs_are_captured_and_truncated_at_the_cap() {
    let l = Limits {
        log_bytes: 1000,
        ..limits()
    };
    let out = engine().render(hostile(), "logs:50000", "{}", RenderOptions::default(), l);
    assert_eq!(out.result.unwrap(), "logged");
    assert!(out.report.logs.starts_with("log line\n"));
    assert_eq!(out.report.logs.len(), 1000);
    assert!(out.report.logs_truncated);
}

#[test]
fn guest_reported_errors_are_not_traps() {
    match render(hostile(), "error", "{}") {
        Err(CallError::Guest(GuestError::GuestFailure { message })) => {
            assert!(message.contains("failure of its own"))
        }
        other => panic!("expected a guest failure, got {other:?}"),
    }
}

#[test]
fn per_call_limits_are_clamped_to_host_caps() {
    let caps = engine().config().caps;
    let l = engine().limits(&LimitOverrides {
        fuel: Some(u64::MAX),
        memory_bytes: Some(u64::MAX),
        ..Default::default()
    });
    assert_eq!(l.fuel, caps.fuel);
    assert_eq!(l.memory_bytes, caps.memory_bytes);
}

// ---- what gets loaded -------------------------------------------------------------------

#[test]
fn forbidden_imports_are_refused_at_load_naming_the_import() {
    let err = engine()
        .load(&common::fixture_bytes("forbidden"))
        .unwrap_err();
    match &err {
        InvalidComponent::ForbiddenImport { import, why } => {
            assert!(import.starts_with("warden:plugin/tools@"), "{import}");
            assert!(why.contains("only the code-runner world"), "{why}");
        }
        other => panic!("expected a forbidden import, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with("imports warden:plugin/tools@"),
        "{err}"
    );
    assert_engine_still_serves();
}

#[test]
fn malformed_binaries_and_core_modules_are_refused() {
    assert!(matches!(
        engine().load(b"definitely not wasm"),
        Err(InvalidComponent::Malformed { .. })
    ));
    let bytes = common::fixture_bytes("hostile");
    assert!(matches!(
        engine().load(&bytes[..bytes.len() / 2]),
        Err(InvalidComponent::Malformed { .. })
    ));
    let core = wat::parse_str("(module (func (export \"f\")))").unwrap();
    assert_eq!(
        engine().load(&core).unwrap_err(),
        InvalidComponent::CoreModule
    );
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
    assert!(matches!(
        out.result,
        Err(CallError::Invalid(InvalidComponent::WorldMismatch { .. }))
    ));
    assert_eq!(builtin("template").world(), World::TemplateEngine);
}

#[test]
fn oversized_components_are_refused() {
    let e = Engine::new(EngineConfig {
        max_component_bytes: 1000,
        pooling: false,
        ..EngineConfig::default()
    })
    .unwrap();
    assert!(matches!(
        e.load(&common::fixture_bytes("hostile")),
        Err(InvalidComponent::TooLarge { .. })
    ));
}

#[test]
fn precompiled_cache_is_used_and_corrupt_entries_are_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        cache_dir: Some(dir.path().to_owned()),
        pooling: false,
        ..EngineConfig::default()
    };
    let bytes = common::fixture_bytes("hostile");
    let first = Engine::new(config.clone()).unwrap().load(&bytes).unwrap();
    assert!(!first.load_report().cache_hit);
    let e = Engine::new(config.clone()).unwrap();
    let second = e.load(&bytes).unwrap();
    assert!(
        second.load_report().cache_hit,
        "second load should come from the cache"
    );
    assert_eq!(
        e.render(&second, "ok", "{}", RenderOptions::default(), limits())
            .result
            .unwrap(),
        "fine"
    );

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
    assert!(
        !third.load_report().cache_hit,
        "a corrupt artifact must not be trusted"
    );
    assert_eq!(
        e.render(&third, "ok", "{}", RenderOptions::default(), limits())
            .result
            .unwrap(),
        "fine"
    );
}

#[test]
fn builtins_are_preinitialised_components_of_their_worlds() {
    for (name, world) in [
        ("template", World::TemplateEngine),
        ("pii", World::PiiDetector),
        ("python", World::CodeRunner),
    ] {
        let info = warden_engine::inspect(warden_builtins::get(name).unwrap());
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
}

/// Private memory, in KiB, of this process's mappings whose path holds `marker`.
fn private_kib_of_mappings(marker: &str) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut ours = false;
    let mut total = 0;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            ours = line.contains(marker);
        } else if ours && let Some(v) = line.strip_prefix("Anonymous:") {
            total += v
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .unwrap();
        }
    }
    total
}

/// Whether this kernel has `PAGEMAP_SCAN` (Linux 6.7+), which the pool's reset relies on.
fn kernel_has_pagemap_scan() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(['.', '-']);
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor) >= (6, 7)
}

/// A fresh instance's reset copies back only the pages the call wrote, and those pages really
/// are reset. Regression test for vendor/README.md: wasmtime 50.0.1 took pages that were never
/// touched for dirty ones, so the first reset made the whole untouched snapshot resident and
/// private (7.9 MB for the PII detector, which writes 0.5 MB) and every later one copied it.
#[test]
fn a_fresh_call_keeps_resident_only_what_it_wrote() {
    if !kernel_has_pagemap_scan() {
        eprintln!("skipped: the kernel has no PAGEMAP_SCAN, so the pool resets by memset");
        return;
    }
    // A cache of its own, so that the snapshot mappings counted are this engine's alone.
    let marker = "keep-resident-probe";
    let engine = Engine::new(EngineConfig {
        cache_dir: Some(common::cache_dir().join(marker)),
        keep_resident_bytes: 64 << 20,
        ..EngineConfig::default()
    })
    .unwrap();
    let pii = engine.load(warden_builtins::get("pii").unwrap()).unwrap();
    let limits = engine.limits(&LimitOverrides::default());
    let text = "Write to ada@example.com or call +1 415 555 0100 about card 4111 1111 1111 1111.";
    let first = engine
        .detect(&pii, text, &DetectOptions::default(), limits)
        .result
        .unwrap();
    assert_eq!(first.len(), 3, "{first:?}");
    for _ in 0..20 {
        let again = engine
            .detect(&pii, text, &DetectOptions::default(), limits)
            .result
            .unwrap();
        assert_eq!(again, first);
    }
    let private = private_kib_of_mappings(marker);
    // One call writes about 0.5 MiB of the detector's 14 MiB image; the defect left 7.7 MiB.
    assert!(
        private < 2048,
        "{private} KiB of the snapshot is private after fresh calls: the reset copies pages \
         the calls never wrote"
    );
    // What a call wrote is still put back: a guest's counter starts again at 1.
    let hostile = engine.load(&common::fixture_bytes("hostile")).unwrap();
    for _ in 0..3 {
        let out = engine
            .render(&hostile, "count", "{}", RenderOptions::default(), limits)
            .result
            .unwrap();
        assert_eq!(out, "1", "state leaked between calls");
    }
}

#[test]
fn a_rescan_reads_the_first_scans_findings_and_shares_its_instance_and_limits() {
    let first_text = "Write to ada@example.com about the refund.";
    let second_text = "Call +1 415 555 0100 tomorrow.";
    let opts = DetectOptions::default();
    let out = engine().detect_batch_then(builtin("pii"), &[first_text], &opts, limits(), |found| {
        let kinds: Vec<String> = found[0].iter().map(|f| f.entity_type.clone()).collect();
        (
            kinds,
            Some((second_text.to_owned(), DetectOptions::default())),
        )
    });
    let r = out.result.unwrap();
    assert_eq!(
        r.value,
        ["EMAIL_ADDRESS"],
        "the continuation saw the first scan's findings"
    );
    assert_eq!(r.first[0].len(), 1, "{:?}", r.first);
    let (text, found) = r.second.unwrap();
    assert_eq!(text, second_text);
    let kinds: Vec<&str> = found.iter().map(|f| f.entity_type.as_str()).collect();
    assert_eq!(kinds, ["PHONE_NUMBER"]);
    // Without a text from the continuation the call ends after the first scan.
    let out = engine().detect_batch_then(builtin("pii"), &[first_text], &opts, limits(), |_| {
        ((), None)
    });
    assert!(out.result.unwrap().second.is_none());
    // One set of limits covers both scans: fuel enough for the first alone runs out.
    let alone = engine().detect(builtin("pii"), first_text, &opts, limits());
    let mut tight = limits();
    tight.fuel = alone.report.fuel_used + alone.report.fuel_used / 20;
    let out = engine().detect_batch_then(builtin("pii"), &[first_text], &opts, tight, |_| {
        ((), Some((first_text.to_owned(), DetectOptions::default())))
    });
    assert!(
        matches!(out.result, Err(CallError::OutOfFuel { .. })),
        "{:?}",
        out.result.map(|r| r.second)
    );
}

// ---- pii built-in -----------------------------------------------------------------------

fn detect(text: &str, opts: &DetectOptions) -> Vec<Finding> {
    engine()
        .detect(builtin("pii"), text, opts, limits())
        .result
        .unwrap()
}

fn spans(text: &str) -> Vec<(String, &str)> {
    detect(text, &DetectOptions::default())
        .into_iter()
        .map(|f| (f.entity_type, &text[f.start as usize..f.end as usize]))
        .collect()
}

#[test]
fn pii_finds_each_type_and_skips_its_checksum_decoys() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "EMAIL_ADDRESS",
            "write to ana.silva@example.org today",
            "ana.silva@example.org",
        ),
        (
            "CREDIT_CARD",
            "card 4111 1111 1111 1111 on file",
            "4111 1111 1111 1111",
        ),
        (
            "CREDIT_CARD",
            "mastercard 2221 0000 0000 0009 please",
            "2221 0000 0000 0009",
        ),
        (
            "IBAN_CODE",
            "iban GB82WEST12345698765432 for refunds",
            "GB82WEST12345698765432",
        ),
        ("US_SSN", "my SSN is 536-22-1234.", "536-22-1234"),
        ("AU_TFN", "my TFN is 123 456 782", "123 456 782"),
        (
            "AU_ABN",
            "ABN 51 824 753 556 on the invoice",
            "51 824 753 556",
        ),
        (
            "IP_ADDRESS",
            "traffic from 203.0.113.42 was blocked",
            "203.0.113.42",
        ),
        (
            "URL",
            "see https://example.com/a?b=c.",
            "https://example.com/a?b=c",
        ),
    ];
    for (kind, text, want) in cases {
        let found = spans(text);
        assert!(
            found.iter().any(|(k, s)| k == kind && s == want),
            "{kind} in {text:?}: {found:?}"
        );
    }
    let decoys = [
        "card 4111 1111 1111 1112 on file",
        "iban GB82WEST12345698765433 for refunds",
        "my SSN is 666-22-1234.",
        "my SSN is 900-22-1234.",
        "my TFN is 123 456 789",
        "ABN 51 824 753 557 on the invoice",
        "upgrade to version 7.4.4.16 tonight",
    ];
    for text in decoys {
        assert!(
            spans(text).is_empty(),
            "decoy {text:?} was reported: {:?}",
            spans(text)
        );
    }
}

#[test]
fn pii_finds_names_from_context_cues() {
    let text = "Hi, my name is Renee Johnson and I need help.";
    assert!(
        spans(text).contains(&("PERSON".to_owned(), "Renee Johnson")),
        "{:?}",
        spans(text)
    );
}

#[test]
fn pii_options_filter_explain_and_validate() {
    let text = "Mail jane.doe@example.com or call (212) 555-0199";
    let only = detect(
        text,
        &DetectOptions {
            entities: vec!["PHONE_NUMBER".into()],
            ..Default::default()
        },
    );
    assert!(
        !only.is_empty() && only.iter().all(|f| f.entity_type == "PHONE_NUMBER"),
        "{only:?}"
    );
    let explained = detect(
        text,
        &DetectOptions {
            explain: true,
            ..Default::default()
        },
    );
    assert!(
        explained
            .iter()
            .all(|f| f.explanation.as_deref().is_some_and(|e| !e.is_empty())),
        "{explained:?}"
    );
    let bad = engine().detect(
        builtin("pii"),
        text,
        &DetectOptions {
            entities: vec!["SHOE_SIZE".into()],
            ..Default::default()
        },
        limits(),
    );
    match bad.result {
        Err(CallError::Guest(GuestError::InvalidInput { message, .. })) => {
            assert!(message.contains("SHOE_SIZE"), "{message}")
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[test]
fn pii_offsets_are_utf8_byte_offsets() {
    let text = "Zoë Müller — écrivez à zoe.muller@example.fr ☎ merci";
    let found = detect(text, &DetectOptions::default());
    let email = found
        .iter()
        .find(|f| f.entity_type == "EMAIL_ADDRESS")
        .unwrap();
    assert_eq!(
        &text[email.start as usize..email.end as usize],
        "zoe.muller@example.fr"
    );
}

#[test]
fn pii_describe_lists_entity_types() {
    let info = engine().describe(builtin("pii"), limits()).result.unwrap();
    for t in [
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "US_SSN",
        "AU_TFN",
        "AU_MEDICARE",
        "AU_ABN",
        "URL",
        "PERSON",
    ] {
        assert!(
            info.entity_types.iter().any(|e| e == t),
            "{t} missing from {:?}",
            info.entity_types
        );
    }
}

// ---- python built-in --------------------------------------------------------------------

fn session() -> CodeSession {
    engine()
        .start_session(
            builtin("python"),
            &SessionOptions::default(),
            limits(),
            Arc::new(NoTools),
        )
        .result
        .unwrap()
}

fn eval_ok(s: &mut CodeSession, code: &str) -> EvalOutput {
    let out = s.eval(code);
    out.result
        .unwrap_or_else(|e| panic!("{code:?} failed: {e}"))
}

#[test]
fn python_state_persists_between_evals() {
    let mut s = session();
    assert_eq!(
        eval_ok(&mut s, "x = 41\ndef double(v):\n    return v * 2").repr,
        None
    );
    let out = eval_ok(
        &mut s,
        "print('hello')\n{'answer': double(x) - 40, 'items': [1, 2]}",
    );
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.repr.as_deref(), Some("{'answer': 42, 'items': [1, 2]}"));
    let json: serde_json::Value = serde_json::from_str(out.json.as_deref().unwrap()).unwrap();
    assert_eq!(json["answer"], 42);
}

#[test]
fn python_exceptions_and_syntax_errors_are_invalid_input() {
    let mut s = session();
    match s.eval("1 / 0").result {
        Err(CallError::Guest(GuestError::InvalidInput { kind, message, .. })) => {
            assert_eq!(kind, "exception");
            assert!(message.contains("ZeroDivisionError"), "{message}");
        }
        other => panic!("expected an exception, got {other:?}"),
    }
    match s.eval("x = (1,\ny = 2").result {
        Err(CallError::Guest(GuestError::InvalidInput { kind, position, .. })) => {
            assert_eq!(kind, "syntax");
            assert!(position.is_some());
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert_eq!(
        eval_ok(&mut s, "2 + 2").repr.as_deref(),
        Some("4"),
        "an exception must not end the session"
    );
}

#[test]
fn python_snapshot_restores_into_a_fresh_instance() {
    let mut s = session();
    eval_ok(
        &mut s,
        "counter = 10\ndef bump(n):\n    global counter\n    counter += n\n    return counter",
    );
    eval_ok(&mut s, "bump(5)");
    let snap = s.snapshot().result.unwrap();
    drop(s);
    let mut restored = engine()
        .restore_session(
            builtin("python"),
            &snap,
            &SessionOptions::default(),
            limits(),
            Arc::new(NoTools),
        )
        .result
        .unwrap();
    assert_eq!(
        eval_ok(&mut restored, "bump(1)").repr.as_deref(),
        Some("16")
    );
}

#[test]
fn python_has_no_file_or_os_access() {
    let mut s = session();
    for code in [
        "open('/etc/passwd').read()",
        "import os\nos.listdir('/')",
        "import socket",
    ] {
        assert!(
            matches!(
                s.eval(code).result,
                Err(CallError::Guest(GuestError::InvalidInput { .. }))
            ),
            "{code} should raise"
        );
    }
}

#[test]
fn python_infinite_loop_is_stopped_by_fuel_and_the_session_says_so() {
    let l = Limits {
        fuel: 20_000_000,
        ..limits()
    };
    let mut s = engine()
        .start_session(
            builtin("python"),
            &SessionOptions::default(),
            l,
            Arc::new(NoTools),
        )
        .result
        .unwrap();
    assert!(matches!(
        s.eval("while True:\n    pass").result,
        Err(CallError::OutOfFuel { .. })
    ));
    match s.eval("1").result {
        Err(CallError::Trap { message }) => {
            assert!(message.contains("restore it from a snapshot"), "{message}")
        }
        other => panic!("a session after a limit must refuse further evals, got {other:?}"),
    }
    assert_engine_still_serves();
}

#[test]
fn python_memory_bombs_are_contained() {
    let l = Limits {
        memory_bytes: 48 << 20,
        ..limits()
    };
    for code in [
        "'a' * 2**40",
        "x = []\nwhile True:\n    x.append('y' * 10000)",
    ] {
        let mut s = engine()
            .start_session(
                builtin("python"),
                &SessionOptions::default(),
                l,
                Arc::new(NoTools),
            )
            .result
            .unwrap();
        let r = s.eval(code).result;
        assert!(
            matches!(
                r,
                Err(CallError::MemoryLimit { .. })
                    | Err(CallError::Guest(GuestError::InvalidInput { .. }))
            ),
            "{code}: {r:?}"
        );
    }
    assert_engine_still_serves();
}

#[test]
fn python_deep_recursion_raises_recursion_error() {
    let mut s = session();
    match s.eval("def f(n):\n    return f(n + 1)\nf(0)").result {
        Err(CallError::Guest(GuestError::InvalidInput { message, .. })) => {
            assert!(message.contains("RecursionError"), "{message}")
        }
        other => panic!("expected RecursionError, got {other:?}"),
    }
    assert_eq!(
        eval_ok(&mut s, "'still alive'").repr.as_deref(),
        Some("'still alive'")
    );
}

struct Echo;

impl Tools for Echo {
    fn call(
        &self,
        name: &str,
        args_json: &str,
        _deadline: std::time::Instant,
    ) -> Result<String, ToolError> {
        match name {
            "echo" => Ok(format!(r#"{{"tool": "{name}", "args": {args_json}}}"#)),
            _ => Err(ToolError::UnknownTool(name.into())),
        }
    }
}

#[test]
fn python_calls_host_tools_by_name() {
    let opts = SessionOptions {
        tools: vec!["echo".into(), "missing".into()],
        ..Default::default()
    };
    let mut s = engine()
        .start_session(builtin("python"), &opts, limits(), Arc::new(Echo))
        .result
        .unwrap();
    let out = eval_ok(&mut s, "r = echo(1, 'two')\nr['tool']");
    assert_eq!(out.repr.as_deref(), Some("'echo'"));
    match s.eval("missing()").result {
        Err(CallError::Guest(GuestError::InvalidInput { message, .. })) => {
            assert!(message.contains("unknown tool"), "{message}")
        }
        other => panic!("expected an exception from the unknown tool, got {other:?}"),
    }
    let mut plain = session();
    assert!(
        plain.eval("echo(1)").result.is_err(),
        "tools not granted to a session are not callable"
    );
}

#[test]
fn python_refuses_a_forged_snapshot_without_harm() {
    let out = engine().restore_session(
        builtin("python"),
        b"not a monty snapshot at all",
        &SessionOptions::default(),
        limits(),
        Arc::new(NoTools),
    );
    match out.result {
        Err(CallError::Guest(GuestError::InvalidInput { kind, .. })) => {
            assert_eq!(kind, "snapshot")
        }
        Err(other) => panic!("expected the snapshot to be refused as invalid input, got {other:?}"),
        Ok(_) => panic!("a forged snapshot must not restore"),
    }
    assert_engine_still_serves();
}

#[test]
fn async_callers_are_not_blocked_by_running_guests() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = warden_engine::CallPool::new(engine().clone(), 2, Duration::from_secs(30));
        // The deadline must end the spin before the fuel does: the engine caps fuel at 50e9,
        // which a tight loop burns in about 2.7 s on a fast, idle core (seen here: 3 s
        // deadlines lost to `OutOfFuel`), so the deadline is 1 s.
        let slow = Limits {
            fuel: u64::MAX / 2,
            wall_time: Duration::from_secs(1),
            ..limits()
        };
        let spinning = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move |e| {
                    e.render(hostile(), "loop", "{}", RenderOptions::default(), slow)
                        .result
                })
                .await
            }
        });
        // The runtime has one thread: if the guest ran on it, nothing else could run until the
        // 1-second deadline. A normal call and a plain task both complete meanwhile.
        let normal = pool
            .run(|e| {
                e.render(
                    builtin("template"),
                    "{{ 6 * 7 }}",
                    "{}",
                    RenderOptions::default(),
                    limits(),
                )
                .result
            })
            .await
            .unwrap();
        assert_eq!(normal.unwrap(), "42");
        assert_eq!(tokio::spawn(async { 7 }).await.unwrap(), 7);
        assert!(
            !spinning.is_finished(),
            "the spinning guest should still be running"
        );
        let stopped = spinning.await.unwrap().unwrap();
        assert!(
            matches!(stopped, Err(CallError::DeadlineExceeded { .. })),
            "{stopped:?}"
        );
    });
}

/// The pool answers a call before its store is torn down (the slot's reset runs after the
/// caller has its result), but it must still give every slot back, and not before the reset:
/// with as many permits as pool slots, a slot handed out again before its store dropped, or a
/// store never dropped, makes a later instantiation fail for want of a slot.
#[test]
fn the_call_pool_gives_every_slot_back_after_its_reset() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let small = Engine::new(EngineConfig {
        cache_dir: Some(common::cache_dir()),
        pool_instances: 2,
        ..EngineConfig::default()
    })
    .unwrap();
    assert!(small.pooling(), "this test needs the pooling allocator");
    let template = Arc::new(
        small
            .load(warden_builtins::get("template").unwrap())
            .unwrap(),
    );
    let pool = warden_engine::CallPool::new(small, 2, Duration::from_secs(30));
    let call = |pool: warden_engine::CallPool, template: Arc<Plugin>, i: usize| async move {
        pool.run(move |e| {
            e.render(
                &template,
                "{{ n * 2 }}",
                &format!("{{\"n\": {i}}}"),
                RenderOptions::default(),
                limits(),
            )
            .result
        })
        .await
    };
    rt.block_on(async {
        for i in 0..10 {
            let out = call(pool.clone(), template.clone(), i).await.unwrap();
            assert_eq!(out.unwrap(), (i * 2).to_string(), "sequential call {i}");
        }
        let all: Vec<_> = (0..40)
            .map(|i| tokio::spawn(call(pool.clone(), template.clone(), i)))
            .collect();
        for (i, h) in all.into_iter().enumerate() {
            let out = h.await.unwrap().unwrap();
            assert_eq!(out.unwrap(), (i * 2).to_string(), "concurrent call {i}");
        }
    });
}

/// A host bug that panics inside a pooled call is an error for that caller, naming the panic,
/// and the pool keeps serving.
#[test]
fn a_panic_in_a_pooled_call_is_a_host_error_and_the_pool_serves_on() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = warden_engine::CallPool::new(engine().clone(), 1, Duration::from_secs(5));
        let failed = pool
            .run(|_| -> u32 { panic!("a host bug on purpose") })
            .await;
        match failed {
            Err(warden_engine::PoolError::Host(m)) => {
                assert!(m.contains("a host bug on purpose"), "{m}")
            }
            other => panic!("expected a host error, got {other:?}"),
        }
        // One permit: this call gets it only if the panicked call gave it back.
        let ok = pool.run(|_| 7u32).await;
        assert_eq!(ok, Ok(7));
    });
}
