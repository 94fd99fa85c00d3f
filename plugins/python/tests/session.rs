//! Behaviour of a Python session: state, output, errors, snapshots, sandboxing and tools.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use warden_plugin_python::{EvalOutput, PyError, Session, SessionOptions, ToolError};

fn no_tools(_: &str, _: &str) -> Result<String, ToolError> {
    panic!("no tool should be called")
}

fn run(session: &mut Session, code: &str) -> Result<EvalOutput, PyError> {
    session.eval(code, &mut no_tools)
}

fn ok(session: &mut Session, code: &str) -> EvalOutput {
    run(session, code).unwrap_or_else(|e| panic!("{code:?} failed: {e:?}"))
}

/// (kind, message, position) of a failed eval.
fn err(session: &mut Session, code: &str) -> (&'static str, String, Option<(u32, u32)>) {
    match run(session, code) {
        Ok(out) => panic!("{code:?} should fail, got {out:?}"),
        Err(PyError::InvalidInput {
            kind,
            message,
            position,
        }) => (kind, message, position.map(|p| (p.line, p.column))),
        Err(e) => panic!("{code:?}: unexpected {e:?}"),
    }
}

fn session() -> Session {
    Session::new(&SessionOptions::default())
}

#[test]
fn state_persists_across_evals() {
    let mut s = session();
    let out = ok(&mut s, "x = 41");
    assert_eq!(out, EvalOutput::default());
    let out = ok(&mut s, "x + 1");
    assert_eq!(out.repr.as_deref(), Some("42"));
    assert_eq!(out.json.as_deref(), Some("42"));
}

#[test]
fn functions_and_imports_persist() {
    let mut s = session();
    ok(
        &mut s,
        "import math\ndef area(r):\n    return math.pi * r * r",
    );
    let out = ok(&mut s, "round(area(2), 3)");
    assert_eq!(out.repr.as_deref(), Some("12.566"));
    assert_eq!(out.json.as_deref(), Some("12.566"));
}

#[test]
fn print_is_captured_in_order() {
    let mut s = session();
    let out = ok(
        &mut s,
        "print('one')\nprint('two', 2)\nfor i in range(3):\n    print(i, end=',')\n'done'",
    );
    assert_eq!(out.stdout, "one\ntwo 2\n0,1,2,");
    assert_eq!(out.repr.as_deref(), Some("'done'"));
    assert_eq!(out.json.as_deref(), Some("\"done\""));
}

#[test]
fn none_result_has_no_repr() {
    let mut s = session();
    let out = ok(&mut s, "print('hi')\nNone");
    assert_eq!(out.stdout, "hi\n");
    assert_eq!(out.repr, None);
    assert_eq!(out.json, None);
    let out = ok(&mut s, "def f():\n    pass\nf()");
    assert_eq!((out.repr, out.json), (None, None));
}

