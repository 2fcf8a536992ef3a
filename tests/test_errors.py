"""SPEC §6: every error is an RFC 9457 problem document, and a rejected request changes nothing.

This module doubles as a URLconf (see `urlpatterns` below) for the 500 tests:
the project's routes plus two that fail with an unexpected exception.
"""

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.tests.factories import PASSWORD
from api.tests.helpers import ONE_MIB, assert_problem, problem_body
from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns
from tasks.models import Task
from tasks.tests.factories import TaskFactory

SECRET_MARKER = "secret-marker-7f3a"


def exploding_django_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_MARKER)


class ExplodingAPIView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> HttpResponse:
        raise RuntimeError(SECRET_MARKER)


urlpatterns = [
    *project_urlpatterns,
    path("test-explode-django", exploding_django_view),
    path("test-explode-api", ExplodingAPIView.as_view()),
]
__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def json_body_of_size(size: int) -> bytes:
    """A JSON object `{"title": "xxx…"}` exactly `size` bytes long."""
    envelope = b'{"title": ""}'
    return envelope[:-2] + b"x" * (size - len(envelope)) + envelope[-2:]


@pytest.fixture
def task(user: Any) -> Task:
    return TaskFactory.create(owner=user, title="original")


@pytest.fixture
def crash_client() -> APIClient:
    """A client that receives the 500 response instead of re-raising the view's exception."""
    return APIClient(raise_request_exception=False)


def tasks_snapshot() -> list[tuple[Any, ...]]:
    return list(Task.objects.order_by("id").values_list("id", "owner_id", "title", "done", "updated_at"))


# Unknown URLs and methods


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/problem+json"])
def test_unknown_url_returns_404_problem(anon_client, accept):
    """An unknown URL is a 404 problem document for any client that did not ask for HTML."""
    headers = {"Accept": accept} if accept else {}

    response = anon_client.get("/nope", headers=headers)

    body = assert_problem(response, 404)
    assert body == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "There is nothing at this URL.",
    }


def test_unknown_url_under_tasks_returns_404_problem(api_client):
    """A malformed task id is an unknown URL: a 404 problem, not an HTML page."""
    response = api_client.get("/tasks/not-a-number")

    assert_problem(response, 404)


