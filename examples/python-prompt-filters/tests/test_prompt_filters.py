"""The engine's logic in plain Python (`warden plugin test`): the Rust example's cases."""

import pytest
from warden_sdk import InputError, RenderOptions

from prompt_filters import PromptFilters

ENGINE = PromptFilters()
STRICT = RenderOptions()


def render(template, context, options=STRICT):
    return ENGINE.render(template, context, options)


def test_filters():
    ticket = 'my order never arrived and "nobody" answers'
    assert render("Summarise: ${ticket | truncate_tokens(3)}", {"ticket": ticket}) == "Summarise: my order never…"
    assert render('{"q": "${ticket|json_escape}"}', {"ticket": ticket}) == '{"q": "my order never arrived and \\"nobody\\" answers"}'
    assert render("${steps | bullet_list}", {"steps": ["check", "reply"]}) == "- check\n- reply"
    assert render("${t.subject} costs $$5", {"t": {"subject": "Refund"}}) == "Refund costs $5"


def test_errors_name_the_place():
    with pytest.raises(InputError) as e:
        render("Hi\n  ${user.name}", {"user": {}})
    assert (e.value.kind, e.value.position.line, e.value.position.column) == ("undefined", 2, 3)
    assert render("[${missing}]", {}, RenderOptions(strict_undefined=False)) == "[]"
    for bad in ["${x | shout}", "${x | truncate_tokens}", "${x | json_escape(2)}", "${1x}", "costs $5"]:
        with pytest.raises(InputError) as e:
            render(bad, {"x": "y"})
        assert e.value.kind == "syntax", bad


def test_inspect_lists_variables_and_paths():
    info = ENGINE.inspect("${user.name | json_escape} ${ticket} $$")
    assert (info.variables, info.paths) == (["ticket", "user"], ["ticket", "user.name"])
