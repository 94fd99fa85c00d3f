"""The official `openai` Python package as a Warden client, driven by tests/openai.rs.

Usage: client.py SPEC_JSON. SPEC holds `base_url`, `api_key`, `op` and `request`; the result is
printed as one JSON document: what the client returned, or the error it raised.
"""

import json
import sys

import openai


def main() -> None:
    spec = json.loads(sys.argv[1])
    client = openai.OpenAI(base_url=spec["base_url"], api_key=spec["api_key"], max_retries=0, timeout=60)
    op, request = spec["op"], spec.get("request", {})
    try:
        if op == "chat":
            out = json.loads(client.chat.completions.create(**request).model_dump_json())
        elif op == "stream":
            deltas, args, finish, usage = [], {}, None, None
            for chunk in client.chat.completions.create(stream=True, **request):
                if chunk.usage is not None:
                    usage = chunk.usage.total_tokens
                for c in chunk.choices:
                    deltas.append(c.delta.content or "")
                    for t in c.delta.tool_calls or []:
                        piece = (t.function.arguments or "") if t.function else ""
                        args.setdefault(str(t.index), []).append(piece)
                    finish = c.finish_reason or finish
            out = {"deltas": deltas, "tool_args": args, "finish": finish, "usage": usage}
        elif op == "stream_abort":
            stream = client.chat.completions.create(stream=True, **request)
            first = next(iter(stream))
            stream.close()
            out = {"first": first.choices[0].delta.content if first.choices else None}
        elif op == "models":
            out = {"ids": [m.id for m in client.models.list()]}
        elif op == "embed":
            out = json.loads(client.embeddings.create(**request).model_dump_json())
        else:
            raise SystemExit(f"unknown op {op}")
    except openai.APIStatusError as e:
        out = {"status": e.status_code, "body": e.body}
    except openai.APIError as e:
        out = {"stream_error": e.message, "body": e.body}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
