//! The heap budget under the allocator the component installs: growth past it is a
//! `MemoryError`, not a crash. Its own test binary, so no other test shares the live-byte count.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use warden_plugin_python::{PyError, Session, SessionOptions, ToolError};

#[global_allocator]
static ALLOC: monty_alloc::LimitedAllocator = monty_alloc::LimitedAllocator;

#[test]
fn unbounded_growth_is_memory_error() {
    monty_alloc::set_hard_limit(None).unwrap();
    let mut no_tools = |_: &str, _: &str| -> Result<String, ToolError> { panic!("no tools") };
    let mut s = Session::new(&SessionOptions {
        max_heap_bytes: Some(32 << 20),
        ..SessionOptions::default()
    });
    for code in [
        "l = []\nwhile True:\n    l.append(str(len(l)) * 10)",
        "d = {}\ni = 0\nwhile True:\n    d[i] = [i]\n    i += 1",
        "s = 'x'\nwhile True:\n    s = s + s",
    ] {
        match s.eval(code, &mut no_tools) {
            Err(PyError::InvalidInput { kind, message, .. }) => {
                assert_eq!(kind, "exception", "{code}");
                assert!(message.contains("MemoryError"), "{code}: {message}");
            }
            other => panic!("{code}: unexpected {other:?}"),
        }
        // the uncatchable error leaves the session usable once the garbage is dropped
        s.eval("l = d = s = None", &mut no_tools).unwrap();
    }
    let out = s.eval("sum(range(10))", &mut no_tools).unwrap();
    assert_eq!(out.repr.as_deref(), Some("45"));
}
