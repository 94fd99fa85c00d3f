"""Exports a :class:`warden_sdk.Detector` subclass as the ``pii-detector`` world."""

from __future__ import annotations

from typing import Any

from .. import pii
from ..span import byte_offsets, resolve_overlaps
from ..types import GuestFailure
from . import call


def export(plugin_class: type[pii.Detector]) -> type:
    """The class componentize-py looks for (``Detector`` in the app module)."""
    from wit_world import exports
    from wit_world.exports import detector as wit

    class Detector(exports.Detector):
        def describe(self) -> Any:
            info = plugin_class().describe()
            return wit.DetectorInfo(info.name, info.version, list(info.entity_types))

        def detect(self, text: str, options: Any) -> Any:
            opts = pii.DetectOptions(
                entities=list(options.entities),
                min_score=options.min_score,
                explain=options.explain,
                language=options.language,
            )
            found = call(lambda: plugin_class().detect(text, opts))
            return findings(text, found, opts, wit.Finding)

    return Detector


def findings(text: str, found: Any, opts: pii.DetectOptions, make: Any) -> list[Any]:
    """The plugin's findings as the interface wants them: checked, filtered by the options,
    overlaps resolved, sorted, in UTF-8 byte offsets."""
    kept = []
    for f in found or []:
        if not isinstance(f, pii.Finding):
            raise_failure(f"detect() returned {type(f).__name__}, not a warden_sdk.Finding")
        if not (0 <= f.start < f.end <= len(text)):
            raise_failure(
                f"finding {f.entity_type} [{f.start}, {f.end}) is outside the text (length {len(text)})"
            )
        if opts.wants(f.entity_type) and opts.keeps(f.score):
            kept.append(f)
    kept = resolve_overlaps(kept)
    at = byte_offsets(text, [p for f in kept for p in (f.start, f.end)])
    return [
        make(
            f.entity_type,
            at[f.start],
            at[f.end],
            float(f.score),
            f.explanation if opts.explain else None,
        )
        for f in kept
    ]


def raise_failure(message: str) -> None:
    """A plugin that breaks the kit's contract is a guest failure."""
    call(_raise, GuestFailure(message))


def _raise(e: Exception) -> None:
    raise e
