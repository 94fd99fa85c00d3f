"""The kit's helpers and the glue's conversion of findings, in plain Python (no WebAssembly)."""

from collections import namedtuple

import pytest

from warden_sdk import ContextScorer, DetectOptions, Finding, checksum, resolve_overlaps
from warden_sdk._component.pii_detector import findings
from warden_sdk.span import byte_offsets

Wit = namedtuple("Wit", "entity_type start end score explanation")


def test_check_digits_match_the_rust_sdk():
    assert checksum.digits("12-3.4 5") == [1, 2, 3, 4, 5]
    assert checksum.digits("12/34") is None
    assert checksum.luhn("4111 1111 1111 1111")
    assert not checksum.luhn("4111 1111 1111 1112")
    assert not checksum.luhn("4")
    assert checksum.iban_mod97("GB82 WEST 1234 5698 7654 32")
    assert checksum.iban_mod97("gb82-west-1234-5698-7654-32")
    assert not checksum.iban_mod97("GB82 WEST 1234 5698 7654 33")
    isbn = [10, 9, 8, 7, 6, 5, 4, 3, 2]
    assert checksum.mod11_valid("030640615-2", isbn, lambda r: (11 - r) % 11)
    assert not checksum.mod11_valid("0306406153", isbn, lambda r: (11 - r) % 11)
    assert checksum.verhoeff("236")  # 23 with its Verhoeff check digit 6
    assert not checksum.verhoeff("237")


def test_overlaps_keep_the_best_then_the_longest():
    kept = resolve_overlaps(
        [Finding("PHONE", 0, 10, 0.6), Finding("ID", 4, 12, 0.9), Finding("EMAIL", 20, 30, 0.5)]
    )
    assert [f.entity_type for f in kept] == ["ID", "EMAIL"]
    kept = resolve_overlaps([Finding("A", 0, 4, 0.5), Finding("B", 0, 8, 0.5)])
    assert [f.entity_type for f in kept] == ["B"]
    assert resolve_overlaps([Finding("A", 3, 3, 1.0), Finding("B", 0, 2, float("nan"))]) == []


def test_context_words_raise_the_score_only_when_near():
    s = ContextScorer(["IRD", "tax number"], 24, 0.3)
    t = "My IRD is 49-091-850 thanks"
    assert s.cue(t, 10, 20) == "ird"
    assert s.score(t, 10, 20, 0.5) == pytest.approx(0.8)
    far = "IRD" + " " * 40 + "49-091-850"
    assert s.score(far, 43, 53, 0.5) == 0.5
    assert s.cue("the third 49-091-850", 10, 20) is None


def test_findings_reach_the_host_in_utf8_bytes_filtered_and_sorted():
    text = "Zoë: zoë@example.com, Олег: oleg@example.org"
    a = text.index("zoë@")
    b = text.index("oleg@")
    found = [
        Finding("EMAIL_ADDRESS", b, b + len("oleg@example.org"), 0.9, "pattern"),
        Finding("EMAIL_ADDRESS", a, a + len("zoë@example.com"), 0.9, "pattern"),
        Finding("PERSON", 0, 3, 0.2),
    ]
    out = findings(text, found, DetectOptions(min_score=0.5), Wit)
    data = text.encode()
    assert [data[f.start : f.end].decode() for f in out] == ["zoë@example.com", "oleg@example.org"]
    assert all(f.explanation is None for f in out)
    out = findings(text, found, DetectOptions(entities=["PERSON"], explain=True), Wit)
    assert [(f.entity_type, f.start, f.end) for f in out] == [("PERSON", 0, 4)]
    assert byte_offsets("aé€😀", [0, 1, 2, 3, 4]) == {0: 0, 1: 1, 2: 3, 3: 6, 4: 10}
