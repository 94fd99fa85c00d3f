"""The CPython runner's session logic in plain CPython: cells, tools, and snapshots that replay."""

import json

import pytest
from warden_sdk import GuestFailure, InputError, SessionOptions
from warden_sdk.runner import ToolError, set_tool_caller

from warden_cpython import MAX_STDOUT_BYTES, CPythonSession


@pytest.fixture
def host():
    """A stand-in host tool (the only third party here): records calls, answers or fails."""
    calls = []

    def tool(name, args_json):
        calls.append((name, json.loads(args_json)))
        if name == "fails":
            raise ToolError("failed", "upstream down")
        if name == "picky":
            raise ToolError("invalid-arguments", "`x` must be text")
        return json.dumps({"echo": json.loads(args_json), "n": len(calls)})

    set_tool_caller(tool)
    yield calls
    set_tool_caller(None)


def session(*tools):
    return CPythonSession(SessionOptions(tools=list(tools)))


def test_state_persists_and_the_last_expression_is_the_value():
    s = session()
    assert s.eval("x = 20\nprint('set')").stdout == "set\n"
    out = s.eval("x + 1")
    assert (out.repr, out.json) == ("21", "21")
    assert s.eval("None").repr is None
    assert s.eval("{1, 2}").json is None  # a set has no JSON form


def test_tools_take_positional_or_keyword_arguments(host):
    s = session("ask")
    assert json.loads(s.eval("ask('a', 1)").json) == {"echo": ["a", 1], "n": 1}
    assert json.loads(s.eval("ask(q='b')").json) == {"echo": {"q": "b"}, "n": 2}
    with pytest.raises(InputError, match="either positional or keyword"):
        s.eval("ask('a', q='b')")
    with pytest.raises(InputError, match="not JSON-serialisable"):
        s.eval("ask(object())")
    with pytest.raises(InputError, match="NameError"):
        s.eval("rm_rf('/')")


def test_tool_errors_are_raised_where_the_call_was_made(host):
    s = session("fails", "picky")
    assert s.eval("try:\n    fails()\nexcept RuntimeError as e:\n    m = str(e)\nm").json == '"tool fails failed: upstream down"'
    assert "TypeError" in pytest.raises(InputError, s.eval, "picky(1)").value.message


def test_a_restored_session_replays_its_cells_without_calling_the_host(host):
    s = session("ask")
    s.eval("import random\nr = random.random()\nanswers = [ask(i) for i in range(3)]")
    with pytest.raises(InputError):
        s.eval("half = 1\n1 / 0")
    s.eval("def gen():\n    yield from 'xyz'\nit = gen()\nnext(it)")
    before = s.eval("r, answers, half").json
    snapshot = s.snapshot()
    host.clear()
    restored = CPythonSession.restore(snapshot, SessionOptions(tools=["ask"]))
    assert host == [], "the replay called the host"
    assert restored.eval("r, answers, half").json == before
    assert restored.eval("next(it)").json == '"y"'
    # The restored session records on, so it can be restored again.
    restored.eval("more = ask('again')")
    again = CPythonSession.restore(restored.snapshot(), SessionOptions(tools=["ask"]))
    assert json.loads(again.eval("more").json)["echo"] == ["again"]


def test_a_replay_that_diverges_from_the_record_fails(host):
    s = session("ask")
    s.eval("a = ask('first')")
    record = json.loads(s.snapshot())
    record["cells"][0]["code"] = "a = ask('second')"
    with pytest.raises(GuestFailure, match="diverged"):
        CPythonSession.restore(json.dumps(record).encode(), SessionOptions(tools=["ask"]))
    record["cells"][0]["code"] = "a = 1 / 0"
    with pytest.raises(GuestFailure, match="raised where it had not"):
        CPythonSession.restore(json.dumps(record).encode(), SessionOptions(tools=["ask"]))


def test_a_foreign_snapshot_is_an_input_error():
    for bad in [b"not json", b'{"version": 99}', b'{"version": 1}']:
        with pytest.raises(InputError, match="snapshot"):
            CPythonSession.restore(bad, SessionOptions())


def test_errors_carry_the_cells_position_and_traceback():
    s = session()
    e = pytest.raises(InputError, s.eval, "x = 1\ny = [][3]").value
    assert (e.kind, e.position.line) == ("exception", 2)
    assert "IndexError" in e.message and "warden_cpython" not in e.message
    e = pytest.raises(InputError, s.eval, "def f(:\n  pass").value
    assert (e.kind, e.position.line) == ("syntax", 1)


def test_printing_is_capped():
    s = session()
    with pytest.raises(InputError, match="MemoryError"):
        s.eval(f"print('x' * {MAX_STDOUT_BYTES + 1})")
    assert s.eval("print('still here')").stdout == "still here\n"
