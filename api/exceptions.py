"""The DRF exception handler: every API error becomes a problem document.

Kept apart from api.problems, which the renderer setting imports while
rest_framework.views is still loading.
"""

from collections.abc import Iterator
from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from api.outages import DETAIL, RETRY_AFTER_SECONDS, is_database_unavailable, record_outage
from api.problems import InvalidHeader, InvalidQueryParameters, problem


def _json_pointer(path: list[str]) -> str:
    # RFC 6901: "~" and "/" inside a name are escaped.
    return "#" + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _body_errors(detail: Any, path: list[str]) -> Iterator[dict[str, str]]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub_path = path if key == "non_field_errors" else [*path, str(key)]
            yield from _body_errors(value, sub_path)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                yield from _body_errors(value, [*path, str(index)])
            else:
                yield {"pointer": _json_pointer(path), "detail": str(value)}
    else:
        yield {"pointer": _json_pointer(path), "detail": str(detail)}


def _named_errors(exc: exceptions.ValidationError, kind: str) -> list[dict[str, str]]:
    assert isinstance(exc.detail, dict)
    return [
        {kind: name, "detail": str(message)} for name, messages in exc.detail.items() for message in messages
    ]


def _validation_problem(exc: exceptions.ValidationError) -> dict[str, Any]:
    if isinstance(exc, InvalidQueryParameters):
        errors = _named_errors(exc, "parameter")
        return problem(400, "The request has invalid query parameters.", errors=errors)
    if isinstance(exc, InvalidHeader):
        return problem(400, "The request has an invalid header.", errors=_named_errors(exc, "header"))
    errors = list(_body_errors(exc.detail, []))
    return problem(400, "The request has invalid fields.", errors=errors)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        if is_database_unavailable(exc):
            record_outage(context["request"], exc)
            outage = Response(
                problem(503, DETAIL), status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
            )
            outage._has_been_logged = True  # type: ignore[attr-defined]  # one line is enough
            return outage
        return None  # not an API error: Django's handler500 answers
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_problem(exc)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = problem(response.status_code, str(detail))
    return response
