// A Warden PII detector in JavaScript for two identifiers the built-in detector does not know —
// the same logic as the Rust example `examples/pii-nz-uk-ids`:
//
// - NZ_IRD: New Zealand Inland Revenue numbers, 8 or 9 digits (`49-091-850`, `136-410-132`),
//   valid only in the issued range and with a correct mod-11 check digit.
// - UK_NINO: UK National Insurance numbers (`QQ 12 34 56 C`), with the prefix rules HMRC
//   publishes (no D, F, I, Q, U or V first; no D, F, I, O, Q, U or V second; never BG, GB, KN,
//   NK, NT, TN or ZZ).
//
// Both score higher when a cue word ("IRD", "national insurance", …) is near.
import { ContextScorer, Detector, Finding, checksum } from "warden-sdk";

// Compiled when the component is built: every call starts from that snapshot.
const IRD = /\b\d{2,3}[- ]?\d{3}[- ]?\d{3}\b/g;
const NINO = /\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/gi;
const IRD_CUES = new ContextScorer(["ird", "inland revenue", "tax number", "tax file"], 40, 0.3);
const NINO_CUES = new ContextScorer(["national insurance", "nino", "ni number", "ni no"], 40, 0.25);

const rule = (r) => (r === 0 ? 0 : 11 - r);

/** Whether `s` (digits with optional `-` or space) is a valid IRD number. */
export function validIrd(s) {
  let d = checksum.digits(s);
  if (d === undefined) return false;
  if (d.length === 8) d = [0, ...d];
  if (d.length !== 9) return false;
  const n = Number(d.join(""));
  if (n < 10_000_000 || n > 150_000_000) return false;
  const body = d.slice(0, 8).join("");
  let check = checksum.mod11(body, [3, 2, 7, 6, 5, 4, 3, 2], rule);
  if (check === 10) check = checksum.mod11(body, [7, 4, 3, 2, 5, 2, 7, 6], rule);
  return check !== undefined && check < 10 && check === d[8];
}

/** Whether `s` is a National Insurance number HMRC could have issued. */
export function validNino(s) {
  const c = s.replaceAll(" ", "").toUpperCase();
  if (c.length !== 9) return false;
  if ("DFIQUV".includes(c[0]) || "DFIOQUV".includes(c[1])) return false;
  if (["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].includes(c.slice(0, 2))) return false;
  return /^\d{6}$/.test(c.slice(2, 8)) && "ABCD".includes(c[8]);
}

export default class NzUkIds extends Detector {
  describe() {
    return { name: "js-nz-uk-ids", version: "1.0.0", entityTypes: ["NZ_IRD", "UK_NINO"] };
  }

  detect(text, options) {
    const found = [];
    if (options.wants("NZ_IRD")) {
      for (const m of text.matchAll(IRD)) {
        if (!validIrd(m[0])) continue;
        const end = m.index + m[0].length;
        const cue = IRD_CUES.cue(text, m.index, end);
        const why = "IRD mod-11 check digit valid" + (cue ? `; cue word \`${cue}\`` : "");
        found.push(new Finding("NZ_IRD", m.index, end, IRD_CUES.score(text, m.index, end, 0.55), why));
      }
    }
    if (options.wants("UK_NINO")) {
      for (const m of text.matchAll(NINO)) {
        if (!validNino(m[0])) continue;
        const end = m.index + m[0].length;
        const score = NINO_CUES.score(text, m.index, end, 0.6);
        found.push(new Finding("UK_NINO", m.index, end, score, "NINO format and prefix rules"));
      }
    }
    return found;
  }
}
