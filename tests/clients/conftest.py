"""The live service that generated clients talk to (see tests/live.py)."""

from collections.abc import Iterator

import pytest

from tests.live import Server, serving


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Gunicorn with two workers on a fresh database; plain HTTP, as a client on the host reaches it.

    Shared by both clients' scenarios, which tell their tasks apart by a tag in the titles."""
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
