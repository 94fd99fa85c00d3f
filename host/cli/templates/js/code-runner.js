// {{NAME}}: a Warden code runner. Each cell is `name = number` or an arithmetic expression
// over earlier names (+ - * / and parentheses); replace the logic with your own.
import { CodeRunner, InputError, Session } from "warden-sdk";

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(.))/gy;

class Calculator extends Session {
  constructor(options, names = {}) {
    super(options);
    this.names = { ...names };
  }

  value(expr) {
    const tokens = [];
    TOKEN.lastIndex = 0;
    for (let m; TOKEN.lastIndex < expr.length && (m = TOKEN.exec(expr)); ) {
      if (m[1]) tokens.push(Number(m[1]));
      else if (m[2]) {
        if (!(m[2] in this.names)) throw new InputError("exception", `name '${m[2]}' is not defined`);
        tokens.push(this.names[m[2]]);
      } else if (m[3] && "+-*/()".includes(m[3])) tokens.push(m[3]);
      else if (m[3]) throw new InputError("syntax", `unexpected ${m[3]}`);
    }
    let i = 0;
    const atom = () => {
      const t = tokens[i++];
      if (t === "(") {
        const v = sum();
        if (tokens[i++] !== ")") throw new InputError("syntax", "missing )");
        return v;
      }
      if (t === "-") return -atom();
      if (typeof t !== "number") throw new InputError("syntax", "expected a number or a name");
      return t;
    };
    const product = () => {
      let v = atom();
      while (tokens[i] === "*" || tokens[i] === "/") v = tokens[i++] === "*" ? v * atom() : v / atom();
      return v;
    };
    const sum = () => {
      let v = product();
      while (tokens[i] === "+" || tokens[i] === "-") v = tokens[i++] === "+" ? v + product() : v - product();
      return v;
    };
    const v = sum();
    if (i !== tokens.length) throw new InputError("syntax", "unexpected input after the expression");
    return v;
  }

  eval(code) {
    let last;
    for (const line of code.split("\n").filter((l) => l.trim())) {
      const assign = /^\s*([A-Za-z_]\w*)\s*=(?!=)(.*)$/.exec(line);
      if (assign) {
        this.names[assign[1]] = this.value(assign[2]);
        last = undefined;
      } else {
        last = this.value(line);
      }
    }
    if (last === undefined) return { stdout: "" };
    return { stdout: "", repr: String(last), json: JSON.stringify(last) };
  }

  snapshot() {
    return new TextEncoder().encode(JSON.stringify(this.names));
  }

  static restore(snapshot, options) {
    return new Calculator(options, JSON.parse(new TextDecoder().decode(snapshot)));
  }
}

export default class Plugin extends CodeRunner {
  static session = Calculator;
}
