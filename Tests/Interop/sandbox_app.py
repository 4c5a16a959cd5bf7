"""Runs NHS mesh-sandbox's own tests against a Handover broker, as a pytest plugin (-p sandbox_app).

The sandbox's tests take an `app` fixture, a FastAPI TestClient over the sandbox in the same process.
This plugin replaces that fixture, before the sandbox's conftest is collected, with an HTTP client
for the broker at HANDOVER_URL (`handover serve --sandbox`), and resets the broker's mailboxes before
each test, as the sandbox's own fixture clears its store. No test file is edited.
"""
import os

import httpx
import pytest

import mesh_sandbox.conftest as sandbox_conftest


@pytest.fixture(name="app")
def handover_app():
    with httpx.Client(base_url=os.environ["HANDOVER_URL"], timeout=30) as client:
        assert client.delete("/admin/reset").status_code == 200
        yield client


sandbox_conftest.test_app = handover_app
