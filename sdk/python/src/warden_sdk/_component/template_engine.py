"""Exports a :class:`warden_sdk.TemplateEngine` subclass as the ``template-engine`` world."""

from __future__ import annotations

import json
from typing import Any

from .. import template
from ..types import InputError
from . import call


def _context(context_json: str) -> dict[str, Any]:
    try:
        value = json.loads(context_json) if context_json.strip() else {}
    except json.JSONDecodeError as e:
        raise InputError("json", f"the context is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise InputError("json", "the context must be a JSON object")
    return value


def _options(o: Any) -> template.RenderOptions:
    return template.RenderOptions(
        strict_undefined=o.strict_undefined,
        engine_fuel=o.engine_fuel,
        max_recursion=o.max_recursion,
        trim_blocks=o.trim_blocks,
        lstrip_blocks=o.lstrip_blocks,
        keep_trailing_newline=o.keep_trailing_newline,
    )


def export(plugin_class: type[template.TemplateEngine]) -> type:
    """The class componentize-py looks for (``Template`` in the app module)."""
    from wit_world import exports
    from wit_world.exports import template as wit

    class Template(exports.Template):
        def render(self, source: str, context_json: str, options: Any) -> str:
            def go() -> str:
                out = plugin_class().render(source, _context(context_json), _options(options))
                if not isinstance(out, str):
                    raise TypeError(f"render() returned {type(out).__name__}, not str")
                return out

            return call(go)

        def render_chat(self, messages: list[Any], context_json: str, options: Any) -> list[Any]:
            def go() -> list[Any]:
                msgs = [template.ChatMessage(m.role, m.content) for m in messages]
                out = plugin_class().render_chat(msgs, _context(context_json), _options(options))
                return [wit.ChatMessage(m.role, m.content) for m in out]

            return call(go)

        def inspect(self, source: str) -> Any:
            def go() -> Any:
                info = plugin_class().inspect(source)
                return wit.TemplateInfo(sorted(info.variables), sorted(info.paths))

            return call(go)

    return Template
