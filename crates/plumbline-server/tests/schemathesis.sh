#!/usr/bin/env bash
# A bounded Schemathesis pass against a scratch server (`.ci/run`): every documented
# operation but the NDJSON import (Schemathesis cannot serialize NDJSON bodies), checked for
# no 5xx, documented status codes and content types, and responses that match their
# schemas and headers.
# Usage: schemathesis.sh [PLUMBLINE_BINARY]; SCHEMATHESIS_EXAMPLES sets the examples per
# operation (default 25).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../../.."
bin="${1:-$root/target/debug/plumbline}"
command -v schemathesis >/dev/null || python3 -m pip install -q schemathesis
dir="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
export PLUMBLINE_DB="sqlite://$dir/plumbline.db"
"$bin" project create --name bank --rubric "$root/examples/banking/rubric.toml" >/dev/null
"$bin" import --project bank "$root/examples/banking/items.jsonl" >/dev/null 2>&1
printf 'schemathesis-%s\n' "$RANDOM$RANDOM" | "$bin" user add lead --password-stdin --admin >/dev/null
"$bin" member add --project bank --user lead --role lead >/dev/null
token="$("$bin" token create --user lead --scopes read,annotate,review,import,export,admin 2>/dev/null | tail -n 1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --listen "127.0.0.1:$port" --releases-dir "$dir/releases" >"$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
cd "$dir"
# Path parameters name the seeded project, so operations reach their handlers.
printf 'parameters = { "project" = "bank" }\n' >schemathesis.toml
schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --exclude-operation-id import_items \
  --phases examples,coverage,fuzzing \
  -n "${SCHEMATHESIS_EXAMPLES:-25}" \
  --no-color
