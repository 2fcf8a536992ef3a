"""Requests gunicorn refuses before the app sees them: the limits in effect, and problem documents."""

import http.client
import json
import socket
from collections.abc import Iterator
from http import HTTPStatus

import pytest

from tests.live import Server, production_env, start_gunicorn, stop_gunicorn

pytestmark = pytest.mark.serving

DEFAULTS = {"line": 4094, "fields": 50, "field_size": 8190}
SMALL = {"line": 1000, "fields": 12, "field_size": 600}
# Sent with every request below: three header fields of the count.
BASE_HEADERS = "Host: 127.0.0.1\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n"


@pytest.fixture(scope="module", params=[None, SMALL], ids=["defaults", "from the environment"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, dict[str, int]]]:
    """Gunicorn with the checked-in config, its limits left alone or set from the environment.

    /healthz touches no database, so the database file is never created."""
    tmp_path = tmp_path_factory.mktemp("limits")
    overrides = request.param or {}
    env = production_env(
        f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        tmp_path / "static",
        WEB_CONCURRENCY="1",
        **{f"GUNICORN_LIMIT_REQUEST_{name.upper()}": str(value) for name, value in overrides.items()},
    )
    server = start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        yield server, {**DEFAULTS, **overrides}
    finally:
        stop_gunicorn(server)


def exchange(server: Server, raw: str) -> tuple[int, str, bytes]:
    """Send `raw` as it is on a new connection; the status, content type and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(raw.encode("latin-1"))
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.getheader("Content-Type", ""), response.read()


def request_line(length: int) -> str:
    """A GET /healthz request line exactly `length` bytes long (without its CRLF)."""
    bare = "GET /healthz?pad= HTTP/1.1"
    return f"GET /healthz?pad={'x' * (length - len(bare))} HTTP/1.1"


def header_fields(count: int) -> str:
    """`count` header fields in all, the three base ones included."""
    return BASE_HEADERS + "".join(f"X-Pad-{index}: 1\r\n" for index in range(count - 3))


def field_of_size(size: int) -> str:
    """One header field whose line, CRLF included, is `size` bytes."""
    return "X-Pad: " + "y" * (size - len("X-Pad: \r\n")) + "\r\n"


def assert_served(reply: tuple[int, str, bytes]) -> None:
    status, content_type, body = reply
    assert (status, content_type, json.loads(body)) == (200, "application/json", {"status": "ok"})


def assert_problem(reply: tuple[int, str, bytes], status: int) -> dict[str, object]:
    got_status, content_type, body = reply
    assert (got_status, content_type) == (status, "application/problem+json"), body
    problem = json.loads(body)
    assert problem["type"] == "about:blank"
    assert problem["title"] == HTTPStatus(status).phrase
    assert problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"]
    return dict(problem)


def test_a_request_line_at_the_limit_is_served_and_one_byte_more_is_a_414_problem(limited):
    """The request-line limit in effect is the configured one, and gunicorn's 414 is a problem document."""
    server, limits = limited

    assert_served(exchange(server, f"{request_line(limits['line'])}\r\n{BASE_HEADERS}\r\n"))
    assert_problem(exchange(server, f"{request_line(limits['line'] + 1)}\r\n{BASE_HEADERS}\r\n"), 414)


def test_as_many_header_fields_as_the_limit_are_served_and_one_more_is_a_431_problem(limited):
    """The header-count limit in effect is the configured one, and gunicorn's 431 is a problem document."""
    server, limits = limited

    assert_served(exchange(server, f"GET /healthz HTTP/1.1\r\n{header_fields(limits['fields'])}\r\n"))
    assert_problem(
        exchange(server, f"GET /healthz HTTP/1.1\r\n{header_fields(limits['fields'] + 1)}\r\n"), 431
    )


def test_a_header_field_at_the_size_limit_is_served_and_one_byte_more_is_a_431_problem(limited):
    """The field-size limit in effect is the configured one."""
    server, limits = limited
    head = f"GET /healthz HTTP/1.1\r\n{BASE_HEADERS}"

    assert_served(exchange(server, f"{head}{field_of_size(limits['field_size'])}\r\n"))
    assert_problem(exchange(server, f"{head}{field_of_size(limits['field_size'] + 1)}\r\n"), 431)


@pytest.mark.parametrize(
    "raw",
    [
        "GARBAGE\r\n\r\n",
        "G@T /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: x\r\n\r\n",
        "POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["no request line", "bad method", "bad version", "bad header name", "bad chunk size"],
)
def test_a_request_gunicorn_cannot_parse_is_a_400_problem_not_an_html_page(limited, raw):
    """Malformed requests never reach the app; gunicorn's own 400 is still a problem document."""
    server, _ = limited

    assert_problem(exchange(server, raw), 400)
