"""Fixtures for the console's browser tests: the real `handover` binary serving the console over
HTTPS on loopback, Debian's chromium driven by Playwright (never `playwright install`), and helpers
that sign people in with a real TOTP code."""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHOTS = Path(os.environ.get("HANDOVER_SCREENSHOTS", ROOT / ".ci-work" / "console-screenshots"))
CHROMIUM = os.environ.get("HANDOVER_CHROMIUM", "/usr/lib/chromium/chromium")
PASSWORDS = {m: f"{m.lower()}-password" for m in ["RX1DISCH", "LA713SAFE", "LA713DUTY", "LA714SAFE", "LA714DUTY", "X99BOX", "CH1CARE"]}
SHARED_KEY = "BrowserTestKey"


OIDC_PERSON = {
    "sub": "alex.oidc@riverside.example.org", "email": "alex.oidc@riverside.example.org", "name": "Alex Oidc",
    "handover_roles": ["operator"], "handover_organisations": ["713"],
}


def wait_for_port(port, process, log, seconds=30):
    deadline = time.time() + seconds
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"nothing listens on {port}:\n" + Path(log).read_text())
        time.sleep(0.2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def totp(secret_b32, at=None):
    """RFC 6238 code for a base32 secret: HMAC-SHA1, six digits, 30-second steps."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int((at if at is not None else time.time()) // 30)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}", step


class Broker:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.port = free_port()
        self.console_port = free_port()
        self.binary = os.environ["HANDOVER_BINARY"]
        shutil.copytree(HERE / "routes", self.folder / "routes")
        (self.folder / "data").mkdir()
        env = dict(os.environ)
        env.update({f"{m}_PASSWORD": p for m, p in PASSWORDS.items()})
        env["HANDOVER_OIDC_CLIENT_SECRET"] = "console-client-secret"
        self.env = env
        # The OpenID provider stand-in (oidc-provider-mock from PyPI), with one predefined person.
        self.oidc_port = free_port()
        self.oidc_log = open(self.folder / "oidc.log", "w")
        self.oidc_process = subprocess.Popen(
            [str(Path(sys.executable).parent / "oidc-provider-mock"), "--port", str(self.oidc_port), "--require-nonce", "true",
             "--user-claims", json.dumps(OIDC_PERSON)],
            stdout=self.oidc_log, stderr=subprocess.STDOUT)
        wait_for_port(self.oidc_port, self.oidc_process, self.folder / "oidc.log")
        self.log = open(self.folder / "serve.log", "w")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--tls", "server", "--port", str(self.port), "--console-port", str(self.console_port),
             "--database", f"sqlite:{self.folder}/data/handover.sqlite", "--routes", "routes", "--shared-key", SHARED_KEY,
             "--log-format", "json", "--oidc-issuer", f"http://127.0.0.1:{self.oidc_port}", "--oidc-client-id", "handover-console"],
            cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while f"127.0.0.1:{self.console_port}" not in (self.folder / "serve.log").read_text():
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError("handover did not start:\n" + (self.folder / "serve.log").read_text())
            time.sleep(0.2)
        self.url = f"https://127.0.0.1:{self.console_port}"
        self.mesh_url = f"https://localhost:{self.port}"
        self.ca = str(self.folder / "Certs" / "dev" / "ca.pem")
        admin = (self.folder / "data" / "console-admin").read_text()
        self.admin = {
            "email": re.search(r"^email: (.+)$", admin, re.M).group(1),
            "password": re.search(r"^one-time password: (.+)$", admin, re.M).group(1),
            "secret": re.search(r"secret=([A-Z2-7]+)", admin).group(1),
        }
        self.admin_token = (self.folder / "data" / "admin-token").read_text().strip()
        self.last_step = {}
        self.people = {}

    def create_user(self, email, name, role, *extra):
        out = subprocess.run(
            [self.binary, "console", "user", "create", "--email", email, "--name", name, "--role", role, *extra,
             "--database", f"sqlite:{self.folder}/data/handover.sqlite"],
            cwd=self.folder, env=self.env, capture_output=True, text=True, check=True)
        password, uri = out.stdout.strip().splitlines()[-2:]
        person = {"email": email, "password": password, "secret": re.search(r"secret=([A-Z2-7]+)", uri).group(1)}
        self.people[email] = person
        return person

    def code(self, person):
        """A code for a time step this person has not used yet (each step is accepted once)."""
        while True:
            code, step = totp(person["secret"])
            if step > self.last_step.get(person["email"], -1):
                self.last_step[person["email"]] = step
                return code
            time.sleep(1)

    def mesh(self, mailbox):
        from mesh_client import MeshClient
        return MeshClient(self.mesh_url, mailbox, PASSWORDS[mailbox], shared_key=SHARED_KEY.encode(), verify=self.ca)

    def admin_get(self, path):
        import requests
        return requests.get(f"{self.mesh_url}/admin/{path}", headers={"Authorization": f"Bearer {self.admin_token}"}, verify=self.ca)

    def stop(self):
        for process in (self.process, self.oidc_process):
            process.terminate()
            process.wait(timeout=30)
        self.log.close()
        self.oidc_log.close()


@pytest.fixture(scope="session")
def broker():
    folder = tempfile.mkdtemp(prefix="handover-console-")
    b = Broker(folder)
    yield b
    b.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def sign_in(page, broker, person, new_password=None):
    """Signs in with email, password and a fresh TOTP code; sets a new password when asked."""
    page.goto(broker.url + "/console/sign-in")
    page.get_by_label("Email address").fill(person["email"])
    page.get_by_label("Password", exact=True).fill(person["password"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Security code").fill(broker.code(person))
    page.get_by_role("button", name="Sign in").click()
    if "/new-password" in page.url:
        chosen = new_password or ("Chosen-" + person["password"] + "-x")
        page.get_by_label("New password", exact=True).fill(chosen)
        page.get_by_label("New password again").fill(chosen)
        page.get_by_role("button", name="Save and continue").click()
        person["password"] = chosen
    assert "/sign-in" not in page.url, page.content()


def check_page(page, name):
    """Accessibility basics and screenshots at 1280 and 320 CSS pixels: one h1, a label for every
    control, no table wider than its column at 1280 px (a desktop reader should not scroll sideways),
    nothing wider than the screen at 320 px."""
    assert page.locator("h1").count() == 1, f"{name}: expected one h1"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name || e.id)""")
    assert unlabelled == [], f"{name}: controls without a label: {unlabelled}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    wide = page.evaluate("""() => [...document.querySelectorAll('.scroll')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => `${e.scrollWidth}px in ${e.clientWidth}px`)""")
    assert wide == [], f"{name}: tables wider than the page at 1280px: {wide}"
    page.set_viewport_size({"width": 320, "height": 720})
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    page.screenshot(path=str(SHOTS / f"{name}-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert overflow <= 320, f"{name}: the page is {overflow}px wide at 320px"
