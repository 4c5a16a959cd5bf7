"""scripts/bench-wrk with real wrk against a stand-in broker that checks and records every request."""

import collections
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "bench-wrk"
CONNECTIONS = 4

# Called as `broker serve … --port N …`: answers /health, and 202 to each send after noting its
# path, recipient, token and body length (one line a request, so nothing is lost when it is killed).
STAND_IN = """
import http.server, os, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
log = open(os.environ["STAND_IN_LOG"], "a", buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        self.answer(200 if self.path == "/health" else 404)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        log.write(" ".join([self.path, self.headers.get("Mex-To", "-"), self.headers.get("Mex-WorkflowID", "-"),
                            str(len(body)), self.headers.get("Authorization", "-").replace(" ", "_")]) + "\\n")
        self.answer(202)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (scripts/test installs it from Debian's packages)")
def test_every_send_carries_its_own_token_and_a_1_kib_body(tmp_path):
    (tmp_path / "stand_in.py").write_text(STAND_IN)
    broker = tmp_path / "broker"
    broker.write_text(f'#!/bin/sh\nexec {sys.executable} {tmp_path / "stand_in.py"} "$@"\n')
    broker.chmod(0o755)
    log = tmp_path / "requests.log"
    out = subprocess.run([str(SCRIPT), "2", str(CONNECTIONS)], capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "HANDOVER_BIN": str(broker), "STAND_IN_LOG": str(log)}).stdout

    requests = [line.split(" ") for line in log.read_text().splitlines()]
    assert len(requests) > 50, out
    tokens = collections.Counter(token for *_, token in requests)
    assert [token for token, uses in tokens.items() if uses > 1] == []
    for path, recipient, workflow, length, token in requests:
        sender = re.fullmatch(r"/messageexchange/(BENCH00[0-7])/outbox", path).group(1)
        assert token.startswith(f"NHSMESH_{sender}:") and recipient != sender and recipient.startswith("BENCH00")
        assert (workflow, length) == ("BENCH_WF", "1024")
    summary = re.search(r"durable sends: (\d+)/s \((\d+) answered other than 202\)", out)
    assert summary and summary.group(2) == "0" and int(summary.group(1)) > 0, out
    # wrk counts the answers it read before its clock ran out; the stand-in also logged those still in
    # flight then, at most one a connection.
    answered = int(re.search(r"^sends answered 202: (\d+)$", out, re.M).group(1))
    assert len(requests) - CONNECTIONS <= answered <= len(requests), (answered, len(requests), out)
    # The broker's own counters over the run, per send answered: the stand-in spends CPU on every request.
    per_send = re.search(r"^per send: broker CPU ([\d.]+) ms, storage writes ([\d.]+) KiB$", out, re.M)
    assert per_send and float(per_send.group(1)) > 0, out
