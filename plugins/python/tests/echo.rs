//! The echo of a cell's trailing expression is Python's `repr()` of it, as the REPL prints it:
//! user-defined `__repr__` included, its exceptions raised as the cell's, the size bound kept,
//! and the cell's own errors reported against the cell as written.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use warden_plugin_python::{
    EvalOutput, MAX_RESULT_REPR_BYTES, PyError, Session, SessionOptions, ToolError,
};

fn no_tools(_: &str, _: &str) -> Result<String, ToolError> {
    panic!("no tool should be called")
}

fn ok(session: &mut Session, code: &str) -> EvalOutput {
    session
        .eval(code, &mut no_tools)
        .unwrap_or_else(|e| panic!("{code:?} failed: {e:?}"))
}

fn repr(session: &mut Session, code: &str) -> Option<String> {
    ok(session, code).repr
}

/// (message, position) of a cell that raised.
fn raised(session: &mut Session, code: &str) -> (String, Option<(u32, u32)>) {
    match session.eval(code, &mut no_tools) {
        Err(PyError::InvalidInput {
            kind: "exception",
            message,
            position,
        }) => (message, position.map(|p| (p.line, p.column))),
        other => panic!("{code:?} should raise, got {other:?}"),
    }
}

const CLASSES: &str = "class A:\n    def __repr__(self):\n        return 'custom'\n\
                       class Boom:\n    def __repr__(self):\n        raise ValueError('no repr for you')\n\
                       class Plain:\n    pass";

fn session() -> Session {
    let mut s = Session::new(&SessionOptions::default());
    ok(&mut s, CLASSES);
    s
}

#[test]
fn user_defined_repr_is_the_echo() {
    let mut s = session();
    assert_eq!(repr(&mut s, "A()").as_deref(), Some("custom"));
    let out = ok(&mut s, "a = A()\na");
    assert_eq!(out.repr.as_deref(), Some("custom"));
    assert_eq!(out.json, None, "an instance is not JSON");
    // Containers show their items' own reprs, as Python's do.
    assert_eq!(
        repr(&mut s, "[A(), {'k': A()}, (A(),)]").as_deref(),
        Some("[custom, {'k': custom}, (custom,)]")
    );
    // A class without `__repr__` echoes as `repr()` shows it inside the interpreter.
    let plain = repr(&mut s, "Plain()").unwrap();
    assert!(plain.starts_with("<Plain object at 0x"), "{plain}");
    // A `__repr__` with side effects runs once, as the REPL's display hook runs it.
    let out = ok(
        &mut s,
        "class Loud:\n    def __repr__(self):\n        print('repr ran')\n        return 'loud'\nLoud()",
    );
    assert_eq!(out.stdout, "repr ran\n");
    assert_eq!(out.repr.as_deref(), Some("loud"));
}

