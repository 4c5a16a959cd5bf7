#!/usr/bin/env bash
# `handover client` and `handover agent` against NHS's own mesh-sandbox (from PyPI, run with uvicorn,
# full authentication): a chunked send, a gzip send, listing, download and acknowledgement, tracking,
# the rich inbox, one agent pass each way, and the agent finding a send made before a crash by its
# local id rather than sending it twice. Usage: BINARY VENV WORKDIR
set -euo pipefail
BINARY=$1 VENV=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK/store"
port=$("$VENV/bin/python" -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
(cd "$WORK" && exec env AUTH_MODE=full STORE_MODE=file MAILBOXES_DATA_DIR="$WORK/store" SHARED_KEY=SandboxKey \
  "$VENV/bin/uvicorn" mesh_sandbox.api:app --host 127.0.0.1 --port "$port" --workers 1 --log-level warning) >"$WORK/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

cat >"$WORK/client.yaml" <<YAML
profiles:
  one: {url: "http://127.0.0.1:$port", mailbox: X26ABC1, password_env: SANDBOX_PASSWORD, shared_key_env: SANDBOX_KEY, chunk_size: 1024}
  two: {url: "http://127.0.0.1:$port", mailbox: X26ABC2, password_env: SANDBOX_PASSWORD, shared_key_env: SANDBOX_KEY, chunk_size: 1024}
YAML
export SANDBOX_PASSWORD=password SANDBOX_KEY=SandboxKey HANDOVER_CLIENT_CONFIG=$WORK/client.yaml
client() { "$BINARY" client "$@" 2>>"$WORK/client.log"; }
fail() { echo "FAILED: $*"; cat "$WORK/client.log" "$WORK/sandbox.log"; exit 1; }

head -c 5000 /dev/urandom >"$WORK/referral.bin"
id=$(client send "$WORK/referral.bin" --to X26ABC2 --workflow TEST_WORKFLOW --local-id interop-1 --profile one)
[ "$(client inbox --profile two)" = "$id" ] || fail "the inbox does not list $id"
client download "$id" --output "$WORK/received.bin" --ack --profile two >/dev/null
cmp -s "$WORK/referral.bin" "$WORK/received.bin" || fail "the five-chunk download differs from what was sent"
[ -z "$(client inbox --profile two)" ] || fail "the acknowledged message is still listed"
client track "$id" --profile one | grep -q acknowledged || fail "tracking does not say acknowledged"
client inbox --rich --profile two | grep -q "$id" || fail "the rich inbox does not list $id"
seq 1 5000 >"$WORK/notes.txt"
zipped=$(client send "$WORK/notes.txt" --gzip --to X26ABC2 --workflow TEST_WORKFLOW --profile one)
client download "$zipped" --output "$WORK/notes.out" --ack --profile two >/dev/null
cmp -s "$WORK/notes.txt" "$WORK/notes.out" || fail "the gzip download differs from what was sent"

AGENT=$WORK/agent && mkdir -p "$AGENT/X26ABC1/OUT/.sending"
echo "dropped in a folder" >"$AGENT/X26ABC1/OUT/p.dat"
printf '<DTSControl><To_DTS>X26ABC2</To_DTS><WorkflowId>TEST_WORKFLOW</WorkflowId><LocalId>interop-2</LocalId></DTSControl>' >"$AGENT/X26ABC1/OUT/p.ctl"
touch -d '5 seconds ago' "$AGENT/X26ABC1/OUT/p.dat" "$AGENT/X26ABC1/OUT/p.ctl"
# A pair left in flight by a crash after the sandbox accepted it (interop-1 was sent above).
cp "$WORK/referral.bin" "$AGENT/X26ABC1/OUT/.sending/q.dat"
printf '<DTSControl><To_DTS>X26ABC2</To_DTS><WorkflowId>TEST_WORKFLOW</WorkflowId><LocalId>interop-1</LocalId></DTSControl>' >"$AGENT/X26ABC1/OUT/.sending/q.ctl"
"$BINARY" agent run --once --folder "$AGENT" --profile one 2>>"$WORK/client.log"
grep -q "<DTSId>$id</DTSId>" "$AGENT/X26ABC1/SENT/q.ctl" || fail "the pair in flight was not matched to $id"
[ -f "$AGENT/X26ABC1/SENT/p.ctl" ] || fail "the dropped pair was not sent"
"$BINARY" agent run --once --folder "$AGENT" --profile two 2>>"$WORK/client.log"
[ "$(ls "$AGENT/X26ABC2/IN"/*.dat | wc -l)" = 1 ] || fail "the recipient's agent did not receive exactly one message"
grep -q "dropped in a folder" "$AGENT/X26ABC2/IN"/*.dat || fail "the received file differs"
[ -z "$(client inbox --profile two)" ] || fail "the agent did not acknowledge what it received"
echo "handover client and agent against mesh-sandbox: all checks passed"
