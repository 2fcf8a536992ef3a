"""SPEC §7 docs: the OpenAPI schema tells the truth, and Swagger UI and ReDoc load nothing from elsewhere."""

import importlib
import json
import re
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import jsonschema  # type: ignore[import-untyped]
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from rest_framework import serializers
from rest_framework.test import APIClient

from accounts.services import token_issue
from accounts.tests.factories import PASSWORD
from api.serializers import WHITESPACE
from api.tests.helpers import ONE_MIB, PROBLEM
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from tasks.tests.helpers import TASK_FIELDS

READ_ONLY_FIELDS = {"id", "created_at", "updated_at"}
ORDERINGS = {"id", "-id", "title", "-title", "created_at", "-created_at", "updated_at", "-updated_at"}
# Response headers with a meaning in this API: when a response carries one, its operation must document it.
API_HEADERS = ("ETag", "Location", "Link", "Retry-After", "WWW-Authenticate")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
# Source expressions that name no host: keywords and the data:/blob: schemes.
HOSTLESS_SOURCES = {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}


# Reading the schema


@pytest.fixture
def schema(anon_client: APIClient) -> dict[str, Any]:
    response = anon_client.get(reverse("openapi"))
    assert response.status_code == 200
    return json.loads(response.content)


# Every operation that needs credentials.
AUTHENTICATED_OPERATIONS = [
    ("get", "/tasks"),
    ("get", "/tasks/changes"),
    ("post", "/tasks"),
    ("get", "/tasks/{id}"),
    ("put", "/tasks/{id}"),
    ("patch", "/tasks/{id}"),
    ("delete", "/tasks/{id}"),
    ("post", "/auth/logout"),
    ("get", "/auth/me"),
    ("get", "/auth/tokens"),
    ("delete", "/auth/tokens"),
    ("delete", "/auth/tokens/{id}"),
    ("post", "/auth/password"),
]


def operation(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method]


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or the component its $ref names."""
    ref = node.get("$ref")
    if ref is None:
        return node
    assert ref.startswith("#/components/schemas/"), ref
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def ref_name(node: dict[str, Any]) -> str:
    return node["$ref"].rsplit("/", 1)[1]


def json_body_schema(schema: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    response = operation(schema, method, path)["responses"][str(status)]
    return resolve(schema, response["content"]["application/json"]["schema"])


def parameters(schema: dict[str, Any], method: str, path: str, location: str) -> dict[str, dict[str, Any]]:
    params = operation(schema, method, path).get("parameters", [])
    return {param["name"]: param for param in params if param["in"] == location}


def response_headers(schema: dict[str, Any], method: str, path: str, status: int) -> set[str]:
    response = operation(schema, method, path)["responses"][str(status)]
    return {name.lower() for name in response.get("headers", {})}


def bearer_scheme_names(schema: dict[str, Any]) -> set[str]:
    schemes = schema["components"]["securitySchemes"]
    return {
        name
        for name, scheme in schemes.items()
        if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer"
    }


# Validating real bodies against the schema


def as_json_schema(schema: dict[str, Any], node: Any, *, closed: bool) -> Any:
    """An OpenAPI 3.0 schema object as JSON Schema: $refs inlined, `nullable` as a null type.

    `closed` forbids properties the schema does not name, so a response with an
    undocumented field fails validation.
    """
    if isinstance(node, list):
        return [as_json_schema(schema, item, closed=closed) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return as_json_schema(schema, resolve(schema, node), closed=closed)
    converted = {key: as_json_schema(schema, value, closed=closed) for key, value in node.items()}
    if converted.pop("nullable", False):
        converted["type"] = [converted["type"], "null"]
    if closed and converted.get("type") == "object" and "properties" in converted:
        converted.setdefault("additionalProperties", False)
    return converted


format_checker = jsonschema.FormatChecker()


@format_checker.checks("date-time")
def is_rfc3339_date_time(value: object) -> bool:
    # jsonschema checks date-time only with an optional package; check RFC 3339 here instead.
    return not isinstance(value, str) or RFC3339.fullmatch(value) is not None


@format_checker.checks("uri")
def is_absolute_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def assert_conforms(schema: dict[str, Any], method: str, path: str, response: Any) -> None:
    """The real `response` is one the schema documents for this operation: status, body and headers."""
    responses = operation(schema, method, path)["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path} answered {status}, documented: {sorted(responses)}"
    documented = responses[status]
    content = documented.get("content")
    if content is None:
        assert response.content == b""
    else:
        media_type = response["Content-Type"].split(";")[0].strip()
        assert media_type in content, f"{status} in {media_type}, documented: {sorted(content)}"
        body_schema = as_json_schema(schema, content[media_type]["schema"], closed=True)
        jsonschema.Draft202012Validator(body_schema, format_checker=format_checker).validate(
            json.loads(response.content)
        )
    documented_headers = {name.lower() for name in documented.get("headers", {})}
    for header in API_HEADERS:
        if header in response:
            assert header.lower() in documented_headers, f"{status} carries {header}, undocumented"
    for header, definition in documented.get("headers", {}).items():
        if definition.get("required") or header in ("ETag", "Location"):
            assert header in response, f"{status} documents {header} as always sent, the response has none"


# Reading the docs pages


class UrlCollector(HTMLParser):
    """Every URL an HTML page makes the browser load or link to, and whether it has inline scripts."""

    URL_ATTRIBUTES = {"src", "href", "spec-url", "action", "poster", "data"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [value for name, value in attrs if name in self.URL_ATTRIBUTES and value is not None]
        if tag == "script" and not values.get("src"):
            self.inline_scripts += 1


def page_urls(html: str) -> UrlCollector:
    collector = UrlCollector()
    collector.feed(html)
    collector.close()
    return collector


def static_url() -> str:
    return "/" + settings.STATIC_URL.lstrip("/")


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in header.split(";"):
        name, *sources = directive.split()
        directives[name.lower()] = sources
    return directives


DOCS_PAGES = ["docs", "redoc"]


# The schema document


def test_openapi_json_is_an_openapi_3_document_open_to_anonymous_clients(anon_client):
    """GET /openapi.json without credentials is 200 with an OpenAPI 3 JSON document titled Tasks API."""
    response = anon_client.get("/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Tasks API"


def test_schema_documents_the_canonical_paths_without_trailing_slash(schema):
    """The schema lists each route once, in its canonical form without a trailing slash."""
    assert set(schema["paths"]) == {
        "/tasks",
        "/tasks/{id}",
        "/tasks/changes",
        "/auth/token",
        "/auth/logout",
        "/auth/me",
        "/auth/tokens",
        "/auth/tokens/{id}",
        "/auth/password",
        "/healthz",
        "/readyz",
    }


def test_schema_documents_every_method_each_route_answers(schema):
    """Each path documents exactly the methods the API implements for it."""
    methods = {
        path: set(item) - {"parameters", "summary", "description"} for path, item in schema["paths"].items()
    }

    assert methods == {
        "/tasks": {"get", "post"},
        "/tasks/{id}": {"get", "put", "patch", "delete"},
        "/tasks/changes": {"get"},
        "/auth/token": {"post"},
        "/auth/logout": {"post"},
        "/auth/me": {"get"},
        "/auth/tokens": {"get", "delete"},
        "/auth/tokens/{id}": {"delete"},
        "/auth/password": {"post"},
        "/healthz": {"get"},
        "/readyz": {"get"},
    }


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
def test_docs_are_served_even_to_a_client_with_an_invalid_token(db, path):
    """A stale bearer token does not lock anyone out of the schema or the docs: they are public."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer 0123456789abcdef")

    response = client.get(path)

    assert response.status_code == 200


