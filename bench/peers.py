"""The alternatives Warden is compared with, measured on the same inputs as `compare` (the
Rust side): Jinja2's SandboxedEnvironment, Presidio's pattern recognizers, pydantic-monty
natively, a CPython subprocess per step, and RestrictedPython in-process.

Run by bench/run inside its virtual environment; writes one JSON document (the path is the
first argument). A peer that cannot be imported is reported as unavailable with the reason,
never silently skipped.
"""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INPUTS = json.loads((HERE / "inputs.json").read_text())
CORPUS = HERE.parent.parent / "shared" / "pii" / "dev.jsonl"


def timed(fn, iters):
    for _ in range(max(1, iters // 10)):
        fn()
    samples = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    samples.sort()
    return {
        "median_us": statistics.median(samples) * 1e6,
        "p99_us": samples[min(len(samples) - 1, len(samples) * 99 // 100)] * 1e6,
        "iters": iters,
    }


def jinja2_sandbox():
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    out = {"version": jinja2.__version__, "templates": {}}  # noqa: the module has it
    for name, t in INPUTS["templates"].items():
        ctx = json.loads(t["context"])
        # Per call, as Warden does: parse and render (no template cache across calls).
        out["templates"][name] = timed(lambda: env.from_string(t["template"]).render(ctx), 2000)
        cached = env.from_string(t["template"])
        out["templates"][name]["cached_median_us"] = timed(lambda: cached.render(ctx), 2000)["median_us"]
    return out


def presidio():
    import importlib.metadata
    import logging

    # tldextract tries to download the public suffix list; offline it falls back to its bundled
    # copy, after a noisy warning.
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)
    import presidio_analyzer
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

    class NoNlp(NlpEngine):
        """Pattern recognizers only: no model is downloaded or loaded."""

        def load(self):
            pass

        def is_loaded(self):
            return True

        def process_text(self, text, language):
            return NlpArtifacts(entities=[], tokens=[], tokens_indices=[], lemmas=[], nlp_engine=self, language=language)

        def process_batch(self, texts, language, batch_size=1, n_process=1, **kwargs):
            for t in texts:
                yield t, self.process_text(t, language)

        def is_stopword(self, word, language):
            return False

        def is_punct(self, word, language):
            return False

        def get_supported_entities(self):
            return []

        def get_supported_languages(self):
            return ["en"]

    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    # The Australian recognizers are off by default; the corpus has AU identifiers.
    from presidio_analyzer.predefined_recognizers import (
        AuAbnRecognizer, AuMedicareRecognizer, AuTfnRecognizer,
    )
    for r in (AuAbnRecognizer(), AuMedicareRecognizer(), AuTfnRecognizer()):
        registry.add_recognizer(r)
    engine = AnalyzerEngine(registry=registry, nlp_engine=NoNlp(), supported_languages=["en"])
    rows = [json.loads(l) for l in CORPUS.read_text().splitlines() if l.strip()]
    found = []
    t = time.perf_counter()
    for row in rows:
        res = engine.analyze(text=row["text"], language="en")
        found.append([(r.entity_type, r.start, r.end, r.score) for r in res])
    elapsed = time.perf_counter() - t
    size = sum(len(r["text"].encode()) for r in rows)
    return {
        "version": importlib.metadata.version("presidio-analyzer"),
        "texts": len(rows),
        "seconds": elapsed,
        "texts_per_s": len(rows) / elapsed,
        "mb_per_s": size / elapsed / 1e6,
        "findings": found,
        # What Presidio ran: Warden is measured asking for the same types.
        "entities": sorted(engine.get_supported_entities(language="en")),
    }


def monty():
    import importlib.metadata

    import pydantic_monty

    code = INPUTS["python"]["code"]
    out = {"version": importlib.metadata.version("pydantic-monty")}
    # pydantic-monty 1.4 runs the interpreter in a pool of worker processes. Cold: a fresh
    # session from the (started) pool and its first eval; warm: the next eval in a session.
    with pydantic_monty.Monty() as pool:
        def cold():
            with pool.checkout() as s:
                s.feed_run(code)

        out["cold"] = timed(cold, 300)
        with pool.checkout() as s:
            s.feed_run(INPUTS["python"]["setup"])
            out["warm"] = timed(lambda: s.feed_run(code), 300)

    def pool_start():
        with pydantic_monty.Monty() as p, p.checkout() as s:
            s.feed_run(code)

    out["pool_start_and_first_eval"] = timed(pool_start, 20)
    return out


def cpython_subprocess():
    code = INPUTS["python"]["code"]
    return {
        "version": sys.version.split()[0],
        "cold": timed(lambda: subprocess.run([sys.executable, "-c", f"print({code})"], check=True, capture_output=True), 30),
    }


def restricted_python():
    import importlib.metadata

    from RestrictedPython import compile_restricted, safe_globals

    code = "result = " + INPUTS["python"]["code"]

    def run():
        byte_code = compile_restricted(code, "<cell>", "exec")
        g = dict(safe_globals)
        # The "safe builtins" orchestrators hand out, plus what the cell uses.
        g["__builtins__"] = {**safe_globals["__builtins__"], "sum": sum}
        g["_getiter_"] = iter
        g["_getitem_"] = lambda o, k: o[k]
        exec(byte_code, g)

    return {"version": importlib.metadata.version("RestrictedPython"), "cold": timed(run, 500)}


def main():
    # `peers.py OUT [NAME…]`: measure only the named peers, keeping the others' earlier figures.
    only = set(sys.argv[2:])
    path = Path(sys.argv[1])
    out = json.loads(path.read_text()) if only and path.exists() else {}
    for name, fn in [("jinja2_sandbox", jinja2_sandbox), ("presidio", presidio), ("monty", monty),
                     ("cpython_subprocess", cpython_subprocess), ("restricted_python", restricted_python)]:
        if only and name not in only:
            continue
        try:
            out[name] = fn()
            print(f"{name}: ok", file=sys.stderr)
        except Exception as e:
            out[name] = {"unavailable": f"{type(e).__name__}: {e}"}
            print(f"{name}: unavailable: {e}", file=sys.stderr)
    path.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
