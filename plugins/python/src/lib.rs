//! Warden's built-in Python code-runner: Pydantic's `monty` interpreter, locked down.
//!
//! The same code runs natively (for tests and the host's benchmarks) and as the `code-runner`
//! component Warden embeds. A [`Session`] is a monty REPL whose variables, functions and imports
//! persist from one [`Session::eval`] to the next. The sandbox grants nothing beyond the
//! interpreter itself:
//!
//! * **No OS access.** Every operating-system call monty surfaces (`open()`, `pathlib`, `os.*`,
//!   `os.getenv`, `os.urandom`, …) is answered with a `PermissionError` raised where the call
//!   was made; importing a module monty does not provide raises `ModuleNotFoundError`.
//!   Clocks read the (sandboxed) system clock and `random` seeds itself from the sandbox's
//!   entropy.
//! * **No waiting.** `time.sleep(s)` and `await asyncio.sleep(s)` with `s > 0` raise
//!   `PermissionError` ("time.sleep is not available in the sandbox: ..."); with `s == 0` they
//!   return at once, which is what they promise. A wait would have to block in the host (on a
//!   WASI pollable), where the call's wall-clock deadline (epoch interruption) cannot cut it
//!   off; returning at once instead would be a silent lie (the clocks would not have moved,
//!   so polling and back-off loops would spin until their budget ran out), so the call fails
//!   where it is made.
//! * **Limits.** monty's recursion limit ([`DEFAULT_MAX_RECURSION`] frames unless the session
//!   options ask otherwise, at most [`MAX_RECURSION_CEILING`]) raises a catchable
//!   `RecursionError`. The heap budget ([`DEFAULT_MAX_HEAP_BYTES`] unless the options ask
//!   otherwise) raises an uncatchable `MemoryError`: single oversized allocations
//!   (`'a' * 2**40`, `[0] * 10**12`) are refused up front everywhere, while the running total
//!   is only measured when the process's global allocator is `monty_alloc::LimitedAllocator`,
//!   as it is in the component (natively, the embedding process's memory is its own business).
//!   monty has no allocation-count budget, so `max-allocations` is accepted and ignored; it has
//!   no instruction budget either, so `while True: pass` is stopped by the host's fuel or
//!   deadline. Printed output is capped at [`MAX_STDOUT_BYTES`] (a `MemoryError` beyond).
//! * **Tools.** Each name in [`SessionOptions::tools`] is a Python function; calling it calls
//!   the host tool of that name (see [`Session::eval`] for the JSON encoding). Other names are
//!   undefined, as usual.
//! * **Echo.** A cell that ends in an expression echoes what Python's REPL prints: the value's
//!   `repr()`, run inside the interpreter, so user-defined `__repr__` methods (of the value or
//!   of anything in it) run, and an exception one raises is the cell's exception. A value whose
//!   repr would be over [`MAX_RESULT_REPR_BYTES`] is summarised instead (see the `echo` module).

mod echo;

use std::fmt::Write as _;

use warden_sdk::runner::CodeRunner;

use monty::{Dump, MontyRepl, ReplProgress, ReplStartError, Session as DumpedSession, SessionRef};
use monty_types::{
    CallArgs, CompileOptions, ExcType, ExtFunctionResult, MontyException, MontyObject,
    NameLookupResult, NamedValues, ObjectRef, OsFunctionCall, OsPolicy, PrintWriter,
    ResourceLimits, ResourceTracker, SleepMode,
};

