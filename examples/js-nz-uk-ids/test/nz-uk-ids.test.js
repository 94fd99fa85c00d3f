// The detector's logic in plain JavaScript (`warden plugin test`): the same cases as the Rust
// example's unit tests.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DetectOptions } from "warden-sdk";

import NzUkIds, { validIrd, validNino } from "../nz-uk-ids.js";

test("IRD numbers need the range and the check digit", () => {
  for (const ok of ["49-091-850", "136-410-132", "49091850"]) assert.ok(validIrd(ok), ok);
  for (const bad of ["49-091-851", "9-999-999", "12-345-678"]) assert.ok(!validIrd(bad), bad);
});

test("NINO prefix rules", () => {
  for (const ok of ["AB 12 34 56 C", "ab123456c"]) assert.ok(validNino(ok), ok);
  for (const bad of ["GB 12 34 56 A", "DA 12 34 56 A", "AO 12 34 56 A", "AB 12 34 56 E"]) assert.ok(!validNino(bad), bad);
});

test("cue words raise scores and options filter", () => {
  const d = new NzUkIds();
  const found = d.detect("my IRD number is 49-091-850 and NI number AB 12 34 56 C", new DetectOptions());
  assert.deepEqual(new Set(found.map((f) => f.entityType)), new Set(["NZ_IRD", "UK_NINO"]));
  assert.ok(found.every((f) => f.score > 0.8));
  assert.ok(d.detect("ref 49-091-850", new DetectOptions())[0].score < 0.6);
  const only = d.detect("IRD 49-091-850, NINO AB 12 34 56 C", new DetectOptions({ entities: ["UK_NINO"] }));
  assert.deepEqual(only.map((f) => f.entityType), ["UK_NINO"]);
});