def test_committed_openapi_json_is_the_document_the_code_serves(schema):
    """openapi.json in the repository is exactly what the code generates; `make schema` regenerates it."""
    committed = json.loads((Path(settings.BASE_DIR) / "openapi.json").read_text())

    assert committed == schema, "openapi.json is stale: run `make schema` and commit it"


# Rules every operation keeps (SPEC §9), so that generated clients work unmodified


def all_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    ]


def test_every_operation_has_a_unique_short_camel_case_operation_id(schema):
    """Each operationId is a short camelCase verb phrase (listTasks, login), not a DRF action name."""
    ids = [op.get("operationId", "") for _, _, op in all_operations(schema)]

    assert len(set(ids)) == len(ids)
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]+){0,3}", operation_id), operation_id


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("get", "/tasks", "listTasks"),
        ("post", "/tasks", "createTask"),
        ("get", "/tasks/{id}", "getTask"),
        ("put", "/tasks/{id}", "replaceTask"),
        ("patch", "/tasks/{id}", "updateTask"),
        ("delete", "/tasks/{id}", "deleteTask"),
        ("post", "/auth/token", "login"),
        ("post", "/auth/logout", "logout"),
        ("get", "/healthz", "getHealth"),
        ("get", "/readyz", "getReadiness"),
    ],
)
def test_operation_id_is_stable(schema, method, path, operation_id):
    """Generated clients name their functions after these; renaming one breaks every client."""
    assert operation(schema, method, path)["operationId"] == operation_id


def test_every_request_body_is_required_and_json_only(schema):
    """Request bodies are application/json only (HTML forms are not the contract), and required."""
    for method, path, op in all_operations(schema):
        if "requestBody" in op:
            assert set(op["requestBody"]["content"]) == {"application/json"}, (method, path)
            assert op["requestBody"]["required"] is True, (method, path)