/// Interpreter frames a session may nest unless its options ask otherwise.
pub const DEFAULT_MAX_RECURSION: u32 = 200;
/// Hard ceiling on the recursion limit a session may ask for (monty's own default).
pub const MAX_RECURSION_CEILING: u32 = 1000;
/// Heap budget of a session whose options name none: 256 MiB.
pub const DEFAULT_MAX_HEAP_BYTES: u64 = 256 * 1024 * 1024;
/// Most bytes one eval may print; printing more raises `MemoryError`.
pub const MAX_STDOUT_BYTES: usize = 4 * 1024 * 1024;
/// Most host round trips (tool calls, refused OS calls, tool-name lookups) one eval may make;
/// the next one aborts the eval with an uncatchable `RuntimeError`.
pub const MAX_SUSPENSIONS_PER_EVAL: usize = 10_000;
/// Largest result, in estimated bytes of its `repr()`, that gets a `repr` and `json`; a larger
/// one is summarised as `<list object, too large to display>`.
pub const MAX_RESULT_REPR_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting of lists and dicts converted to and from JSON.
pub const MAX_JSON_DEPTH: usize = 128;
/// The script name monty puts in tracebacks' session metadata (cells show as `<python-input-N>`).
const SCRIPT_NAME: &str = "main.py";

/// A 1-based line and column (in Unicode scalar values) in the evaluated cell: the SDK's.
pub use warden_sdk::Position;
/// The result of one cell, the SDK's: everything printed (to `sys.stdout` or `sys.stderr`, in
/// order), the `repr()` of a final expression whose value is not `None` (user-defined
/// `__repr__` included), and that value as JSON when it has one.
pub use warden_sdk::runner::EvalOutput;
/// Options for a new session, the SDK's; `None` means the default: recursion
/// [`DEFAULT_MAX_RECURSION`] frames (capped at [`MAX_RECURSION_CEILING`]), heap
/// [`DEFAULT_MAX_HEAP_BYTES`]; `max_allocations` is accepted and ignored (monty has no
/// allocation-count budget); each name in `tools` is exposed as a Python function.
pub use warden_sdk::runner::SessionOptions;
/// Why a host tool call failed: the SDK's, which mirrors the WIT `tool-error` variant.
pub use warden_sdk::runner::ToolError;

/// Why an eval, snapshot or restore failed; mirrors the WIT `error` variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyError {
    /// The caller's input was rejected: code that raised or did not parse, or a bad snapshot.
    InvalidInput {
        /// `exception` (the code raised), `syntax` (it did not parse) or `snapshot`.
        kind: &'static str,
        /// The Python traceback, or a description of what is wrong.
        message: String,
        /// Where in the evaluated cell the error is, when known.
        position: Option<Position>,
    },
    /// The plugin itself failed.
    GuestFailure(String),
}

impl From<PyError> for warden_sdk::Error {
    fn from(e: PyError) -> warden_sdk::Error {
        match e {
            PyError::InvalidInput {
                kind,
                message,
                position,
            } => warden_sdk::Error::InvalidInput(warden_sdk::InputError {
                kind: kind.to_owned(),
                message,
                position,
            }),
            PyError::GuestFailure(message) => warden_sdk::Error::GuestFailure(message),
        }
    }
}

/// A Python session whose state persists across evals.
#[derive(Debug)]
pub struct Session {
    /// The interpreter; `None` only if a previous eval lost it (which monty's API never does).
    repl: Option<MontyRepl>,
    /// Tool names the code may call.
    tools: Vec<String>,
}

/// The resource limits `opts` asks for.
fn limits(opts: &SessionOptions) -> ResourceLimits {
    let recursion = opts
        .max_recursion
        .unwrap_or(DEFAULT_MAX_RECURSION)
        .min(MAX_RECURSION_CEILING);
    let heap = opts.max_heap_bytes.unwrap_or(DEFAULT_MAX_HEAP_BYTES);
    ResourceLimits::default()
        .max_recursion_depth(usize::try_from(recursion).unwrap_or(usize::MAX))
        .max_memory(usize::try_from(heap).unwrap_or(usize::MAX))
        .max_suspensions(MAX_SUSPENSIONS_PER_EVAL)
}

/// The OS policy of every session: the sandbox clock; sleeps come to the host (see
/// [`sleep_result`]), which never waits.
fn os_policy() -> OsPolicy {
    OsPolicy {
        sleep: SleepMode::CallHost,
        ..OsPolicy::default()
    }
}

