// Write Warden plugins in JavaScript: extend the base class of your plugin's world —
// `Detector` (pii-detector), `TemplateEngine` (template-engine) or a `Session` named by a
// `CodeRunner` (code-runner) — and `warden plugin build` turns the project into a component.
// Everything here is plain JavaScript: plugin logic tests with `node --test`, no WebAssembly.
// Offsets are JavaScript string indices (UTF-16 code units); Warden's glue converts them to
// the UTF-8 byte offsets of its interface.

/** A place in the caller's input, 1-based. */
export class Position {
  constructor(line, column) {
    this.line = line;
    this.column = column;
  }
}

/** The caller's input was rejected: fixing the input fixes the call. */
export class InputError extends Error {
  constructor(kind, message, position = undefined) {
    super(message);
    this.name = "InputError";
    this.kind = kind;
    this.position = position;
  }
}

/** The plugin failed for a reason of its own. Any other exception is reported as one too. */
export class GuestFailure extends Error {
  constructor(message) {
    super(message);
    this.name = "GuestFailure";
  }
}

// ---- pii-detector -------------------------------------------------------------------------

/** One piece of personal data: `text.slice(start, end)`, with a confidence. */
export class Finding {
  constructor(entityType, start, end, score, explanation = undefined) {
    this.entityType = entityType;
    this.start = start;
    this.end = end;
    this.score = score;
    this.explanation = explanation;
  }
}

/** Per-call options, with the two questions every detector asks of them. */
export class DetectOptions {
  constructor({ entities = [], minScore = undefined, explain = false, language = undefined } = {}) {
    this.entities = entities;
    this.minScore = minScore;
    this.explain = explain;
    this.language = language;
  }
  /** Whether `entityType` is wanted by this call. */
  wants(entityType) {
    return this.entities.length === 0 || this.entities.includes(entityType);
  }
  /** Whether a finding of `score` passes `minScore`. */
  keeps(score) {
    return this.minScore === undefined || this.minScore === null || score >= this.minScore;
  }
}

/** Base class of a PII detector: override `describe()` and `detect(text, options)`. */
export class Detector {
  /** `{ name, version, entityTypes }`. */
  describe() {
    throw new Error("a Detector must override describe()");
  }
  /** The `Finding`s in `text`, in any order. */
  detect(_text, _options) {
    throw new Error("a Detector must override detect()");
  }
}

// ---- template-engine ----------------------------------------------------------------------

/** Base class of a template engine: override `render` and `inspect`. */
export class TemplateEngine {
  /** `template` rendered with `context` (an object parsed from JSON). */
  render(_template, _context, _options) {
    throw new Error("a TemplateEngine must override render()");
  }
  /** Each message's content rendered with the same context; by default one `render` each. */
  renderChat(messages, context, options) {
    return messages.map((m) => ({ role: m.role, content: this.render(m.content, context, options) }));
  }
  /** `{ variables, paths }` the template reads. */
  inspect(_template) {
    throw new Error("a TemplateEngine must override inspect()");
  }
}

// ---- code-runner --------------------------------------------------------------------------

/** A host tool call failed: `kind` is `unknown-tool`, `invalid-arguments` or `failed`. */
export class ToolError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.name = "ToolError";
    this.kind = kind;
  }
}

let toolCaller = undefined;

/** Routes `callTool` to `caller(name, argsJson) -> resultJson` (the glue; tests may too). */
export function setToolCaller(caller) {
  toolCaller = caller;
}

/** Calls the host tool `name` with JSON-able `args`; returns its parsed result. */
export function callTool(name, args) {
  if (!toolCaller) {
    throw new ToolError("failed", "no host to call tools on (outside Warden, setToolCaller first)");
  }
  return JSON.parse(toolCaller(name, JSON.stringify(args)));
}

/** One session's state: override `eval`, `snapshot` and the static `restore`. */
export class Session {
  constructor(options) {
    this.options = options;
  }
  /** `{ stdout, repr, json }` of one cell; a user error is an `InputError`. */
  eval(_code) {
    throw new Error("a Session must override eval()");
  }
  /** The whole state as a `Uint8Array`, for `restore`. */
  snapshot() {
    throw new Error("a Session must override snapshot()");
  }
  /** A session rebuilt from `snapshot()` output. */
  static restore(_snapshot, _options) {
    throw new Error("a Session must override restore()");
  }
}

/** Names the session class: `class MyRunner extends CodeRunner { static session = MySession }`. */
export class CodeRunner {}

// ---- helpers: the Rust SDK's, with the same rules -------------------------------------------

const SEPARATORS = " -.";

