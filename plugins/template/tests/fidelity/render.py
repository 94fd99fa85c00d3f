#!/usr/bin/env python3
"""The reference side of the template fidelity suite: renders every case with Python's Jinja2.

Chat templates render in the environment Hugging Face transformers builds for
`apply_chat_template` (jinja2 ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks,
the loopcontrols extension and a `{% generation %}` tag; `tojson` as json.dumps with
ensure_ascii=False and sort_keys=False; the raise_exception and strftime_now globals) with the
arguments transformers passes. Jinja2 cases render in a default `jinja2.Environment()`.

Usage: render.py CHAT_TEMPLATES CONVERSATIONS JINJA2_CASES > results.json
Prints {"chat": {id: result}, "jinja2": {id: result}} where a result is {"output": text} or
{"error": message, "raised": bool}.
"""

import json
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

SPECIAL_TOKENS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]


class Raised(TemplateError):
    """What raise_exception raises (transformers raises a plain TemplateError)."""


def raise_exception(message):
    raise Raised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


class Generation(Extension):
    """transformers' AssistantTracker without the tracking: the block renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation"), [], [], body).set_lineno(lineno)

    def _generation(self, caller):
        return caller()


def hf_environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_text(v):
    return v["content"] if isinstance(v, dict) else v


def apply_chat_template(env, template, request):
    """What transformers' apply_chat_template(tokenize=False) does with one conversation."""
    request = dict(request)
    messages = request.pop("messages")
    tools = request.pop("tools", None)
    documents = request.pop("documents", None)
    add_generation_prompt = request.pop("add_generation_prompt", False)
    continue_final_message = request.pop("continue_final_message", False)
    if continue_final_message and add_generation_prompt:
        raise ValueError("continue_final_message and add_generation_prompt are not compatible")
    kwargs = {k: (token_text(v) if k.endswith("_token") else v) for k, v in request.items()}
    compiled = env.from_string(template)
    rendered = compiled.render(
        messages=messages, tools=tools, documents=documents, add_generation_prompt=add_generation_prompt, **kwargs
    )
    if continue_final_message:
        final = messages[-1]["content"]
        if isinstance(final, (list, tuple)):
            final = next(block["text"] for block in reversed(final) if "text" in block)
        if final.strip() not in rendered:
            raise ValueError("the final message does not appear in the rendered chat")
        rendered = rendered[: rendered.rindex(final.strip()) + len(final.strip())]
    return rendered


def attempt(fn):
    try:
        return {"output": fn()}
    except Raised as e:
        return {"error": str(e), "raised": True}
    except Exception as e:  # noqa: BLE001 - any failure is a result to compare
        return {"error": f"{type(e).__name__}: {e}", "raised": False}


def main():
    chat_path, conversations_path, cases_path = sys.argv[1:4]
    with open(chat_path, encoding="utf-8") as f:
        templates = json.load(f)
    with open(conversations_path, encoding="utf-8") as f:
        conversations = json.load(f)
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)

    results = {"jinja2_version": jinja2.__version__, "chat": {}, "jinja2": {}}
    for t in templates:
        for conv in t["conversations"]:
            request = dict(conversations[conv])
            request.update(t.get("tokens", {}))
            request.update(t.get("extra", {}))
            env = hf_environment()
            results["chat"][f"{t['id']}@{conv}"] = attempt(lambda: apply_chat_template(env, t["template"], request))
    for case in cases:
        env = jinja2.Environment(**case.get("env", {}))
        results["jinja2"][case["id"]] = attempt(
            lambda: env.from_string(case["template"]).render(**case.get("context", {}))
        )
    json.dump(results, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
