"""OpenAPI schema generation: problem documents for every error a route can give."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from api.problems import PROBLEM_CONTENT_TYPE


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(required=False, help_text="JSON pointer to the body field, e.g. #/title")
    parameter = serializers.CharField(required=False, help_text="The query parameter, e.g. limit")
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document."""

    type = serializers.CharField(help_text='"about:blank": the title is the HTTP status phrase.')
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
    request_id = serializers.CharField(
        required=False, help_text="The response's X-Request-ID: it names the request in the service's logs."
    )


PROBLEM_DESCRIPTIONS = {
    400: "The request has invalid fields or query parameters.",
    401: "No valid credentials.",
    403: "A browser session's write without its CSRF token.",
    404: "No such task among the caller's.",
    406: "No acceptable representation for the Accept header.",
    412: "If-Match does not match the task's current ETag.",
    413: "The body is larger than 1 MiB.",
    415: "The body is not JSON (or a form).",
    429: "Too many failed logins; see Retry-After.",
    503: "The database is unavailable (an outage, not an error in the request); see Retry-After.",
}


PROBLEM_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "The scheme to authenticate with: Bearer.",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 0},
            "description": "Seconds to wait before trying again.",
        }
    },
    "503": {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 0},
            "description": "Seconds to wait before trying again.",
        }
    },
}


class ProblemAutoSchema(AutoSchema):
    """AutoSchema that documents the problem responses each operation can give."""

    def error_statuses(self) -> set[int]:
        statuses = {406}
        # Credentials, throttles and data all live in the database; only a
        # view that says it touches none of it cannot answer the outage's 503.
        if getattr(self.view, "touches_database", True):
            statuses.add(503)
        unsafe = self.method in {"POST", "PUT", "PATCH", "DELETE"}
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses.add(401)
            if unsafe:
                statuses.add(403)  # session authentication checks CSRF on writes
        if unsafe:
            statuses.add(413)  # the body limit applies whatever the method
        if self.method in {"POST", "PUT", "PATCH"} and self.get_request_serializer() is not None:
            statuses |= {400, 415}
        if self.method == "GET" and self._is_list_view():
            statuses.add(400)
        if "{id}" in self.path:
            statuses.add(404)
            if self.method in {"PUT", "PATCH", "DELETE"}:
                statuses.add(412)
        return statuses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        for status in sorted(self.error_statuses()):
            responses.setdefault(
                str(status),
                {
                    "description": PROBLEM_DESCRIPTIONS[status],
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": problem}},
                },
            )
        for code, headers in PROBLEM_HEADERS.items():
            if code in responses:
                responses[code].setdefault("headers", {}).update(headers)
        return responses


def canonical_paths(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every route answers with and without a trailing slash; document the bare form."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result


def forbid_unknown_request_fields(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The API rejects unknown body fields, so request bodies say so."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    return result
