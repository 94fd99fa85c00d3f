"""The detector's logic in plain Python (`warden plugin test`): the same cases as the Rust
example's unit tests."""

from warden_sdk import DetectOptions

from nz_uk_ids import NzUkIds, valid_ird, valid_nino


def test_ird_numbers_need_the_range_and_the_check_digit():
    assert valid_ird("49-091-850")
    assert valid_ird("136-410-132")
    assert valid_ird("49091850")
    assert not valid_ird("49-091-851")
    assert not valid_ird("9-999-999")
    assert not valid_ird("12-345-678")


def test_nino_prefix_rules():
    assert valid_nino("AB 12 34 56 C")
    assert valid_nino("ab123456c")
    assert not valid_nino("GB 12 34 56 A")
    assert not valid_nino("DA 12 34 56 A")
    assert not valid_nino("AO 12 34 56 A")
    assert not valid_nino("AB 12 34 56 E")


def test_cue_words_raise_scores_and_options_filter():
    d = NzUkIds()
    found = d.detect("my IRD number is 49-091-850 and NI number AB 12 34 56 C", DetectOptions())
    assert {f.entity_type for f in found} == {"NZ_IRD", "UK_NINO"}
    assert all(f.score > 0.8 for f in found)
    bare = d.detect("ref 49-091-850", DetectOptions())
    assert bare[0].score < 0.6
    only = d.detect("IRD 49-091-850, NINO AB 12 34 56 C", DetectOptions(entities=["UK_NINO"]))
    assert [f.entity_type for f in only] == ["UK_NINO"]