/// The answer to `time.sleep(delay)` or `asyncio.sleep(delay)`: `None` at once for a zero
/// delay, otherwise a `PermissionError` saying why the sandbox cannot wait.
fn sleep_result(function: &str, delay: std::time::Duration) -> ExtFunctionResult {
    if delay.is_zero() {
        return ExtFunctionResult::Return(MontyObject::none());
    }
    ExtFunctionResult::Error(MontyException::new(
        ExcType::PermissionError,
        Some(format!(
            "{function} is not available in the sandbox: a call cannot wait ({} s asked), \
             because nothing could interrupt the wait at the call's deadline; \
             only a zero-length sleep is allowed",
            delay.as_secs_f64()
        )),
    ))
}

impl Session {
    /// Starts an empty session.
    #[must_use]
    pub fn new(opts: &SessionOptions) -> Self {
        let repl = MontyRepl::new(
            SCRIPT_NAME,
            ResourceTracker::new(limits(opts)),
            CompileOptions::default(),
        )
        .with_os_policy(os_policy());
        Self {
            repl: Some(repl),
            tools: opts.tools.clone(),
        }
    }

    /// Evaluates one cell of Python code against the session state.
    ///
    /// A call to a tool `name(...)` calls `tools(name, args_json)`. The arguments are encoded as
    /// a JSON array of the positional arguments (`[]` for none), or as a JSON object of the
    /// keyword arguments when there are only keyword arguments; mixing both raises `TypeError`,
    /// as does an argument JSON cannot represent. The returned JSON becomes the call's value
    /// (objects become dicts, arrays lists, integers beyond 64 bits floats). A tool error is
    /// raised where the call was made: `RuntimeError` for an unknown tool or a failure,
    /// `TypeError` for invalid arguments.
    ///
    /// # Errors
    /// [`PyError::InvalidInput`] with kind `exception` when the code raises (the message is the
    /// traceback), or `syntax` when it does not parse.
    pub fn eval(
        &mut self,
        code: &str,
        tools: &mut dyn FnMut(&str, &str) -> Result<String, ToolError>,
    ) -> Result<EvalOutput, PyError> {
        let Some(repl) = self.repl.take() else {
            return Err(PyError::GuestFailure(
                "the session's interpreter was lost".to_owned(),
            ));
        };
        let cell = repl.next_script_name();
        // A cell ending in an expression is fed so that its echo is the value's own `repr()`.
        let echo = if repl.check_source(code).is_ok() {
            echo::rewrite(code)
        } else {
            None
        };
        let fed = echo.as_ref().map_or(code, |r| r.code.as_str());
        let mut stdout = String::new();
        let mut print = PrintWriter::CollectString(&mut stdout, Some(MAX_STDOUT_BYTES));
        let mut progress = repl.feed_start(fed, NamedValues::new(), print.reborrow());
        let mut suspensions = 0usize;
        let value = loop {
            let step = match progress {
                Ok(ReplProgress::Complete { repl, value }) => {
                    self.repl = Some(repl);
                    break value;
                }
                Err(failure) => {
                    let ReplStartError { repl, error } = *failure;
                    self.repl = Some(repl);
                    let error = match &echo {
                        Some(rewrite) => rewrite.restore(&error, &cell, code),
                        None => error,
                    };
                    return Err(exception_error(&error, &cell));
                }
                Ok(step) => step,
            };
            // The echo wrapper's own question is not one of the cell's host round trips. (A
            // call of an undefined global suspends without a name lookup, so the name is never
            // bound in the session.)
            let step = match step {
                ReplProgress::FunctionCall(call)
                    if call.object_id.is_none()
                        && call.function_name == echo::WANTS_REPR
                        && echo
                            .as_ref()
                            .is_some_and(|r| r.is_wrapper_call(&call.position, &cell)) =>
                {
                    let wants = MontyObject::bool(echo::wants_repr(call.args.args().next()));
                    progress = if call.allow_eager_await {
                        call.resume_eager(Ok(wants), print.reborrow())
                    } else {
                        call.resume(ExtFunctionResult::Return(wants), print.reborrow())
                    };
                    continue;
                }
                step => step,
            };
            // A zero-length sleep is answered without leaving the component: not a round trip.
            let zero_sleep = matches!(
                &step,
                ReplProgress::OsCall(call) if matches!(
                    call.function_call,
                    OsFunctionCall::Sleep(d) | OsFunctionCall::AsyncSleep(d) if d.is_zero()
                )
            );
            if !zero_sleep {
                suspensions += 1;
            }
            if suspensions > MAX_SUSPENSIONS_PER_EVAL {
                let exc = MontyException::new(
                    ExcType::RuntimeError,
                    Some(format!(
                        "more than {MAX_SUSPENSIONS_PER_EVAL} tool calls in one eval"
                    )),
                );
                progress = match step {
                    ReplProgress::FunctionCall(call) => call.abort(exc, print.reborrow()),
                    ReplProgress::OsCall(call) => call.abort(exc, print.reborrow()),
                    ReplProgress::NameLookup(lookup) => lookup.abort(exc, print.reborrow()),
                    ReplProgress::ResolveFutures(futures) => futures.abort(exc, print.reborrow()),
                    done @ ReplProgress::Complete { .. } => Ok(done),
                };
                continue;
            }
            progress = match step {
                ReplProgress::FunctionCall(call) => {
                    // monty suspends on a call of any undefined global name, so a name that
                    // is not an allowed tool is answered `NotFound`: the usual `NameError`.
                    let allowed =
                        call.object_id.is_none() && self.tools.contains(&call.function_name);
                    if !allowed {
                        let name = call.function_name.clone();
                        progress = call.resume(ExtFunctionResult::NotFound(name), print.reborrow());
                        continue;
                    }
                    let result = call_tool(&call.function_name, &call.args, tools);
                    if call.allow_eager_await {
                        call.resume_eager(result, print.reborrow())
                    } else {
                        call.resume(
                            result.map_or_else(ExtFunctionResult::Error, ExtFunctionResult::Return),
                            print.reborrow(),
                        )
                    }
                }
                ReplProgress::OsCall(call) => {
                    let result = match &call.function_call {
                        OsFunctionCall::Import(module) => {
                            ExtFunctionResult::NotFound(module.clone())
                        }
                        OsFunctionCall::Sleep(delay) => sleep_result("time.sleep", *delay),
                        OsFunctionCall::AsyncSleep(delay) => sleep_result("asyncio.sleep", *delay),
                        other => ExtFunctionResult::Error(MontyException::new(
                            ExcType::PermissionError,
                            Some(format!(
                                "{}: the sandbox has no operating-system access",
                                other.name()
                            )),
                        )),
                    };
                    match result {
                        ExtFunctionResult::Error(exc) if call.allow_eager_await => {
                            call.resume_eager(Err(exc), print.reborrow())
                        }
                        result => call.resume(result, print.reborrow()),
                    }
                }
                ReplProgress::NameLookup(lookup) => {
                    let known = lookup.object_id().is_none() && self.tools.contains(&lookup.name);
                    let answer = if known {
                        NameLookupResult::Value(MontyObject::function(lookup.name.clone(), None))
                    } else {
                        NameLookupResult::Undefined
                    };
                    lookup.resume(answer, print.reborrow())
                }
                ReplProgress::ResolveFutures(futures) => futures.abort(
                    runtime_error(
                        "tools are synchronous: there are no host futures to await".to_owned(),
                    ),
                    print.reborrow(),
                ),
                done @ ReplProgress::Complete { .. } => Ok(done),
            };
        };
        let (repr, json) = if echo.is_some() {
            echo::describe(&value)
        } else {
            describe(&value)
        };
        Ok(EvalOutput { stdout, repr, json })
    }

