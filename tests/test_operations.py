"""SPEC §6 and §7 operations in process: outages answered as 503, request ids, metrics, log lines."""

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import DatabaseError, OperationalError, connection, connections
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import client_for
from api.logs import JsonFormatter
from api.outages import is_database_unavailable
from api.tests.helpers import ONE_MIB, assert_problem, problem_body
from tests.live import free_port

HEX_ID = re.compile(r"[0-9a-f]{32}")


def unreachable_database_error() -> OperationalError:
    """The real error Django raises when nothing answers at the database's address."""
    settings = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        settings["NAME"] = "/no-such-folder/db.sqlite3"
    else:
        settings.update(HOST="127.0.0.1", PORT=str(free_port()))
    unreachable = type(connections["default"])(settings, alias="unreachable")
    try:
        unreachable.ensure_connection()
    except OperationalError as exc:
        return exc
    finally:
        unreachable.close()
    raise AssertionError("a database answered at an address with nothing behind it")


def syntax_error() -> DatabaseError:
    """The real error of a malformed query: a bug, not an outage."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELEC 1")
    except DatabaseError as exc:
        return exc
    raise AssertionError("the database accepted a malformed query")


@contextmanager
def every_query_fails_with(error: Exception) -> Iterator[None]:
    def fail(*args: Any) -> None:
        raise error

    with connection.execute_wrapper(fail):
        yield


def outages_so_far() -> float:
    return REGISTRY.get_sample_value("database_unavailable_responses_total") or 0.0


# Telling an outage from a bug


@pytest.mark.django_db
def test_an_unreachable_database_is_an_outage() -> None:
    """Connection refused (PostgreSQL) or a file that cannot be opened (SQLite) is an outage."""
    assert is_database_unavailable(unreachable_database_error())


@pytest.mark.django_db
def test_a_malformed_query_is_a_bug_not_an_outage() -> None:
    """A syntax error stays a 500: SQLite reports it with the same class as a locked database."""
    assert not is_database_unavailable(syntax_error())


# Outages through every entrance


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "name", "body"),
    [("get", "task-list", None), ("post", "task-list", {"title": "t"}), ("get", "task-detail", None)],
)
def test_api_call_during_an_outage_is_503_with_retry_after_logged_once(
    user: Any, method: str, name: str, body: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Inside DRF: the problem document says 503 with Retry-After; one log line, no traceback; counted."""
    client = client_for(user)
    url = reverse(name, args=[1]) if name == "task-detail" else reverse(name)
    before = outages_so_far()
    with every_query_fails_with(unreachable_database_error()):
        response = getattr(client, method)(url, body, format="json")

    assert_problem(response, 503)
    assert int(response["Retry-After"]) > 0
    assert [(r.name, r.levelname, r.exc_info) for r in caplog.records] == [("api.outages", "ERROR", None)]
    assert outages_so_far() == before + 1