def reachable_schemas(schema: dict[str, Any], node: Any) -> list[dict[str, Any]]:
    """`node` and every schema inside it, $refs followed."""
    if isinstance(node, list):
        return [found for item in node for found in reachable_schemas(schema, item)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        return reachable_schemas(schema, resolve(schema, node))
    return [node, *(found for value in node.values() for found in reachable_schemas(schema, value))]


def test_no_request_schema_has_a_default(schema):
    """No schema a request body uses has a `default` (typed clients would make the field mandatory)."""
    for method, path, op in all_operations(schema):
        for media in op.get("requestBody", {}).get("content", {}).values():
            for node in reachable_schemas(schema, media["schema"]):
                assert "default" not in node, (method, path, node)


def test_done_says_in_words_what_it_defaults_to(schema):
    """The request schemas' done says what an omitted done means, since it has no `default`."""
    done = schema["components"]["schemas"]["TaskRequest"]["properties"]["done"]

    assert "false" in done["description"]


def test_every_request_text_field_documents_its_rules_as_a_pattern(schema):
    """Every free-text string in a request body has a pattern saying which characters the server refuses."""
    for method, path, op in all_operations(schema):
        for media in op.get("requestBody", {}).get("content", {}).values():
            for node in reachable_schemas(schema, media["schema"]):
                for name, field in node.get("properties", {}).items():
                    if field.get("type") == "string" and not {"enum", "format"} & set(field):
                        assert "pattern" in field, (method, path, name)


def test_every_optional_query_parameter_allows_an_empty_value(schema):
    """`?done=` means "not given" (the browsable API's filter form sends it), and the document says so."""
    for method, path, op in all_operations(schema):
        for param in op.get("parameters", []):
            if param["in"] == "query" and not param.get("required"):
                assert param.get("allowEmptyValue") is True, (method, path, param["name"])


def test_every_string_enum_names_its_members(schema):
    """Each string enum has `x-enum-varnames`, one per member, so clients name them (no VALUE_0)."""
    for node in reachable_schemas(schema, schema):
        if "enum" in node and node.get("type") == "string":
            assert len(node["x-enum-varnames"]) == len(node["enum"]), node


def test_ordering_members_are_named_after_their_sort_key(schema):
    """ordering's members are ID, TITLE, … for ascending keys, ID_DESC, TITLE_DESC, … for descending ones."""
    ordering = parameters(schema, "get", "/tasks", "query")["ordering"]["schema"]

    assert dict(zip(ordering["enum"], ordering["x-enum-varnames"], strict=True)) == {
        key: key.lstrip("-").upper() + ("_DESC" if key.startswith("-") else "") for key in ORDERINGS
    }


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_task_id_in_paths_is_the_type_of_task_id(schema, method):
    """The path's id is an int64 integer of at least 1, as Task.id is, so a client passes task.id as it is."""
    path_id = parameters(schema, method, "/tasks/{id}", "path")["id"]
    task_id = schema["components"]["schemas"]["Task"]["properties"]["id"]

    assert path_id["schema"] == {"type": "integer", "format": "int64", "minimum": 1}
    assert path_id["required"] is True
    assert {key: task_id[key] for key in ("type", "format", "minimum")} == path_id["schema"]


def test_every_operation_documents_406_and_its_errors_as_problems(schema):
    """Every operation documents 406, and every 4xx/5xx it documents is a problem document."""
    for method, path, op in all_operations(schema):
        assert "406" in op["responses"], (method, path)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {PROBLEM}, (method, path, status)


# Bearer authentication


def test_schema_declares_an_http_bearer_security_scheme(schema):
    """components.securitySchemes has an http scheme with the bearer method."""
    assert len(bearer_scheme_names(schema)) == 1


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_OPERATIONS)
def test_task_and_logout_operations_require_the_bearer_scheme(schema, method, path):
    """The operation accepts a bearer token and has no anonymous ({}) alternative."""
    (bearer,) = bearer_scheme_names(schema)
    security = operation(schema, method, path).get("security", schema.get("security", []))

    assert {bearer: []} in security
    assert {} not in security


def test_token_endpoint_requires_no_authentication(schema):
    """POST /auth/token is callable without credentials: no security requirement, or an empty one."""
    security = operation(schema, "post", "/auth/token").get("security", schema.get("security", []))

    assert security == [] or {} in security


# The token endpoints


def test_token_request_body_takes_exactly_username_and_password(schema):
    """POST /auth/token's JSON body requires username and password and nothing else."""
    body = operation(schema, "post", "/auth/token")["requestBody"]
    login = resolve(schema, body["content"]["application/json"]["schema"])

    assert body["required"] is True
    assert set(login["properties"]) == {"username", "password"}
    assert set(login["required"]) == {"username", "password"}
    assert login["properties"]["username"]["type"] == "string"
    assert login["properties"]["password"]["type"] == "string"
    assert login["additionalProperties"] is False


def test_token_200_response_has_token_and_date_time_expiry(schema):
    """POST /auth/token's 200 body has a string token and an expires_at date-time, both required."""
    token = json_body_schema(schema, "post", "/auth/token", 200)

    assert token["properties"]["token"]["type"] == "string"
    assert token["properties"]["expires_at"] == {"type": "string", "format": "date-time"}
    assert set(token["required"]) == {"token", "expires_at"}


def test_token_endpoint_documents_throttling_429_as_a_problem(schema):
    """POST /auth/token documents the failed-login 429 as an application/problem+json Problem."""
    responses = operation(schema, "post", "/auth/token")["responses"]

    assert set(responses["429"]["content"]) == {PROBLEM}
    assert ref_name(responses["429"]["content"][PROBLEM]["schema"]) == "Problem"


def test_token_429_documents_retry_after(schema):
    """The 429 response documents the Retry-After header SPEC §6 requires on it."""
    assert "retry-after" in response_headers(schema, "post", "/auth/token", 429)


def test_logout_documents_204_with_no_body(schema):
    """POST /auth/logout documents 204 with no content, and takes no request body."""
    logout = operation(schema, "post", "/auth/logout")

    assert "content" not in logout["responses"]["204"]
    assert "requestBody" not in logout


# The page envelope


def test_list_200_is_the_page_envelope_of_tasks(schema):
    """GET /tasks's 200 is {items, total, limit, offset, next, previous}, all required, items being Tasks."""
    envelope = json_body_schema(schema, "get", "/tasks", 200)
    properties = envelope["properties"]
    task = resolve(schema, properties["items"]["items"])

    assert envelope["type"] == "object"
    assert set(envelope["required"]) == {"items", "total", "limit", "offset", "next", "previous"}
    assert set(properties) == {"items", "total", "limit", "offset", "next", "previous"}
    assert properties["items"]["type"] == "array"
    assert ref_name(properties["items"]["items"]) == "Task"
    assert {name: properties[name]["type"] for name in ("total", "limit", "offset")} == {
        "total": "integer",
        "limit": "integer",
        "offset": "integer",
    }
    for link in ("next", "previous"):
        assert properties[link]["type"] == "string"
        assert properties[link]["nullable"] is True
    assert set(task["properties"]) == TASK_FIELDS
    assert task["properties"]["id"]["type"] == "integer"
    assert task["properties"]["title"]["type"] == "string"
    assert task["properties"]["done"]["type"] == "boolean"
    assert task["properties"]["created_at"]["format"] == "date-time"
    assert task["properties"]["updated_at"]["format"] == "date-time"


