"""Extracts Presidio's parametrised recognizer test cases into JSON lines, for Warden's
`presidio` benchmark (per-type precision and recall on the cases Presidio's own recognizers pass).

    python3 bench/presidio_cases.py PRESIDIO_CHECKOUT > bench/presidio_cases.jsonl

Reads `presidio-analyzer/tests/test_*_recognizer.py` with `ast` (nothing is imported or run) and
keeps every `pytest.mark.parametrize` case that gives a text and the spans expected in it:
argument names `text` with `expected_positions`/`expected_position`/`expected_start`+`expected_end`
and `expected_len`, or `text` with `expected_len` alone when it is 0 (a text with nothing to
find). The entity type is the `entities` fixture's, or the case's own `entities` argument.
Offsets are Presidio's (characters). Tests of NLP engines, LLM or cloud recognizers and of the
recognizer classes themselves are skipped: they have no pattern-recognizer counterpart.
"""

import ast
import json
import sys
from pathlib import Path

SKIP = {
    "test_ahds_recognizer.py", "test_azure_ai_language_recognizer.py",
    "test_azure_openai_langextract_recognizer.py", "test_basic_langextract_recognizer.py",
    "test_gliner_recognizer.py", "test_huggingface_ner_recognizer.py", "test_lm_recognizer.py",
    "test_medical_ner_recognizer.py", "test_spacy_recognizer.py", "test_stanza_recognizer.py",
    "test_transformers_recognizer.py", "test_entity_recognizer.py", "test_pattern_recognizer.py",
}


def fixture_entities(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "entities":
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return):
                    try:
                        value = ast.literal_eval(ret.value)
                    except ValueError:
                        return None
                    return list(value) if isinstance(value, (list, tuple)) else [value]
    return None


def spans(args):
    if "expected_positions" in args:
        return [list(p) for p in args["expected_positions"]]
    if "expected_position" in args:
        p = args["expected_position"]
        return [list(p)] if p else []
    if "expected_start" in args and "expected_end" in args:
        return [[args["expected_start"], args["expected_end"]]] if args.get("expected_len", 1) else []
    if args.get("expected_len") == 0:
        return []
    return None


def main(root):
    tests = Path(root) / "presidio-analyzer" / "tests"
    for path in sorted(tests.glob("test_*_recognizer.py")):
        if path.name in SKIP:
            continue
        tree = ast.parse(path.read_text())
        default = fixture_entities(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize" and len(dec.args) >= 2):
                    continue
                try:
                    names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
                except (ValueError, AttributeError):
                    continue
                if "text" not in names or not isinstance(dec.args[1], (ast.List, ast.Tuple)):
                    continue
                for element in dec.args[1].elts:
                    try:
                        values = ast.literal_eval(element)
                    except ValueError:
                        continue
                    if not isinstance(values, tuple) or len(values) < len(names):
                        continue
                    args = dict(zip(names, values))
                    entities = args.get("entities") or default
                    expected = spans(args)
                    if not entities or expected is None or not isinstance(args["text"], str):
                        continue
                    if "expected_len" in args and args["expected_len"] != len(expected):
                        continue  # positions list only some of the findings: not a whole case
                    print(json.dumps({
                        "file": path.name,
                        "test": node.name,
                        "entities": list(entities),
                        "text": args["text"],
                        "spans": expected,
                    }, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
