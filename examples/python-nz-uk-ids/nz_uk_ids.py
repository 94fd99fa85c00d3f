"""A Warden PII detector in Python for two identifiers the built-in detector does not know —
the same logic as the Rust example ``examples/pii-nz-uk-ids``:

- ``NZ_IRD``: New Zealand Inland Revenue numbers, 8 or 9 digits (``49-091-850``,
  ``136-410-132``), valid only in the issued range and with a correct mod-11 check digit.
- ``UK_NINO``: UK National Insurance numbers (``QQ 12 34 56 C``), with the prefix rules HMRC
  publishes (no D, F, I, Q, U or V first; no D, F, I, O, Q, U or V second; never BG, GB, KN,
  NK, NT, TN or ZZ).

Both score higher when a cue word ("IRD", "national insurance", …) is near.
"""

import re

from warden_sdk import ContextScorer, DetectOptions, Detector, DetectorInfo, Finding, checksum

# Compiled when the component is built: every call starts from that snapshot.
IRD = re.compile(r"\b\d{2,3}[- ]?\d{3}[- ]?\d{3}\b", re.ASCII)
NINO = re.compile(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.ASCII | re.IGNORECASE)
IRD_CUES = ContextScorer(["ird", "inland revenue", "tax number", "tax file"], 40, 0.3)
NINO_CUES = ContextScorer(["national insurance", "nino", "ni number", "ni no"], 40, 0.25)


def _rule(r: int) -> int:
    return 0 if r == 0 else 11 - r


def valid_ird(s: str) -> bool:
    """Whether ``s`` (digits with optional ``-`` or space) is a valid IRD number."""
    d = checksum.digits(s)
    if d is None:
        return False
    if len(d) == 8:
        d = [0] + d
    if len(d) != 9 or not 10_000_000 <= int("".join(map(str, d))) <= 150_000_000:
        return False
    body = "".join(map(str, d[:8]))
    check = checksum.mod11(body, [3, 2, 7, 6, 5, 4, 3, 2], _rule)
    if check == 10:
        check = checksum.mod11(body, [7, 4, 3, 2, 5, 2, 7, 6], _rule)
    return check is not None and check < 10 and check == d[8]


def valid_nino(s: str) -> bool:
    """Whether ``s`` is a National Insurance number HMRC could have issued."""
    c = s.replace(" ", "").upper()
    if len(c) != 9:
        return False
    if c[0] in "DFIQUV" or c[1] in "DFIOQUV" or c[:2] in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        return False
    return c[2:8].isdigit() and c[8] in "ABCD"


class NzUkIds(Detector):
    def describe(self) -> DetectorInfo:
        return DetectorInfo("python-nz-uk-ids", "1.0.0", ["NZ_IRD", "UK_NINO"])

    def detect(self, text: str, options: DetectOptions) -> list[Finding]:
        found = []
        if options.wants("NZ_IRD"):
            for m in IRD.finditer(text):
                if valid_ird(m.group()):
                    cue = IRD_CUES.cue(text, m.start(), m.end())
                    why = "IRD mod-11 check digit valid" + (f"; cue word `{cue}`" if cue else "")
                    score = IRD_CUES.score(text, m.start(), m.end(), 0.55)
                    found.append(Finding("NZ_IRD", m.start(), m.end(), score, why))
        if options.wants("UK_NINO"):
            for m in NINO.finditer(text):
                if valid_nino(m.group()):
                    score = NINO_CUES.score(text, m.start(), m.end(), 0.6)
                    found.append(
                        Finding("UK_NINO", m.start(), m.end(), score, "NINO format and prefix rules")
                    )
        return found
