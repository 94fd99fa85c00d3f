// Exports a `TemplateEngine` subclass as the template-engine world's `template` interface.
import { InputError } from "../index.js";
import { call } from "./errors.js";

function context(json) {
  let value;
  try {
    value = json.trim() ? JSON.parse(json) : {};
  } catch (e) {
    throw new InputError("json", `the context is not JSON: ${e.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError("json", "the context must be a JSON object");
  }
  return value;
}

/** The `template` export for `PluginClass`. */
export function exportTemplate(PluginClass) {
  return {
    render(template, contextJson, options) {
      return call(() => {
        const out = new PluginClass().render(template, context(contextJson), options);
        if (typeof out !== "string") throw new TypeError("render() must return a string");
        return out;
      });
    },
    renderChat(messages, contextJson, options) {
      return call(() =>
        new PluginClass()
          .renderChat(messages.map((m) => ({ role: m.role, content: m.content })), context(contextJson), options)
          .map((m) => ({ role: m.role, content: m.content })),
      );
    },
    inspect(template) {
      return call(() => {
        const info = new PluginClass().inspect(template);
        return { variables: [...info.variables].sort(), paths: [...info.paths].sort() };
      });
    },
  };
}
