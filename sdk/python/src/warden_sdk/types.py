"""The errors a plugin reports, shared by every world (WIT ``types``).

Raise :class:`InputError` when the caller's input is wrong (fixing the input fixes the call)
and :class:`GuestFailure` when the plugin itself cannot do it. Any other exception escaping a
plugin method is reported as a guest failure naming the exception. Fuel, memory and time limits
are not errors of this kind: the host reports those itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    """A place in the caller's input, 1-based, in characters."""

    line: int
    column: int


class InputError(Exception):
    """The caller's input was rejected, precisely enough to show to the person who wrote it."""

    def __init__(self, kind: str, message: str, position: Position | None = None) -> None:
        super().__init__(message)
        #: A short machine-readable reason, such as ``syntax``, ``undefined`` or ``option``.
        self.kind = kind
        #: A human-readable explanation.
        self.message = message
        #: Where in the input the problem is, when known.
        self.position = position


class GuestFailure(Exception):
    """The plugin failed for a reason of its own; the same input may work elsewhere."""