@pytest.mark.parametrize(
    ("component", "members"),
    [
        ("Task", TASK_FIELDS),
        ("PaginatedTaskList", {"items", "total", "limit", "offset", "next", "previous"}),
        ("TaskChanges", {"tasks", "deleted", "cursor", "more"}),
        ("Token", {"token", "expires_at"}),
        ("Problem", {"type", "title", "status", "detail"}),
    ],
)
def test_response_component_requires_every_member_the_api_always_sends(schema, component, members):
    """A member every response carries (a task's done, a problem's type) is required, not optional."""
    assert set(schema["components"]["schemas"][component]["required"]) == members


# Query parameters of GET /tasks


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        ("offset", {"type": "integer", "minimum": 0, "default": 0}),
        ("done", {"type": "boolean"}),
        ("search", {"type": "string"}),
        ("updated_after", {"type": "string", "format": "date-time"}),
        ("ordering", {"type": "string"}),
        ("cursor", {"type": "string"}),
    ],
)
def test_list_query_parameter_has_its_type_and_bounds(schema, name, expected):
    """Each GET /tasks query parameter is optional and documents its type, bounds and default."""
    param = parameters(schema, "get", "/tasks", "query")[name]

    assert param.get("required", False) is False
    assert {key: param["schema"].get(key) for key in expected} == expected


def test_list_ordering_enumerates_exactly_the_sort_keys(schema):
    """ordering's enum is exactly id, title, created_at, updated_at, each also with a - prefix."""
    enum = parameters(schema, "get", "/tasks", "query")["ordering"]["schema"]["enum"]

    assert len(enum) == len(ORDERINGS)
    assert set(enum) == ORDERINGS


def test_list_documents_no_other_query_parameters(schema):
    """GET /tasks documents exactly the query parameters it reads."""
    assert set(parameters(schema, "get", "/tasks", "query")) == {
        "limit",
        "offset",
        "cursor",
        "done",
        "search",
        "updated_after",
        "ordering",
    }


# Problem responses


def test_problem_schema_has_the_rfc_9457_members(schema):
    """Problem has type, title, status, detail, request_id and errors of {pointer | parameter, detail}."""
    problem = schema["components"]["schemas"]["Problem"]
    error = resolve(schema, problem["properties"]["errors"]["items"])

    assert set(problem["properties"]) == {"type", "title", "status", "detail", "errors", "request_id"}
    assert problem["properties"]["status"]["type"] == "integer"
    assert {"title", "status", "detail"} <= set(problem["required"])
    assert problem["properties"]["errors"]["type"] == "array"
    assert set(error["properties"]) == {"pointer", "parameter", "header", "detail"}
    assert error["required"] == ["detail"]


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/tasks", {400, 401}),
        ("post", "/tasks", {400, 401, 409, 413, 415, 422}),
        ("get", "/tasks/{id}", {401, 404}),
        ("get", "/tasks/changes", {400, 401, 410}),
        ("patch", "/tasks/{id}", {400, 401, 404, 412, 413, 415}),
        ("put", "/tasks/{id}", {400, 401, 404, 412, 413, 415}),
        ("delete", "/tasks/{id}", {401, 404, 412}),
        ("post", "/auth/token", {400, 413, 415, 429}),
        ("post", "/auth/logout", {401}),
        ("get", "/auth/me", {401}),
        ("get", "/auth/tokens", {401}),
        ("delete", "/auth/tokens", {401}),
        ("delete", "/auth/tokens/{id}", {401, 404}),
        ("post", "/auth/password", {400, 401, 413, 415, 429}),
    ],
)
def test_operation_documents_its_error_statuses_as_problems(schema, method, path, statuses):
    """Each error status the operation can give is documented as application/problem+json Problem only."""
    responses = operation(schema, method, path)["responses"]

    for status in statuses:
        assert str(status) in responses, status
        assert set(responses[str(status)]["content"]) == {PROBLEM}, status
        assert ref_name(responses[str(status)]["content"][PROBLEM]["schema"]) == "Problem", status


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("get", "/tasks", 200, "PaginatedTaskList"),
        ("get", "/tasks/changes", 200, "TaskChanges"),
        ("post", "/tasks", 201, "Task"),
        ("get", "/tasks/{id}", 200, "Task"),
        ("get", "/tasks/{id}", 304, None),
        ("patch", "/tasks/{id}", 200, "Task"),
        ("put", "/tasks/{id}", 200, "Task"),
        ("delete", "/tasks/{id}", 204, None),
        ("post", "/auth/token", 200, "Token"),
        ("post", "/auth/logout", 204, None),
        ("get", "/auth/me", 200, "Me"),
        ("delete", "/auth/tokens", 204, None),
        ("delete", "/auth/tokens/{id}", 204, None),
        ("post", "/auth/password", 204, None),
    ],
)
def test_operation_documents_its_success_status_and_body(schema, method, path, status, body):
    """Success statuses are documented: the body's component in JSON, or no content for 204 and 304."""
    response = operation(schema, method, path)["responses"][str(status)]

    if body is None:
        assert "content" not in response
    else:
        assert set(response["content"]) == {"application/json"}
        assert ref_name(response["content"]["application/json"]["schema"]) == body


