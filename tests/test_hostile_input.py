"""Request bodies are strict JSON: deep nesting and repeated keys are 400s, never a 500 or a guess."""

import json
from typing import Any

import pytest
from django.urls import reverse

from api.parsers import MAX_DEPTH
from api.tests.helpers import assert_problem
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from tests.hostile import nested, nested_objects

NESTED_TOO_DEEPLY = f"The JSON body is nested more than {MAX_DEPTH} levels deep."


@pytest.fixture
def task(user: Any) -> Task:
    return TaskFactory.create(owner=user, title="original")


def writes(task: Task) -> list[tuple[str, str]]:
    """Every write that reads a JSON body: (method, URL)."""
    detail = reverse("task-detail", args=[task.pk])
    return [
        ("post", reverse("task-list")),
        ("put", detail),
        ("patch", detail),
        ("post", reverse("auth-token")),
    ]


def tasks_snapshot() -> list[tuple[Any, ...]]:
    return list(Task.objects.order_by("id").values_list("id", "title", "done", "version", "updated_at"))


def send(client: Any, method: str, url: str, raw: bytes, content_type: str = "application/json") -> Any:
    return client.generic(method.upper(), url, raw, content_type=content_type)


DEEP_BODIES = {
    f"arrays {MAX_DEPTH + 1} deep": nested(MAX_DEPTH + 1),
    "arrays 1,000 deep": nested(1000),
    "arrays 20,000 deep": nested(20_000),
    "arrays 100,000 deep, never closed": b"[" * 100_000,
    "objects 50,000 deep": nested_objects(50_000),
    "a title 20,000 deep": b'{"title": ' + nested(20_000) + b"}",
    "a title 1,000 deep": b'{"title": ' + nested(1000) + b"}",
    "objects and arrays 100,000 deep": b'[{"a":' * 50_000,
}


@pytest.mark.parametrize("raw", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_a_body_nested_too_deeply_is_a_400_on_every_write_and_changes_nothing(api_client, task, raw):
    """Nesting beyond MAX_DEPTH, however deep, is one 400 saying so: no RecursionError, no 500."""
    before = tasks_snapshot()

    for method, url in writes(task):
        response = send(api_client, method, url, raw)

        assert assert_problem(response, 400)["detail"] == NESTED_TOO_DEEPLY, (method, url)
    assert tasks_snapshot() == before


def test_a_body_nested_to_the_limit_is_parsed_and_the_field_named(api_client, task):
    """MAX_DEPTH levels are still JSON this API reads: the title is named as not a string."""
    raw = b'{"title": ' + nested(MAX_DEPTH - 1) + b"}"

    response = send(api_client, "post", reverse("task-list"), raw)

    assert assert_problem(response, 400)["errors"] == [
        {"pointer": "#/title", "detail": "Not a valid string."}
    ]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"title": "a", "title": "b"}', "title"),
        (b'{"title": "a", "done": true, "done": false}', "done"),
        (b'{"title": "a", "\\u0074itle": "b"}', "title"),
        (b'{"title": "a", "x": [{"k": 1, "k": 1}]}', "k"),
    ],
    ids=["title twice", "done twice", "written with an escape", "inside a nested object"],
)
def test_a_key_twice_in_one_object_is_a_400_naming_it_and_changes_nothing(api_client, task, raw, key):
    """Repeated keys are refused, not resolved by a silent last-wins, on create and update alike."""
    before = tasks_snapshot()

    for method, url in writes(task)[:3]:
        response = send(api_client, method, url, raw)

        body = assert_problem(response, 400)
        assert body["detail"] == f'The JSON body has the key "{key}" twice in one object.'
    assert tasks_snapshot() == before


def test_a_repeated_credential_key_is_a_400_and_no_login(anon_client, user):
    """POST /auth/token with the username twice issues no token, whichever one is the user's."""
    raw = json.dumps({"username": "nobody", "password": "x"})[:-1].encode()
    raw += b', "username": ' + json.dumps(user.username).encode() + b"}"

    response = send(anon_client, "post", reverse("auth-token"), raw)

    assert (
        assert_problem(response, 400)["detail"] == 'The JSON body has the key "username" twice in one object.'
    )


