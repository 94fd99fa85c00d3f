"""The detector's logic, in plain Python: `warden plugin test` (or pytest with warden-sdk installed)."""

from warden_sdk import DetectOptions

from {{MODULE}} import Plugin


def test_finds_employee_ids():
    text = "Ask employee EMP-123456, not EMP-12 or XEMP-123456."
    found = Plugin().detect(text, DetectOptions())
    assert [text[f.start : f.end] for f in found] == ["EMP-123456"]
    assert found[0].score > 0.8
