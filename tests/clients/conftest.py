"""The live service that generated clients talk to (see tests/live.py), and a user of each scenario's own."""

import uuid
from collections.abc import Iterator

import pytest

from tests.clients.scenarios import Account
from tests.live import PASSWORD, Server, manage, serving


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Gunicorn with two workers on a fresh database; plain HTTP, as a client on the host reaches it."""
    with serving(
        tmp_path_factory.mktemp("clients"),
        tmp_path_factory.mktemp("static"),
        WEB_CONCURRENCY="2",
        DJANGO_SECURE_SSL_REDIRECT="false",
    ) as running:
        yield running


@pytest.fixture(scope="package")
def document(server: Server) -> bytes:
    """The OpenAPI document exactly as the service serves it."""
    reply = server.request("GET", "/openapi.json", auth=False)
    assert reply.status == 200
    return reply.body


@pytest.fixture
def account(server: Server) -> Account:
    """A user of the running server of this test's own: its tasks, tokens and password are its alone."""
    username = f"client-{uuid.uuid4().hex[:12]}"
    manage(
        server.env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({username!r}, password={PASSWORD!r})",
    )
    return Account(username, PASSWORD)