#[test]
fn json_of_containers() {
    let mut s = session();
    let out = ok(
        &mut s,
        "{'a': [1, 2.5, 'x'], 'b': (True, None), 'c': {'d': -3}}",
    );
    assert_eq!(
        out.repr.as_deref(),
        Some("{'a': [1, 2.5, 'x'], 'b': (True, None), 'c': {'d': -3}}")
    );
    let json: serde_json::Value = serde_json::from_str(out.json.as_deref().unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"a": [1, 2.5, "x"], "b": [true, null], "c": {"d": -3}})
    );
    let out = ok(&mut s, "[1, 'two\"\\n', [3]]");
    assert_eq!(out.json.as_deref(), Some(r#"[1,"two\"\n",[3]]"#));
    let out = ok(&mut s, "2 ** 70");
    assert_eq!(out.json.as_deref(), Some("1180591620717411303424"));
}

#[test]
fn values_json_cannot_hold_have_only_a_repr() {
    let mut s = session();
    for (code, repr) in [
        ("{1: 'a'}", "{1: 'a'}"),
        ("{1, 2}", "{1, 2}"),
        ("float('inf')", "inf"),
        ("b'x'", "b'x'"),
    ] {
        let out = ok(&mut s, code);
        assert_eq!(out.repr.as_deref(), Some(repr), "{code}");
        assert_eq!(out.json, None, "{code}");
    }
}

#[test]
fn exception_is_invalid_input_with_traceback_and_position() {
    let mut s = session();
    let (kind, message, position) = err(&mut s, "x = 1\ny = [1, 2]\ny[5]");
    assert_eq!(kind, "exception");
    assert!(message.contains("IndexError"), "{message}");
    assert!(message.contains("Traceback"), "{message}");
    assert_eq!(position, Some((3, 1)));
    // the state set before the exception survives, and the session goes on
    assert_eq!(ok(&mut s, "x").repr.as_deref(), Some("1"));
}

#[test]
fn exception_in_function_from_earlier_cell_points_at_the_call() {
    let mut s = session();
    ok(&mut s, "def boom():\n    raise ValueError('bad value')");
    let (kind, message, position) = err(&mut s, "a = 1\nboom()");
    assert_eq!(kind, "exception");
    assert!(message.contains("ValueError: bad value"), "{message}");
    assert_eq!(position, Some((2, 1)));
}

#[test]
fn syntax_error_has_kind_syntax_and_line() {
    let mut s = session();
    let (kind, message, position) = err(&mut s, "x = 1\ny = (2 +\nz = 3");
    assert_eq!(kind, "syntax");
    assert!(message.contains("SyntaxError"), "{message}");
    let (line, _) = position.expect("a syntax error has a position");
    assert!(line >= 2, "{line}");
    // a raised SyntaxError is an exception like any other
    let (kind, _, _) = err(&mut s, "raise SyntaxError('made up')");
    assert_eq!(kind, "exception");
    // and the session still works
    assert_eq!(ok(&mut s, "1 + 1").repr.as_deref(), Some("2"));
}

#[test]
fn undefined_name_is_name_error() {
    let mut s = session();
    let (kind, message, _) = err(&mut s, "nope + 1");
    assert_eq!(kind, "exception");
    assert!(message.contains("NameError"), "{message}");
}

#[test]
fn snapshot_restore_keeps_variables_and_functions() {
    let mut s = session();
    ok(
        &mut s,
        "import math\ncounter = 10\ndef bump(n):\n    global counter\n    counter += n\n    return counter",
    );
    ok(&mut s, "bump(5)");
    let bytes = s.snapshot().unwrap();
    let mut restored = Session::restore(&bytes, &SessionOptions::default()).unwrap();
    assert_eq!(ok(&mut restored, "bump(1)").repr.as_deref(), Some("16"));
    assert_eq!(
        ok(&mut restored, "math.floor(2.5)").repr.as_deref(),
        Some("2")
    );
    // the original is independent of the copy
    assert_eq!(ok(&mut s, "counter").repr.as_deref(), Some("15"));
}

#[test]
fn restore_rejects_garbage() {
    match Session::restore(b"definitely not a snapshot", &SessionOptions::default()) {
        Err(PyError::InvalidInput { kind, .. }) => assert_eq!(kind, "snapshot"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn no_file_system_or_os_access() {
    let mut s = session();
    for code in [
        "open('/etc/passwd').read()",
        "import os\nos.listdir('/')",
        "import os\nos.getenv('HOME')",
        "from pathlib import Path\nPath('/etc/passwd').read_text()",
        "open('/tmp/x', 'w').write('x')",
    ] {
        let (kind, message, _) = err(&mut s, code);
        assert_eq!(kind, "exception", "{code}");
        assert!(message.contains("PermissionError"), "{code}: {message}");
        assert!(!message.contains("root:"), "{code}: {message}");
    }
    // the refusal is an ordinary exception the code can catch
    let out = ok(
        &mut s,
        "try:\n    open('/etc/passwd')\nexcept PermissionError:\n    r = 'denied'\nr",
    );
    assert_eq!(out.repr.as_deref(), Some("'denied'"));
    let (kind, message, _) = err(&mut s, "import subprocess");
    assert_eq!(kind, "exception");
    assert!(message.contains("ModuleNotFoundError"), "{message}");
}

#[test]
fn deep_recursion_is_recursion_error() {
    let mut s = session();
    let (kind, message, _) = err(&mut s, "def f(n):\n    return f(n + 1)\nf(0)");
    assert_eq!(kind, "exception");
    assert!(message.contains("RecursionError"), "{message}");
    assert_eq!(ok(&mut s, "1").repr.as_deref(), Some("1"));
}

#[test]
fn recursion_limit_is_configurable() {
    let code = "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\ndepth(150)";
    let mut s = Session::new(&SessionOptions {
        max_recursion: Some(100),
        ..SessionOptions::default()
    });
    let (_, message, _) = err(&mut s, code);
    assert!(message.contains("RecursionError"), "{message}");
    let mut s = Session::new(&SessionOptions {
        max_recursion: Some(400),
        ..SessionOptions::default()
    });
    assert_eq!(ok(&mut s, code).repr.as_deref(), Some("150"));
}

#[test]
fn huge_single_allocation_is_memory_error() {
    let mut s = Session::new(&SessionOptions {
        max_heap_bytes: Some(64 << 20),
        ..SessionOptions::default()
    });
    for code in ["'a' * 2**40", "[0] * 2**40", "2 ** (2 ** 40)"] {
        let (kind, message, _) = err(&mut s, code);
        assert_eq!(kind, "exception", "{code}");
        assert!(message.contains("MemoryError"), "{code}: {message}");
    }
    // the default budget refuses it too
    let (_, message, _) = err(&mut session(), "'a' * 2**40");
    assert!(message.contains("MemoryError"), "{message}");
}

fn with_tools_options(names: &[&str]) -> SessionOptions {
    SessionOptions {
        tools: names.iter().map(|s| (*s).to_owned()).collect(),
        ..SessionOptions::default()
    }
}

fn with_tools(names: &[&str]) -> Session {
    Session::new(&with_tools_options(names))
}

#[test]
fn tools_are_python_functions() {
    let mut s = with_tools(&["weather", "add"]);
    let calls = std::cell::RefCell::new(Vec::new());
    let mut tools = |name: &str, args: &str| -> Result<String, ToolError> {
        calls.borrow_mut().push((name.to_owned(), args.to_owned()));
        match name {
            "weather" => Ok(
                r#"{"city": "Paris", "temp": 21.5, "tags": ["sunny", null], "ok": true}"#
                    .to_owned(),
            ),
            "add" => {
                let v: Vec<i64> = serde_json::from_str(args).unwrap();
                Ok(v.iter().sum::<i64>().to_string())
            }
            _ => Err(ToolError::UnknownTool(name.to_owned())),
        }
    };
    let out = s
        .eval("w = weather(city='Paris', days=2)\nprint(w['city'], w['temp'])\n(add(1, 2, 39), w['tags'], w['ok'])", &mut tools)
        .unwrap();
    assert_eq!(out.stdout, "Paris 21.5\n");
    assert_eq!(out.repr.as_deref(), Some("(42, ['sunny', None], True)"));
    assert_eq!(
        *calls.borrow(),
        vec![
            (
                "weather".to_owned(),
                r#"{"city":"Paris","days":2}"#.to_owned()
            ),
            ("add".to_owned(), "[1,2,39]".to_owned())
        ]
    );
    // the tool stays available in later cells and inside functions
    let out = s
        .eval("def twice(x):\n    return add(x, x)\ntwice(4)", &mut tools)
        .unwrap();
    assert_eq!(out.repr.as_deref(), Some("8"));
}

#[test]
fn tool_errors_are_python_exceptions() {
    let mut s = with_tools(&["flaky", "strict", "gone"]);
    let mut tools = |name: &str, _: &str| -> Result<String, ToolError> {
        match name {
            "flaky" => Err(ToolError::Failed("upstream timed out".to_owned())),
            "strict" => Err(ToolError::InvalidArguments("expected a city".to_owned())),
            _ => Err(ToolError::UnknownTool(name.to_owned())),
        }
    };
    let err = s.eval("flaky()", &mut tools).unwrap_err();
    let PyError::InvalidInput { kind, message, .. } = err else {
        panic!()
    };
    assert_eq!(kind, "exception");
    assert!(
        message.contains("RuntimeError") && message.contains("upstream timed out"),
        "{message}"
    );
    let out = s
        .eval(
            "try:\n    strict(1)\nexcept TypeError as e:\n    r = str(e)\nr",
            &mut tools,
        )
        .unwrap();
    assert!(out.repr.unwrap().contains("expected a city"));
    let err = s.eval("gone()", &mut tools).unwrap_err();
    let PyError::InvalidInput { message, .. } = err else {
        panic!()
    };
    assert!(
        message.contains("RuntimeError: unknown tool: gone"),
        "{message}"
    );
}

#[test]
fn tools_not_allowed_are_undefined() {
    let mut s = with_tools(&["allowed"]);
    let mut tools =
        |_: &str, _: &str| -> Result<String, ToolError> { panic!("must not be called") };
    for code in ["secret_tool(1)", "x = secret_tool", "allowed2()"] {
        let err = s.eval(code, &mut tools).unwrap_err();
        let PyError::InvalidInput { message, .. } = err else {
            panic!()
        };
        assert!(message.contains("NameError"), "{code}: {message}");
    }
}

#[test]
fn tool_arguments_must_be_json() {
    let mut s = with_tools(&["t"]);
    let mut tools =
        |_: &str, _: &str| -> Result<String, ToolError> { panic!("must not be called") };
    for code in ["t({1, 2})", "t(1, b=2)", "t(float('nan'))"] {
        let err = s.eval(code, &mut tools).unwrap_err();
        let PyError::InvalidInput { message, .. } = err else {
            panic!()
        };
        assert!(message.contains("TypeError"), "{code}: {message}");
    }
}

#[test]
fn tool_returning_bad_json_raises() {
    let mut s = with_tools(&["t"]);
    let mut tools = |_: &str, _: &str| -> Result<String, ToolError> { Ok("{not json".to_owned()) };
    let err = s.eval("t()", &mut tools).unwrap_err();
    let PyError::InvalidInput { message, .. } = err else {
        panic!()
    };
    assert!(message.contains("invalid JSON"), "{message}");
}

#[test]
fn restored_session_gets_the_tools_of_its_options() {
    let mut s = with_tools(&["t"]);
    let mut tools = |_: &str, _: &str| -> Result<String, ToolError> { Ok("7".to_owned()) };
    assert_eq!(
        s.eval("t()", &mut tools).unwrap().repr.as_deref(),
        Some("7")
    );
    let bytes = s.snapshot().unwrap();
    let mut restored = Session::restore(&bytes, &SessionOptions::default()).unwrap();
    let err = restored.eval("t()", &mut tools).unwrap_err();
    let PyError::InvalidInput { message, .. } = err else {
        panic!()
    };
    assert!(message.contains("NameError"), "{message}");
    // even through a reference taken while the tool was allowed
    ok(&mut s, "f = t");
    let mut restored =
        Session::restore(&s.snapshot().unwrap(), &SessionOptions::default()).unwrap();
    let err = restored.eval("f()", &mut tools).unwrap_err();
    let PyError::InvalidInput { message, .. } = err else {
        panic!()
    };
    assert!(message.contains("NameError"), "{message}");
    let mut restored =
        Session::restore(&s.snapshot().unwrap(), &with_tools_options(&["t"])).unwrap();
    assert_eq!(
        restored.eval("f()", &mut tools).unwrap().repr.as_deref(),
        Some("7")
    );
}

#[test]
fn huge_shared_result_is_summarised() {
    let mut s = session();
    let out = ok(&mut s, "x = [1]\nfor i in range(64):\n    x = [x, x]\nx");
    assert_eq!(
        out.repr.as_deref(),
        Some("<list object, too large to display>")
    );
    assert_eq!(out.json, None);
}

#[test]
fn warm_runs() {
    warden_plugin_python::warm();
}

#[test]
fn sleeping_is_refused_except_for_zero() {
    let mut s = session();
    // A positive sleep cannot be honoured (the component cannot wait interruptibly), so it
    // raises where it is called, catchably, rather than returning at once as if time had passed.
    for code in [
        "import time\ntime.sleep(2)",
        "import time\ntime.sleep(0.001)",
        "import asyncio\nasync def main():\n    await asyncio.sleep(1)\nawait main()",
    ] {
        let (kind, message, _) = err(&mut s, code);
        assert_eq!(kind, "exception", "{code}");
        assert!(message.contains("PermissionError"), "{code}: {message}");
        assert!(
            message.contains("sleep is not available in the sandbox"),
            "{code}: {message}"
        );
    }
    let out = ok(
        &mut s,
        "import time\ntry:\n    time.sleep(1)\nexcept OSError as e:\n    caught = type(e).__name__\ncaught",
    );
    assert_eq!(out.repr.as_deref(), Some("'PermissionError'"));
    // A zero-length sleep is exactly what it promises: it returns at once.
    // ... and is not one of the eval's bounded host round trips.
    let code = format!(
        "import time\nfor _ in range({}):\n    time.sleep(0)\n'slept'",
        warden_plugin_python::MAX_SUSPENSIONS_PER_EVAL + 1
    );
    let out = ok(&mut s, &code);
    assert_eq!(out.repr.as_deref(), Some("'slept'"));
    let out = ok(
        &mut s,
        "import asyncio\nasync def main():\n    return await asyncio.sleep(0, 'done')\nawait main()",
    );
    assert_eq!(out.repr.as_deref(), Some("'done'"));
    // Bad arguments are still Python's own errors.
    let (_, message, _) = err(&mut s, "import time\ntime.sleep(-1)");
    assert!(message.contains("ValueError"), "{message}");
}

/// What the component exports goes through the SDK trait: the same output, errors converted
/// with their kinds, tools through `warden_sdk::runner::call_tool` (natively, every tool is
/// unknown), snapshots that restore.
#[test]
fn the_sdk_session_keeps_output_and_error_kinds() {
    use warden_plugin_python::ToolSession;
    use warden_sdk::runner::Session as _;
    let opts = SessionOptions {
        tools: vec!["weather".to_owned()],
        ..SessionOptions::default()
    };
    let mut s = ToolSession::new(&opts);
    assert_eq!(s.eval("x = 41\nx + 1").unwrap().repr.as_deref(), Some("42"));
    match s.eval("1 +") {
        Err(warden_sdk::Error::InvalidInput(e)) => {
            assert_eq!(e.kind, "syntax");
            assert!(e.position.is_some());
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    match s.eval("weather('x')") {
        Err(warden_sdk::Error::InvalidInput(e)) => {
            assert_eq!(e.kind, "exception");
            assert!(
                e.message.contains("RuntimeError: unknown tool"),
                "{}",
                e.message
            );
        }
        other => panic!("expected an unknown tool, got {other:?}"),
    }
    let snap = s.snapshot().unwrap();
    let mut r = ToolSession::restore(&snap, &opts).unwrap();
    assert_eq!(r.eval("x").unwrap().repr.as_deref(), Some("41"));
    assert!(matches!(
        ToolSession::restore(b"garbage", &opts),
        Err(warden_sdk::Error::InvalidInput(e)) if e.kind == "snapshot"
    ));
}
