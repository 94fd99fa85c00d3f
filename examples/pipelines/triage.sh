#!/usr/bin/env bash
# The ticket-triage pipeline end to end against a running server whose configuration has the
# providers `local` and `external` (see warden.toml beside this file).
#
#   bash examples/pipelines/triage.sh
#
# WARDEN, WARDEN_SERVER and WARDEN_TOKEN as for examples/walkthrough.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -n "${WARDEN:-}" ]]; then read -r -a W <<<"$WARDEN"; else W=(cargo run -q -p warden --); fi
export WARDEN_SERVER="${WARDEN_SERVER:-http://127.0.0.1:8080}"
if [[ -z "${WARDEN_TOKEN:-}" ]]; then
  WARDEN_TOKEN=$("${W[@]}" token issue --data-dir ./warden-data --sub triage \
    --role admin --role author --role operator --ttl 15m)
fi
export WARDEN_TOKEN
w() { "${W[@]}" "$@"; }
expect() {
  if ! grep -qF -- "$2" <<<"$1"; then
    echo "triage: expected to see $2 in:" >&2
    echo "$1" >&2
    exit 1
  fi
}

echo "== the prompt template and the pipeline"
w template push triage-prompt -f examples/pipelines/triage-prompt.j2 -m "triage prompt" >/dev/null
out=$(w pipeline import examples/pipelines/ticket-triage.yaml)
echo "$out"

echo "== a ticket with an email address: pseudonymised, sent to the external model, restored"
out=$(w pipeline run ticket-triage --vars '{"ticket": "URGENT: my parcel never came, write to jane.doe@example.com"}')
echo "$out"
expect "$out" '"priority":"high"'
expect "$out" '"routed_to":"external"'
expect "$out" 'jane.doe@example.com'

echo "== a ticket with a tax file number: kept on the local model"
out=$(w pipeline run ticket-triage --vars '{"ticket": "please update my TFN to 123 456 782"}')
echo "$out"
expect "$out" '"priority":"normal"'
expect "$out" '"routed_to":"local"'

echo "triage complete"