    /// Serialises the whole session state (monty's dump format), for [`Session::restore`].
    ///
    /// The tool list is not part of it: a restored session gets the tools its options name.
    ///
    /// # Errors
    /// [`PyError::GuestFailure`] if monty cannot serialise the state.
    pub fn snapshot(&self) -> Result<Vec<u8>, PyError> {
        let Some(repl) = &self.repl else {
            return Err(PyError::GuestFailure(
                "the session's interpreter was lost".to_owned(),
            ));
        };
        monty::dump(SCRIPT_NAME, None, &[], SessionRef::Idle(repl))
            .map_err(|e| PyError::GuestFailure(format!("cannot snapshot the session: {e}")))
    }

    /// Rebuilds a session from [`Session::snapshot`] output, with the limits and tools of `opts`.
    ///
    /// monty does not authenticate snapshots or fully validate them: loading a forged or
    /// corrupted one may panic, hang or misbehave (inside the sandbox, where it can harm only
    /// this instance). The host must only restore snapshots it produced and kept intact.
    ///
    /// # Errors
    /// [`PyError::InvalidInput`] with kind `snapshot` when the bytes are not a monty dump this
    /// build reads, or hold a session paused mid-eval.
    pub fn restore(bytes: &[u8], opts: &SessionOptions) -> Result<Self, PyError> {
        let bad = |message: String| PyError::InvalidInput {
            kind: "snapshot",
            message,
            position: None,
        };
        let dump =
            Dump::load(bytes).map_err(|e| bad(format!("cannot restore the session: {e}")))?;
        let DumpedSession::Idle(repl) = dump.state else {
            return Err(bad("the snapshot is not of an idle session".to_owned()));
        };
        let mut repl = (*repl).with_os_policy(os_policy());
        *repl.tracker_mut() = ResourceTracker::new(limits(opts));
        Ok(Self {
            repl: Some(repl),
            tools: opts.tools.clone(),
        })
    }
}

