"""Hostile input never gets a 5xx: every answer is a 2xx or a 4xx problem document.

The operations and parameters come from the OpenAPI document, so an endpoint
added later is fed the same corpus (tests/hostile.py) without a change here.
Each test sends every entry and reports every failure at once.
"""

import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django.core.cache import cache
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from api.tests.helpers import assert_problem
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from tests.hostile import BODIES, as_query_value, describe, strings

WRITE_METHODS = ("post", "put", "patch", "delete")
PATH_PARAMETER = re.compile(r"\{[^}]+\}")
CORPUS = strings()


class Caller:
    """Sends requests as one user, with a fresh token and task after any that may have used them up."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.renew()

    def renew(self) -> None:
        _, secret = AuthToken.objects.create(self.user)
        self.client = APIClient(raise_request_exception=False)
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        self.task = TaskFactory.create(owner=self.user, title="original")

    def url(self, path: str) -> str:
        return PATH_PARAMETER.sub(str(self.task.pk), path)

    def send(self, method: str, path: str, **kwargs: Any) -> Any:
        cache.clear()  # no failed-login or other throttle carries over from one entry to the next
        response: Any = self.client.generic(method.upper(), self.url(path), **kwargs)
        if response.status_code == 204:  # a delete or a logout: the task or the token is gone
            self.renew()
        return response


def failure(response: Any) -> str | None:
    """Why `response` is neither a 2xx nor a 4xx problem document; None when it is one of those."""
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return None
    if not 400 <= status < 500:
        return f"{status} {response.content[:120]!r}"
    try:
        assert_problem(response, status)
    except (AssertionError, ValueError, KeyError) as exc:
        return f"{status} is not a problem document ({exc!r}): {response.content[:120]!r}"
    return None


def json_body(value: Any) -> bytes:
    """A JSON text for `value` as a client's encoder writes it (lone surrogates escaped)."""
    import json

    return json.dumps(value).encode()


@pytest.fixture
def schema(anon_client: APIClient) -> dict[str, Any]:
    response = anon_client.get(reverse("openapi"))
    assert response.status_code == 200
    return dict(response.json())


def write_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, request body properties) of a write the document lists."""
    found = []
    for path, item in schema["paths"].items():
        for method in WRITE_METHODS:
            if method in item:
                body = item[method].get("requestBody", {}).get("content", {}).get("application/json", {})
                ref = body.get("schema", {}).get("$ref", "")
                component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else {}
                found.append((method, path, component.get("properties", {})))
    return found


def string_fields(properties: dict[str, Any]) -> list[str]:
    return [
        name for name, spec in properties.items() if spec.get("type") == "string" and not spec.get("readOnly")
    ]


def valid_body(properties: dict[str, Any]) -> dict[str, Any]:
    """A body with a plain value for every writable field, for one field to be swapped for a hostile one."""
    return {name: "x" for name in string_fields(properties)}


def query_parameters(schema: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The query parameters of every GET the document lists, by path."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for path, item in schema["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["in"] == "query":
                found.setdefault(path, {})[parameter["name"]] = parameter.get("schema", {})
    return found


def is_free_text(spec: dict[str, Any]) -> bool:
    return spec.get("type", "string") == "string" and not {"enum", "format", "pattern"} & set(spec)


def run(entries: list[Any], send: Callable[[Any], Any], check: Callable[[Any, Any], str | None]) -> list[str]:
    problems = []
    for entry in entries:
        response = send(entry)
        reason = failure(response) or check(entry, response)
        if reason:
            problems.append(f"{describe(entry)}: {reason}")
    return problems


def no_check(entry: Any, response: Any) -> None:
    return None


def test_the_corpus_reaches_every_write_and_every_query_parameter(schema):
    """The document lists the writes and parameters the corpus must cover, so none is fed nothing."""
    operations = {(method, path) for method, path, _ in write_operations(schema)}
    parameters = {(path, name) for path, names in query_parameters(schema).items() for name in names}

    assert {
        ("post", "/tasks"),
        ("put", "/tasks/{id}"),
        ("patch", "/tasks/{id}"),
        ("delete", "/tasks/{id}"),
        ("post", "/auth/token"),
        ("post", "/auth/logout"),
    } <= operations
    assert {
        ("/tasks", name) for name in ("search", "ordering", "updated_after", "done", "limit", "offset")
    } <= parameters
    assert len(CORPUS) > 500


def test_hostile_strings_in_every_body_field_never_get_a_5xx(schema, user):
    """Every naughty string in every string field of every write: a 2xx or a 4xx problem document.

    One request per string sets it in all of an operation's fields at once:
    a serializer validates each field on its own and reports them all.
    Operations on one path with the same fields (PUT and PATCH) run the same
    field code, so they share the corpus out between them; POST /tasks is the
    round-trip test's."""
    caller = Caller(user)
    sharing: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for method, path, properties in write_operations(schema):
        fields = tuple(string_fields(properties))
        if fields and (method, path) != ("post", "/tasks"):
            sharing.setdefault((path, fields), []).append(method)
    problems = []
    for (path, fields), methods in sharing.items():

        def send(entry: tuple[str, str], path: str = path, fields: tuple[str, ...] = fields) -> Any:
            method, value = entry
            body = json_body(dict.fromkeys(fields, value))
            return caller.send(method, path, data=body, content_type="application/json")

        shared_out = [(methods[index % len(methods)], value) for index, value in enumerate(CORPUS)]
        problems += [f"{path} {p}" for p in run(shared_out, send, no_check)]

    assert problems == []


