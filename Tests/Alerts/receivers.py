"""Loopback receivers for Handover's alert tests (run by the Swift tests; not a service).

  receivers.py http  LOG SCHEMAS         an HTTP receiver: every POST is validated against
                                          SCHEMAS/<first path segment>.schema.json (when there is one)
                                          and logged to LOG as a JSON line
  receivers.py smtp  LOG CERT KEY [--plain] [--refuse ADDRESS] [--user U --password P]
                                          an aiosmtpd sink that requires STARTTLS (unless --plain),
                                          refuses RCPT for ADDRESS with 550, and logs each message
  receivers.py silent                     accepts connections and never says a word (a stalled relay)
  receivers.py inject                     a relay that answers STARTTLS with its 220 and a plain-text
                                          reply behind it (the STARTTLS injection flaw)

Each prints "PORT <n>" on its first line of output once it is listening, then runs until killed.
"""
import asyncio
import json
import os
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def append(log, entry):
    with open(log, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


def serve_http(log, schemas):
    import jsonschema

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length).decode("utf-8", "replace")
            name = self.path.strip("/").split("/")[0]
            entry = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw,
                     "valid": None, "errors": []}
            try:
                body = json.loads(raw)
                schema_file = os.path.join(schemas, name + ".schema.json")
                if os.path.exists(schema_file):
                    with open(schema_file) as f:
                        validator = jsonschema.Draft202012Validator(json.load(f))
                    entry["errors"] = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
                    entry["valid"] = not entry["errors"]
            except ValueError as e:
                entry["valid"], entry["errors"] = False, [f"not JSON: {e}"]
            append(log, entry)
            status = 202 if name == "pagerduty" else 200
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status":"success"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


def serve_smtp(log, cert, key, plain, refuse, user, password):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Sink:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if refuse and address.lower() == refuse.lower():
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            append(log, {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None,
                         "authenticated": bool(session.authenticated), "data": envelope.content.decode("utf-8", "replace")})
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = user is not None and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    options = {"hostname": "127.0.0.1", "port": free_port()}
    if not plain:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(tls_context=context, require_starttls=True)
    if user:
        options.update(authenticator=authenticator, auth_require_tls=not plain, auth_exclude_mechanism=["LOGIN"])
    controller = Controller(Sink(), **options)
    controller.start()
    print(f"PORT {options['port']}", flush=True)
    threading.Event().wait()


def serve_silent():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)


def serve_inject():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    while True:
        connection, _ = listener.accept()
        connection.sendall(b"220 relay ready\r\n")
        reader = connection.makefile("rb")
        for line in reader:
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                connection.sendall(b"250-relay\r\n250 STARTTLS\r\n")
            elif command == b"STARTTLS":
                connection.sendall(b"220 go ahead\r\n250 2.0.0 injected before TLS\r\n")
            else:
                break
        connection.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def option(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "http":
        serve_http(sys.argv[2], sys.argv[3])
    elif mode == "smtp":
        serve_smtp(sys.argv[2], sys.argv[3], sys.argv[4], "--plain" in sys.argv, option("--refuse"), option("--user"), option("--password"))
    elif mode == "silent":
        serve_silent()
    elif mode == "inject":
        serve_inject()
    else:
        sys.exit(f"unknown mode {mode}")
