"""The engine's logic, in plain Python: `warden plugin test` (or pytest with warden-sdk installed)."""

import pytest

from warden_sdk import InputError, RenderOptions

from {{MODULE}} import Plugin


def test_fills_placeholders_and_reports_what_is_missing():
    engine = Plugin()
    ctx = {"user": {"name": "Ada"}, "n": 3}
    assert engine.render("Hi ${user.name}, $n new, $$5", ctx, RenderOptions()) == "Hi Ada, 3 new, $5"
    with pytest.raises(InputError) as e:
        engine.render("Hi\n  $missing", ctx, RenderOptions())
    assert e.value.kind == "undefined" and e.value.position.line == 2
    info = engine.inspect("${user.name} $n")
    assert info.variables == ["n", "user"] and info.paths == ["n", "user.name"]
