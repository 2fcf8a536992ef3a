"""RFC 9457 problem documents for every error the service answers with.

api.exceptions turns API exceptions into problem documents, the renderer
here labels them `application/problem+json`, and the Django-level handlers in
api/views.py use the same `problem()` for errors raised outside DRF.
"""

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from api.logs import current_request

PROBLEM_CONTENT_TYPE = "application/problem+json"


class InvalidQueryParameters(exceptions.ValidationError):
    """A validation error whose keys name query parameters, not body fields."""

    @classmethod
    def from_form_errors(cls, errors: Mapping[str, Iterable[Any]]) -> "InvalidQueryParameters":
        return cls({name: [str(message) for message in messages] for name, messages in errors.items()})


class InvalidHeader(exceptions.ValidationError):
    """A validation error about a request header: the problem's errors name the header."""

    def __init__(self, header: str, detail: str) -> None:
        super().__init__({header: [detail]})


def problem(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    document = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    # The X-Request-ID of the response, so a client reporting this document
    # names the log lines that explain it.
    request_id = getattr(current_request.get(), "correlation_id", None)
    if request_id:
        document["request_id"] = request_id
    return document


class ProblemJSONRenderer(JSONRenderer):
    """JSON renderer that labels error responses as problem documents.

    Compact output goes through orjson, several times faster than the
    standard library; indented output (the browsable API) keeps DRF's path.
    """

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        # The browsable API also calls this renderer, for the JSON it shows
        # inside its HTML page; that page keeps its own content type.
        chosen = isinstance(getattr(response, "accepted_renderer", None), ProblemJSONRenderer)
        if chosen and response is not None and response.status_code >= 400:
            response["Content-Type"] = PROBLEM_CONTENT_TYPE
        if data is None or self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        return orjson.dumps(data, default=self.encoder_class().default)
