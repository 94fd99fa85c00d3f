"""Warden's full-CPython code runner: the whole language and the pure-Python standard library,
as a ``code-runner`` built with componentize-py on the Python kit.

Each session is a ``__main__``-like namespace; a cell is compiled and executed in it, so
variables, functions, classes and imports persist from one ``eval`` to the next, as in a REPL.

* **Imports.** A component has no file system, so modules are imported while the component is
  built (``preload``): every module of the standard library that imports here is already in
  ``sys.modules`` when a cell asks for it. Modules that need C extensions CPython was not built
  with for WASI (``sqlite3``, ``ctypes``, ``curses``, ``tkinter``, …) raise
  ``ModuleNotFoundError``, like any module that is not there.
* **No OS access.** The sandbox grants no directory, no socket and no environment: ``open()``
  of any path raises ``FileNotFoundError``, a connection ``PermissionError``, a name lookup
  ``socket.gaierror``; ``os.environ`` is empty. This module removes nothing: the sandbox is
  the boundary, not a list of names.
* **Limits.** ``max_recursion`` sets ``sys.setrecursionlimit`` (at most
  ``MAX_RECURSION_CEILING``, default ``DEFAULT_MAX_RECURSION``); memory, fuel and time are the
  host's limits, which stop a cell with a typed outcome (``memory_limit``, ``out_of_fuel``,
  ``deadline_exceeded``); ``max_heap_bytes`` and ``max_allocations`` have no CPython
  equivalent and are accepted and ignored (the sandbox's memory limit is the heap budget).
  Printed output is capped at ``MAX_STDOUT_BYTES`` (``MemoryError`` beyond).
* **Tools.** Each name in the session's ``tools`` is a Python function calling the host tool
  of that name, with the arguments as a JSON array (positional) or object (keywords), as with
  the built-in ``python`` runner.
* **Snapshots replay.** A CPython heap cannot be serialised in general (open generators,
  closures, C objects), so ``snapshot`` records the session's inputs instead: the cells in
  order, every tool call's answer, and the seed ``random`` was given. ``restore`` runs the cells
  again in a fresh interpreter, answering tool calls from the record (the host is not called
  again, so nothing is charged or asked twice) and discarding their output. A cell's effect on
  state that depends on the clock is not reproduced exactly; a replay whose tool calls differ
  from the record fails with a guest failure instead of continuing silently.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import io
import json
import linecache
import os
import random
import sys
import traceback
import types
from typing import Any

from warden_sdk import CodeRunner, EvalOutput, GuestFailure, InputError, Position, Session, SessionOptions
from warden_sdk.runner import ToolError, call_tool as _host_call

#: Frames a session may nest unless its options ask otherwise (CPython's own default).
DEFAULT_MAX_RECURSION = 1000
#: The most a session may ask for: beyond this, CPython's C stack inside the sandbox overflows
#: before Python notices, which would end the call with a trap instead of a ``RecursionError``.
MAX_RECURSION_CEILING = 2000
#: Most bytes one eval may print.
MAX_STDOUT_BYTES = 4 * 1024 * 1024
#: Largest ``repr()`` returned as a cell's value; a larger one is summarised.
MAX_RESULT_REPR_BYTES = 8 * 1024 * 1024
#: The snapshot format.
SNAPSHOT_VERSION = 1

#: Standard-library modules not preloaded: tests, GUI, packaging and interactive tools a
#: sandboxed cell has no use for (and whose import would only grow every instance).
SKIP = {
    "antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "ensurepip", "venv",
    "lib2to3", "pydoc", "pydoc_data", "distutils", "msilib", "test", "unittest.test",
    "sqlite3.test", "ctypes.test", "tkinter.test", "lib2to3.tests", "idlelib.idle_test",
    "webbrowser", "pdb", "site", "sitecustomize", "usercustomize", "__phello__",
    "__hello__", "xxsubtype", "_xxsubinterpreters", "_testcapi", "_testinternalcapi",
}


def _skipped(name: str) -> bool:
    parts = name.split(".")
    return any(".".join(parts[: i + 1]) in SKIP for i in range(len(parts))) or any(
        p in ("test", "tests", "idle_test") or p.startswith("__") and p != "__init__" for p in parts[1:]
    )


def preload() -> list[str]:
    """Imports every standard-library module (and submodule) that imports in this build, so a
    cell's ``import`` finds it without a file system; returns the names that did not import."""
    import pkgutil

    failed = []

    def load(name: str) -> types.ModuleType | None:
        try:
            return importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module that cannot import is just absent
            failed.append(name)
            return None

    for name in sorted(sys.stdlib_module_names):
        if _skipped(name):
            continue
        module = load(name)
        path = getattr(module, "__path__", None)
        if module is None or path is None:
            continue
        for info in pkgutil.walk_packages(path, prefix=name + ".", onerror=lambda _: None):
            if not _skipped(info.name):
                load(info.name)
    return failed