@pytest.mark.parametrize(
    ("method", "path", "absent"),
    [("post", "/tasks", {"200"}), ("delete", "/tasks/{id}", {"200"}), ("post", "/auth/logout", {"200"})],
)
def test_operation_documents_no_success_status_it_never_gives(schema, method, path, absent):
    """POST /tasks answers 201, DELETE and logout 204: none documents a 200 it never gives."""
    assert not absent & set(operation(schema, method, path)["responses"])


# Headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/tasks/{id}", 200),
        ("get", "/tasks/{id}", 304),
        ("post", "/tasks", 201),
        ("patch", "/tasks/{id}", 200),
        ("put", "/tasks/{id}", 200),
    ],
)
def test_responses_carrying_a_task_document_its_etag(schema, method, path, status):
    """Every response that carries one task (or confirms it, 304) documents the ETag header."""
    assert "etag" in response_headers(schema, method, path, status)


def test_created_response_documents_location(schema):
    """POST /tasks's 201 documents the Location header."""
    assert "location" in response_headers(schema, "post", "/tasks", 201)


def test_list_200_documents_link(schema):
    """GET /tasks's 200 documents the RFC 8288 Link header."""
    assert "link" in response_headers(schema, "get", "/tasks", 200)


@pytest.mark.parametrize(
    ("method", "header"),
    [("patch", "If-Match"), ("put", "If-Match"), ("delete", "If-Match"), ("get", "If-None-Match")],
)
def test_conditional_request_header_is_a_documented_header_parameter(schema, method, header):
    """Writes document If-Match and GET /tasks/{id} If-None-Match, as optional string header parameters."""
    param = parameters(schema, method, "/tasks/{id}", "header")[header]

    assert param.get("required", False) is False
    assert param["schema"]["type"] == "string"


def test_create_documents_the_idempotency_key_header_with_its_bounds(schema):
    """POST /tasks documents Idempotency-Key as an optional header of 1 to 255 visible ASCII characters."""
    param = parameters(schema, "post", "/tasks", "header")["Idempotency-Key"]

    assert param.get("required", False) is False
    assert param["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[!-~]{1,255}$",
    }
    assert "Idempotency-Key" not in parameters(schema, "put", "/tasks/{id}", "header")


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED_OPERATIONS)
def test_401_documents_www_authenticate(schema, method, path):
    """Every 401 documents the WWW-Authenticate header SPEC §5 requires on it."""
    assert "www-authenticate" in response_headers(schema, method, path, 401)


# Request bodies


@pytest.mark.parametrize(
    ("method", "path"), [("post", "/tasks"), ("put", "/tasks/{id}"), ("patch", "/tasks/{id}")]
)
def test_task_request_bodies_forbid_unknown_and_omit_read_only_fields(schema, method, path):
    """Every media type of a task request body allows only title and done, nothing read-only or unknown."""
    content = operation(schema, method, path)["requestBody"]["content"]

    assert "application/json" in content
    for media_type, body in content.items():
        request = resolve(schema, body["schema"])
        assert request["additionalProperties"] is False, media_type
        assert set(request["properties"]) == {"title", "done"}, media_type
        assert not READ_ONLY_FIELDS & set(request.get("required", [])), media_type


@pytest.mark.parametrize(
    ("method", "path", "title_required"),
    [("post", "/tasks", True), ("put", "/tasks/{id}", True), ("patch", "/tasks/{id}", False)],
)
def test_task_request_title_is_a_patterned_string(schema, method, path, title_required):
    """title is a non-empty patterned string, required on POST and PUT, optional on PATCH; done is boolean."""
    body = operation(schema, method, path)["requestBody"]["content"]["application/json"]["schema"]
    request = resolve(schema, body)

    assert request["properties"]["title"]["type"] == "string"
    assert request["properties"]["title"]["minLength"] == 1
    assert request["properties"]["title"]["pattern"]
    assert request["properties"]["done"]["type"] == "boolean"
    assert ("title" in request.get("required", [])) is title_required


def sample_characters() -> list[str]:
    """Every code point up to U+02FF (controls, Latin-1), all of Python's white space and its neighbours,
    and a few beyond. Not lone surrogates: they are no Unicode characters (the server refuses them)."""
    neighbours = [code + step for code in map(ord, WHITESPACE) for step in (-1, 1)]
    beyond = [0x180E, 0x200B, 0xD7FF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF]
    return sorted({chr(code) for code in [*range(0x300), *map(ord, WHITESPACE), *neighbours, *beyond]})


def sample_strings(char: str, max_length: int) -> list[str]:
    """`char` alone, padded, inside, at either end of the longest value, and past it."""
    longest = "a" * max_length
    return [
        char,
        f" {char}\n",
        f"a{char}b",
        f"{char}{longest[1:]}",
        f"{longest}{char}",
        f"\t {longest} \r\n",
        f"{char * 2}",
    ]


@pytest.mark.parametrize(
    ("component", "field_name", "serializer_path"),
    [
        ("TaskRequest", "title", "tasks.serializers.TaskSerializer"),
        ("PatchedTaskRequest", "title", "tasks.serializers.TaskSerializer"),
        ("LoginRequest", "username", "accounts.serializers.LoginSerializer"),
        ("LoginRequest", "password", "accounts.serializers.LoginSerializer"),
    ],
)
def test_text_field_pattern_accepts_exactly_what_the_server_accepts(
    schema, component, field_name, serializer_path
):
    """The documented pattern and lengths match a string exactly when the real serializer field accepts it
    (after trimming white space; refusing NUL, surrogates and, for titles, control characters but tab)."""
    module, name = serializer_path.rsplit(".", 1)
    field = getattr(importlib.import_module(module), name)().fields[field_name]
    documented = schema["components"]["schemas"][component]["properties"][field_name]
    pattern = re.compile(documented["pattern"])
    disagreements = []

    for char in sample_characters():
        for value in sample_strings(char, field.max_length):
            try:
                field.run_validation(value)
                accepted = True
            except serializers.ValidationError:
                accepted = False
            allowed = (
                pattern.search(value) is not None
                and len(value) >= documented.get("minLength", 0)
                and len(value) <= documented.get("maxLength", len(value))
            )
            if allowed != accepted:
                disagreements.append((value[:5] + "…" + value[-5:], accepted))

    assert not disagreements, disagreements[:20]


