//! The component glue: exports the `code-runner` world (and `wizer-initialize`).
// Generated bindings contain the canonical-ABI glue, which is `unsafe` by nature and undocumented.
#![allow(unsafe_code, missing_docs)]

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "../../wit",
    inline: "package warden:builtin-python; world plugin { include warden:plugin/code-runner@0.1.0; include warden:plugin/preinit@0.1.0; }",
    world: "warden:builtin-python/plugin",
    generate_all,
});

use exports::warden::plugin::runner::{
    EvalOutput, Guest as Runner, GuestSession, Session, SessionOptions,
};
use warden::plugin::tools::{self, ToolError};
use warden::plugin::types::{Error, InputError, Position};

/// Counts live bytes for monty's heap limit (and aborts, i.e. traps, if the system allocator fails).
#[global_allocator]
static ALLOC: monty_alloc::LimitedAllocator = monty_alloc::LimitedAllocator;

/// Takes the current live-byte count as the baseline the heap limit is measured from (a leaner
/// moment only lowers it). No hard ceiling: the host's memory limit is the backstop.
fn arm_memory_accounting() {
    let _ = monty_alloc::set_hard_limit(None);
}

struct Component;

export!(Component);

impl Guest for Component {
    fn wizer_initialize() {
        crate::warm();
        arm_memory_accounting();
    }
}

/// A session resource: the pure-Rust session behind a `RefCell`, as resource methods take `&self`.
pub struct SessionResource(RefCell<crate::Session>);

fn options(o: SessionOptions) -> crate::SessionOptions {
    crate::SessionOptions {
        max_recursion: o.max_recursion,
        max_heap_bytes: o.max_heap_bytes,
        max_allocations: o.max_allocations,
        tools: o.tools,
    }
}

fn error(e: crate::PyError) -> Error {
    match e {
        crate::PyError::InvalidInput {
            kind,
            message,
            position,
        } => Error::InvalidInput(InputError {
            kind: kind.to_owned(),
            message,
            position: position.map(|p| Position {
                line: p.line,
                column: p.column,
            }),
        }),
        crate::PyError::GuestFailure(message) => Error::GuestFailure(message),
    }
}

fn call_tool(name: &str, args_json: &str) -> Result<String, crate::ToolError> {
    tools::call(name, args_json).map_err(|e| match e {
        ToolError::UnknownTool(m) => crate::ToolError::UnknownTool(m),
        ToolError::InvalidArguments(m) => crate::ToolError::InvalidArguments(m),
        ToolError::Failed(m) => crate::ToolError::Failed(m),
    })
}

impl Runner for Component {
    type Session = SessionResource;
}

impl GuestSession for SessionResource {
    fn new(options: SessionOptions) -> Self {
        arm_memory_accounting();
        Self(RefCell::new(crate::Session::new(&self::options(options))))
    }

    fn eval(&self, code: String) -> Result<EvalOutput, Error> {
        let Ok(mut session) = self.0.try_borrow_mut() else {
            return Err(Error::GuestFailure(
                "the session is already evaluating".to_owned(),
            ));
        };
        session
            .eval(&code, &mut call_tool)
            .map(|o| EvalOutput {
                stdout: o.stdout,
                repr: o.repr,
                json: o.json,
            })
            .map_err(error)
    }

    fn snapshot(&self) -> Result<Vec<u8>, Error> {
        let Ok(session) = self.0.try_borrow() else {
            return Err(Error::GuestFailure(
                "the session is already evaluating".to_owned(),
            ));
        };
        session.snapshot().map_err(error)
    }

    fn restore(snapshot: Vec<u8>, options: SessionOptions) -> Result<Session, Error> {
        arm_memory_accounting();
        crate::Session::restore(&snapshot, &self::options(options))
            .map(|s| Session::new(SessionResource(RefCell::new(s))))
            .map_err(error)
    }
}
