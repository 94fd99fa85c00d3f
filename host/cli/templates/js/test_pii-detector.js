// The detector's logic, in plain JavaScript: `warden plugin test` (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { DetectOptions } from "warden-sdk";

import Plugin from "../plugin.js";

test("finds employee ids", () => {
  const text = "Ask employee EMP-123456, not EMP-12 or XEMP-123456.";
  const found = new Plugin().detect(text, new DetectOptions());
  assert.deepEqual(found.map((f) => text.slice(f.start, f.end)), ["EMP-123456"]);
  assert.ok(found[0].score > 0.8);
});
