// The glue's one error rule, shared by every world: an `InputError` becomes the WIT error's
// `invalid-input` case, anything else thrown becomes `guest-failure` naming it.
import { InputError } from "../index.js";

/** Runs `f`, throwing what componentize-js turns into the `err` case of a WIT `result`. */
export function call(f) {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError) {
      const position = e.position ? { line: e.position.line, column: e.position.column } : undefined;
      throw { tag: "invalid-input", val: { kind: e.kind, message: e.message, position } };
    }
    const name = e && e.name ? e.name : "Error";
    const message = e && e.message !== undefined ? e.message : String(e);
    throw { tag: "guest-failure", val: `${name}: ${message}` };
  }
}