@pytest.mark.django_db
def test_login_during_an_outage_is_503(user: Any, caplog: pytest.LogCaptureFixture) -> None:
    """POST /auth/token cannot check a password it cannot read: 503, not a failed login."""
    client = APIClient()
    with every_query_fails_with(unreachable_database_error()):
        response = client.post(
            reverse("auth-token"), {"username": user.username, "password": PASSWORD}, format="json"
        )
    assert_problem(response, 503)
    assert [r.name for r in caplog.records] == ["api.outages"]


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_admin_login_during_an_outage_is_503_logged_once(
    user: Any, accept: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Outside DRF (Django's handler500 path): 503 with Retry-After, a page for a browser; one line logged."""
    client = APIClient(raise_request_exception=False)
    with every_query_fails_with(unreachable_database_error()):
        response = client.post(
            "/admin/login/", {"username": user.username, "password": PASSWORD}, headers={"Accept": accept}
        )

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    if accept == "text/html":
        assert response["Content-Type"].startswith("text/html")
        assert b"Service Unavailable" in response.content
    else:
        assert_problem(response, 503)
    assert [(r.name, r.exc_info) for r in caplog.records] == [("api.outages", None)]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/tasks", "/admin/login/"])
def test_a_database_bug_stays_a_500_logged_with_its_traceback(
    user: Any, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed query is a bug: 500 problem, traceback in the log, not counted as an outage."""
    client = client_for(user)
    client.raise_request_exception = False
    before = outages_so_far()
    with every_query_fails_with(syntax_error()):
        # A form post, as the admin's login page sends (and DRF parses too).
        response = client.post(url, {"username": user.username, "password": PASSWORD})

    assert_problem(response, 500)
    assert "Retry-After" not in response
    assert any(record.exc_info for record in caplog.records if record.name == "django.request")
    assert outages_so_far() == before


def test_health_is_200_during_an_outage(anon_client: APIClient) -> None:
    """Liveness touches no database, so an outage does not make the process look dead."""
    with every_query_fails_with(RuntimeError("no query expected")):
        assert anon_client.get(reverse("healthz")).status_code == 200


# Request ids


def test_a_sane_request_id_is_kept_and_echoed(anon_client: APIClient) -> None:
    """X-Request-ID from the client (or its proxy) comes back unchanged."""
    sent = "0f6c1a5e-3c9b-4d8a-9d7e-4f1f1f7e2a10"
    assert anon_client.get(reverse("healthz"), headers={"X-Request-ID": sent})["X-Request-ID"] == sent


@pytest.mark.parametrize("sent", [None, "", "x" * 129, "has space", "semi;colon", "ünïcode", "<script>"])
def test_a_missing_or_insane_request_id_is_replaced_by_a_new_one(anon_client: APIClient, sent: Any) -> None:
    """Too long, odd characters or none: the response carries a fresh 32-hex-digit id."""
    headers = {"X-Request-ID": sent} if sent is not None else {}
    first = anon_client.get(reverse("healthz"), headers=headers)["X-Request-ID"]
    second = anon_client.get(reverse("healthz"), headers=headers)["X-Request-ID"]
    assert HEX_ID.fullmatch(first)
    assert first != second


@pytest.mark.django_db
def test_problem_documents_carry_the_request_id_from_every_layer(api_client: APIClient) -> None:
    """404 (Django's handler), 413 (middleware), 400 and 401 (DRF) all name the request."""
    headers = {"X-Request-ID": "trace-7"}
    too_big = '{"title": "' + "x" * ONE_MIB + '"}'
    responses: list[Any] = [
        api_client.get("/no-such-page", headers=headers),
        api_client.generic("POST", reverse("task-list"), too_big, "application/json", headers=headers),
        api_client.get(reverse("task-list"), {"limit": 0}, headers=headers),
        APIClient().get(reverse("task-list"), headers=headers),
    ]
    assert [response.status_code for response in responses] == [404, 413, 400, 401]
    for response in responses:
        assert response["X-Request-ID"] == "trace-7"
        assert response.json()["request_id"] == "trace-7"
        problem_body(response)


@contextmanager
def console_output(formatter: logging.Formatter | None = None) -> Iterator[io.StringIO]:
    """What the configured console handler writes (its filter and formatter, or `formatter`)."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    old_stream = handler.setStream(stream)
    old_formatter = handler.formatter
    if formatter is not None:
        handler.setFormatter(formatter)
    try:
        yield stream
    finally:
        handler.setStream(old_stream)
        handler.setFormatter(old_formatter)


@pytest.mark.django_db
def test_log_lines_of_a_request_name_its_request_id(api_client: APIClient) -> None:
    """The plain-text log line Django writes for a 404 carries the request's id."""
    with console_output() as output:
        api_client.get(reverse("task-detail", args=[404404]), headers={"X-Request-ID": "plain-trace-1"})
    assert "[plain-trace-1] Not Found: /tasks/404404" in output.getvalue()


@pytest.mark.django_db
def test_json_log_line_has_request_id_user_id_and_route(user: Any) -> None:
    """DJANGO_LOG_FORMAT=json: one JSON object per line with the request's id, user id and route."""
    client = client_for(user)
    with console_output(JsonFormatter()) as output:
        client.get(reverse("task-detail", args=[404404]), headers={"X-Request-ID": "json-trace-1"})
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    assert lines == [
        {
            "time": lines[0]["time"],
            "level": "WARNING",
            "logger": "django.request",
            "message": "Not Found: /tasks/404404",
            "request_id": "json-trace-1",
            "user_id": user.pk,
            "route": "/tasks/{pk}",
        }
    ]


def test_json_log_line_keeps_a_traceback_inside_its_one_line() -> None:
    """An exception's traceback is a member of the object, so the line stays one line."""
    logger = logging.getLogger("tests.operations")
    with console_output(JsonFormatter()) as output:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    [line] = output.getvalue().splitlines()
    document = json.loads(line)
    assert document["message"] == "failed"
    assert "ValueError: boom" in document["exception"]
    assert "request_id" not in document  # logged outside any request


# Metrics


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_metrics_are_for_staff_only() -> None:
    """Anonymous callers get 401, users who are not staff 403; staff by token or session see the counts."""
    staff: Any = UserFactory(is_staff=True)
    session = APIClient()
    session.force_login(staff)

    assert_problem(APIClient().get(reverse("metrics")), 401)
    assert_problem(client_for(UserFactory()).get(reverse("metrics")), 403)
    for client in (client_for(staff), session):
        response = client.get(reverse("metrics"), headers={"Accept": "text/plain"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert b"http_requests_total" in response.content


@pytest.mark.django_db
def test_requests_are_counted_by_route_template_and_status(api_client: APIClient) -> None:
    """Counts use the URL pattern, not the URL, so ids do not multiply the series."""
    labels = {"method": "GET", "route": "/tasks/{pk}", "status": "404"}
    before = sample("http_requests_total", **labels)
    latency_before = sample("http_request_duration_seconds_count", method="GET", route="/tasks/{pk}")
    queries_before = sample("db_queries_total", route="/tasks/{pk}")

    for task_id in (101, 202, 303):
        api_client.get(reverse("task-detail", args=[task_id]))

    assert sample("http_requests_total", **labels) == before + 3
    assert (
        sample("http_request_duration_seconds_count", method="GET", route="/tasks/{pk}") == latency_before + 3
    )
    assert sample("db_queries_total", route="/tasks/{pk}") >= queries_before + 3


def test_unknown_urls_share_one_route_label(anon_client: APIClient) -> None:
    """Scanners cannot create a series per URL they try."""
    labels = {"method": "GET", "route": "(unmatched)", "status": "404"}
    before = sample("http_requests_total", **labels)
    anon_client.get("/wp-login.php")
    anon_client.get("/.env")
    assert sample("http_requests_total", **labels) == before + 2


def test_metrics_are_not_in_the_openapi_document() -> None:
    """The API's clients never see the operator's endpoint."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "/metrics" not in schema["paths"]
