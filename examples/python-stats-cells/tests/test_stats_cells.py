"""The runner's logic in plain Python (`warden plugin test`)."""

import pytest
from warden_sdk import InputError, SessionOptions

from stats_cells import Cells


def test_figures_carry_from_cell_to_cell_and_through_a_snapshot():
    s = Cells(SessionOptions())
    assert s.eval("revenue = [120, 135, 160.5]").json is None
    out = s.eval("growth = (revenue[-1] - revenue[0]) / revenue[0] * 100\nround(growth, 1), median(revenue)")
    assert out.json == "[33.8, 135]"
    restored = Cells.restore(s.snapshot(), SessionOptions())
    assert restored.eval("max(revenue) > 150").json == "true"


@pytest.mark.parametrize(
    "code, kind, says",
    [
        ("import os", "unsupported", "a cell holds assignments"),
        ("revenue.__class__", "unsupported", "not arithmetic"),
        ("open('/etc/passwd')", "unsupported", "allowed function"),
        ("1 / 0", "exception", "ZeroDivisionError"),
        ("mean([])", "exception", "StatisticsError"),
        ("2 ** 100000", "exception", "exponent"),
        ("nope + 1", "exception", "not defined"),
        ("x = (", "syntax", ""),
    ],
)
def test_anything_else_is_an_input_error_an_llm_can_act_on(code, kind, says):
    with pytest.raises(InputError) as e:
        Cells(SessionOptions()).eval(code)
    assert e.value.kind == kind and says in e.value.message
    assert e.value.position is not None
