"""prompt-filters: the `template-prompt-filters` example's filters in a small Python engine.

Placeholders are ``${path}`` or ``${path | filter | filter(n)}`` (``$$`` is a literal ``$``),
where ``path`` is a dotted path into the context (``ticket.subject``). Filters:

* ``truncate_tokens(n)``: the first ``n`` whitespace-separated tokens, then ``…``;
* ``json_escape``: escaped for the inside of a JSON string literal;
* ``bullet_list``: a list as ``- item`` lines.

A path not in the context is an ``undefined`` input error with its position (an empty string
when the call asks for lenient undefined values); an unknown filter or a bad placeholder is a
``syntax`` error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from warden_sdk import InputError, Position, RenderOptions, TemplateEngine, TemplateInfo

PLACEHOLDER = re.compile(r"\$\$|\$\{([^}]*)\}|\$")
PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
FILTER = re.compile(r"([a-z_]+)(?:\((\d+)\))?")


def truncate_tokens(text: str, n: int) -> str:
    words = str(text).split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def json_escape(text: str) -> str:
    return json.dumps(str(text), ensure_ascii=False)[1:-1]


def bullet_list(items: Any) -> str:
    if not isinstance(items, list):
        items = [items]
    return "\n".join(f"- {i}" for i in items)


FILTERS = {"truncate_tokens": (truncate_tokens, True), "json_escape": (json_escape, False), "bullet_list": (bullet_list, False)}


def _position(template: str, at: int) -> Position:
    return Position(template.count("\n", 0, at) + 1, at - (template.rfind("\n", 0, at) + 1) + 1)


def _parse(template: str, m: re.Match) -> tuple[str, list[tuple[str, int | None]]] | None:
    """The placeholder's path and filters; ``None`` for ``$$``."""
    if m.group(0) == "$$":
        return None
    if m.group(1) is None:
        raise InputError("syntax", "a lone `$`: write `$$` for a dollar sign", _position(template, m.start()))
    path, *filters = [p.strip() for p in m.group(1).split("|")]
    if not PATH.fullmatch(path):
        raise InputError("syntax", f"`{path}` is not a dotted path", _position(template, m.start()))
    parsed = []
    for f in filters:
        fm = FILTER.fullmatch(f)
        if not fm or fm.group(1) not in FILTERS:
            raise InputError("syntax", f"unknown filter `{f}`; the filters are {', '.join(FILTERS)}", _position(template, m.start()))
        name, arg = fm.group(1), fm.group(2)
        if FILTERS[name][1] != (arg is not None):
            raise InputError("syntax", f"`{name}` {'takes a number: ' + name + '(n)' if FILTERS[name][1] else 'takes no argument'}", _position(template, m.start()))
        parsed.append((name, None if arg is None else int(arg)))
    return path, parsed


def _lookup(context: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(context, dict) or part not in context:
            raise KeyError(path)
        context = context[part]
    return context


class PromptFilters(TemplateEngine):
    def render(self, template: str, context: dict[str, Any], options: RenderOptions) -> str:
        def fill(m: re.Match) -> str:
            parsed = _parse(template, m)
            if parsed is None:
                return "$"
            path, filters = parsed
            try:
                value = _lookup(context, path)
            except KeyError:
                if options.strict_undefined is False:
                    return ""
                raise InputError("undefined", f"`{path}` is not in the context", _position(template, m.start())) from None
            for name, arg in filters:
                f = FILTERS[name][0]
                value = f(value, arg) if arg is not None else f(value)
            return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)

        return PLACEHOLDER.sub(fill, template)

    def inspect(self, template: str) -> TemplateInfo:
        paths = {p[0] for m in PLACEHOLDER.finditer(template) if (p := _parse(template, m))}
        return TemplateInfo(sorted({p.split(".")[0] for p in paths}), sorted(paths))