def test_server_white_space_is_what_str_strip_removes():
    """The white space the patterns allow around a trimmed value is exactly what str.strip() removes."""
    assert {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()} == WHITESPACE


# The schema tells the truth: real responses conform to it


def detail(task: Task) -> str:
    return reverse("task-detail", args=[task.pk])


class Caller:
    """The clients and users a scenario needs, with shortcuts for the URLs it calls."""

    def __init__(
        self, api: APIClient, anon: APIClient, user: Any, other: Any, mp: pytest.MonkeyPatch
    ) -> None:
        self.api, self.anon, self.user, self.other, self.monkeypatch = api, anon, user, other, mp

    @property
    def tasks(self) -> str:
        return reverse("task-list")

    def own_task(self, **kwargs: Any) -> Task:
        return cast(Task, TaskFactory(owner=self.user, **kwargs))

    def own(self, **kwargs: Any) -> str:
        return detail(self.own_task(**kwargs))

    def others(self) -> str:
        return detail(cast(Task, TaskFactory(owner=self.other)))

    def changes_after_a_deletion(self) -> Any:
        """An incremental sync that brings a changed task and a deleted id, with more to come."""
        cursor = self.api.get(reverse("task-changes")).json()["cursor"]
        self.own_task().delete()
        self.own_task()
        self.own_task()
        response = self.api.get(reverse("task-changes"), {"cursor": cursor, "limit": "2"})
        assert response.json()["deleted"] and response.json()["tasks"] and response.json()["more"]
        return response

    def changes_after_a_purge(self) -> Any:
        """A cursor from before deletions that were since purged."""
        self.own_task()
        cursor = self.api.get(reverse("task-changes")).json()["cursor"]
        self.own_task().delete()
        with self.monkeypatch.context() as patch:
            patch.setattr(settings, "SYNC_RETENTION_DAYS", 0)
            call_command("purge_sync_log", verbosity=0)
        return self.api.get(reverse("task-changes"), {"cursor": cursor})

    def middle_page(self) -> Any:
        """Page 2 of 3: a full envelope with next and previous links, and a Link header."""
        for _ in range(5):
            self.own_task()
        response = self.api.get(self.tasks, {"limit": "2", "offset": "2"})
        assert 'rel="next"' in response["Link"]
        assert 'rel="prev"' in response["Link"]
        return response

    def create_twice(self, key: str, second_title: str) -> Any:
        """Two POSTs with one Idempotency-Key: the answer to the second."""
        headers = {"Idempotency-Key": key}
        assert self.api.post(self.tasks, {"title": "Once"}, format="json", headers=headers).status_code == 201
        return self.api.post(self.tasks, {"title": second_title}, format="json", headers=headers)

    def log_in(self, password: str = PASSWORD) -> Any:
        body = {"username": self.user.username, "password": password}
        return self.anon.post(reverse("auth-token"), body, format="json")

    def log_in_after_the_limit(self) -> Any:
        self.monkeypatch.setattr(settings, "LOGIN_FAILURES_PER_ADDRESS", 1)
        assert self.log_in("wrong").status_code == 400
        return self.log_in()

    def other_token_id(self) -> str:
        token, _ = token_issue(user=self.user, user_agent="another device")
        return str(token.token_key)

    def change_password(self, old: str = PASSWORD, new: str = "a much better passphrase") -> Any:
        body = {"old_password": old, "new_password": new}
        return self.api.post(reverse("auth-password"), body, format="json")

    def session_post_without_csrf_token(self) -> Any:
        client = APIClient(enforce_csrf_checks=True)
        assert client.login(username=self.user.username, password=PASSWORD)
        return client.post(self.tasks, {"title": "Forged"}, format="json")


