#!/usr/bin/env bash
# Runs NHS mesh-sandbox's own inbox tests (mesh_sandbox/tests/inbox.py: the inbox count and the
# paginated inbox, rich inbox and rich outbox, in both API versions) against `handover serve --sandbox`
# over plain HTTP. Usage: BINARY VENV WORKDIR
set -euo pipefail
BINARY=$1 VENV=$2 WORK=$3
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$WORK" && mkdir -p "$WORK/db"
"$BINARY" serve --sandbox --console off --tls off --port 0 --log-format json --routes "$ROOT/Tests/Fixtures/mesh-sandbox-routes" \
  --database "sqlite:$WORK/db/handover.sqlite" >"$WORK/broker.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
port=
for _ in $(seq 1 200); do
  port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$WORK/broker.log" | head -1 | sed 's/.*://') || true
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "the broker did not start:"; cat "$WORK/broker.log"; exit 1; }
# The sandbox's own test module, from the installed package, with its `app` fixture pointed at the broker.
TESTS=$("$VENV/bin/python" -c "import mesh_sandbox.tests.inbox as m; print(m.__file__)")
(cd "$WORK" && PYTHONPATH="$ROOT/Tests/Interop" HANDOVER_URL="http://127.0.0.1:$port" \
  "$VENV/bin/python" -m pytest -p sandbox_app -p no:cacheprovider -q "$TESTS" -k "test_inbox_count or test_paginated_inbox_outbox")