/// Runs the one-time set-up that can be hoisted out of calls (monty's lazily built tables,
/// the parser, the snapshot codec), so that pre-initialisation snapshots it into memory.
pub fn warm() {
    let mut session = Session::new(&SessionOptions::default());
    let code = "import json, math, re\n\
                def f(n):\n    return [i * 2 for i in range(n)]\n\
                d = {'a': f(3), 'b': (1.5, None, True), 'c': 'x' * 3}\n\
                try:\n    raise ValueError(f'{len(d)}')\nexcept ValueError as e:\n    msg = str(e)\n\
                print(msg, json.dumps(d), math.sqrt(4), re.sub('a', 'b', 'aa'))\n\
                sorted(d.items())";
    let mut no_tools = |_: &str, _: &str| -> Result<String, ToolError> {
        Err(ToolError::UnknownTool(String::new()))
    };
    let _ = session.eval(code, &mut no_tools);
    let _ = session.eval("1 +", &mut no_tools);
    let _ = session.eval("undefined_name", &mut no_tools);
    if let Ok(bytes) = session.snapshot() {
        let _ = Session::restore(&bytes, &SessionOptions::default());
    }
}

/// The built-in as the SDK's [`CodeRunner`]: what the component exports (through
/// [`warden_sdk::export_code_runner!`]), with tools called through [`warden_sdk::runner::call_tool`].
pub struct Builtin;

impl CodeRunner for Builtin {
    type Session = ToolSession;

    fn initialize() {
        warm();
        arm_memory_accounting();
    }

    fn before_session() {
        arm_memory_accounting();
    }
}

/// A [`Session`] whose tools are the host's: the SDK's session type for [`Builtin`].
#[derive(Debug)]
pub struct ToolSession(Session);

impl warden_sdk::runner::Session for ToolSession {
    fn new(options: &SessionOptions) -> Self {
        ToolSession(Session::new(options))
    }

    fn eval(&mut self, code: &str) -> Result<EvalOutput, warden_sdk::Error> {
        Ok(self.0.eval(code, &mut warden_sdk::runner::call_tool)?)
    }

    fn snapshot(&self) -> Result<Vec<u8>, warden_sdk::Error> {
        Ok(self.0.snapshot()?)
    }

    fn restore(snapshot: &[u8], options: &SessionOptions) -> Result<Self, warden_sdk::Error> {
        Ok(ToolSession(Session::restore(snapshot, options)?))
    }
}

