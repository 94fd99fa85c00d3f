"""The ``pii-detector`` world: subclass :class:`Detector`.

``detect`` may return findings in any order and overlapping: Warden's glue drops those the
call's options exclude (entity types, minimum score), keeps the best of overlapping ones (as
:func:`warden_sdk.span.resolve_overlaps` does) and sorts them, as the interface promises.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DetectorInfo:
    """What the detector is and what it finds."""

    #: A short stable name, such as ``nz-ird``.
    name: str
    #: The detector's own version (semver).
    version: str
    #: Entity types it reports, such as ``NZ_IRD``.
    entity_types: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DetectOptions:
    """Per-call options."""

    #: Only report these entity types; empty means all.
    entities: list[str] = field(default_factory=list)
    #: Drop findings scoring below this, if set.
    min_score: float | None = None
    #: Fill in :attr:`Finding.explanation`.
    explain: bool = False
    #: Language hint (BCP 47), if any.
    language: str | None = None

    def wants(self, entity_type: str) -> bool:
        """Whether ``entity_type`` is wanted by this call."""
        return not self.entities or entity_type in self.entities

    def keeps(self, score: float) -> bool:
        """Whether a finding of ``score`` passes ``min_score``."""
        return self.min_score is None or score >= self.min_score


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: ``text[start:end]`` (string indices), with a confidence."""

    entity_type: str
    start: int
    end: int
    score: float
    #: Why it was reported, when the call asked (``DetectOptions.explain``).
    explanation: str | None = None


class Detector:
    """Base class of a PII detector. Override :meth:`describe` and :meth:`detect`.

    One instance serves one call (each call is a fresh sandbox), so state set in ``__init__`` is
    safe; work done at import time is done once, when the component is built.
    """

    def describe(self) -> DetectorInfo:
        """The detector's name, version and entity types; cheap, the same for every call."""
        raise NotImplementedError("a Detector must override describe()")

    def detect(self, text: str, options: DetectOptions) -> list[Finding]:
        """The personal data in ``text``."""
        raise NotImplementedError("a Detector must override detect()")
