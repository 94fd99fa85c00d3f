// The runner's logic in plain JavaScript (`warden plugin test`). Cells run in this process's
// global scope here, as they do in the session's own instance, so each test uses its own names.
import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestFailure, InputError, setToolCaller } from "warden-sdk";

import Plugin from "../repl.js";

const Repl = Plugin.session;

test("names, functions and top-level let/const carry from cell to cell", () => {
  const s = new Repl({ tools: [] });
  assert.equal(s.eval("const base = 40\nfunction inc(v) { return v + 1 }").repr, undefined);
  const out = s.eval("console.log('adding'); inc(base) + 1");
  assert.deepEqual([out.stdout, out.repr, out.json], ["adding\n", "42", "42"]);
  assert.equal(s.eval("[1, 2, 3].map((x) => x * base)").json, "[40,80,120]");
  assert.equal(s.eval("'text'").repr, '"text"');
});

test("errors are input errors with the cell's output, and the session lives on", () => {
  const s = new Repl({ tools: [] });
  s.eval("let kept = 1");
  assert.throws(() => s.eval("console.log('before'); null.x"), (e) => e instanceof InputError && e.kind === "exception" && /before\nTypeError/.test(e.message));
  assert.throws(() => s.eval("let = = 1"), (e) => e instanceof InputError && e.kind === "syntax");
  assert.equal(s.eval("kept + 1").json, "2");
});

test("tools are functions; a restored session replays without calling the host", () => {
  const calls = [];
  setToolCaller((name, args) => {
    calls.push([name, args]);
    return JSON.stringify(`answer ${calls.length} to ${args}`);
  });
  const s = new Repl({ tools: ["ask"] });
  s.eval("var answers = [ask('a'), ask('b', 2)]");
  assert.throws(() => s.eval("var half = 1; undefinedName"), InputError);
  assert.deepEqual(calls, [["ask", '["a"]'], ["ask", '["b",2]']]);
  const snapshot = s.snapshot();
  calls.length = 0;
  const restored = Repl.restore(snapshot, { tools: ["ask"] });
  assert.deepEqual(calls, []);
  assert.equal(restored.eval("answers[1] + ' ' + half").json, '"answer 2 to [\\"b\\",2] 1"');
  setToolCaller(undefined);
});

test("a replay that diverges from its record fails", () => {
  const record = { version: 1, cells: [{ code: "ask('other')", tools: [["ask", '["a"]', "ok", '"x"']] }] };
  const bytes = new TextEncoder().encode(JSON.stringify(record));
  assert.throws(() => Repl.restore(bytes, { tools: ["ask"] }), GuestFailure);
  assert.throws(() => Repl.restore(new TextEncoder().encode("nope"), { tools: [] }), InputError);
});
