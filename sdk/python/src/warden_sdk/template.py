"""The ``template-engine`` world: subclass :class:`TemplateEngine`.

The context arrives already parsed from JSON (a ``dict``); a template that cannot be parsed or
reads something the context lacks should raise :class:`warden_sdk.InputError` with its
:class:`warden_sdk.Position`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RenderOptions:
    """Per-call rendering options; ``None`` means the engine's default."""

    strict_undefined: bool | None = None
    engine_fuel: int | None = None
    max_recursion: int | None = None
    trim_blocks: bool | None = None
    lstrip_blocks: bool | None = None
    keep_trailing_newline: bool | None = None


@dataclass(frozen=True)
class ChatMessage:
    """One chat message: a role (``system``, ``user``, …) and its content."""

    role: str
    content: str


@dataclass(frozen=True)
class TemplateInfo:
    """What a template reads: top-level variables and nested paths (``user.name``), sorted."""

    variables: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


class TemplateEngine:
    """Base class of a template engine. Override :meth:`render` and :meth:`inspect`."""

    def render(self, template: str, context: dict[str, Any], options: RenderOptions) -> str:
        """``template`` rendered with ``context``."""
        raise NotImplementedError("a TemplateEngine must override render()")

    def render_chat(
        self, messages: list[ChatMessage], context: dict[str, Any], options: RenderOptions
    ) -> list[ChatMessage]:
        """Each message's content rendered with the same context; by default one ``render`` each."""
        return [ChatMessage(m.role, self.render(m.content, context, options)) for m in messages]

    def inspect(self, template: str) -> TemplateInfo:
        """Parses ``template`` and lists what it reads."""
        raise NotImplementedError("a TemplateEngine must override inspect()")
