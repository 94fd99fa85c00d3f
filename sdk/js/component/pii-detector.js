// Exports a `Detector` subclass as the pii-detector world's `detector` interface.
import { DetectOptions, Finding, GuestFailure, byteOffsets, resolveOverlaps } from "../index.js";
import { call } from "./errors.js";

/** The plugin's findings as the interface wants them: checked, filtered by the options,
 * overlaps resolved, sorted, in UTF-8 byte offsets. */
export function findings(text, found, opts) {
  const kept = [];
  for (const f of found || []) {
    if (!(f instanceof Finding)) {
      throw new GuestFailure("detect() must return warden-sdk Finding objects");
    }
    if (!(Number.isInteger(f.start) && Number.isInteger(f.end) && 0 <= f.start && f.start < f.end && f.end <= text.length)) {
      throw new GuestFailure(`finding ${f.entityType} [${f.start}, ${f.end}) is outside the text (length ${text.length})`);
    }
    if (opts.wants(f.entityType) && opts.keeps(f.score)) kept.push(f);
  }
  const resolved = resolveOverlaps(kept);
  const at = byteOffsets(text, resolved.flatMap((f) => [f.start, f.end]));
  return resolved.map((f) => ({
    entityType: f.entityType,
    start: at.get(f.start),
    end: at.get(f.end),
    score: f.score,
    explanation: opts.explain ? f.explanation : undefined,
  }));
}

/** The `detector` export for `PluginClass`. */
export function exportDetector(PluginClass) {
  return {
    describe() {
      const info = new PluginClass().describe();
      return { name: info.name, version: info.version, entityTypes: [...info.entityTypes] };
    },
    detect(text, options) {
      return call(() => {
        const opts = new DetectOptions({
          entities: [...options.entities],
          minScore: options.minScore,
          explain: options.explain,
          language: options.language,
        });
        return findings(text, new PluginClass().detect(text, opts), opts);
      });
    },
  };
}