def test_the_same_key_in_different_objects_is_not_a_repeat(api_client):
    """Uniqueness holds per object: a key in a nested object does not clash with one outside it."""
    raw = b'{"title": {"title": 1}}'

    response = send(api_client, "post", reverse("task-list"), raw)

    assert assert_problem(response, 400)["errors"] == [
        {"pointer": "#/title", "detail": "Not a valid string."}
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": NaN}',
        b'{"title": "x", "done": Infinity}',
        b'{"title": 1e400}',
        b'{"title": "\\ud800"}',
        b'{"title": "\\udc00x"}',
        b'{"title": "\xff"}',
        b'{"title": "\xed\xa0\x80"}',
    ],
    ids=[
        "NaN",
        "Infinity",
        "beyond a double",
        "lone high surrogate",
        "lone low surrogate",
        "invalid UTF-8",
        "UTF-8 encoded surrogate",
    ],
)
def test_json_outside_rfc_8259_is_a_400_malformed_json(api_client, task, raw):
    """What RFC 8259 does not allow, or no database column could store, is malformed JSON."""
    before = tasks_snapshot()

    response = send(api_client, "post", reverse("task-list"), raw)

    assert assert_problem(response, 400)["detail"].startswith("JSON parse error - ")
    assert tasks_snapshot() == before


@pytest.mark.parametrize("title", ["a\x00b", "\x00", "a\x1bb", "\x7f"])
def test_a_title_with_nul_or_another_control_character_is_a_400_naming_it(api_client, task, title):
    """NUL (which PostgreSQL cannot store) and other control characters are a validation error, not a 500."""
    before = tasks_snapshot()

    response = api_client.post(reverse("task-list"), {"title": title}, format="json")

    assert {error["pointer"] for error in assert_problem(response, 400)["errors"]} == {"#/title"}
    assert tasks_snapshot() == before


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'\xef\xbb\xbf{"title": "caf\xc3\xa9"}', "application/json"),
        ('{"title": "café"}'.encode("utf-16"), "application/json; charset=utf-16"),
        ('{"title": "café"}'.encode("latin-1"), "application/json; charset=latin-1"),
        (b'{"title": "caf\xc3\xa9"}', 'application/json; charset="UTF-8"'),
    ],
    ids=["UTF-8 with a byte order mark", "UTF-16 declared", "latin-1 declared", "quoted charset"],
)
def test_json_in_another_declared_charset_or_with_a_bom_is_read(api_client, raw, content_type):
    """A UTF-8 byte order mark is ignored (RFC 8259 §8.1) and a declared text charset honoured."""
    response = send(api_client, "post", reverse("task-list"), raw, content_type)

    assert response.status_code == 201
    assert Task.objects.get(pk=response.json()["id"]).title == "café"


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib"])
def test_a_charset_that_is_not_a_text_encoding_is_a_400(api_client, task, charset):
    """Codecs that transform bytes (and could inflate a small body) are not charsets."""
    before = tasks_snapshot()

    response = send(
        api_client, "post", reverse("task-list"), b'{"title": "x"}', f"application/json; charset={charset}"
    )

    assert charset in assert_problem(response, 400)["detail"]
    assert tasks_snapshot() == before


def test_a_body_in_a_charset_it_is_not_written_in_is_a_400(api_client, task):
    """Bytes that do not decode in the declared charset (an odd number for UTF-16) are a 400, not a 500."""
    response = send(
        api_client, "post", reverse("task-list"), b'{"title": "xy"}', "application/json; charset=utf-16"
    )

    assert assert_problem(response, 400)["detail"].startswith("The body is not valid utf-16")


def test_forms_cannot_nest(api_client):
    """The browsable API's form bodies are flat: a bracketed name is an unknown field, not a structure."""
    raw = b"title=x&" + b"a" + b"[b]" * 10_000 + b"=1"

    response = send(api_client, "post", reverse("task-list"), raw, "application/x-www-form-urlencoded")

    assert assert_problem(response, 400)["errors"][0]["detail"] == "Unknown field."


def test_a_search_longer_than_any_title_is_a_400_naming_it(api_client):
    """No title is over 200 characters, so no search is (and SQLite refuses LIKE patterns over 50 KB)."""
    response = api_client.get(reverse("task-list"), {"search": "x" * 201})

    assert assert_problem(response, 400)["errors"] == [
        {"parameter": "search", "detail": "Ensure this value has at most 200 characters (it has 201)."}
    ]


def test_the_openapi_document_says_which_bodies_are_refused(anon_client):
    """Each write's 400 names the JSON it refuses: malformed, nested too deeply, a key twice."""
    schema = json.loads(anon_client.get(reverse("openapi")).content)

    for path, method in [
        ("/tasks", "post"),
        ("/tasks/{id}", "put"),
        ("/tasks/{id}", "patch"),
        ("/auth/token", "post"),
    ]:
        description = schema["paths"][path][method]["responses"]["400"]["description"]
        assert "malformed" in description
        assert f"more than {MAX_DEPTH} levels" in description
        assert "twice" in description
