"""OpenAPI schema generation: the document is the contract typed clients are generated from.

Rules that hold for every operation, present and future (SPEC §9), live here:
problem documents for every error, JSON-only and required request bodies,
no `default` in request schemas, string rules as patterns, empty query values
allowed, `x-enum-varnames` on enums.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from api.parsers import MAX_DEPTH
from api.problems import PROBLEM_CONTENT_TYPE
from api.serializers import CONTROL_CHARACTERS, WHITESPACE, StrictCharField, reject_control_characters


class ProblemErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(required=False, help_text="JSON pointer to the body field, e.g. #/title")
    parameter = serializers.CharField(required=False, help_text="The query parameter, e.g. limit")
    header = serializers.CharField(required=False, help_text="The request header, e.g. Idempotency-Key")
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


# What api.parsers.StrictJSONParser refuses, said wherever a body is read.
BODY_400_DESCRIPTION = (
    "The request has invalid fields, or its body is not JSON this API reads: malformed "
    "(RFC 8259: no NaN or Infinity, no lone surrogates, UTF-8 unless another charset is declared), "
    f"nested more than {MAX_DEPTH} levels deep, or with a key twice in one object."
)


PROBLEM_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "required": True,
            "description": "The scheme to authenticate with: Bearer.",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer", "minimum": 0},
            "required": True,
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

    def problem_description(self, status: int) -> str:
        if (
            status == 400
            and self.method in {"POST", "PUT", "PATCH"}
            and self.get_request_serializer() is not None
        ):
            return BODY_400_DESCRIPTION
        return PROBLEM_DESCRIPTIONS[status]

    def _get_request_body(self, direction: str = "request") -> Any:
        body = super()._get_request_body(direction)
        if body is not None:
            # A write that takes a body needs one; PATCH's fields are optional, not its body.
            body["required"] = True
        return body

    def _map_basic_serializer(self, serializer: Any, direction: str) -> Any:
        result = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            for name, field in serializer.fields.items():
                schema = result.get("properties", {}).get(name, {})
                if type(field) in TEXT_FIELDS and schema.get("type") == "string":
                    describe_text_rules(field, schema)
        return result

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        for status in sorted(self.error_statuses()):
            responses.setdefault(
                str(status),
                {
                    "description": self.problem_description(status),
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


# String rules as patterns


def _char_class(ranges: list[tuple[str, str]], *, negated: bool) -> str:
    """A regex character class, in syntax that ECMA-262 and Python read alike."""

    def escape(char: str) -> str:
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    parts = "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges)
    return f"[{'^' if negated else ''}{parts}]"


def _ranges(chars: set[str]) -> list[tuple[str, str]]:
    ranges: list[tuple[str, str]] = []
    for char in sorted(chars):
        if ranges and ord(char) == ord(ranges[-1][1]) + 1:
            ranges[-1] = (ranges[-1][0], char)
        else:
            ranges.append((char, char))
    return ranges


# Every DRF CharField refuses NUL (and lone surrogates, which are no Unicode
# scalar value, so not characters a pattern can name: Rust's regex engines,
# which schemathesis validates with, refuse them in a class).
# Subclasses (email, URL, slug…) have rules of their own and a `format`.
NUL = {"\x00"}
TEXT_FIELDS = (serializers.CharField, StrictCharField)


def text_pattern(*, trim: bool, min_length: int, max_length: int | None, no_controls: bool) -> str:
    """A pattern that matches exactly the strings a CharField with these rules accepts.

    A trimming field strips Python white space first and counts the rest, so
    the pattern allows any padding around 1..max_length characters whose
    first and last are not white space.
    """
    refused = NUL | (CONTROL_CHARACTERS - {"\t"} if no_controls else set())
    inner = _char_class(_ranges(refused), negated=True)
    if not trim:
        upper = "" if max_length is None else str(max_length)
        return f"^{inner}{{{min_length},{upper}}}$"
    edge = _char_class(_ranges(refused | WHITESPACE), negated=True)
    padding = _char_class(_ranges(WHITESPACE), negated=False) + "*"
    if max_length == 1:
        core = edge
    else:
        middle_max = "" if max_length is None else str(max_length - 2)
        middle = f"{inner}{{{max(min_length - 2, 0)},{middle_max}}}"
        core = f"{edge}{middle}{edge}" if min_length >= 2 else f"{edge}(?:{middle}{edge})?"
    if min_length == 0:
        core = f"(?:{core})?"
    return f"^{padding}{core}{padding}$"


def describe_text_rules(field: serializers.CharField, schema: dict[str, Any]) -> None:
    """The field's whole rule as a `pattern`: length after trimming, refused characters."""
    min_length = field.min_length or (0 if field.allow_blank else 1)
    no_controls = reject_control_characters in field.validators
    schema["pattern"] = text_pattern(
        trim=field.trim_whitespace,
        min_length=min_length,
        max_length=field.max_length,
        no_controls=no_controls,
    )
    if field.trim_whitespace:
        # maxLength counts the raw string, padding included, which the server trims before counting.
        schema.pop("maxLength", None)
        rule = f"{min_length}\N{EN DASH}{field.max_length}" if field.max_length else f"at least {min_length}"
        note = f"{rule} characters after trimming surrounding white space"
        note += "; no control characters except tab." if no_controls else "."
        schema["description"] = (
            f"{schema['description']} {note}" if schema.get("description") else note[0].upper() + note[1:]
        )


# Document-wide rules


def _operations(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in result["paths"].values():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}:
                yield operation


def _resolve(result: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    return result["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


def _request_schemas(result: dict[str, Any], node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    node = _resolve(result, node)
    yield node
    for child in node.get("properties", {}).values():
        yield from _request_schemas(result, child)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _request_schemas(result, node[key])
    for key in ("allOf", "anyOf", "oneOf"):
        for child in node.get(key, []):
            yield from _request_schemas(result, child)


def request_defaults_in_words(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Typed clients make a field with a `default` mandatory; request schemas say it in words."""
    for operation in _operations(result):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            for schema in _request_schemas(result, media["schema"]):
                if "default" in schema:
                    note = f"Defaults to {json.dumps(schema.pop('default'))}."
                    schema["description"] = (
                        f"{schema['description']} {note}" if schema.get("description") else note
                    )
    return result


def empty_query_values_allowed(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """An empty query parameter (`?done=`, as HTML filter forms send) means "not given"."""
    for operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter.setdefault("allowEmptyValue", True)
    return result


def enum_varname(value: str) -> str:
    """`-created_at` → CREATED_AT_DESC: a leading minus is a descending sort key."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_").upper() or "EMPTY"
    if name[0].isdigit():
        name = f"VALUE_{name}"
    return f"{name}_DESC" if value.startswith("-") else name


def _schemas_with_enums(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list) and all(isinstance(v, str) for v in node["enum"]):
            yield node
        for value in node.values():
            yield from _schemas_with_enums(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas_with_enums(value)


def enum_varnames(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Name every string enum's members, so generated clients get CREATED_AT_DESC, not VALUE_3."""
    for schema in _schemas_with_enums(result):
        names = [enum_varname(value) for value in schema["enum"]]
        if len(set(names)) == len(names):
            schema.setdefault("x-enum-varnames", names)
    return result
