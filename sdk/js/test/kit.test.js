// The kit's helpers and the glue's conversion of findings, in plain JavaScript (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ContextScorer, DetectOptions, Finding, byteOffsets, checksum, resolveOverlaps } from "../index.js";
import { findings } from "../component/pii-detector.js";

test("check digits match the Rust SDK", () => {
  assert.deepEqual(checksum.digits("12-3.4 5"), [1, 2, 3, 4, 5]);
  assert.equal(checksum.digits("12/34"), undefined);
  assert.ok(checksum.luhn("4111 1111 1111 1111"));
  assert.ok(!checksum.luhn("4111 1111 1111 1112"));
  assert.ok(checksum.ibanMod97("GB82 WEST 1234 5698 7654 32"));
  assert.ok(!checksum.ibanMod97("GB82 WEST 1234 5698 7654 33"));
  const isbn = [10, 9, 8, 7, 6, 5, 4, 3, 2];
  assert.ok(checksum.mod11Valid("030640615-2", isbn, (r) => (11 - r) % 11));
  assert.ok(!checksum.mod11Valid("0306406153", isbn, (r) => (11 - r) % 11));
  assert.ok(checksum.verhoeff("236"));
  assert.ok(!checksum.verhoeff("237"));
});

test("overlaps keep the best, then the longest", () => {
  const kept = resolveOverlaps([new Finding("PHONE", 0, 10, 0.6), new Finding("ID", 4, 12, 0.9), new Finding("EMAIL", 20, 30, 0.5)]);
  assert.deepEqual(kept.map((f) => f.entityType), ["ID", "EMAIL"]);
  assert.deepEqual(resolveOverlaps([new Finding("A", 0, 4, 0.5), new Finding("B", 0, 8, 0.5)]).map((f) => f.entityType), ["B"]);
});

test("context words raise the score only when near", () => {
  const s = new ContextScorer(["IRD", "tax number"], 24, 0.3);
  const t = "My IRD is 49-091-850 thanks";
  assert.equal(s.cue(t, 10, 20), "ird");
  assert.ok(Math.abs(s.score(t, 10, 20, 0.5) - 0.8) < 1e-9);
  assert.equal(s.cue("the third 49-091-850", 10, 20), undefined);
});

test("findings reach the host in UTF-8 bytes, filtered and sorted", () => {
  const text = "Zoë 😀: zoë@example.com, oleg@example.org";
  const a = text.indexOf("zoë@");
  const b = text.indexOf("oleg@");
  const found = [
    new Finding("EMAIL_ADDRESS", b, b + "oleg@example.org".length, 0.9, "pattern"),
    new Finding("EMAIL_ADDRESS", a, a + "zoë@example.com".length, 0.9, "pattern"),
    new Finding("PERSON", 0, 3, 0.2),
  ];
  const bytes = new TextEncoder().encode(text);
  const out = findings(text, found, new DetectOptions({ minScore: 0.5 }));
  const dec = (f) => new TextDecoder().decode(bytes.slice(f.start, f.end));
  assert.deepEqual(out.map(dec), ["zoë@example.com", "oleg@example.org"]);
  assert.ok(out.every((f) => f.explanation === undefined));
  const only = findings(text, found, new DetectOptions({ entities: ["PERSON"], explain: true }));
  assert.deepEqual(only.map((f) => [f.entityType, f.start, f.end]), [["PERSON", 0, 4]]);
  assert.deepEqual([...byteOffsets("aé€😀", [0, 1, 2, 3, 5]).values()], [0, 1, 3, 6, 10]);
});