TOO_BIG = b"x" * (ONE_MIB + 1)
SCENARIOS: dict[str, tuple[str, str, int, Callable[[Caller], Any]]] = {
    "create": ("post", "/tasks", 201, lambda c: c.api.post(c.tasks, {"title": "Docs"}, format="json")),
    "create-invalid": (
        "post",
        "/tasks",
        400,
        lambda c: c.api.post(c.tasks, {"title": "x" * 201}, format="json"),
    ),
    "create-replayed": ("post", "/tasks", 201, lambda c: c.create_twice("docs-replay", "Once")),
    "create-key-reused": ("post", "/tasks", 422, lambda c: c.create_twice("docs-reuse", "Twice")),
    "create-malformed-key": (
        "post",
        "/tasks",
        400,
        lambda c: c.api.post(c.tasks, {"title": "x"}, format="json", headers={"Idempotency-Key": ""}),
    ),
    "create-anonymous": (
        "post",
        "/tasks",
        401,
        lambda c: c.anon.post(c.tasks, {"title": "x"}, format="json"),
    ),
    "create-session-no-csrf": ("post", "/tasks", 403, lambda c: c.session_post_without_csrf_token()),
    "create-over-1-mib": (
        "post",
        "/tasks",
        413,
        lambda c: c.api.post(c.tasks, TOO_BIG, content_type="application/json"),
    ),
    "create-text-plain": (
        "post",
        "/tasks",
        415,
        lambda c: c.api.post(c.tasks, "title", content_type="text/plain"),
    ),
    "list-middle-page": ("get", "/tasks", 200, lambda c: c.middle_page()),
    "list-empty": ("get", "/tasks", 200, lambda c: c.api.get(c.tasks)),
    "list-bad-query": ("get", "/tasks", 400, lambda c: c.api.get(c.tasks, {"limit": "101", "ordering": "x"})),
    "list-anonymous": ("get", "/tasks", 401, lambda c: c.anon.get(c.tasks)),
    "changes": ("get", "/tasks/changes", 200, lambda c: c.changes_after_a_deletion()),
    "changes-bad-query": (
        "get",
        "/tasks/changes",
        400,
        lambda c: c.api.get(reverse("task-changes"), {"limit": "0", "cursor": "x"}),
    ),
    "changes-purged": ("get", "/tasks/changes", 410, lambda c: c.changes_after_a_purge()),
    "changes-anonymous": ("get", "/tasks/changes", 401, lambda c: c.anon.get(reverse("task-changes"))),
    "retrieve": ("get", "/tasks/{id}", 200, lambda c: c.api.get(c.own(done=True))),
    "retrieve-not-modified": (
        "get",
        "/tasks/{id}",
        304,
        lambda c: c.api.get(detail(task := c.own_task()), headers={"If-None-Match": task.etag}),
    ),
    "retrieve-anonymous": ("get", "/tasks/{id}", 401, lambda c: c.anon.get(c.own())),
    "retrieve-someone-elses": ("get", "/tasks/{id}", 404, lambda c: c.api.get(c.others())),
    "patch": ("patch", "/tasks/{id}", 200, lambda c: c.api.patch(c.own(), {"done": True}, format="json")),
    "patch-unknown-field": (
        "patch",
        "/tasks/{id}",
        400,
        lambda c: c.api.patch(c.own(), {"x": 1}, format="json"),
    ),
    "patch-stale-if-match": (
        "patch",
        "/tasks/{id}",
        412,
        lambda c: c.api.patch(c.own(), {"done": True}, format="json", headers={"If-Match": '"stale"'}),
    ),
    "patch-text-plain": (
        "patch",
        "/tasks/{id}",
        415,
        lambda c: c.api.patch(c.own(), "title", content_type="text/plain"),
    ),
    "put": ("put", "/tasks/{id}", 200, lambda c: c.api.put(c.own(), {"title": "New"}, format="json")),
    "put-someone-elses": (
        "put",
        "/tasks/{id}",
        404,
        lambda c: c.api.put(c.others(), {"title": "x"}, format="json"),
    ),
    "put-over-1-mib": (
        "put",
        "/tasks/{id}",
        413,
        lambda c: c.api.put(c.own(), TOO_BIG, content_type="application/json"),
    ),
    "delete": ("delete", "/tasks/{id}", 204, lambda c: c.api.delete(c.own())),
    "delete-someone-elses": ("delete", "/tasks/{id}", 404, lambda c: c.api.delete(c.others())),
    "delete-stale-if-match": (
        "delete",
        "/tasks/{id}",
        412,
        lambda c: c.api.delete(c.own(), headers={"If-Match": '"stale"'}),
    ),
    "token": ("post", "/auth/token", 200, lambda c: c.log_in()),
    "token-bad-credentials": ("post", "/auth/token", 400, lambda c: c.log_in("wrong")),
    "token-throttled": ("post", "/auth/token", 429, lambda c: c.log_in_after_the_limit()),
    "logout": ("post", "/auth/logout", 204, lambda c: c.api.post(reverse("auth-logout"))),
    "logout-anonymous": ("post", "/auth/logout", 401, lambda c: c.anon.post(reverse("auth-logout"))),
    "me": ("get", "/auth/me", 200, lambda c: c.api.get(reverse("auth-me"))),
    "tokens": ("get", "/auth/tokens", 200, lambda c: c.api.get(reverse("auth-tokens"))),
    "tokens-anonymous": ("get", "/auth/tokens", 401, lambda c: c.anon.get(reverse("auth-tokens"))),
    "revoke-other-tokens": ("delete", "/auth/tokens", 204, lambda c: c.api.delete(reverse("auth-tokens"))),
    "revoke-token": (
        "delete",
        "/auth/tokens/{id}",
        204,
        lambda c: c.api.delete(reverse("auth-token-detail", args=[c.other_token_id()])),
    ),
    "revoke-unknown-token": (
        "delete",
        "/auth/tokens/{id}",
        404,
        lambda c: c.api.delete(reverse("auth-token-detail", args=["0123456789abcde"])),
    ),
    "change-password": ("post", "/auth/password", 204, lambda c: c.change_password()),
    "change-password-wrong-old": ("post", "/auth/password", 400, lambda c: c.change_password(old="wrong")),
    "change-password-weak-new": ("post", "/auth/password", 400, lambda c: c.change_password(new="123")),
    "healthz": ("get", "/healthz", 200, lambda c: c.anon.get(reverse("healthz"))),
    "readyz": ("get", "/readyz", 200, lambda c: c.anon.get(reverse("readyz"))),
}


@pytest.mark.parametrize(
    ("method", "path", "status", "scenario"),
    [pytest.param(*entry, id=name) for name, entry in SCENARIOS.items()],
)
def test_real_response_conforms_to_the_schema(
    schema, api_client, anon_client, user, other_user, monkeypatch, method, path, status, scenario
):
    """A real response's status is documented for its operation, and its body and headers match the docs."""
    response = scenario(Caller(api_client, anon_client, user, other_user, monkeypatch))

    assert response.status_code == status
    assert_conforms(schema, method, path, response)


