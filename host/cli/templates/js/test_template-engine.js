// The engine's logic, in plain JavaScript: `warden plugin test` (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "warden-sdk";

import Plugin from "../plugin.js";

test("fills placeholders and reports what is missing", () => {
  const engine = new Plugin();
  const ctx = { user: { name: "Ada" }, n: 3 };
  assert.equal(engine.render("Hi ${user.name}, ${n} new", ctx, {}), "Hi Ada, 3 new");
  assert.throws(() => engine.render("Hi\n  ${missing}", ctx, {}), (e) => e instanceof InputError && e.position.line === 2);
  assert.deepEqual(engine.inspect("${user.name} ${n}"), { variables: ["n", "user"], paths: ["n", "user.name"] });
});
