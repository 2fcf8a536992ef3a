"""Schema-driven fuzzing of the live service with schemathesis.

Every operation in /openapi.json, log-out included, gets generated valid and
invalid requests (a fixed number per operation, a fixed seed), and every
check schemathesis has must pass: no server error, status codes, content
types, headers and bodies as documented, every request the document allows
accepted and every request it forbids rejected.
"""

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import PASSWORD, USERNAME, Server, serving

pytestmark = pytest.mark.serving

OPERATION_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}

# A documentation address (RFC 5737), only ever sent as a header value: the
# fuzzed requests come through the proxy from this client, so the failed
# logins they make exhaust its limit, not the one schemathesis logs in from.
FUZZ_CLIENT_ADDRESS = "192.0.2.7"

# schemathesis logs in with POST /auth/token itself, again whenever a request
# answers 401 (after the fuzzed log-out revoked its token). Knowing that this
# operation mints credentials, it also takes a 400 for well-formed but unknown
# credentials as an answer about the credentials, not about the document.
CONFIG = f"""
[auth.dynamic.openapi.bearerAuth]
path = "/auth/token"
payload = {{ username = "{USERNAME}", password = "{PASSWORD}" }}
extract_selector = "/token"

# 412 answers a well-formed request whose If-Match names another version of
# the task: like 404 for an id that is not the caller's, it is about the
# server's state, not the request's shape, and it comes before the body is
# looked at (RFC 9110 section 13.2.2), so a malformed body with a stale tag
# is 412 too. The checks stay on; they learn what else a request may meet.
#
# 422 answers a create whose Idempotency-Key was used before with another
# body (the stateful phase repeats header values): state, like 409 for a key
# still in flight.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]

[checks.negative_data_rejection]
expected-statuses = [
    "400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428", "429", "5xx",
]

# Cursors are minted by the server and signed: only one read from a list's
# `next` or `previous` link, or from a sync answer, is valid, and a made-up
# one is a 400 by design, so the fuzz goes without (empty means not given).
# tasks/tests/test_cursor_paging.py and test_changes.py follow real cursors and
# forged ones.
[[operations]]
include-operation-id = "listTasks"
parameters = {{ cursor = "" }}

[[operations]]
include-operation-id = "listChanges"
parameters = {{ cursor = "" }}

# No document can know the caller's password: a well-formed change with the
# wrong old password is a 400 naming #/old_password, as a log-in with unknown
# credentials is a 400 (accounts/tests/test_password.py covers both answers).
[[operations]]
include-operation-id = "changePassword"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "412", "422", "429", "5xx",
]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, static_root: Path) -> Iterator[Server]:
    """Gunicorn behind one proxy; plain HTTP is not redirected, for schemathesis's own log-in requests."""
    with serving(
        tmp_path_factory.mktemp("fuzz"),
        static_root,
        WEB_CONCURRENCY="2",
        LOGIN_FAILURES_PER_ADDRESS="5",
        LOGIN_FAILURE_WINDOW_SECONDS="3600",
        # The fuzzed password changes fail at the fuzz user's name; its own
        # log-ins must still get through.
        LOGIN_FAILURES_PER_USERNAME="100000",
        NUM_PROXIES="1",
        DJANGO_SECURE_SSL_REDIRECT="false",
    ) as running:
        yield running


def test_every_operation_passes_every_check(server: Server, tmp_path: Path) -> None:
    """No check is off and no operation left out; a disagreement is a bug in the document or the server."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)

    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "st"),
            f"--config-file={config}",
            "run",
            f"{server.base_url}/openapi.json",
            "--checks=all",
            f"--header=X-Forwarded-For: {FUZZ_CLIENT_ADDRESS}",
            "--max-examples=25",
            "--seed=20261125",
            "--generation-database=none",
            "--workers=1",
            "--no-color",
            f"--report-dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )

    print(result.stdout[-2500:])  # the summary, shown with pytest -s
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    document = server.request("GET", "/openapi.json", auth=False).json()
    operations = sum(method in OPERATION_METHODS for item in document["paths"].values() for method in item)
    assert re.search(rf"Selected: {operations}/{operations}\s+Tested: {operations}\b", result.stdout), (
        result.stdout
    )
