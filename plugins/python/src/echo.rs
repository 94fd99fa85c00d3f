//! The echo of a cell's trailing expression: Python's `repr()` of its value, computed inside
//! the interpreter so that user-defined `__repr__` methods run, as the Python REPL's display
//! hook does.
//!
//! monty hands a cell's final value to the host as a structural copy, whose `repr()` cannot
//! call the value's own `__repr__` (an instance of `class A` with a custom `__repr__` would
//! echo `A()`). So when a cell ends in an expression statement `EXPR`, the cell is fed as
//!
//! ```text
//! <everything before EXPR>(lambda v: (v, f'{v!r}' if WANTS(v) else None))((EXPR))<the rest>
//! ```
//!
//! where `WANTS` is an external function answered by the host: it says whether the value is
//! small enough (by [`crate::MAX_RESULT_REPR_BYTES`]) to be worth a `repr()` at all, so a value
//! too large to display is still summarised without building its repr in the sandbox's heap.
//! `!r` is the builtin `repr()` whatever the cell has bound to the name `repr`. The wrapper
//! adds no statement, binds no global name and adds no frame while `EXPR` runs; an exception
//! raised by `EXPR` or by `__repr__` is the cell's exception, as in Python. Tracebacks are
//! mapped back to the cell as written (positions, source lines, the wrapper's own frame
//! dropped), so the user never sees the wrapper.

use std::sync::Arc;

use monty_types::{CodeLoc, MontyException, MontyObject, ObjectRef, SourceRange, StackFrame};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

/// The external function the wrapper asks whether a value should get a `repr()`.
pub(crate) const WANTS_REPR: &str = "__warden_echo_wants_repr__";
/// The wrapper's name for the value, bound only inside its lambda.
const VALUE: &str = "__warden_echo_value__";

/// Text inserted before the trailing expression.
fn prefix() -> String {
    format!("(lambda {VALUE}: ({VALUE}, f'{{{VALUE}!r}}' if {WANTS_REPR}({VALUE}) else None))((")
}

/// Text inserted after the trailing expression.
const SUFFIX: &str = "))";

/// A cell rewritten so its final value comes back as `(value, repr-or-None)`.
#[derive(Debug)]
pub(crate) struct Rewrite {
    /// The code to feed instead of the cell.
    pub(crate) code: String,
    /// Where the trailing expression starts in the cell as written.
    start: CodeLoc,
    /// Where it ends (exclusive) in the cell as written.
    end: CodeLoc,
    /// Length of the inserted prefix, in characters.
    shift: u32,
    /// Byte range of the inserted prefix in [`Rewrite::code`]: the wrapper's own calls are there.
    wrapper: std::ops::Range<u32>,
}

