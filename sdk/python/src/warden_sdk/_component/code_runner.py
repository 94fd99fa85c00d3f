"""Exports a :class:`warden_sdk.CodeRunner` as the ``code-runner`` world: the interface class
(``Runner`` in the app module) and the session resource (``Session`` in a module named
``runner``, where componentize-py looks for an exported resource of interface ``runner``)."""

from __future__ import annotations

from typing import Any

from .. import runner
from . import call


def _options(o: Any) -> runner.SessionOptions:
    return runner.SessionOptions(
        max_recursion=o.max_recursion,
        max_heap_bytes=o.max_heap_bytes,
        max_allocations=o.max_allocations,
        tools=list(o.tools),
    )


def _host_tools(name: str, args_json: str) -> str:
    from componentize_py_types import Err
    from wit_world.imports import tools

    try:
        return tools.call(name, args_json)
    except Err as e:
        kind = {
            "ToolError_UnknownTool": "unknown-tool",
            "ToolError_InvalidArguments": "invalid-arguments",
        }.get(type(e.value).__name__, "failed")
        raise runner.ToolError(kind, str(e.value.value)) from None


def export_runner() -> type:
    """The interface class: ``runner`` has no free functions, only the resource."""
    from wit_world import exports

    class Runner(exports.Runner):
        pass

    return Runner


def export_session(plugin_class: type[runner.CodeRunner]) -> type:
    """The ``Session`` resource class, delegating to the plugin's session class."""
    from wit_world.exports import runner as wit

    runner.set_tool_caller(_host_tools)
    inner_class = plugin_class.session

    def output(out: Any) -> Any:
        if not isinstance(out, runner.EvalOutput):
            raise TypeError(f"eval() returned {type(out).__name__}, not warden_sdk.EvalOutput")
        return wit.EvalOutput(out.stdout, out.repr, out.json)

    class Session(wit.Session):
        def __init__(self, options: Any, inner: Any = None) -> None:
            self.inner = inner if inner is not None else call(inner_class, _options(options))

        def eval(self, code: str) -> Any:
            return call(lambda: output(self.inner.eval(code)))

        def snapshot(self) -> bytes:
            return call(lambda: bytes(self.inner.snapshot()))

        @classmethod
        def restore(cls, snapshot: bytes, options: Any) -> Any:
            inner = call(inner_class.restore, bytes(snapshot), _options(options))
            return cls(options, inner)

    return Session
