// The engine's logic in plain JavaScript (`warden plugin test`): the Rust example's cases.
import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "warden-sdk";

import PromptFilters from "../prompt-filters.js";

const engine = new PromptFilters();
const render = (t, c, o = {}) => engine.render(t, c, o);

test("filters", () => {
  const ticket = 'my order never arrived and "nobody" answers';
  assert.equal(render("Summarise: ${ticket | truncate_tokens(3)}", { ticket }), "Summarise: my order never…");
  assert.equal(render('{"q": "${ticket|json_escape}"}', { ticket }), '{"q": "my order never arrived and \\"nobody\\" answers"}');
  assert.equal(render("${steps | bullet_list}", { steps: ["check", "reply"] }), "- check\n- reply");
  assert.equal(render("${t.subject} costs $$5", { t: { subject: "Refund" } }), "Refund costs $5");
});

test("errors name the place", () => {
  assert.throws(
    () => render("Hi\n  ${user.name}", { user: {} }),
    (e) => e instanceof InputError && e.kind === "undefined" && e.position.line === 2 && e.position.column === 3,
  );
  assert.equal(render("[${missing}]", {}, { strictUndefined: false }), "[]");
  for (const bad of ["${x | shout}", "${x | truncate_tokens}", "${x | json_escape(2)}", "${1x}", "costs $5"]) {
    assert.throws(() => render(bad, { x: "y" }), (e) => e instanceof InputError && e.kind === "syntax", bad);
  }
});

test("inspect lists variables and paths", () => {
  assert.deepEqual(engine.inspect("${user.name | json_escape} ${ticket} $$"), {
    variables: ["ticket", "user"],
    paths: ["ticket", "user.name"],
  });
});
