"""Spans of text and how overlapping findings are resolved (the same rule as the Rust SDK)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol, TypeVar


@dataclass(frozen=True)
class Span:
    """A half-open range ``[start, end)`` of string indices."""

    start: int
    end: int

    def __len__(self) -> int:
        return max(0, self.end - self.start)

    def overlaps(self, other: "Span") -> bool:
        """Whether the two share at least one character."""
        return self.start < other.end and other.start < self.end

    def is_whole_word(self, text: str) -> bool:
        """Whether no letter or digit touches the span on either side."""
        before = text[self.start - 1] if self.start > 0 else ""
        after = text[self.end] if self.end < len(text) else ""
        return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


class _Scored(Protocol):
    start: int
    end: int
    score: float


T = TypeVar("T", bound=_Scored)


def resolve_overlaps(items: Iterable[T]) -> list[T]:
    """Keeps the best of overlapping items — highest score, then longest, then earliest — and
    returns them sorted by start. Empty spans and non-finite scores are dropped."""
    ranked = sorted(
        (i for i in items if i.end > i.start and i.score == i.score and abs(i.score) != float("inf")),
        key=lambda i: (-i.score, -(i.end - i.start), i.start),
    )
    kept: list[T] = []
    for item in ranked:
        if not any(item.start < k.end and k.start < item.end for k in kept):
            kept.append(item)
    return sorted(kept, key=lambda i: i.start)


def byte_offsets(text: str, points: Iterable[int]) -> dict[int, int]:
    """UTF-8 byte offset of each string index in ``points`` (the interface counts bytes)."""
    wanted = sorted(set(points))
    out: dict[int, int] = {}
    at = 0
    prev = 0
    for p in wanted:
        at += len(text[prev:p].encode("utf-8"))
        out[p] = at
        prev = p
    return out