def test_conformance_check_rejects_an_undocumented_field(schema, api_client, user):
    """The response check fails on a body with a field the schema does not name, so it can catch a lie."""
    response = api_client.get(detail(cast(Task, TaskFactory(owner=user))))
    response.content = json.dumps({**json.loads(response.content), "owner": user.pk}).encode()

    with pytest.raises(jsonschema.ValidationError):
        assert_conforms(schema, "get", "/tasks/{id}", response)


def test_conformance_check_rejects_a_timestamp_that_is_not_rfc_3339(schema, api_client, user):
    """The response check validates date-time formats, not just types."""
    response = api_client.get(detail(cast(Task, TaskFactory(owner=user))))
    response.content = json.dumps({**json.loads(response.content), "updated_at": "yesterday"}).encode()

    with pytest.raises(jsonschema.ValidationError):
        assert_conforms(schema, "get", "/tasks/{id}", response)


# Swagger UI and ReDoc


@pytest.mark.parametrize("name", DOCS_PAGES)
def test_docs_page_is_html_loading_only_same_host_urls(anon_client, name):
    """Every src/href on the docs page is a path on this host: no CDN, no other host, no web fonts."""
    response = anon_client.get(reverse(name))
    html = response.content.decode()
    urls = page_urls(html).urls

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert urls
    for url in urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    assert "http://" not in html
    assert "https://" not in html
    assert "fonts.googleapis.com" not in html
    assert "fonts.gstatic.com" not in html


@pytest.mark.parametrize("name", DOCS_PAGES)
def test_docs_page_has_no_inline_script(anon_client, name):
    """Docs pages load their scripts from files, so script-src 'self' runs them."""
    response = anon_client.get(reverse(name))

    assert page_urls(response.content.decode()).inline_scripts == 0


def test_swagger_ui_references_its_bundle_and_styles(anon_client):
    """/docs loads swagger-ui-bundle.js and swagger-ui.css from this app's static files."""
    urls = page_urls(anon_client.get(reverse("docs")).content.decode()).urls
    names = {Path(urlsplit(url).path).name for url in urls if url.startswith(static_url())}

    assert {"swagger-ui-bundle.js", "swagger-ui.css"} <= names


def test_redoc_references_its_standalone_bundle_and_the_schema(anon_client):
    """/redoc loads redoc.standalone.js from this app's static files and reads /openapi.json."""
    html = anon_client.get(reverse("redoc")).content.decode()
    urls = page_urls(html).urls
    names = {Path(urlsplit(url).path).name for url in urls if url.startswith(static_url())}

    assert "redoc.standalone.js" in names
    assert 'spec-url="/openapi.json"' in html


def test_swagger_ui_init_script_is_javascript_reading_the_local_schema(anon_client):
    """The init script /docs loads (/docs?script) is 200 JavaScript that reads /openapi.json from here."""
    urls = page_urls(anon_client.get(reverse("docs")).content.decode()).urls
    (script_url,) = [url for url in urls if not url.startswith(static_url()) and url.endswith("?script=")]

    response = anon_client.get(script_url)
    script = response.content.decode()

    assert urlsplit(script_url).path == reverse("docs")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert 'url: "/openapi.json"' in script
    assert "http://" not in script
    assert "https://" not in script


@pytest.mark.parametrize("name", DOCS_PAGES)
def test_every_static_file_a_docs_page_references_exists(anon_client, name):
    """Each /static/ URL on the docs page is found by the staticfiles finders (the app serves it)."""
    urls = page_urls(anon_client.get(reverse(name)).content.decode()).urls
    static_paths = [
        urlsplit(url).path.removeprefix(static_url()) for url in urls if url.startswith(static_url())
    ]

    assert static_paths
    for path in static_paths:
        assert finders.find(path) is not None, path


@pytest.mark.parametrize(
    "path",
    [
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
    ],
)
def test_docs_bundles_pull_no_web_fonts_from_elsewhere(path):
    """The Swagger UI and ReDoc bundles themselves fetch no fonts from Google or another font host."""
    found = finders.find(path)
    assert found is not None
    text = Path(found).read_text(encoding="utf-8", errors="replace")

    assert "fonts.googleapis.com" not in text
    assert "fonts.gstatic.com" not in text


@pytest.mark.parametrize("url", ["/docs", "/docs?script=", "/redoc"])
def test_docs_content_security_policy_allows_only_this_host(anon_client, url):
    """The docs' CSP has default-src 'self', script-src 'self', and no source naming another host."""
    response = anon_client.get(url)
    directives = csp_directives(response["Content-Security-Policy"])

    assert response.status_code == 200
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    for name, sources in directives.items():
        assert set(sources) <= HOSTLESS_SOURCES, (name, sources)


def test_csp_check_rejects_a_policy_naming_a_cdn():
    """The CSP check's allow-list of sources does not admit a host, so it can catch a CDN."""
    directives = csp_directives("default-src 'self'; script-src 'self' https://cdn.jsdelivr.net")

    assert not set(directives["script-src"]) <= HOSTLESS_SOURCES


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json", "/docs", "/redoc"])
@pytest.mark.parametrize("slash", ["", "/"])
def test_probes_and_docs_answer_with_and_without_trailing_slash(db, anon_client, path, slash):
    """Like the API's paths, the probes and docs answer both ways, never with a redirect."""
    assert anon_client.get(path + slash).status_code == 200
