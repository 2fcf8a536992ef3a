"""Assertions on the HTTP conventions every endpoint shares."""

from http import HTTPStatus
from typing import Any, cast

PROBLEM = "application/problem+json"
ONE_MIB = 1024 * 1024


def problem_body(response: Any) -> dict[str, Any]:
    """The problem document, less the `request_id` that must match the X-Request-ID header."""
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body.pop("request_id") == response["X-Request-ID"]
    return cast(dict[str, Any], body)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is a problem document for `status` naming its request; returns the rest."""
    assert response.status_code == status
    body = problem_body(response)
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return cast(dict[str, Any], body)
