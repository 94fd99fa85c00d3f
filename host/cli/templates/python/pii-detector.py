"""{{NAME}}: a Warden PII detector. It finds employee ids such as ``EMP-123456``; replace the
logic with your own."""

import re

from warden_sdk import ContextScorer, DetectOptions, Detector, DetectorInfo, Finding

# Compiled once, when the component is built: every call starts from that snapshot.
EMPLOYEE_ID = re.compile(r"(?<![\w-])EMP-\d{6}(?!\w)")
CUES = ContextScorer(["employee", "staff"], 30, 0.2)


class Plugin(Detector):
    def describe(self) -> DetectorInfo:
        return DetectorInfo("{{NAME}}", "0.1.0", ["EMPLOYEE_ID"])

    def detect(self, text: str, options: DetectOptions) -> list[Finding]:
        return [
            Finding(
                "EMPLOYEE_ID",
                m.start(),
                m.end(),
                CUES.score(text, m.start(), m.end(), 0.7),
                "EMP- followed by six digits",
            )
            for m in EMPLOYEE_ID.finditer(text)
        ]
