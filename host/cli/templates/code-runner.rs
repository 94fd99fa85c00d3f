//! {{NAME}}: a Warden code runner. Its language is a tiny calculator — `x = 41`, then
//! `x + 1` — whose variables persist between evaluations and survive snapshots; replace it with
//! your own interpreter.

use std::collections::BTreeMap;

use warden_sdk::Error;
use warden_sdk::runner::{CodeRunner, EvalOutput, Session, SessionOptions};

/// The runner.
pub struct Runner;

/// One session: named integers.
#[derive(Default)]
pub struct Calc {
    vars: BTreeMap<String, i64>,
}

impl Calc {
    fn value(&self, term: &str) -> Result<i64, Error> {
        let term = term.trim();
        if let Ok(n) = term.parse() {
            return Ok(n);
        }
        self.vars
            .get(term)
            .copied()
            .ok_or_else(|| Error::invalid_input("exception", format!("NameError: `{term}` is not defined")))
    }

    fn expr(&self, e: &str) -> Result<i64, Error> {
        let mut total = 0i64;
        for (i, part) in e.split('+').enumerate() {
            let v = self.value(part)?;
            total = if i == 0 { v } else { total.checked_add(v).ok_or_else(|| Error::invalid_input("exception", "OverflowError"))? };
        }
        Ok(total)
    }
}

impl Session for Calc {
    fn new(_options: &SessionOptions) -> Self {
        Calc::default()
    }

    fn eval(&mut self, code: &str) -> Result<EvalOutput, Error> {
        let mut last = None;
        for line in code.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some((name, e)) = line.split_once('=') {
                let v = self.expr(e)?;
                self.vars.insert(name.trim().to_owned(), v);
                last = None;
            } else {
                last = Some(self.expr(line)?);
            }
        }
        Ok(EvalOutput {
            stdout: String::new(),
            repr: last.map(|v| v.to_string()),
            json: last.map(|v| v.to_string()),
        })
    }

    fn snapshot(&self) -> Result<Vec<u8>, Error> {
        Ok(self.vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect::<String>().into_bytes())
    }

    fn restore(snapshot: &[u8], options: &SessionOptions) -> Result<Self, Error> {
        let text = std::str::from_utf8(snapshot)
            .map_err(|_| Error::invalid_input("snapshot", "not a snapshot of this runner"))?;
        let mut s = Calc::new(options);
        s.eval(text)?;
        Ok(s)
    }
}

impl CodeRunner for Runner {
    type Session = Calc;
}

warden_sdk::export_code_runner!(Runner);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_persists_and_survives_snapshots() {
        let mut s = Calc::new(&SessionOptions::default());
        s.eval("x = 41").unwrap();
        assert_eq!(s.eval("x + 1").unwrap().repr.as_deref(), Some("42"));
        let mut r = Calc::restore(&s.snapshot().unwrap(), &SessionOptions::default()).unwrap();
        assert_eq!(r.eval("x + x").unwrap().repr.as_deref(), Some("82"));
        assert!(r.eval("y").is_err());
    }
}