warden_sdk::export_code_runner!(Builtin);

/// Counts live bytes for monty's heap limit (and aborts, i.e. traps, if the system allocator
/// fails): the component's global allocator.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: monty_alloc::LimitedAllocator = monty_alloc::LimitedAllocator;

/// Takes the current live-byte count as the baseline the heap limit is measured from (a leaner
/// moment only lowers it). No hard ceiling: the host's memory limit is the backstop. Natively
/// the embedding process owns the allocator, so this does nothing.
fn arm_memory_accounting() {
    #[cfg(target_arch = "wasm32")]
    let _ = monty_alloc::set_hard_limit(None);
}

/// A `RuntimeError` carrying `message`.
fn runtime_error(message: String) -> MontyException {
    MontyException::new(ExcType::RuntimeError, Some(message))
}

/// Calls the host tool `name` with `args` encoded as JSON and decodes its answer.
fn call_tool(
    name: &str,
    args: &CallArgs,
    tools: &mut dyn FnMut(&str, &str) -> Result<String, ToolError>,
) -> Result<MontyObject, MontyException> {
    let type_error = |message: String| MontyException::new(ExcType::TypeError, Some(message));
    let mut json = String::new();
    if args.kwargs().len() == 0 {
        json.push('[');
        for (i, arg) in args.args().enumerate() {
            if i > 0 {
                json.push(',');
            }
            if !write_json(&mut json, arg, 0) {
                return Err(type_error(format!(
                    "{name}() argument {} ({}) is not JSON-serialisable",
                    i + 1,
                    arg.type_name()
                )));
            }
        }
        json.push(']');
    } else if args.args().len() == 0 {
        json.push('{');
        for (i, (key, value)) in args.kwargs().enumerate() {
            if i > 0 {
                json.push(',');
            }
            let key = key.as_str().unwrap_or_default();
            write_json_str(&mut json, key);
            json.push(':');
            if !write_json(&mut json, value, 0) {
                return Err(type_error(format!(
                    "{name}() argument '{key}' ({}) is not JSON-serialisable",
                    value.type_name()
                )));
            }
        }
        json.push('}');
    } else {
        return Err(type_error(format!(
            "{name}() takes either positional or keyword arguments, not both"
        )));
    }
    match tools(name, &json) {
        Ok(result) => {
            let value: serde_json::Value = serde_json::from_str(&result)
                .map_err(|e| runtime_error(format!("{name}() returned invalid JSON: {e}")))?;
            Ok(from_json(value))
        }
        Err(ToolError::UnknownTool(message)) => Err(runtime_error(with_detail(
            format!("unknown tool: {name}"),
            &message,
        ))),
        Err(ToolError::InvalidArguments(message)) => Err(type_error(with_detail(
            format!("invalid arguments for tool {name}"),
            &message,
        ))),
        Err(ToolError::Failed(message)) => Err(runtime_error(with_detail(
            format!("tool {name} failed"),
            &message,
        ))),
    }
}

/// `head`, followed by `: detail` when there is a detail worth adding.
fn with_detail(head: String, detail: &str) -> String {
    if detail.is_empty() || detail == head {
        head
    } else {
        format!("{head}: {detail}")
    }
}