/** Check digits: digits, skipping the separators space, `-` and `.`; anything else is invalid. */
export const checksum = {
  /** The decimal digits of `s` as numbers, or `undefined` when another character occurs. */
  digits(s) {
    const out = [];
    for (const c of s) {
      if (c >= "0" && c <= "9") out.push(c.charCodeAt(0) - 48);
      else if (!SEPARATORS.includes(c)) return undefined;
    }
    return out;
  },
  /** Luhn (mod 10): payment cards, IMEI numbers, Canadian SINs. */
  luhn(s) {
    const d = checksum.digits(s);
    return d !== undefined && checksum.luhnDigits(d);
  },
  /** `luhn` on digits already extracted. */
  luhnDigits(d) {
    if (d.length < 2) return false;
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      let v = d[d.length - 1 - i] * (i % 2 === 1 ? 2 : 1);
      sum += v > 9 ? v - 9 : v;
    }
    return sum % 10 === 0;
  },
  /** ISO 7064 mod 97-10 as IBANs use it (letters in either case, separators allowed). */
  ibanMod97(s) {
    const c = [];
    for (const ch of s) {
      if (SEPARATORS.includes(ch)) continue;
      if (!/^[0-9A-Za-z]$/.test(ch)) return false;
      c.push(ch.toUpperCase());
    }
    if (c.length < 5) return false;
    let rem = 0;
    for (const ch of [...c.slice(4), ...c.slice(0, 4)]) {
      const v = ch >= "0" && ch <= "9" ? ch.charCodeAt(0) - 48 : ch.charCodeAt(0) - 55;
      rem = (rem * (v > 9 ? 100 : 10) + v) % 97;
    }
    return rem === 1;
  },
  /** Weighted mod 11: `check(sum % 11)` gives the check digit, or `undefined` if not allowed. */
  mod11(body, weights, check) {
    const d = checksum.digits(body);
    if (d === undefined || d.length !== weights.length) return undefined;
    return check(d.reduce((a, x, i) => a + x * weights[i], 0) % 11);
  },
  /** Whether the last digit of `s` is the `mod11` check digit of the ones before it. */
  mod11Valid(s, weights, check) {
    const d = checksum.digits(s);
    if (!d || d.length === 0) return false;
    return checksum.mod11(d.slice(0, -1).join(""), weights, check) === d[d.length - 1];
  },
  /** Verhoeff's dihedral check (Indian Aadhaar numbers, among others). */
  verhoeff(s) {
    const d = checksum.digits(s);
    if (!d || d.length < 2) return false;
    let c = 0;
    for (let i = 0; i < d.length; i++) c = V_D[c][V_P[i % 8][d[d.length - 1 - i]]];
    return c === 0;
  },
};

const V_D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const V_P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/** Keeps the best of overlapping items — highest score, then longest, then earliest — sorted
 * by start; empty spans and non-finite scores are dropped. */
export function resolveOverlaps(items) {
  const ranked = items
    .filter((i) => i.end > i.start && Number.isFinite(i.score))
    .sort((a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept = [];
  for (const item of ranked) {
    if (!kept.some((k) => item.start < k.end && k.start < item.end)) kept.push(item);
  }
  return kept.sort((a, b) => a.start - b.start);
}

// Letters, digits and `_`; cased letters of any script count as letters. (No `\p{L}`: the
// component's JavaScript engine is built without Unicode property tables.)
function isWordChar(c) {
  return c !== undefined && (/[0-9_]/.test(c) || c.toLowerCase() !== c.toUpperCase());
}

/** Whether no letter, digit or `_` touches `text.slice(start, end)` on either side. */
export function isWholeWord(text, start, end) {
  return !isWordChar(text[start - 1]) && !isWordChar(text[end]);
}

/** Raises a score when a cue word occurs (case-insensitively, as a whole word) within `window`
 * characters before or after a span; a hit adds `boost` (capped at 1). */
export class ContextScorer {
  constructor(words, window, boost) {
    this.words = words.map((w) => w.toLowerCase());
    this.window = window;
    this.boost = boost;
  }
  /** The first cue word near `text.slice(start, end)`, or `undefined`. */
  cue(text, start, end) {
    const before = text.slice(Math.max(0, start - this.window), start).toLowerCase();
    const after = text.slice(end, end + this.window).toLowerCase();
    return this.words.find((w) => hasWord(before, w) || hasWord(after, w));
  }
  /** `base` raised by the boost when a cue word is near, else `base`. */
  score(text, start, end, base) {
    return this.cue(text, start, end) !== undefined ? Math.min(1, base + this.boost) : base;
  }
}

function hasWord(haystack, word) {
  for (let at = haystack.indexOf(word); at >= 0; at = haystack.indexOf(word, at + 1)) {
    if (isWholeWord(haystack, at, at + word.length)) return true;
  }
  return false;
}

/** UTF-8 byte offset of each string index in `points` (the interface counts bytes). */
export function byteOffsets(text, points) {
  const wanted = [...new Set(points)].sort((a, b) => a - b);
  const out = new Map();
  let i = 0;
  let bytes = 0;
  for (const p of wanted) {
    for (; i < p && i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) bytes += 1;
      else if (c < 0x800) bytes += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        bytes += 4;
        i++;
      } else bytes += 3;
    }
    out.set(p, bytes);
  }
  return out;
}
