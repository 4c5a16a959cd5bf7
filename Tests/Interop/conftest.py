"""Points mesh-client's own black-box suite (tests/mesh_sandbox_tests.py) at a Handover broker.

Copied into the unpacked mesh-client source distribution's tests/ folder by Tests/Interop/run.sh.
The suite hard-codes SANDBOX_ENDPOINT in tests/helpers.py; this replaces it from the environment
before the test module imports it, so no test file is edited.
"""
import os

from mesh_client import Endpoint

import tests.helpers as helpers

_url = os.environ.get("MESH_TEST_URL")
if _url:
    _ca = os.environ.get("MESH_TEST_CA") or None
    _cert = os.environ.get("MESH_TEST_CERT")
    _key = os.environ.get("MESH_TEST_KEY")
    helpers.SANDBOX_ENDPOINT = Endpoint(_url, _ca, (_cert, _key) if _cert and _key else None, False, False)