def test_unknown_url_gives_browser_html(anon_client):
    """A browser (Accept: text/html) gets an HTML 404 page, not JSON."""
    response = anon_client.get("/nope", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert not response.content.lstrip().startswith(b"{")


def test_missing_task_returns_404_problem(api_client, task):
    """A task id that does not exist is a 404 problem document."""
    response = api_client.get(reverse("task-detail", args=[task.id + 1000]))

    assert_problem(response, 404)


def test_someone_elses_task_returns_the_same_404_as_a_missing_one(api_client, other_user):
    """Another user's task is indistinguishable from a missing one."""
    theirs = TaskFactory.create(owner=other_user)
    missing_id = theirs.id + 1000

    theirs_response = api_client.get(reverse("task-detail", args=[theirs.id]))
    missing_response = api_client.get(reverse("task-detail", args=[missing_id]))

    assert assert_problem(theirs_response, 404) == assert_problem(missing_response, 404)


@pytest.mark.parametrize(
    ("method", "detail"), [("delete", False), ("put", False), ("patch", False), ("post", True)]
)
def test_unsupported_method_returns_405_problem_and_changes_nothing(api_client, task, method, detail):
    """A method the endpoint does not support is a 405 problem with an Allow header."""
    url = reverse("task-detail", args=[task.id]) if detail else reverse("task-list")
    before = tasks_snapshot()

    response = getattr(api_client, method)(url, {"title": "x"}, format="json")

    body = assert_problem(response, 405)
    assert body["detail"] == f'Method "{method.upper()}" not allowed.'
    assert method.upper() not in [m.strip() for m in response["Allow"].split(",")]
    assert tasks_snapshot() == before


# Content negotiation and request bodies


@pytest.mark.parametrize("accept", ["application/xml", "text/csv", "image/png"])
def test_unacceptable_accept_header_returns_406_problem(api_client, task, accept):
    """A client that accepts nothing the API can produce gets a 406 problem document."""
    response = api_client.get(reverse("task-list"), headers={"Accept": accept})

    assert_problem(response, 406)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_post_with_unsupported_content_type_returns_415_problem_and_creates_nothing(
    api_client, task, content_type
):
    """A body in a media type the API does not parse is a 415 problem and no task is created."""
    before = tasks_snapshot()

    response = api_client.post(reverse("task-list"), b'{"title": "x"}', content_type=content_type)

    body = assert_problem(response, 415)
    assert content_type in body["detail"]
    assert tasks_snapshot() == before


def test_patch_with_unsupported_content_type_returns_415_problem_and_changes_nothing(api_client, task):
    """PATCH with a text/plain body is a 415 problem and the task is unchanged."""
    before = tasks_snapshot()

    response = api_client.patch(
        reverse("task-detail", args=[task.id]), b'{"title": "x"}', content_type="text/plain"
    )

    assert_problem(response, 415)
    assert tasks_snapshot() == before


@pytest.mark.parametrize(
    "raw", [b'{"title": ', b"{'title': 'x'}", b'{"title": "x",}', b"\xff\xfe", b'{"title": NaN}']
)
def test_malformed_json_returns_400_problem_and_creates_nothing(api_client, task, raw):
    """A body that is not valid JSON is a 400 problem document and creates nothing."""
    before = tasks_snapshot()

    response = api_client.post(reverse("task-list"), raw, content_type="application/json")

    assert_problem(response, 400)
    assert tasks_snapshot() == before


def test_post_body_over_one_mib_returns_413_problem_and_creates_nothing(api_client, task):
    """A POST body of 1 MiB + 1 byte is a 413 problem and no task is created."""
    before = tasks_snapshot()
    raw = json_body_of_size(ONE_MIB + 1)

    response = api_client.post(reverse("task-list"), raw, content_type="application/json")

    assert assert_problem(response, 413)["detail"] == f"The request body is larger than {ONE_MIB} bytes."
    assert tasks_snapshot() == before


def test_patch_body_over_one_mib_returns_413_problem_and_changes_nothing(api_client, task):
    """A PATCH body over 1 MiB is a 413 problem and the task is unchanged."""
    before = tasks_snapshot()
    raw = json_body_of_size(ONE_MIB + 1)

    response = api_client.patch(reverse("task-detail", args=[task.id]), raw, content_type="application/json")

    assert_problem(response, 413)
    assert tasks_snapshot() == before


def test_oversized_body_is_413_even_without_credentials(anon_client, task):
    """The size limit applies before authentication, so nobody makes the server read 1 MiB+."""
    response = anon_client.post(
        reverse("task-list"), json_body_of_size(ONE_MIB + 1), content_type="application/json"
    )

    assert_problem(response, 413)


@pytest.mark.parametrize("size", [ONE_MIB, ONE_MIB - 1])
def test_body_at_or_just_under_one_mib_is_not_413(api_client, task, size):
    """A body up to exactly 1 MiB is parsed: here it fails validation (title too long), not the size limit."""
    before = tasks_snapshot()

    response = api_client.post(reverse("task-list"), json_body_of_size(size), content_type="application/json")

    body = assert_problem(response, 400)
    assert body["errors"] == [
        {"pointer": "#/title", "detail": "Ensure this field has no more than 200 characters."}
    ]
    assert tasks_snapshot() == before


# Validation errors


def test_too_long_title_returns_validation_problem_with_pointer(api_client, task):
    """A 201-character title is the SPEC §6 validation problem with a JSON pointer to the field."""
    before = tasks_snapshot()

    response = api_client.post(reverse("task-list"), {"title": "x" * 201}, format="json")

    assert response.status_code == 400
    assert problem_body(response) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request has invalid fields.",
        "errors": [{"pointer": "#/title", "detail": "Ensure this field has no more than 200 characters."}],
    }
    assert tasks_snapshot() == before