#[test]
fn builtin_values_echo_and_serialise_as_before() {
    let mut s = session();
    let out = ok(&mut s, "{'a': [1, 2.5, 'x'], 'b': (True, None)}");
    assert_eq!(
        out.repr.as_deref(),
        Some("{'a': [1, 2.5, 'x'], 'b': (True, None)}")
    );
    assert_eq!(
        out.json.as_deref(),
        Some(r#"{"a":[1,2.5,"x"],"b":[true,null]}"#)
    );
    assert_eq!(repr(&mut s, "\"it's\"").as_deref(), Some("\"it's\""));
    // A trailing comment, a semicolon, a bare tuple, a walrus and a parenthesised
    // expression are all still the cell's last expression.
    assert_eq!(repr(&mut s, "A()  # show it").as_deref(), Some("custom"));
    assert_eq!(repr(&mut s, "x = 1; x + 1;").as_deref(), Some("2"));
    assert_eq!(repr(&mut s, "1, A()").as_deref(), Some("(1, custom)"));
    assert_eq!(repr(&mut s, "(y := 5)").as_deref(), Some("5"));
    assert_eq!(repr(&mut s, "y").as_deref(), Some("5"));
    assert_eq!(repr(&mut s, "(\n  1 +\n  2\n)").as_deref(), Some("3"));
    // `None` is never echoed; neither is a cell that ends in a statement.
    assert_eq!(ok(&mut s, "None"), EvalOutput::default());
    assert_eq!(ok(&mut s, "def f():\n    pass\nf()"), EvalOutput::default());
    assert_eq!(ok(&mut s, "z = A()"), EvalOutput::default());
}

#[test]
fn the_echo_uses_the_builtin_repr_and_leaves_no_names_behind() {
    let mut s = session();
    ok(&mut s, "repr = lambda v: 'shadowed'");
    assert_eq!(repr(&mut s, "[1, A()]").as_deref(), Some("[1, custom]"));
    for name in [
        "__warden_echo_value__",
        "__warden_echo_wants_repr__",
        "__warden_echo_wants_repr__(1)",
    ] {
        let (message, _) = raised(&mut s, name);
        assert!(message.contains("NameError"), "{name}: {message}");
    }
}

#[test]
fn an_exception_in_repr_is_the_cells_exception() {
    let mut s = session();
    let (message, position) = raised(&mut s, "x = 1\nBoom()");
    assert!(
        message.ends_with("ValueError: no repr for you"),
        "{message}"
    );
    assert!(message.contains("in __repr__"), "{message}");
    // The traceback points at the cell's expression, as written, and shows no wrapper.
    assert!(
        message.contains("line 2, in <module>\n    Boom()\n"),
        "{message}"
    );
    assert!(!message.contains("warden"), "{message}");
    assert!(!message.contains("lambda"), "{message}");
    assert_eq!(position, Some((2, 1)));
    // Statements before the expression ran, and the session goes on.
    assert_eq!(repr(&mut s, "x").as_deref(), Some("1"));
    // Inside a container too, and `__repr__` returning a non-string is a `TypeError`.
    let (message, _) = raised(&mut s, "[1, Boom()]");
    assert!(
        message.ends_with("ValueError: no repr for you"),
        "{message}"
    );
    ok(
        &mut s,
        "class Bad:\n    def __repr__(self):\n        return 3",
    );
    let (message, _) = raised(&mut s, "Bad()");
    assert!(message.contains("TypeError"), "{message}");
}

#[test]
fn errors_in_the_last_expression_keep_their_positions() {
    let mut s = session();
    let (message, position) = raised(&mut s, "x = 1; 1 / 0");
    assert_eq!(position, Some((1, 8)));
    assert!(
        message.contains("\n    x = 1; 1 / 0\n           ~~~~~\n"),
        "{message}"
    );
    assert!(!message.contains("warden"), "{message}");
    let (message, position) = raised(&mut s, "[1,\n 2 / 0,\n 3]");
    assert_eq!(position, Some((2, 2)));
    assert!(message.contains("\n    2 / 0,\n    ~~~~~\n"), "{message}");
    assert!(!message.contains("warden"), "{message}");
    // A user lambda in the expression keeps its frame.
    let (message, position) = raised(&mut s, "(lambda v: v / 0)(1)");
    assert!(message.contains("in <lambda>"), "{message}");
    assert_eq!(position, Some((1, 12)));
    // Non-ASCII before the expression: columns are in characters.
    let (_, position) = raised(&mut s, "é = 1; é / 0");
    assert_eq!(position, Some((1, 8)));
    // A syntax error is reported as before, on the cell as written.
    match s.eval("A(\n", &mut no_tools) {
        Err(PyError::InvalidInput {
            kind: "syntax",
            message,
            ..
        }) => {
            assert!(!message.contains("warden"), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn the_size_bound_still_holds() {
    let mut s = session();
    // A value too large to display is summarised without building its repr.
    let out = ok(&mut s, "x = [1]\nfor i in range(64):\n    x = [x, x]\nx");
    assert_eq!(
        out.repr.as_deref(),
        Some("<list object, too large to display>")
    );
    assert_eq!(out.json, None);
    // So is a user `__repr__` whose text is over the bound.
    let code = format!(
        "class Huge:\n    def __repr__(self):\n        return 'x' * {}\nHuge()",
        MAX_RESULT_REPR_BYTES + 1
    );
    let out = ok(&mut s, &code);
    assert_eq!(
        out.repr.as_deref(),
        Some("<Huge object, too large to display>")
    );
    let code = format!("'x' * {}", MAX_RESULT_REPR_BYTES - 2);
    assert_eq!(
        ok(&mut s, &code).repr.map(|r| r.len()),
        Some(MAX_RESULT_REPR_BYTES)
    );
}

#[test]
fn tools_in_the_last_expression_still_work() {
    let mut s = Session::new(&SessionOptions {
        tools: vec!["lookup".to_owned()],
        ..SessionOptions::default()
    });
    let mut tools = |name: &str, args: &str| -> Result<String, ToolError> {
        assert_eq!((name, args), ("lookup", "[1]"));
        Ok(r#"{"ok": true}"#.to_owned())
    };
    let out = s.eval("lookup(1)", &mut tools).unwrap();
    assert_eq!(out.repr.as_deref(), Some("{'ok': True}"));
    assert_eq!(out.json.as_deref(), Some(r#"{"ok":true}"#));
}