/// 1-based line and column (in characters) of byte `offset` of `code`.
fn loc(code: &str, offset: usize) -> CodeLoc {
    let before = code.get(..offset).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    CodeLoc {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

/// The rewrite of `code`, when it parses and ends in an expression statement other than a
/// bare `None` (which monty, like Python, does not echo). `code` must already have passed
/// monty's nesting check, which is what keeps the parser's recursion bounded.
pub(crate) fn rewrite(code: &str) -> Option<Rewrite> {
    let parsed = ruff_python_parser::parse_module(code).ok()?;
    let Some(Stmt::Expr(stmt)) = parsed.syntax().body.last() else {
        return None;
    };
    if matches!(*stmt.value, Expr::NoneLiteral(_)) {
        return None;
    }
    let range = stmt.range();
    let (start, end) = (range.start().to_usize(), range.end().to_usize());
    let (before, expr, after) = (code.get(..start)?, code.get(start..end)?, code.get(end..)?);
    let prefix = prefix();
    let mut rewritten = String::with_capacity(code.len() + prefix.len() + SUFFIX.len());
    rewritten.push_str(before);
    rewritten.push_str(&prefix);
    rewritten.push_str(expr);
    rewritten.push_str(SUFFIX);
    rewritten.push_str(after);
    Some(Rewrite {
        code: rewritten,
        start: loc(code, start),
        end: loc(code, end),
        shift: u32::try_from(prefix.chars().count()).unwrap_or(u32::MAX),
        wrapper: u32::try_from(start).unwrap_or(u32::MAX)
            ..u32::try_from(start + prefix.len()).unwrap_or(u32::MAX),
    })
}

/// Whether the wrapper should `repr()` `value`: not for `None` (never echoed) nor for a value
/// whose repr would be over the size bound (it is summarised instead).
pub(crate) fn wants_repr(value: Option<ObjectRef<'_>>) -> bool {
    value.is_some_and(|v| {
        v.type_name() != "NoneType" && crate::repr_size(v, crate::MAX_RESULT_REPR_BYTES).is_some()
    })
}

/// The `repr` and `json` of a rewritten cell's final value `(value, repr-or-None)`.
pub(crate) fn describe(result: &MontyObject) -> (Option<String>, Option<String>) {
    let result = result.as_ref();
    let Some([value, repr]) = result
        .items()
        .as_deref()
        .and_then(|i| <&[_; 2]>::try_from(i).ok())
        .copied()
    else {
        // Not the wrapper's tuple (cannot happen): describe it as it is.
        return crate::describe(&result.to_owned());
    };
    match repr.as_str() {
        Some(text) if text.len() > crate::MAX_RESULT_REPR_BYTES => {
            (Some(crate::too_large(value.type_name())), None)
        }
        Some(text) => (Some(text.to_owned()), crate::json_of(value)),
        None => crate::describe(&value.to_owned()),
    }
}

impl Rewrite {
    /// Whether a suspension at `at` in cell `cell` is the wrapper's own call of [`WANTS_REPR`]
    /// (the user's code can name it too, but never from inside the prefix).
    pub(crate) fn is_wrapper_call(&self, at: &SourceRange, cell: &str) -> bool {
        at.filename == cell && self.wrapper.contains(&at.start)
    }

    /// Where `at`, a place in the rewritten code, is in the cell as written; `None` when it
    /// falls inside the inserted prefix.
    fn original(&self, at: CodeLoc) -> Option<CodeLoc> {
        let expr_start = self.start.column.saturating_add(self.shift);
        if at.line == self.start.line && at.column >= self.start.column {
            if at.column < expr_start {
                return None;
            }
            let column = at.column - self.shift;
            // Past the expression's end on its last line: inside the suffix.
            if at.line == self.end.line && column > self.end.column {
                return Some(self.end);
            }
            return Some(CodeLoc {
                line: at.line,
                column,
            });
        }
        if at.line == self.end.line && at.column > self.end.column {
            return Some(self.end);
        }
        Some(at)
    }

    /// `error`, raised by the rewritten code of cell `cell`, as the cell as written raised it:
    /// positions and source lines of the cell's frames mapped back, the wrapper's lambda
    /// frame dropped, and a frame pointing at the wrapper itself pointed at the expression.
    pub(crate) fn restore(&self, error: &MontyException, cell: &str, code: &str) -> MontyException {
        let lines: Vec<&str> = code.split('\n').collect();
        let mut frames = Vec::with_capacity(error.traceback().len());
        for frame in error.traceback() {
            if frame.filename != cell {
                frames.push(frame.clone());
                continue;
            }
            let start = self.original(frame.start);
            if start.is_none() && frame.frame_name.as_deref() == Some("<lambda>") {
                // The wrapper's lambda (running `repr()`): not the user's code.
                continue;
            }
            let mut frame: StackFrame = frame.clone();
            match start {
                Some(start) => {
                    frame.start = start;
                    frame.end = self.original(frame.end).unwrap_or(self.start);
                }
                None => {
                    // The wrapper as a whole (the call that ran `repr()`): the expression.
                    frame.start = self.start;
                    frame.end = self.end;
                }
            }
            if frame.end.line < frame.start.line
                || (frame.end.line == frame.start.line && frame.end.column < frame.start.column)
            {
                frame.end = frame.start;
            }
            let touched = frame.start.line <= self.end.line && frame.end.line >= self.start.line;
            if touched && frame.preview_line.is_some() {
                frame.preview_line =
                    Some(Arc::from(preview(&lines, frame.start.line, frame.end.line)));
            }
            frames.push(frame);
        }
        MontyException::with_traceback(error.exc_type(), error.message().map(str::to_owned), frames)
            .with_data(error.data().clone())
    }
}

/// The traceback preview of lines `first..=last` (1-based) of `lines`, as monty renders it: the
/// line itself for one line; for several, the first and last (all of them when at most three)
/// with their common indentation removed.
fn preview(lines: &[&str], first: u32, last: u32) -> String {
    let line = |n: u32| {
        lines
            .get(usize::try_from(n).unwrap_or(usize::MAX).wrapping_sub(1))
            .copied()
            .unwrap_or("")
    };
    if first == last {
        return line(first).to_owned();
    }
    let total = last - first + 1;
    let shown: Vec<&str> = if total <= 3 {
        (first..=last).map(line).collect()
    } else {
        vec![line(first), line(last)]
    };
    let indent = shown
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .reduce(|a, b| {
            let common = a
                .char_indices()
                .zip(b.chars())
                .find(|((_, x), y)| x != y)
                .map_or(a.len().min(b.len()), |((i, _), _)| i);
            &a[..common]
        })
        .map_or(0, str::len);
    let strip = |l: &str| l.get(indent..).unwrap_or("").to_owned();
    if total <= 3 {
        shown
            .iter()
            .map(|l| strip(l))
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        format!(
            "{}\n...<{} lines>...\n{}",
            strip(shown[0]),
            total - 2,
            strip(shown[1])
        )
    }
}