class _Output(io.TextIOBase):
    """Where a cell's ``print`` goes: stdout and stderr interleaved, capped."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self.size += len(s)
        if self.size > MAX_STDOUT_BYTES:
            raise MemoryError(f"more than {MAX_STDOUT_BYTES} bytes printed in one eval")
        self.parts.append(s)
        return len(s)

    def text(self) -> str:
        return "".join(self.parts)


class _Divergence(Exception):
    """A replayed cell asked for a tool call the record does not have."""


def _tool_error(name: str, e: ToolError) -> Exception:
    detail = f": {e.message}" if e.message else ""
    if e.kind == "invalid-arguments":
        return TypeError(f"invalid arguments for tool {name}{detail}")
    if e.kind == "unknown-tool":
        return RuntimeError(f"unknown tool: {name}{detail}")
    return RuntimeError(f"tool {name} failed{detail}")


class CPythonSession(Session):
    """One interpreter namespace, and the record that rebuilds it."""

    def __init__(self, options: SessionOptions, seed: int | None = None) -> None:
        super().__init__(options)
        limit = options.max_recursion or DEFAULT_MAX_RECURSION
        self.recursion = max(50, min(limit, MAX_RECURSION_CEILING))
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(8), "little")
        # One generator for the whole interpreter, as in a REPL; seeded per session (the
        # build-time state is the same in every instance) and recorded so a replay draws the
        # same numbers.
        random.seed(self.seed)
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        for name in options.tools:
            self.namespace[name] = self._tool(name)
        self.cells: list[dict[str, Any]] = []
        self.replaying: list[list[Any]] | None = None

    def _tool(self, name: str) -> Any:
        session = self

        def tool(*args: Any, **kwargs: Any) -> Any:
            if args and kwargs:
                raise TypeError(f"{name}() takes either positional or keyword arguments, not both")
            try:
                payload = json.dumps(kwargs if kwargs else list(args), allow_nan=False)
            except (TypeError, ValueError) as e:
                raise TypeError(f"{name}() arguments are not JSON-serialisable: {e}") from None
            return session._call(name, payload)

        tool.__name__ = tool.__qualname__ = name
        tool.__doc__ = f"Calls the host tool {name!r}."
        return tool

    def _call(self, name: str, payload: str) -> Any:
        if self.replaying is not None:
            if not self.replaying or self.replaying[0][:2] != [name, payload]:
                raise _Divergence(f"{name}({payload}) was not in the recorded session")
            _, _, kind, answer = self.replaying.pop(0)
        else:
            try:
                kind, answer = "ok", _host_call_raw(name, payload)
            except ToolError as e:
                kind, answer = e.kind, e.message
            self.cells[-1]["tools"].append([name, payload, kind, answer])
        if kind != "ok":
            raise _tool_error(name, ToolError(kind, answer))
        return json.loads(answer)

    def eval(self, code: str) -> EvalOutput:
        if self.replaying is None:
            self.cells.append({"code": code, "tools": [], "failed": False})
        n = len(self.cells)
        filename = f"<cell-{n}>"
        try:
            tree = ast.parse(code, filename=filename)
        except SyntaxError as e:
            self.cells[-1]["failed"] = True
            raise InputError("syntax", f"{type(e).__name__}: {e.msg}", Position(e.lineno or 1, e.offset or 1)) from None
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        out = _Output()
        saved = sys.stdout, sys.stderr, sys.getrecursionlimit()
        sys.stdout = sys.stderr = out
        sys.setrecursionlimit(self.recursion)
        try:
            exec(compile(tree, filename, "exec"), self.namespace)
            value = None if last is None else eval(compile(last, filename, "eval"), self.namespace)
            shown = None if value is None else repr(value)
        except _Divergence:
            raise
        except BaseException as e:  # noqa: BLE001 - the cell's exception is its result
            self.cells[-1]["failed"] = True
            raise self._exception(e, filename, out) from None
        finally:
            sys.stdout, sys.stderr = saved[0], saved[1]
            sys.setrecursionlimit(saved[2])
        if value is not None:
            self.namespace["_"] = value
        if shown is not None and len(shown) > MAX_RESULT_REPR_BYTES:
            return EvalOutput(stdout=out.text(), repr=f"<{type(value).__name__} object, too large to display>")
        return EvalOutput(stdout=out.text(), repr=shown, json=_json(value) if shown is not None else None)

    def _exception(self, e: BaseException, filename: str, out: _Output) -> InputError:
        frames = traceback.extract_tb(e.__traceback__)
        # Drop this module's own frames: the traceback starts at the cell.
        start = next((i for i, f in enumerate(frames) if f.filename == filename), len(frames))
        te = traceback.TracebackException(type(e), e, e.__traceback__)
        te.stack = traceback.StackSummary.from_list(frames[start:])
        text = "".join(te.format())
        printed = out.text()
        position = None
        for f in reversed(frames):
            if f.filename == filename:
                position = Position(f.lineno or 1, (f.colno or 0) + 1)
                break
        message = (printed + text) if printed else text
        return InputError("exception", message.rstrip("\n"), position)

    def snapshot(self) -> bytes:
        record = {"version": SNAPSHOT_VERSION, "seed": self.seed, "cells": self.cells}
        return json.dumps(record, separators=(",", ":")).encode()

    @classmethod
    def restore(cls, snapshot: bytes, options: SessionOptions) -> "CPythonSession":
        try:
            record = json.loads(snapshot)
            if record.get("version") != SNAPSHOT_VERSION:
                raise ValueError(f"snapshot version {record.get('version')!r}, this runner reads {SNAPSHOT_VERSION}")
            cells = record["cells"]
            session = cls(options, int(record["seed"]))
        except (ValueError, KeyError, TypeError) as e:
            raise InputError("snapshot", f"not a cpython session snapshot: {e}") from None
        for cell in cells:
            failed = bool(cell.get("failed"))
            session.cells.append({"code": cell["code"], "tools": cell["tools"], "failed": failed})
            session.replaying = [list(t) for t in cell["tools"]]
            try:
                session.eval(cell["code"])
                if failed:
                    raise GuestFailure(f"replaying cell {len(session.cells)} succeeded where it had raised")
            except InputError:
                if not failed:
                    raise GuestFailure(f"replaying cell {len(session.cells)} raised where it had not") from None
            except _Divergence as e:
                raise GuestFailure(f"replaying cell {len(session.cells)} diverged: {e}") from None
            finally:
                session.replaying = None
        return session


def _host_call_raw(name: str, payload: str) -> str:
    """The host tool's JSON answer, unparsed (so the record keeps exactly what the host said)."""
    from warden_sdk import runner

    caller = runner._tool_caller
    if caller is None:
        return json.dumps(_host_call(name, json.loads(payload)))
    return caller(name, payload)


def _json(value: Any) -> str | None:
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return None


class Runner(CodeRunner):
    """The ``code-runner`` world: sessions are :class:`CPythonSession`."""

    session = CPythonSession
