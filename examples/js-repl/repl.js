// js-repl: JavaScript cells for LLM-written code steps, on Warden's JavaScript kit. Every cell
// runs in one global scope (the session's own instance), so names carry from cell to cell: a
// top-level `let`/`const` becomes a `var`, and functions and assignments persist. A cell's
// value is its completion value, as in a REPL. `console.log` and friends are captured. Each
// tool the session was granted is a global function (`llm_query("…")`); its arguments are sent
// as a JSON array. Snapshots are a record of the cells and each tool call's answer; `restore`
// replays the cells, answering tools from the record, so nothing is asked of the host twice.
import { CodeRunner, GuestFailure, InputError, Position, Session, ToolError, callTool } from "warden-sdk";

const MAX_OUTPUT = 4 * 1024 * 1024;
const TOP_LEVEL_BINDING = /^(let|const)(\s)/gm;

function show(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return `[Function ${value.name || "(anonymous)"}]`;
  if (value !== null && typeof value === "object") {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

function asJson(value) {
  try {
    const text = JSON.stringify(value);
    return typeof text === "string" ? text : undefined;
  } catch {
    return undefined;
  }
}

// Where in the cell an error was: the eval frame SpiderMonkey (`… > eval:2:5`) or V8
// (`<anonymous>:2:5`) puts in the stack; a syntax error's own line where the engine gives one.
function position(error) {
  const m = /> eval:(\d+):(\d+)|<anonymous>:(\d+):(\d+)/.exec(String((error && error.stack) || ""));
  if (m) return new Position(Number(m[1] || m[3]), Number(m[2] || m[4]));
  if (error && error.lineNumber > 0) return new Position(error.lineNumber, (error.columnNumber || 0) + 1);
  return undefined;
}

export class Repl extends Session {
  constructor(options) {
    super(options);
    this.cells = [];
    this.replaying = undefined;
    for (const name of options.tools || []) globalThis[name] = (...args) => this.call(name, args);
  }

  call(name, args) {
    const payload = JSON.stringify(args);
    if (this.replaying) {
      const next = this.replaying.shift();
      if (!next || next[0] !== name || next[1] !== payload) {
        throw new GuestFailure(`replay diverged: ${name}(${payload}) was not in the recorded session`);
      }
      if (next[2] !== "ok") throw new ToolError(next[2], next[3]);
      return JSON.parse(next[3]);
    }
    const record = this.cells[this.cells.length - 1].tools;
    try {
      const answer = callTool(name, args);
      record.push([name, payload, "ok", JSON.stringify(answer)]);
      return answer;
    } catch (e) {
      if (e instanceof ToolError) record.push([name, payload, e.kind, e.message]);
      throw e;
    }
  }

  eval(code) {
    if (!this.replaying) this.cells.push({ code, tools: [], failed: false });
    const cell = this.cells[this.cells.length - 1];
    const printed = [];
    let size = 0;
    const write = (...parts) => {
      const line = parts.map((p) => (typeof p === "string" ? p : show(p))).join(" ") + "\n";
      size += line.length;
      if (size > MAX_OUTPUT) throw new RangeError(`more than ${MAX_OUTPUT} characters printed in one cell`);
      printed.push(line);
    };
    const saved = globalThis.console;
    globalThis.console = { log: write, info: write, warn: write, error: write, debug: write };
    let value;
    try {
      value = (0, eval)(code.replace(TOP_LEVEL_BINDING, "var$2"));
    } catch (e) {
      cell.failed = true;
      if (e instanceof GuestFailure) throw e;
      const kind = e instanceof SyntaxError ? "syntax" : "exception";
      const name = e && e.name ? e.name : "Error";
      throw new InputError(kind, `${printed.join("")}${name}: ${e && e.message}`, position(e));
    } finally {
      globalThis.console = saved;
    }
    if (value === undefined) return { stdout: printed.join("") };
    return { stdout: printed.join(""), repr: show(value), json: asJson(value) };
  }

  snapshot() {
    return new TextEncoder().encode(JSON.stringify({ version: 1, cells: this.cells }));
  }

  static restore(snapshot, options) {
    let record;
    try {
      record = JSON.parse(new TextDecoder().decode(snapshot));
    } catch (e) {
      throw new InputError("snapshot", `not a js-repl snapshot: ${e.message}`);
    }
    if (!record || record.version !== 1 || !Array.isArray(record.cells)) {
      throw new InputError("snapshot", "not a js-repl snapshot (version 1)");
    }
    const session = new Repl(options);
    for (const cell of record.cells) {
      session.cells.push({ code: cell.code, tools: cell.tools, failed: Boolean(cell.failed) });
      session.replaying = cell.tools.slice();
      let failed = false;
      try {
        session.eval(cell.code);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        failed = true;
      } finally {
        session.replaying = undefined;
      }
      if (failed !== Boolean(cell.failed)) {
        throw new GuestFailure(`replaying cell ${session.cells.length} ${failed ? "raised where it had not" : "succeeded where it had raised"}`);
      }
    }
    return session;
  }
}

export default class Plugin extends CodeRunner {
  static session = Repl;
}
