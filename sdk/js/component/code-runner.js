// Exports a `CodeRunner` as the code-runner world's `runner` interface (its session resource),
// with `callTool` wired to the host's `tools` import.
import { call as hostCall } from "warden:plugin/tools@0.1.0";
import { ToolError, setToolCaller } from "../index.js";
import { call } from "./errors.js";

setToolCaller((name, argsJson) => {
  try {
    return hostCall(name, argsJson);
  } catch (e) {
    if (e && typeof e.tag === "string") throw new ToolError(e.tag, String(e.val));
    throw e;
  }
});

function output(out) {
  if (!out || typeof out !== "object") throw new TypeError("eval() must return { stdout, repr, json }");
  return { stdout: out.stdout ?? "", repr: out.repr ?? undefined, json: out.json ?? undefined };
}

/** The `runner` export for `PluginClass` (a `CodeRunner` with a static `session`). */
export function exportRunner(PluginClass) {
  const Inner = PluginClass.session;
  class Session {
    constructor(options, inner = undefined) {
      this.inner = inner ?? call(() => new Inner(options));
    }
    eval(code) {
      return call(() => output(this.inner.eval(code)));
    }
    snapshot() {
      return call(() => Uint8Array.from(this.inner.snapshot()));
    }
    static restore(snapshot, options) {
      return new Session(options, call(() => Inner.restore(Uint8Array.from(snapshot), options)));
    }
  }
  return { Session };
}