/// Converts parsed JSON into a Python value.
fn from_json(value: serde_json::Value) -> MontyObject {
    use serde_json::Value;
    match value {
        Value::Null => MontyObject::none(),
        Value::Bool(b) => MontyObject::bool(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => MontyObject::int(i),
            None => MontyObject::float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => MontyObject::string(s),
        Value::Array(items) => MontyObject::list(items.into_iter().map(from_json)),
        Value::Object(map) => MontyObject::dict(
            map.into_iter()
                .map(|(k, v)| (MontyObject::string(k), from_json(v))),
        ),
    }
}

/// Writes `s` as a JSON string literal.
fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `value` as JSON; `false` (with `out` partly written) when it is not representable.
fn write_json(out: &mut String, value: ObjectRef<'_>, depth: usize) -> bool {
    if depth > MAX_JSON_DEPTH {
        return false;
    }
    match value.type_name() {
        "NoneType" => out.push_str("null"),
        "bool" => match value.as_bool() {
            Some(b) => out.push_str(if b { "true" } else { "false" }),
            None => return false,
        },
        "int" => match value.as_int() {
            Some(i) => {
                let _ = write!(out, "{i}");
            }
            None => {
                // Beyond 64 bits: the decimal digits are a valid JSON number.
                let digits = value.py_repr();
                if digits.is_empty()
                    || !digits
                        .trim_start_matches('-')
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                {
                    return false;
                }
                out.push_str(&digits);
            }
        },
        "float" => match value.as_float() {
            Some(f) if f.is_finite() => match serde_json::to_string(&f) {
                Ok(s) => out.push_str(&s),
                Err(_) => return false,
            },
            _ => return false,
        },
        "str" => match value.as_str() {
            Some(s) => write_json_str(out, s),
            None => return false,
        },
        "list" | "tuple" => {
            let Some(items) = value.items() else {
                return false;
            };
            out.push('[');
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_json(out, item, depth + 1) {
                    return false;
                }
            }
            out.push(']');
        }
        "dict" => {
            let Some(pairs) = value.pairs() else {
                return false;
            };
            out.push('{');
            for (i, (key, item)) in pairs.into_iter().enumerate() {
                let Some(key) = key.as_str() else {
                    return false;
                };
                if i > 0 {
                    out.push(',');
                }
                write_json_str(out, key);
                out.push(':');
                if !write_json(out, item, depth + 1) {
                    return false;
                }
            }
            out.push('}');
        }
        _ => return false,
    }
    true
}

/// Estimates how long `value`'s `repr()` would be, walking it as `repr()` does (a value
/// shared `n` times counts `n` times); stops early, returning `None`, past `budget` bytes.
fn repr_size(value: ObjectRef<'_>, budget: usize) -> Option<usize> {
    let mut size = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        let own = match v.as_str() {
            Some(s) => s.len(),
            None => 8,
        };
        size = size.saturating_add(own);
        if size > budget {
            return None;
        }
        if let Some(items) = v.items() {
            stack.extend(items);
        } else if let Some(pairs) = v.pairs() {
            for (k, item) in pairs {
                stack.push(k);
                stack.push(item);
            }
        }
    }
    Some(size)
}

/// The `repr` and `json` of a cell's final value (both `None` for `None`), from the host's
/// copy of it: used when the interpreter did not `repr()` it (the value is too large, or the
/// cell did not end in an expression).
fn describe(value: &MontyObject) -> (Option<String>, Option<String>) {
    let value = value.as_ref();
    if value.type_name() == "NoneType" {
        return (None, None);
    }
    if repr_size(value, MAX_RESULT_REPR_BYTES).is_none() {
        return (Some(too_large(value.type_name())), None);
    }
    (Some(value.py_repr()), json_of(value))
}

/// The echo of a value whose `repr()` is over [`MAX_RESULT_REPR_BYTES`].
fn too_large(type_name: &str) -> String {
    format!("<{type_name} object, too large to display>")
}

/// `value` as JSON, when it is made of JSON-representable values only.
fn json_of(value: ObjectRef<'_>) -> Option<String> {
    let mut json = String::new();
    write_json(&mut json, value, 0).then_some(json)
}

/// Turns a Python exception raised by cell `cell` into a [`PyError`].
fn exception_error(error: &MontyException, cell: &str) -> PyError {
    let frames = error.traceback();
    let syntax = error.exc_type() == ExcType::SyntaxError
        && !frames.is_empty()
        && frames.iter().all(|f| f.hide_frame_name);
    let position = frames
        .iter()
        .rev()
        .find(|f| f.filename == cell)
        .map(|f| Position {
            line: f.start.line,
            column: f.start.column,
        });
    PyError::InvalidInput {
        kind: if syntax { "syntax" } else { "exception" },
        message: error.to_string(),
        position,
    }
}
