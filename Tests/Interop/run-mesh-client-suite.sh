#!/usr/bin/env bash
# Runs mesh-client's tests/mesh_sandbox_tests.py against `handover serve --sandbox` twice: over plain
# HTTP and over TLS with a certificate made for the run. Usage: BINARY VENV SDIST WORKDIR
set -euo pipefail
BINARY=$1 VENV=$2 SDIST=$3 WORK=$4
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$WORK" && mkdir -p "$WORK"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_broker() { # name, extra args...
  local name=$1; shift
  "$BINARY" serve --sandbox --console off --port 0 --log-format json --routes "$ROOT/Tests/Fixtures/mesh-client-routes" \
    --database "sqlite:$WORK/$name/handover.sqlite" "$@" >"$WORK/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$WORK/$name.log" | head -1 | sed 's/.*://') || true
    [ -n "${port:-}" ] && return 0
    sleep 0.05
  done
  echo "broker $name did not start:"; cat "$WORK/$name.log"; exit 1
}

# A throwaway CA and a server certificate for localhost, for the TLS run.
CERTS=$WORK/certs && mkdir -p "$CERTS"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Handover interop CA" \
  -keyout "$CERTS/ca.key" -out "$CERTS/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$CERTS/server.key" -out "$CERTS/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$CERTS/ext.cnf"
openssl x509 -req -in "$CERTS/server.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" -CAcreateserial -days 2 \
  -extfile "$CERTS/ext.cnf" -out "$CERTS/server.pem" 2>/dev/null

status=0
mkdir -p "$WORK/http" "$WORK/tls"
start_broker http --tls off
echo "-- plain HTTP on 127.0.0.1:$port"
(cd "$SDIST" && MESH_TEST_URL="http://127.0.0.1:$port" "$VENV/bin/python" -m pytest tests/mesh_sandbox_tests.py -q -p no:cacheprovider) || status=1

start_broker tls --tls server --cert "$CERTS/server.pem" --key "$CERTS/server.key"
echo "-- TLS on https://localhost:$port"
# requests lets REQUESTS_CA_BUNDLE override the endpoint's CA (reference §11), so point it at ours.
(cd "$SDIST" && REQUESTS_CA_BUNDLE="$CERTS/ca.pem" CURL_CA_BUNDLE="$CERTS/ca.pem" MESH_TEST_URL="https://localhost:$port" \
  MESH_TEST_CA="$CERTS/ca.pem" "$VENV/bin/python" -m pytest tests/mesh_sandbox_tests.py -q -p no:cacheprovider) || status=1

if grep -q '"level":"error"' "$WORK"/*.log; then echo "broker logged errors:"; grep '"level":"error"' "$WORK"/*.log; status=1; fi
exit $status
