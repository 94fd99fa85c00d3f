"""The runner's logic, in plain Python: `warden plugin test` (or pytest with warden-sdk installed)."""

import pytest

from warden_sdk import InputError, SessionOptions

from {{MODULE}} import Plugin


def test_cells_share_names_and_survive_a_snapshot():
    s = Plugin.session(SessionOptions())
    assert s.eval("x = 6").repr is None
    assert s.eval("x * 7").json == "42"
    restored = Plugin.session.restore(s.snapshot(), SessionOptions())
    assert restored.eval("x + 1").repr == "7"
    with pytest.raises(InputError):
        restored.eval("import os")
