"""Assertions on the HTTP conventions every endpoint shares."""

from http import HTTPStatus
from typing import Any, cast

PROBLEM = "application/problem+json"
ONE_MIB = 1024 * 1024


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is a problem document for `status`; returns its body."""
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == HTTPStatus(status).phrase
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return cast(dict[str, Any], body)
