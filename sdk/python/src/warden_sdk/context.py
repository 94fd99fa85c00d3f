"""Context-word scoring: a number near "IRD" or "tax number" is far more likely to be one than
the same digits near "order"."""

from __future__ import annotations

from .span import Span


class ContextScorer:
    """Raises a score when any cue word occurs (case-insensitively, as a whole word) within
    ``window`` characters before or after a span; a hit adds ``boost`` (capped at 1.0)."""

    def __init__(self, words: list[str], window: int, boost: float) -> None:
        self.words = [w.lower() for w in words]
        self.window = window
        self.boost = boost

    def cue(self, text: str, start: int, end: int) -> str | None:
        """The first cue word near ``text[start:end]``, if any."""
        before = text[max(0, start - self.window) : start].lower()
        after = text[end : end + self.window].lower()
        for w in self.words:
            if _has_word(before, w) or _has_word(after, w):
                return w
        return None

    def score(self, text: str, start: int, end: int, base: float) -> float:
        """``base`` raised by the boost when a cue word is near, else ``base``."""
        return min(1.0, base + self.boost) if self.cue(text, start, end) is not None else base


def _has_word(haystack: str, word: str) -> bool:
    at = haystack.find(word)
    while at >= 0:
        if Span(at, at + len(word)).is_whole_word(haystack):
            return True
        at = haystack.find(word, at + 1)
    return False
