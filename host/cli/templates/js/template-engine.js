// {{NAME}}: a Warden template engine. It fills `${user.name}` placeholders from the context;
// replace the logic with your own.
import { InputError, Position, TemplateEngine } from "warden-sdk";

const PLACEHOLDER = /\$\{([A-Za-z_][\w.]*)\}/g;

function lookup(context, path) {
  let value = context;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object" || !(part in value)) return undefined;
    value = value[part];
  }
  return value;
}

function position(template, at) {
  const before = template.slice(0, at);
  const line = before.split("\n").length;
  return new Position(line, at - (before.lastIndexOf("\n") + 1) + 1);
}

export default class Plugin extends TemplateEngine {
  render(template, context, options) {
    return template.replace(PLACEHOLDER, (_m, path, at) => {
      const value = lookup(context, path);
      if (value === undefined) {
        if (options.strictUndefined === false) return "";
        throw new InputError("undefined", `\`${path}\` is not in the context`, position(template, at));
      }
      return String(value);
    });
  }

  inspect(template) {
    const paths = [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))].sort();
    return { variables: [...new Set(paths.map((p) => p.split(".")[0]))].sort(), paths };
  }
}
