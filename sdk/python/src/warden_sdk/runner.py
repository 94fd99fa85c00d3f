"""The ``code-runner`` world: subclass :class:`Session` and name it on a :class:`CodeRunner`.

A session keeps its state between ``eval`` calls. Warden may stop the instance after any call,
so ``snapshot`` must capture everything and ``restore`` rebuild it (possibly in another
instance). Host tools the session was granted are called with :func:`call_tool`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar


@dataclass(frozen=True)
class SessionOptions:
    """Options for a new session."""

    max_recursion: int | None = None
    max_heap_bytes: int | None = None
    max_allocations: int | None = None
    #: Names of the host tools the code may call.
    tools: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EvalOutput:
    """The result of one cell: what it printed, and its last expression's value."""

    stdout: str = ""
    #: ``repr()`` of the last expression's value, unless it is ``None``.
    repr: str | None = None
    #: The same value as JSON text, when it has a JSON form.
    json: str | None = None


class ToolError(Exception):
    """A host tool call failed: ``kind`` is ``unknown-tool``, ``invalid-arguments`` or ``failed``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


#: How tool calls reach the host; the component glue installs the real import, tests may set
#: their own (``warden_sdk.runner.set_tool_caller``).
_tool_caller: Callable[[str, str], str] | None = None


def set_tool_caller(caller: Callable[[str, str], str] | None) -> None:
    """Routes :func:`call_tool` to ``caller(name, args_json) -> result_json`` (for tests)."""
    global _tool_caller
    _tool_caller = caller


def call_tool(name: str, args: Any) -> Any:
    """Calls the host tool ``name`` with JSON-able ``args`` (a list or dict); returns its result."""
    if _tool_caller is None:
        raise ToolError("failed", "no host to call tools on (outside Warden, set_tool_caller first)")
    return json.loads(_tool_caller(name, json.dumps(args)))


class Session:
    """One session's state. Override every method."""

    def __init__(self, options: SessionOptions) -> None:
        self.options = options

    def eval(self, code: str) -> EvalOutput:
        """Evaluates one cell; a user error is :class:`warden_sdk.InputError`."""
        raise NotImplementedError("a Session must override eval()")

    def snapshot(self) -> bytes:
        """The whole state, for :meth:`restore`."""
        raise NotImplementedError("a Session must override snapshot()")

    @classmethod
    def restore(cls, snapshot: bytes, options: SessionOptions) -> "Session":
        """A session rebuilt from :meth:`snapshot` output."""
        raise NotImplementedError("a Session must override restore()")


class CodeRunner:
    """Names the session class: ``class MyRunner(CodeRunner): session = MySession``."""

    session: ClassVar[type[Session]]
