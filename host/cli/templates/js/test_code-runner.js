// The runner's logic, in plain JavaScript: `warden plugin test` (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "warden-sdk";

import Plugin from "../plugin.js";

test("cells share names and survive a snapshot", () => {
  const s = new Plugin.session({});
  assert.equal(s.eval("x = 6").repr, undefined);
  assert.equal(s.eval("x * 7").json, "42");
  const restored = Plugin.session.restore(s.snapshot(), {});
  assert.equal(restored.eval("(x + 1) * 2").repr, "14");
  assert.throws(() => restored.eval("import os"), InputError);
});
