// prompt-filters: the `template-prompt-filters` example's filters in a small JavaScript engine.
// Placeholders are `${path}` or `${path | filter | filter(n)}` (`$$` is a literal `$`), where
// `path` is a dotted path into the context. Filters: `truncate_tokens(n)` (the first n
// whitespace-separated tokens, then `…`), `json_escape` (escaped for the inside of a JSON string
// literal), `bullet_list` (a list as `- item` lines). A path not in the context is an
// `undefined` input error with its position (empty when the call asks for lenient undefined
// values); an unknown filter or a bad placeholder is a `syntax` error.
import { InputError, Position, TemplateEngine } from "warden-sdk";

const PLACEHOLDER = /\$\$|\$\{([^}]*)\}|\$/g;
const PATH = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/;
const FILTER = /^([a-z_]+)(?:\((\d+)\))?$/;

export function truncateTokens(text, n) {
  const words = String(text).split(/\s+/).filter(Boolean);
  return words.slice(0, n).join(" ") + (words.length > n ? "…" : "");
}

export function jsonEscape(text) {
  return JSON.stringify(String(text)).slice(1, -1);
}

export function bulletList(items) {
  return (Array.isArray(items) ? items : [items]).map((i) => `- ${i}`).join("\n");
}

const FILTERS = {
  truncate_tokens: [truncateTokens, true],
  json_escape: [jsonEscape, false],
  bullet_list: [bulletList, false],
};

function position(template, at) {
  const before = template.slice(0, at);
  return new Position(before.split("\n").length, at - (before.lastIndexOf("\n") + 1) + 1);
}

// The placeholder's path and filters; undefined for `$$`.
function parse(template, match, inner, at) {
  if (match === "$$") return undefined;
  const fail = (message) => {
    throw new InputError("syntax", message, position(template, at));
  };
  if (inner === undefined) fail("a lone `$`: write `$$` for a dollar sign");
  const [path, ...filters] = inner.split("|").map((p) => p.trim());
  if (!PATH.test(path)) fail(`\`${path}\` is not a dotted path`);
  return {
    path,
    filters: filters.map((f) => {
      const m = FILTER.exec(f);
      if (!m || !(m[1] in FILTERS)) fail(`unknown filter \`${f}\`; the filters are ${Object.keys(FILTERS).join(", ")}`);
      if (FILTERS[m[1]][1] !== (m[2] !== undefined)) {
        fail(FILTERS[m[1]][1] ? `\`${m[1]}\` takes a number: ${m[1]}(n)` : `\`${m[1]}\` takes no argument`);
      }
      return [m[1], m[2] === undefined ? undefined : Number(m[2])];
    }),
  };
}

function lookup(context, path) {
  let value = context;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

export default class PromptFilters extends TemplateEngine {
  render(template, context, options) {
    return template.replace(PLACEHOLDER, (match, inner, at) => {
      const p = parse(template, match, inner, at);
      if (!p) return "$";
      let value = lookup(context, p.path);
      if (value === undefined) {
        if (options.strictUndefined === false) return "";
        throw new InputError("undefined", `\`${p.path}\` is not in the context`, position(template, at));
      }
      for (const [name, arg] of p.filters) value = arg === undefined ? FILTERS[name][0](value) : FILTERS[name][0](value, arg);
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
    });
  }

  inspect(template) {
    const paths = new Set();
    for (const m of template.matchAll(PLACEHOLDER)) {
      const p = parse(template, m[0], m[1], m.index);
      if (p) paths.add(p.path);
    }
    const sorted = [...paths].sort();
    return { variables: [...new Set(sorted.map((p) => p.split(".")[0]))].sort(), paths: sorted };
  }
}
