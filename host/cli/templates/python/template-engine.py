"""{{NAME}}: a Warden template engine. It fills ``$name`` and ``${user.name}`` placeholders from
the context (Python's ``string.Template`` with dotted paths); replace the logic with your own."""

import re
from typing import Any

from warden_sdk import InputError, Position, RenderOptions, TemplateEngine, TemplateInfo

PLACEHOLDER = re.compile(r"\$(?:(\$)|([A-Za-z_]\w*)|\{([A-Za-z_][\w.]*)\}|())")


def _lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def _position(template: str, at: int) -> Position:
    line = template.count("\n", 0, at) + 1
    return Position(line, at - (template.rfind("\n", 0, at) + 1) + 1)


class Plugin(TemplateEngine):
    def render(self, template: str, context: dict[str, Any], options: RenderOptions) -> str:
        def fill(m: re.Match) -> str:
            escaped, name, braced, bad = m.groups()
            if escaped:
                return "$"
            if bad is not None:
                raise InputError("syntax", "a lone `$`: write `$$`", _position(template, m.start()))
            path = name or braced
            try:
                value = _lookup(context, path)
            except KeyError:
                if options.strict_undefined is False:
                    return ""
                raise InputError(
                    "undefined", f"`{path}` is not in the context", _position(template, m.start())
                ) from None
            return str(value)

        return PLACEHOLDER.sub(fill, template)

    def inspect(self, template: str) -> TemplateInfo:
        paths = set()
        for m in PLACEHOLDER.finditer(template):
            escaped, name, braced, bad = m.groups()
            if bad is not None:
                raise InputError("syntax", "a lone `$`: write `$$`", _position(template, m.start()))
            if name or braced:
                paths.add(name or braced)
        return TemplateInfo(sorted({p.split(".")[0] for p in paths}), sorted(paths))
