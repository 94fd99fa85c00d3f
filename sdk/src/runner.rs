//! The `code-runner` world: implement [`CodeRunner`] with a [`Session`] type, then
//! `export_code_runner!(YourType)`.
//!
//! A session keeps its state between evaluations. Warden snapshots it after every eval (and
//! stores the snapshot sealed with the tenant's key), so a session survives restarts and moves
//! between instances: [`Session::snapshot`] and [`Session::restore`] must round-trip the whole
//! state. Code calls host functions through [`call_tool`], by name, with JSON arguments.

use crate::Error;

/// Options for a new session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// Recursion limit (frames), if the caller set one.
    pub max_recursion: Option<u32>,
    /// Heap budget in bytes, enforced by the interpreter itself.
    pub max_heap_bytes: Option<u64>,
    /// Allocation budget per eval.
    pub max_allocations: Option<u64>,
    /// Host tools the code may call.
    pub tools: Vec<String>,
}

/// The result of one evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalOutput {
    /// Everything the code printed.
    pub stdout: String,
    /// A printable form of the last expression's value, if any.
    pub repr: Option<String>,
    /// The same value as JSON, when it has one.
    pub json: Option<String>,
}

/// Why a tool call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// No tool of that name is available to this session.
    UnknownTool(String),
    /// The arguments were not what the tool takes.
    InvalidArguments(String),
    /// The tool ran and failed.
    Failed(String),
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::UnknownTool(n) => write!(f, "unknown tool `{n}`"),
            ToolError::InvalidArguments(m) => write!(f, "invalid arguments: {m}"),
            ToolError::Failed(m) => write!(f, "tool failed: {m}"),
        }
    }
}

impl std::error::Error for ToolError {}

/// Calls the host tool `name` with a JSON array or object of arguments and returns its JSON
/// result. Outside a Warden component (native tests) every tool is unknown.
pub fn call_tool(name: &str, args_json: &str) -> Result<String, ToolError> {
    #[cfg(all(target_arch = "wasm32", feature = "code-runner"))]
    {
        use crate::__bindings::warden::plugin::tools as w;
        w::call(name, args_json).map_err(|e| match e {
            w::ToolError::UnknownTool(m) => ToolError::UnknownTool(m),
            w::ToolError::InvalidArguments(m) => ToolError::InvalidArguments(m),
            w::ToolError::Failed(m) => ToolError::Failed(m),
        })
    }
    #[cfg(not(all(target_arch = "wasm32", feature = "code-runner")))]
    {
        let _ = args_json;
        Err(ToolError::UnknownTool(name.to_owned()))
    }
}

/// One session's state.
pub trait Session: Sized + 'static {
    /// An empty session.
    fn new(options: &SessionOptions) -> Self;
    /// Evaluates one cell of code; a user error is [`Error::InvalidInput`].
    fn eval(&mut self, code: &str) -> Result<EvalOutput, Error>;
    /// The whole state, for [`Session::restore`].
    fn snapshot(&self) -> Result<Vec<u8>, Error>;
    /// Rebuilds a session from [`Session::snapshot`] output.
    fn restore(snapshot: &[u8], options: &SessionOptions) -> Result<Self, Error>;
}

/// A code runner: names its session type.
pub trait CodeRunner: 'static {
    /// The session state.
    type Session: Session;
    /// Runs once when Warden loads the component; its memory is snapshotted afterwards.
    fn initialize() {}
    /// Runs at the start of every session's `new` and `restore`, before the session is built:
    /// where a runner whose interpreter accounts its own heap (such as monty with
    /// `monty_alloc::LimitedAllocator` as the component's global allocator) re-arms that
    /// accounting, so the budget is measured from this moment, not from the snapshot's.
    fn before_session() {}
}

/// What a call on a session that is already in use is told: a host tool that calls back into
/// the same session would otherwise find it borrowed.
pub(crate) const BUSY: &str = "the session is already evaluating";

/// Runs `f` on the session in `cell`, or refuses with a guest failure ([`BUSY`]) when the session
/// is in use: a re-entrant call must never panic on the `RefCell`.
#[cfg_attr(
    not(all(target_arch = "wasm32", feature = "code-runner")),
    allow(dead_code)
)]
pub(crate) fn with_mut<S, R>(
    cell: &std::cell::RefCell<S>,
    f: impl FnOnce(&mut S) -> Result<R, Error>,
) -> Result<R, Error> {
    match cell.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => Err(Error::guest_failure(BUSY)),
    }
}

