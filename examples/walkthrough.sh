#!/usr/bin/env bash
# Every Warden capability end to end, against a running server (`make run` in another
# terminal). It uses only the `warden` command line; each step checks its answer and the script
# stops at the first surprise.
#
#   bash examples/walkthrough.sh
#
# Environment (all optional):
#   WARDEN          the warden binary          [default: cargo run -q -p warden --]
#   WARDEN_SERVER   the server                 [default: http://127.0.0.1:8080]
#   WARDEN_TOKEN    a token with the admin, author, operator and pii-reader roles
#                   [default: minted from ./warden-data, the server's bootstrap secret]
#   PII_PLUGIN      a built pii-nz-uk-ids component      [default: built here]
#   TEMPLATE_PLUGIN a built template-prompt-filters one  [default: built here]
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${WARDEN:-}" ]]; then read -r -a W <<<"$WARDEN"; else W=(cargo run -q -p warden --); fi
export WARDEN_SERVER="${WARDEN_SERVER:-http://127.0.0.1:8080}"
if [[ -z "${WARDEN_TOKEN:-}" ]]; then
  WARDEN_TOKEN=$("${W[@]}" token issue --data-dir ./warden-data --sub walkthrough \
    --role admin --role author --role operator --role pii-reader --ttl 15m)
fi
export WARDEN_TOKEN
run_id="w$(date +%s)$$"   # keeps names unique when the walkthrough runs twice

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# expect TEXT PATTERN: the answer must contain PATTERN (a fixed string).
expect() {
  if ! grep -qF -- "$2" <<<"$1"; then
    echo "walkthrough: expected to see $2 in:" >&2
    echo "$1" >&2
    exit 1
  fi
}
field() { grep -o "\"$2\":\"[^\"]*\"" <<<"$1" | head -1 | cut -d'"' -f4; }
w() { "${W[@]}" "$@"; }

step "1. A prompt template with a variables schema, labelled for production"
cat >"/tmp/$run_id.schema.json" <<'JSON'
{"type": "object", "required": ["name"],
 "properties": {"name": {"type": "string"}, "topic": {"type": "string", "default": "your order"}}}
JSON
out=$(w template push "support-$run_id" -t 'Hello {{ name }}, about {{ topic }}:' \
  --schema "/tmp/$run_id.schema.json" --label production -m "first version")
echo "$out"
expect "$out" '"version":1'

step "2. Render it in the sandbox (defaults applied, variables validated)"
out=$(w template render "support-$run_id" --vars '{"name": "Ada"}')
echo "$out"
expect "$out" 'Hello Ada, about your order:'
out=$(w template render "support-$run_id" --vars '{"name": 42}' || true)
echo "$out"
expect "$out" '/name'

step "3. Find personal data with the built-in detector"
out=$(w pii detect --text 'Mail jane@example.com, TFN 123 456 782')
echo "$out"
expect "$out" '"entity_type":"EMAIL_ADDRESS"'
expect "$out" '"entity_type":"AU_TFN"'

step "4. Pseudonymise into an encrypted vault, then restore"
out=$(w api POST /v1/pii/anonymize -d '{"text": "Mail ada@example.com", "operators": {"default": {"type": "pseudonymize"}}}')
echo "$out"
expect "$out" '<EMAIL_ADDRESS_1>'
vault=$(field "$out" vault_id)
out=$(w api POST /v1/pii/deanonymize -d "{\"text\": \"Reply to <EMAIL_ADDRESS_1>\", \"vault_id\": \"$vault\"}")
echo "$out"
expect "$out" 'Reply to ada@example.com'

step "5. A Python session whose state carries from eval to eval"
out=$(w api POST /v1/sessions -d '{"limits": {"wall_time_ms": 500}}')
echo "$out"
session=$(field "$out" id)
w api POST "/v1/sessions/$session/eval" -d '{"code": "orders = [12, 30]\ntotal = sum(orders)"}' >/dev/null
out=$(w api POST "/v1/sessions/$session/eval" -d '{"code": "total + 1"}')
echo "$out"
expect "$out" '"repr":"43"'
out=$(w api POST "/v1/sessions/$session/eval" -d '{"code": "while True: pass"}' || true)
echo "$out"
expect "$out" '"outcome":"'
out=$(w api POST "/v1/sessions/$session/eval" -d '{"code": "total"}')
expect "$out" '"repr":"42"'
echo "(the runaway loop was stopped; the session kept its state)"

build() { # package stem -> path of the built component
  cargo build -q --release --target wasm32-wasip2 -p "$1" >&2
  echo "target/wasm32-wasip2/release/$2.wasm"
}

step "6. Your own PII detector (examples/pii-nz-uk-ids), merged with the built-in"
pii_plugin="${PII_PLUGIN:-$(build pii-nz-uk-ids pii_nz_uk_ids)}"
out=$(w plugin push "$pii_plugin" --name "nz-uk-ids-$run_id" --version 1.0.0 --description "NZ IRD and UK NINO")
echo "$out"
expect "$out" '"world":"pii-detector"'
out=$(w pii detect --text 'Mail ada@example.com, IRD 49-091-850' --detector pii --detector "nz-uk-ids-$run_id@1.0.0")
echo "$out"
expect "$out" '"entity_type":"EMAIL_ADDRESS"'
expect "$out" '"entity_type":"NZ_IRD"'

step "7. Your own template engine (examples/template-prompt-filters), pinned by a template"
template_plugin="${TEMPLATE_PLUGIN:-$(build template-prompt-filters template_prompt_filters)}"
w plugin push "$template_plugin" --name "prompt-filters-$run_id" --version 1.0.0 >/dev/null
out=$(w template push "triage-$run_id" --engine "prompt-filters-$run_id@1.0.0" \
  -t 'Ticket: {{ ticket | truncate_tokens(4) }} {"quote": "{{ ticket | json_escape }}"}')
echo "$out"
out=$(w template render "triage-$run_id" --vars '{"ticket": "It said \"error 42\" twice today"}')
echo "$out"
expect "$out" 'Ticket: It said \"error 42\"…'

step "8. The audit log: every step above, hash-chained"
out=$(w api GET "/v1/audit?limit=5")
echo "$out" | head -c 600; echo
out=$(w api GET /v1/audit/verify)
echo "$out"
expect "$out" '"ok":true'

printf '\n\033[1mwalkthrough complete\033[0m\n'
