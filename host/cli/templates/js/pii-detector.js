// {{NAME}}: a Warden PII detector. It finds employee ids such as `EMP-123456`; replace the
// logic with your own.
import { ContextScorer, Detector, Finding } from "warden-sdk";

// Compiled once, when the component is built: every call starts from that snapshot.
const EMPLOYEE_ID = /(?<![\w-])EMP-\d{6}(?!\w)/g;
const CUES = new ContextScorer(["employee", "staff"], 30, 0.2);

export default class Plugin extends Detector {
  describe() {
    return { name: "{{NAME}}", version: "0.1.0", entityTypes: ["EMPLOYEE_ID"] };
  }

  detect(text, _options) {
    return [...text.matchAll(EMPLOYEE_ID)].map((m) => {
      const end = m.index + m[0].length;
      const score = CUES.score(text, m.index, end, 0.7);
      return new Finding("EMPLOYEE_ID", m.index, end, score, "EMP- followed by six digits");
    });
  }
}