/// [`with_mut`] for calls that only read the session (a snapshot).
#[cfg_attr(
    not(all(target_arch = "wasm32", feature = "code-runner")),
    allow(dead_code)
)]
pub(crate) fn with_ref<S, R>(
    cell: &std::cell::RefCell<S>,
    f: impl FnOnce(&S) -> Result<R, Error>,
) -> Result<R, Error> {
    match cell.try_borrow() {
        Ok(s) => f(&s),
        Err(_) => Err(Error::guest_failure(BUSY)),
    }
}

/// Exports a [`CodeRunner`] implementation as the component's `code-runner` world (needs the
/// SDK's `code-runner` feature; nothing outside wasm32).
#[macro_export]
macro_rules! export_code_runner {
    ($t:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct WardenExport;
            impl $crate::__bindings::exports::warden::plugin::runner::Guest for WardenExport {
                type Session = $crate::runner::__glue::SessionAdapter<$t>;
            }
            impl $crate::__bindings::Guest for WardenExport {
                fn wizer_initialize() {
                    <$t as $crate::runner::CodeRunner>::initialize()
                }
            }
    $crate::__bindings::__warden_export!(WardenExport with_types_in $crate::__bindings);
        };
    };
}

/// What the export macro uses (wasm32 with the `code-runner` feature only).
#[cfg(all(target_arch = "wasm32", feature = "code-runner"))]
#[doc(hidden)]
pub mod __glue {
    use std::cell::RefCell;

    use crate::__bindings::exports::warden::plugin::runner as w;
    use crate::__bindings::warden::plugin::types::Error as WireError;

    fn options(o: w::SessionOptions) -> super::SessionOptions {
        super::SessionOptions {
            max_recursion: o.max_recursion,
            max_heap_bytes: o.max_heap_bytes,
            max_allocations: o.max_allocations,
            tools: o.tools,
        }
    }

    /// Wraps an author's session as the generated resource.
    ///
    /// Resource methods take `&self`, so the session sits in a `RefCell`; a call that arrives
    /// while another is using the session (re-entrancy through a host tool) is refused with a
    /// `guest-failure`, never a panic.
    pub struct SessionAdapter<T: super::CodeRunner>(RefCell<T::Session>);

    impl<T: super::CodeRunner> w::GuestSession for SessionAdapter<T> {
        fn new(o: w::SessionOptions) -> Self {
            T::before_session();
            SessionAdapter(RefCell::new(<T::Session as super::Session>::new(&options(
                o,
            ))))
        }

        fn eval(&self, code: String) -> Result<w::EvalOutput, WireError> {
            let out = super::with_mut(&self.0, |s| super::Session::eval(s, &code))
                .map_err(WireError::from)?;
            Ok(w::EvalOutput {
                stdout: out.stdout,
                repr: out.repr,
                json: out.json,
            })
        }

        fn snapshot(&self) -> Result<Vec<u8>, WireError> {
            super::with_ref(&self.0, super::Session::snapshot).map_err(WireError::from)
        }

        fn restore(snapshot: Vec<u8>, o: w::SessionOptions) -> Result<w::Session, WireError> {
            T::before_session();
            let s = <T::Session as super::Session>::restore(&snapshot, &options(o))
                .map_err(WireError::from)?;
            Ok(w::Session::new(SessionAdapter::<T>(RefCell::new(s))))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[test]
    fn a_busy_session_is_a_guest_failure_not_a_panic() {
        let cell = RefCell::new(1u32);
        assert_eq!(
            with_mut(&cell, |n| {
                *n += 1;
                Ok(*n)
            }),
            Ok(2)
        );
        let held = cell.borrow_mut();
        assert_eq!(with_mut(&cell, |n| Ok(*n)), Err(Error::guest_failure(BUSY)));
        assert_eq!(with_ref(&cell, |n| Ok(*n)), Err(Error::guest_failure(BUSY)));
        drop(held);
        let reading = cell.borrow();
        assert_eq!(with_ref(&cell, |n| Ok(*n)), Ok(2));
        assert_eq!(with_mut(&cell, |n| Ok(*n)), Err(Error::guest_failure(BUSY)));
        drop(reading);
        // The session's own error passes through untouched.
        assert_eq!(
            with_mut(&cell, |_| Err::<(), _>(Error::invalid_input(
                "exception",
                "boom"
            ))),
            Err(Error::invalid_input("exception", "boom"))
        );
    }
}
