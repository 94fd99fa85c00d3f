#!/usr/bin/env bash
# Schemathesis against a real `warden serve`: every operation in /openapi.json, generated
# requests with an admin token, checked for server errors and for conformance to the document
# (status codes, content types, response schemas). Runnable by hand; results in
# docs/reliability.md.
#
#   bash tests/schemathesis.sh            # 25 examples per operation
#   EXAMPLES=200 bash tests/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rustup toolchain install >/dev/null 2>&1 || rustup toolchain install
venv=target/bench/venv
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "schemathesis==4.32.5"
cargo build -q -p warden
data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
lift="requests_per_second = 100000\nburst = 100000\nactor_requests_per_second = 100000\nactor_burst = 100000\n"
printf "[quota.caps]\n$lift[quota.defaults]\n$lift" >"$data/warden.toml"
WARDEN_LOG=error target/debug/warden serve --listen "127.0.0.1:$port" --data-dir "$data" \
  --config "$data/warden.toml" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 1
done
token=$(target/debug/warden token issue --data-dir "$data" --config "$data/warden.toml" \
  --role admin --role author --role operator --role auditor --role pii-reader --ttl 1h)
"$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $token" \
  -c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  -n "${EXAMPLES:-25}"