def test_hostile_bodies_on_every_write_never_get_a_5xx(schema, user):
    """Deep nesting, odd numbers, broken encodings, charsets, wrong types, forms: never a 5xx."""
    caller = Caller(user)
    problems = []
    for method, path, _ in write_operations(schema):

        def send(entry: tuple[str, str, bytes], method: str = method, path: str = path) -> Any:
            _, content_type, raw = entry
            return caller.send(method, path, data=raw, content_type=content_type)

        problems += [f"{method} {path} {p}" for p in run(BODIES, send, no_check)]

    assert problems == []


def test_hostile_strings_in_every_query_parameter_never_get_a_5xx(schema, user):
    """Every naughty string as every query parameter of every listing: a 200 or a 400 problem document.

    One request per string sets it in every parameter (the list validates
    them all before it queries); free-text parameters, which reach the
    database, also get each string alone."""
    caller = Caller(user)
    problems = []
    for path, parameters in query_parameters(schema).items():
        free_text = [name for name, spec in parameters.items() if is_free_text(spec)]
        for names in [list(parameters), *([name] for name in free_text)]:

            def send(value: str, path: str = path, names: list[str] = names) -> Any:
                encoded = quote_from_bytes(as_query_value(value))
                return caller.send("get", path, QUERY_STRING="&".join(f"{name}={encoded}" for name in names))

            problems += [f"{path}?{'&'.join(names)}={p}" for p in run(CORPUS, send, no_check)]

    assert problems == []


RAW_QUERIES = [
    "search=%",
    "search=%zz",
    "search=%ED%A0%80",
    "search=%C0%AF",
    "search=%FF%FE",
    "search=\xff",  # WSGI strings are bytes as latin-1: a raw 0xFF byte
    "search=a&search=%00",
    "limit=1&limit=1000",
    "ordering=id&ordering=-nope",
    "&&&=&==",
    "%00=%00",
    "done",
    "limit",
    "search=" + "a" * 100_000,
    "&".join(f"p{i}=1" for i in range(5000)),
    "updated_after=2024-05-06T07:08:09%2B24:00",
    "updated_after=2024-05-06T07:08:09.%2B00:00",
    "updated_after=2024-05-06T07:08:09." + "9" * 5000 + "Z",
]


def test_malformed_query_strings_never_get_a_5xx(schema, user):
    """Broken percent-escapes, raw bytes, repeats and floods in the query string: a 200 or a 400 problem."""
    caller = Caller(user)
    paths = sorted(query_parameters(schema))
    problems = []
    for path in paths:

        def send(query: str, path: str = path) -> Any:
            return caller.send("get", path, QUERY_STRING=query)

        problems += [f"{path} {p}" for p in run(RAW_QUERIES, send, no_check)]

    assert problems == []


def obeys_the_title_rule(title: str) -> bool:
    """SPEC §1: 1-200 characters once trimmed, no control character but tab (nor, in JSON, lone surrogate)."""
    return 1 <= len(title) <= 200 and not any(
        unicodedata.category(c) in {"Cc", "Cs"} and c != "\t" for c in title
    )


def test_every_accepted_title_comes_back_exactly_as_stored(user):
    """A title POST accepts is returned by GET identical to what was sent, less surrounding white space;
    one the SPEC's rule refuses is a 400."""
    caller = Caller(user)

    def send(value: str) -> Any:
        body = json_body({"title": value})
        return caller.send("post", reverse("task-list"), data=body, content_type="application/json")

    def check(value: str, response: Any) -> str | None:
        expected_status = 201 if obeys_the_title_rule(value.strip()) else 400
        if response.status_code != expected_status:
            return f"expected {expected_status}, got {response.status_code} {response.content[:120]!r}"
        if response.status_code != 201:
            return None
        read = caller.client.get(response["Location"])
        stored = Task.objects.get(pk=response.json()["id"]).title
        if not (response.json()["title"] == read.json()["title"] == stored == value.strip()):
            return f"stored {stored!a}, read back {read.json()['title']!a}"
        return None

    assert run(CORPUS, send, check) == []