def test_too_long_title_on_patch_returns_validation_problem_and_changes_nothing(api_client, task):
    """PATCH with a 201-character title is the same validation problem and leaves the task as it was."""
    before = tasks_snapshot()

    response = api_client.patch(reverse("task-detail", args=[task.id]), {"title": "x" * 201}, format="json")

    body = assert_problem(response, 400)
    assert body["errors"] == [
        {"pointer": "#/title", "detail": "Ensure this field has no more than 200 characters."}
    ]
    assert tasks_snapshot() == before


def test_limit_over_100_returns_validation_problem_naming_the_parameter(api_client, task):
    """limit=101 is the SPEC §6 validation problem naming the query parameter."""
    response = api_client.get(reverse("task-list"), {"limit": 101})

    assert response.status_code == 400
    assert problem_body(response) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request has invalid query parameters.",
        "errors": [{"parameter": "limit", "detail": "Ensure this value is less than or equal to 100."}],
    }


def test_several_invalid_fields_are_each_listed(api_client, task):
    """Every invalid field gets its own entry in `errors`."""
    before = tasks_snapshot()

    response = api_client.post(reverse("task-list"), {"title": " ", "done": "yes"}, format="json")

    assert assert_problem(response, 400)["errors"] == [
        {"pointer": "#/title", "detail": "This field may not be blank."},
        {"pointer": "#/done", "detail": "Must be a valid boolean."},
    ]
    assert tasks_snapshot() == before


# Authentication and throttling


def test_missing_credentials_returns_401_problem(anon_client, task):
    """A request without credentials is a 401 problem document with a Bearer challenge."""
    response = anon_client.get(reverse("task-list"))

    body = assert_problem(response, 401)
    assert body["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == "Bearer"


def test_throttled_login_returns_429_problem_with_retry_after(anon_client, user, settings):
    """The login throttle's 429 is a problem document with an integer Retry-After."""
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    wrong = {"username": user.username, "password": "wrong"}
    for _ in range(2):
        assert anon_client.post(reverse("auth-token"), wrong, format="json").status_code == 400

    response = anon_client.post(
        reverse("auth-token"), {"username": user.username, "password": PASSWORD}, format="json"
    )

    assert_problem(response, 429)
    assert response["Retry-After"].isdigit()
    assert 0 < int(response["Retry-After"]) <= 60


# Unexpected exceptions


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/test-explode-django", "/test-explode-api"])
@pytest.mark.parametrize("accept", [None, "application/json"])
def test_unexpected_exception_returns_500_problem_without_internals(crash_client, url, accept):
    """An unhandled exception is a 500 problem that shows no message, stack trace or setting."""
    headers = {"Accept": accept} if accept else {}

    response = crash_client.get(url, headers=headers)

    body = assert_problem(response, 500)
    text = response.content.decode()
    assert SECRET_MARKER not in text
    assert "RuntimeError" not in text
    assert "Traceback" not in text
    assert django_settings.SECRET_KEY not in text
    assert set(body) == {"type", "title", "status", "detail"}


@pytest.mark.urls(__name__)
def test_unexpected_exception_gives_browser_html_without_internals(crash_client):
    """A browser gets Django's plain HTML 500 page, still with no message or stack trace."""
    response = crash_client.get("/test-explode-django", headers={"Accept": "text/html"})

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    text = response.content.decode()
    assert SECRET_MARKER not in text
    assert "Traceback" not in text
    assert django_settings.SECRET_KEY not in text


@pytest.mark.urls(__name__)
def test_project_routes_still_answer_under_the_test_urlconf(api_client, task):
    """The test URLconf keeps the project's routes, so the 500 tests run against the real stack."""
    response = api_client.get(reverse("task-detail", args=[task.id]))

    assert response.status_code == 200
    assert response.json()["title"] == "original"
