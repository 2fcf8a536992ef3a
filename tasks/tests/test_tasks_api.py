"""The Task resource and its endpoints (SPEC sections 1 and 2)."""

import datetime as dt
import re
from typing import Any, cast

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import client_for
from api.tests.helpers import PROBLEM, assert_problem, problem_body
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from tasks.tests.helpers import (
    LONG_AGO,
    MISSING_ID,
    TASK_FIELDS,
    aged_task,
    as_json,
    detail_url,
    list_url,
    rfc3339,
    snapshot,
)

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
REDIRECTS = {301, 302, 303, 307, 308}


def assert_invalid_fields(response: Any, *pointers: str) -> None:
    """A 400 problem document whose errors name exactly these body fields."""
    body = assert_problem(response, 400)
    assert {error["pointer"] for error in body["errors"]} == set(pointers)
    assert all(isinstance(error["detail"], str) and error["detail"] for error in body["errors"])


def send(client: APIClient, method: str, url: str, body: Any = None) -> Any:
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


# --- POST /tasks -------------------------------------------------------------


def test_create_returns_201_with_the_stored_task_and_its_location(api_client, user):
    """POST /tasks answers 201 with the stored task and a Location pointing at it."""
    response = api_client.post(list_url(), {"title": "Buy milk"}, format="json")
    assert response.status_code == 201
    task = Task.objects.get()
    assert response["Location"] == f"/tasks/{task.pk}"
    assert response.json() == as_json(task)


def test_create_body_has_exactly_the_task_fields(api_client):
    """The created task is id, title, done, created_at and updated_at, nothing more."""
    response = api_client.post(list_url(), {"title": "Buy milk"}, format="json")
    assert response.status_code == 201
    assert set(response.json()) == TASK_FIELDS


def test_create_timestamps_are_rfc3339_utc(api_client):
    """created_at and updated_at are RFC 3339 timestamps in UTC, written with Z."""
    before = dt.datetime.now(dt.UTC)
    response = api_client.post(list_url(), {"title": "Buy milk"}, format="json")
    after = dt.datetime.now(dt.UTC)
    assert response.status_code == 201
    for field in ("created_at", "updated_at"):
        value = response.json()[field]
        assert RFC3339_UTC.fullmatch(value), value
        assert before <= dt.datetime.fromisoformat(value) <= after


def test_create_makes_the_caller_the_owner(api_client, user):
    """The owner of a created task is the authenticated caller."""
    response = api_client.post(list_url(), {"title": "Buy milk"}, format="json")
    assert response.status_code == 201
    assert Task.objects.get(pk=response.json()["id"]).owner == user


def test_create_without_done_stores_false(api_client):
    """done defaults to false on create."""
    response = api_client.post(list_url(), {"title": "Buy milk"}, format="json")
    assert response.status_code == 201
    assert response.json()["done"] is False
    assert Task.objects.get().done is False


def test_create_with_done_true_stores_true(api_client):
    """done: true on create is honoured."""
    response = api_client.post(list_url(), {"title": "Buy milk", "done": True}, format="json")
    assert response.status_code == 201
    assert response.json()["done"] is True
    assert Task.objects.get().done is True


def test_create_with_owner_in_body_returns_400_and_creates_nothing(api_client, other_user):
    """The owner comes from the credentials: an owner field in the body is rejected."""
    response = api_client.post(list_url(), {"title": "Sneaky", "owner": other_user.pk}, format="json")
    assert_invalid_fields(response, "#/owner")
    assert not Task.objects.exists()


# --- Trailing slashes --------------------------------------------------------

EXPECTED_STATUS = {
    ("list", "post"): 201,
    ("list", "get"): 200,
    ("list", "patch"): 405,
    ("list", "put"): 405,
    ("list", "delete"): 405,
    ("detail", "post"): 405,
    ("detail", "get"): 200,
    ("detail", "patch"): 200,
    ("detail", "put"): 200,
    ("detail", "delete"): 204,
}


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(("target", "method"), list(EXPECTED_STATUS))
def test_every_path_answers_with_and_without_trailing_slash_and_never_redirects(
    api_client, task, target, method, slash
):
    """/tasks, /tasks/, /tasks/{id} and /tasks/{id}/ answer every method directly, never with a redirect."""
    url = (list_url() if target == "list" else detail_url(task.pk)) + slash
    assert not url.endswith("//")
    body = {"title": "Via path"} if method in {"post", "put", "patch"} else None
    response = send(api_client, method, url, body)
    assert response.status_code not in REDIRECTS
    assert response.status_code == EXPECTED_STATUS[(target, method)]
    if response.status_code == 405:
        assert_problem(response, 405)
    assert "Location" not in response or method == "post"


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
def test_create_keeps_the_body_with_and_without_trailing_slash(api_client, user, slash):
    """POST /tasks and POST /tasks/ both create the task the body describes."""
    response = api_client.post(list_url() + slash, {"title": "Kept", "done": True}, format="json")
    assert response.status_code == 201
    task = Task.objects.get()
    assert (task.title, task.done, task.owner) == ("Kept", True, user)


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_keeps_the_body_with_and_without_trailing_slash(api_client, task, method, slash):
    """PATCH and PUT on /tasks/{id} and /tasks/{id}/ both apply the body."""
    response = send(api_client, method, detail_url(task.pk) + slash, {"title": "Changed", "done": True})
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.title, task.done) == ("Changed", True)


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
def test_delete_removes_the_task_with_and_without_trailing_slash(api_client, task, slash):
    """DELETE /tasks/{id} and /tasks/{id}/ both delete the task."""
    response = api_client.delete(detail_url(task.pk) + slash)
    assert response.status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()


# --- GET /tasks/{id} ---------------------------------------------------------


def test_retrieve_returns_200_with_the_task(api_client, task):
    """GET /tasks/{id} answers 200 with the stored task."""
    response = api_client.get(detail_url(task.pk))
    assert response.status_code == 200
    assert response.json() == as_json(task)


# --- PATCH /tasks/{id} -------------------------------------------------------


def test_patch_title_only_changes_the_title_and_keeps_done(api_client, user):
    """PATCH with only a title changes the title and leaves done alone."""
    task = aged_task(owner=user, title="Original", done=True)
    response = api_client.patch(detail_url(task.pk), {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.title, task.done) == ("Renamed", True)
    assert response.json() == as_json(task)


def test_patch_done_only_changes_done_and_keeps_the_title(api_client, task):
    """PATCH with only done changes done and leaves the title alone."""
    response = api_client.patch(detail_url(task.pk), {"done": True}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.title, task.done) == ("Original", True)
    assert response.json() == as_json(task)


def test_patch_with_empty_object_returns_200_and_keeps_the_fields(api_client, task):
    """PATCH with {} is a valid (empty) subset: 200, title and done unchanged."""
    response = api_client.patch(detail_url(task.pk), {}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.title, task.done) == ("Original", False)
    assert response.json() == as_json(task)


def test_patch_without_a_body_returns_400_and_changes_nothing(api_client, task):
    """PATCH's body is required, as every write's: none at all is a 400 naming the body, not a no-op."""
    before = snapshot(task)

    response = api_client.patch(detail_url(task.pk))

    assert_invalid_fields(response, "#")
    task.refresh_from_db()
    assert snapshot(task) == before


# --- PUT /tasks/{id} ---------------------------------------------------------


def test_put_replaces_title_and_done(api_client, task):
    """PUT with title and done stores both."""
    response = api_client.put(detail_url(task.pk), {"title": "Replaced", "done": True}, format="json")
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.title, task.done) == ("Replaced", True)
    assert response.json() == as_json(task)


def test_put_without_done_resets_done_to_false(api_client, user):
    """PUT is a full replacement: an omitted done goes back to its default, false."""
    task = aged_task(owner=user, title="Original", done=True)
    response = api_client.put(detail_url(task.pk), {"title": "Replaced"}, format="json")
    assert response.status_code == 200
    assert response.json()["done"] is False
    task.refresh_from_db()
    assert (task.title, task.done) == ("Replaced", False)


def test_put_without_title_returns_400_naming_it_and_changes_nothing(api_client, task):
    """PUT requires a title; without one it is a 400 naming #/title."""
    before = snapshot(task)
    response = api_client.put(detail_url(task.pk), {"done": True}, format="json")
    assert_invalid_fields(response, "#/title")
    assert snapshot(task) == before


# --- DELETE /tasks/{id} ------------------------------------------------------


def test_delete_returns_204_with_an_empty_body_and_removes_the_task(api_client, task):
    """DELETE answers 204 with no body and the task is gone from the database."""
    response = api_client.delete(detail_url(task.pk))
    assert response.status_code == 204
    assert response.content == b""
    assert not Task.objects.filter(pk=task.pk).exists()


def test_second_delete_returns_404(api_client, task):
    """Deleting a task twice: the second DELETE is 404."""
    assert api_client.delete(detail_url(task.pk)).status_code == 204
    assert_problem(api_client.delete(detail_url(task.pk)), 404)


def test_get_after_delete_returns_404(api_client, task):
    """A deleted task is 404 to GET."""
    assert api_client.delete(detail_url(task.pk)).status_code == 204
    assert_problem(api_client.get(detail_url(task.pk)), 404)


def test_delete_leaves_the_callers_other_tasks(api_client, user, task):
    """DELETE removes exactly one task."""
    kept = cast(Task, TaskFactory(owner=user))
    assert api_client.delete(detail_url(task.pk)).status_code == 204
    assert list(Task.objects.values_list("pk", flat=True)) == [kept.pk]


# --- Timestamps --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("patch", {"title": "Renamed"}),
        ("patch", {"done": True}),
        ("put", {"title": "Replaced"}),
        ("put", {"title": "Original", "done": False}),
    ],
    ids=["patch-title", "patch-done", "put", "put-same-values"],
)
def test_successful_write_moves_updated_at_and_keeps_created_at(api_client, task, method, body):
    """Every successful PATCH or PUT changes updated_at; created_at never changes."""
    before = dt.datetime.now(dt.UTC)
    response = send(api_client, method, detail_url(task.pk), body)
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.created_at == LONG_AGO
    assert task.updated_at >= before
    assert response.json()["created_at"] == rfc3339(LONG_AGO)
    assert response.json()["updated_at"] == rfc3339(task.updated_at)


def test_each_successive_write_moves_updated_at_again(api_client, task):
    """Two writes in a row give two different updated_at values, both later than created_at."""
    first = api_client.patch(detail_url(task.pk), {"title": "One"}, format="json").json()["updated_at"]
    second = api_client.patch(detail_url(task.pk), {"title": "Two"}, format="json").json()["updated_at"]
    assert rfc3339(LONG_AGO) != first != second
    assert dt.datetime.fromisoformat(second) > dt.datetime.fromisoformat(first)


# --- Title rules -------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("  Buy milk  ", "Buy milk"),
        ("x", "x"),
        ("  x  ", "x"),
        ("a" * 200, "a" * 200),
        ("  " + "a" * 200 + "  ", "a" * 200),
        ("ä" * 200, "ä" * 200),
        ("Buy\tmilk", "Buy\tmilk"),
    ],
    ids=["trimmed", "one-char", "one-char-trimmed", "200-chars", "200-after-trim", "200-non-ascii", "tab"],
)
@pytest.mark.parametrize("method", ["post", "patch", "put"])
def test_valid_title_is_accepted_and_stored_trimmed(api_client, task, method, sent, stored):
    """Titles of 1-200 characters after trimming (tabs inside allowed) are stored trimmed."""
    url = list_url() if method == "post" else detail_url(task.pk)
    response = send(api_client, method, url, {"title": sent})
    assert response.status_code == (201 if method == "post" else 200)
    assert response.json()["title"] == stored
    assert Task.objects.get(pk=response.json()["id"]).title == stored


BAD_TITLES = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="whitespace-only"),
    pytest.param("a" * 201, id="201-chars"),
    pytest.param("ä" * 201, id="201-non-ascii"),
    pytest.param("Buy\nmilk", id="newline"),
    pytest.param("Buy\rmilk", id="carriage-return"),
    pytest.param("Buy\x00milk", id="nul"),
    pytest.param("Buy\x1bmilk", id="escape"),
    pytest.param("Buy\x7fmilk", id="delete"),
    pytest.param("Buy milk\x00", id="trailing-nul"),
    pytest.param(123, id="number"),
    pytest.param(1.5, id="float"),
    pytest.param(True, id="boolean"),
    pytest.param(None, id="null"),
    pytest.param(["Buy milk"], id="list"),
    pytest.param({"text": "Buy milk"}, id="object"),
]

BAD_DONE = [
    pytest.param("true", id="string-true"),
    pytest.param("false", id="string-false"),
    pytest.param("yes", id="yes"),
    pytest.param(1, id="one"),
    pytest.param(0, id="zero"),
    pytest.param(None, id="null"),
    pytest.param([True], id="list"),
    pytest.param({}, id="object"),
]


@pytest.mark.parametrize("title", BAD_TITLES)
def test_create_with_invalid_title_returns_400_naming_it_and_creates_nothing(api_client, title):
    """POST with a bad title is a 400 naming #/title, and no task is created."""
    response = api_client.post(list_url(), {"title": title}, format="json")
    assert_invalid_fields(response, "#/title")
    assert not Task.objects.exists()


@pytest.mark.parametrize("title", BAD_TITLES)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_with_invalid_title_returns_400_naming_it_and_changes_nothing(api_client, task, method, title):
    """PATCH or PUT with a bad title is a 400 naming #/title, and the task is unchanged."""
    before = snapshot(task)
    response = send(api_client, method, detail_url(task.pk), {"title": title})
    assert_invalid_fields(response, "#/title")
    assert snapshot(task) == before


@pytest.mark.parametrize("done", BAD_DONE)
def test_create_with_non_boolean_done_returns_400_naming_it_and_creates_nothing(api_client, done):
    """POST with done that is not JSON true/false is a 400 naming #/done, and nothing is created."""
    response = api_client.post(list_url(), {"title": "Buy milk", "done": done}, format="json")
    assert_invalid_fields(response, "#/done")
    assert not Task.objects.exists()


@pytest.mark.parametrize("done", BAD_DONE)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_with_non_boolean_done_returns_400_naming_it_and_changes_nothing(
    api_client, task, method, done
):
    """PATCH or PUT with done that is not JSON true/false is a 400 naming #/done; the task is unchanged."""
    before = snapshot(task)
    response = send(api_client, method, detail_url(task.pk), {"title": "Renamed", "done": done})
    assert_invalid_fields(response, "#/done")
    assert snapshot(task) == before


def test_create_with_bad_title_and_bad_done_names_both(api_client):
    """Every invalid field is reported, not just the first."""
    response = api_client.post(list_url(), {"title": "", "done": "yes"}, format="json")
    assert_invalid_fields(response, "#/title", "#/done")
    assert not Task.objects.exists()


def test_create_without_title_returns_400_naming_it(api_client):
    """title is required on create."""
    response = api_client.post(list_url(), {"done": True}, format="json")
    assert_invalid_fields(response, "#/title")
    assert not Task.objects.exists()


# --- Unknown and read-only fields --------------------------------------------


def test_create_with_unknown_fields_returns_400_naming_each_and_creates_nothing(api_client, other_user):
    """Unknown body fields on POST are a 400 with a pointer for each."""
    body = {"title": "Buy milk", "owner": other_user.pk, "foo": "bar"}
    response = api_client.post(list_url(), body, format="json")
    assert_invalid_fields(response, "#/owner", "#/foo")
    assert not Task.objects.exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_with_unknown_fields_returns_400_naming_each_and_changes_nothing(
    api_client, task, other_user, method
):
    """Unknown body fields on PATCH or PUT are a 400 with a pointer for each; the task is unchanged."""
    before = snapshot(task)
    body = {"title": "Renamed", "owner": other_user.pk, "foo": "bar"}
    response = send(api_client, method, detail_url(task.pk), body)
    assert_invalid_fields(response, "#/owner", "#/foo")
    assert snapshot(task) == before


def test_unknown_field_names_are_escaped_in_the_pointer(api_client):
    """A field name containing / or ~ is escaped in its JSON pointer (RFC 6901)."""
    response = api_client.post(list_url(), {"title": "Buy milk", "a/b~c": 1}, format="json")
    assert_invalid_fields(response, "#/a~1b~0c")


READ_ONLY = {
    "id": MISSING_ID,
    "created_at": "2001-02-03T04:05:06Z",
    "updated_at": "2001-02-03T04:05:06Z",
}


def test_create_ignores_read_only_fields(api_client):
    """id, created_at and updated_at sent on POST are ignored, not stored."""
    before = dt.datetime.now(dt.UTC)
    response = api_client.post(list_url(), {"title": "Buy milk", **READ_ONLY}, format="json")
    assert response.status_code == 201
    task = Task.objects.get()
    assert task.pk != MISSING_ID
    assert task.created_at >= before
    assert task.updated_at >= before
    assert response.json() == as_json(task)


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_ignores_read_only_fields(api_client, task, method):
    """id, created_at and updated_at sent on PATCH or PUT are ignored."""
    response = send(api_client, method, detail_url(task.pk), {"title": "Renamed", **READ_ONLY})
    assert response.status_code == 200
    assert not Task.objects.filter(pk=MISSING_ID).exists()
    task.refresh_from_db()
    assert task.title == "Renamed"
    assert task.created_at == LONG_AGO
    assert task.updated_at != dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert response.json() == as_json(task)


@pytest.mark.parametrize("method", ["patch", "put"])
def test_sending_back_what_was_read_is_accepted_and_keeps_id_and_created_at(api_client, user, method):
    """A client can GET a task and PUT or PATCH the same body back unchanged."""
    task = aged_task(owner=user, title="Round trip", done=True)
    read = api_client.get(detail_url(task.pk)).json()
    response = send(api_client, method, detail_url(task.pk), read)
    assert response.status_code == 200
    written = response.json()
    assert {key: written[key] for key in ("id", "title", "done", "created_at")} == {
        key: read[key] for key in ("id", "title", "done", "created_at")
    }
    task.refresh_from_db()
    assert (task.pk, task.title, task.done, task.created_at) == (read["id"], "Round trip", True, LONG_AGO)


# --- Body that is not an object ----------------------------------------------

NOT_OBJECTS = [
    pytest.param([{"title": "Buy milk"}], id="list"),
    pytest.param("Buy milk", id="string"),
    pytest.param(42, id="number"),
    pytest.param(True, id="boolean"),
]


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_create_with_a_body_that_is_not_an_object_returns_400(api_client, body):
    """A JSON body that is not an object is a 400 whose pointer is the whole document; nothing is created."""
    response = api_client.post(list_url(), body, format="json")
    assert_invalid_fields(response, "#")
    assert not Task.objects.exists()


@pytest.mark.parametrize("body", NOT_OBJECTS)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_with_a_body_that_is_not_an_object_returns_400(api_client, task, method, body):
    """A non-object JSON body on PATCH or PUT is a 400 pointing at the whole document; nothing changes."""
    before = snapshot(task)
    response = send(api_client, method, detail_url(task.pk), body)
    assert_invalid_fields(response, "#")
    assert snapshot(task) == before


@pytest.mark.parametrize("method", ["post", "patch", "put"])
def test_json_null_body_returns_400(api_client, task, method):
    """A body of JSON null is a 400 problem document, not a server error; nothing changes."""
    before = snapshot(task)
    url = list_url() if method == "post" else detail_url(task.pk)
    response = getattr(api_client, method)(url, b"null", content_type="application/json")
    assert_invalid_fields(response, "#")
    assert snapshot(task) == before
    assert Task.objects.count() == 1


# --- Ownership and missing tasks ---------------------------------------------

DETAIL_METHODS = [
    ("get", None),
    ("patch", {"title": "Stolen"}),
    ("put", {"title": "Stolen", "done": False}),
    ("delete", None),
]


@pytest.mark.parametrize(("method", "body"), DETAIL_METHODS, ids=[m for m, _ in DETAIL_METHODS])
def test_someone_elses_task_is_404_and_left_unchanged(api_client, others_task, method, body):
    """Another user's task is 404 (never 403) to every method, and it is not changed or deleted."""
    before = snapshot(others_task)
    response = send(api_client, method, detail_url(others_task.pk), body)
    assert_problem(response, 404)
    assert snapshot(others_task) == before


@pytest.mark.parametrize(("method", "body"), DETAIL_METHODS, ids=[m for m, _ in DETAIL_METHODS])
def test_someone_elses_task_is_indistinguishable_from_a_missing_one(api_client, others_task, method, body):
    """The 404 for another user's task is the same document as for an id that does not exist."""
    foreign = send(api_client, method, detail_url(others_task.pk), body)
    missing = send(api_client, method, detail_url(MISSING_ID), body)
    assert foreign.status_code == missing.status_code == 404
    assert problem_body(foreign) == problem_body(missing)
    assert foreign["Content-Type"] == missing["Content-Type"] == PROBLEM


@pytest.mark.parametrize(("method", "body"), DETAIL_METHODS, ids=[m for m, _ in DETAIL_METHODS])
def test_missing_task_is_a_404_problem(api_client, method, body):
    """An id that does not exist is a 404 problem document for every method, and creates nothing."""
    response = send(api_client, method, detail_url(MISSING_ID), body)
    assert_problem(response, 404)
    assert not Task.objects.exists()


def test_invalid_body_for_someone_elses_task_is_still_404(api_client, others_task):
    """Validation never runs before the ownership check: a bad body on a foreign task is 404, not 400."""
    before = snapshot(others_task)
    response = api_client.patch(detail_url(others_task.pk), {"title": "", "foo": 1}, format="json")
    assert_problem(response, 404)
    assert snapshot(others_task) == before


def test_owner_can_still_read_their_task_after_others_tried(api_client, others_task, other_user):
    """A foreign user's failed attempts leave the owner's view of the task intact."""
    api_client.delete(detail_url(others_task.pk))
    response = client_for(other_user).get(detail_url(others_task.pk))
    assert response.status_code == 200
    assert response.json() == as_json(others_task)


# --- Authentication ----------------------------------------------------------

ENDPOINTS = [
    ("post", "list", {"title": "Anonymous"}),
    ("get", "list", None),
    ("get", "detail", None),
    ("patch", "detail", {"title": "Anonymous"}),
    ("put", "detail", {"title": "Anonymous"}),
    ("delete", "detail", None),
]


@pytest.mark.parametrize("slash", ["", "/"], ids=["no-slash", "slash"])
@pytest.mark.parametrize(("method", "target", "body"), ENDPOINTS, ids=[f"{m}-{t}" for m, t, _ in ENDPOINTS])
def test_unauthenticated_request_returns_401_with_bearer_challenge(
    anon_client, task, method, target, body, slash
):
    """Without credentials every endpoint is 401 with a Bearer WWW-Authenticate challenge; nothing changes."""
    before = snapshot(task)
    url = (list_url() if target == "list" else detail_url(task.pk)) + slash
    response = send(anon_client, method, url, body)
    assert_problem(response, 401)
    assert "Bearer" in response["WWW-Authenticate"]
    assert snapshot(task) == before
    assert Task.objects.count() == 1


# --- Query counts ------------------------------------------------------------


@pytest.fixture(params=[1, 50], ids=["1-task", "50-tasks"])
def populated(request, user) -> Task:
    """The caller's tasks (and as many of someone else's): the last of the caller's is returned."""
    others = UserFactory()
    TaskFactory.create_batch(request.param, owner=others)
    return TaskFactory.create_batch(request.param, owner=user)[-1]


def test_create_runs_a_constant_number_of_queries(api_client, populated, django_assert_num_queries):
    """POST /tasks: the token query and one insert, however many tasks exist; no per-row work."""
    with django_assert_num_queries(2):
        response = api_client.post(list_url(), {"title": "Counted"}, format="json")
    assert response.status_code == 201


def test_retrieve_runs_a_constant_number_of_queries(api_client, populated, django_assert_num_queries):
    """GET /tasks/{id}: the token query and one select, however many tasks exist; no owner load."""
    with django_assert_num_queries(2):
        response = api_client.get(detail_url(populated.pk))
    assert response.status_code == 200


def test_patch_runs_a_constant_number_of_queries(api_client, populated, django_assert_num_queries):
    """PATCH /tasks/{id}: the token query and one UPDATE … RETURNING; no select before, no re-read after."""
    with django_assert_num_queries(2) as captured:
        response = api_client.patch(detail_url(populated.pk), {"done": True}, format="json")
    assert response.status_code == 200
    assert captured.captured_queries[-1]["sql"].startswith("UPDATE")
    assert response.json() == as_json(populated)


def test_put_runs_a_constant_number_of_queries(api_client, populated, django_assert_num_queries):
    """PUT /tasks/{id}: the token query and one UPDATE … RETURNING; no select before, no re-read after."""
    with django_assert_num_queries(2) as captured:
        response = api_client.put(detail_url(populated.pk), {"title": "Counted"}, format="json")
    assert response.status_code == 200
    assert captured.captured_queries[-1]["sql"].startswith("UPDATE")
    assert response.json() == as_json(populated)


def test_delete_runs_a_constant_number_of_queries(api_client, populated, django_assert_num_queries):
    """DELETE /tasks/{id}: the token query and one DELETE; no select, no cascade collection before it."""
    with django_assert_num_queries(2) as captured:
        response = api_client.delete(detail_url(populated.pk))
    assert response.status_code == 204
    assert captured.captured_queries[-1]["sql"].startswith("DELETE")
    assert not Task.objects.filter(pk=populated.pk).exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_conditional_update_runs_as_many_queries_as_a_plain_one(
    api_client, populated, django_assert_num_queries, method
):
    """PATCH or PUT with the current ETag in If-Match: the version is checked by the UPDATE itself."""
    etag = api_client.get(detail_url(populated.pk))["ETag"]
    with django_assert_num_queries(2):
        response = getattr(api_client, method)(
            detail_url(populated.pk), {"title": "Counted"}, format="json", headers={"If-Match": etag}
        )
    assert response.status_code == 200
    assert response["ETag"] != etag


@pytest.mark.parametrize(
    ("method", "statement"), [("patch", "UPDATE"), ("put", "UPDATE"), ("delete", "DELETE")]
)
def test_stale_if_match_runs_one_more_query_to_answer_412(
    api_client, populated, django_assert_num_queries, method, statement
):
    """A stale If-Match: token, the write that touches no row, and one existence check that makes it 412."""
    headers = {"If-Match": api_client.get(detail_url(populated.pk))["ETag"]}
    Task.objects.filter(pk=populated.pk).set_done(True)  # someone else writes first
    before = snapshot(populated)
    with django_assert_num_queries(3) as captured:
        if method == "delete":
            response = api_client.delete(detail_url(populated.pk), headers=headers)
        else:
            response = getattr(api_client, method)(
                detail_url(populated.pk), {"title": "Late"}, format="json", headers=headers
            )
    assert_problem(response, 412)
    assert captured.captured_queries[1]["sql"].startswith(statement)
    assert snapshot(populated) == before


@pytest.mark.parametrize(
    ("if_match", "queries"),
    [(None, 2), ("*", 2), (f'"{MISSING_ID}-1"', 3)],
    ids=["no-if-match", "star", "a-version"],
)
def test_patch_of_a_missing_task_is_404_in_at_most_three_queries(
    api_client, django_assert_num_queries, if_match, queries
):
    """PATCH of an id the caller has no task with: the UPDATE touches no row; only a version in
    If-Match needs the existence check (gone: 404, changed: 412)."""
    headers = {} if if_match is None else {"If-Match": if_match}
    with django_assert_num_queries(queries):
        response = api_client.patch(detail_url(MISSING_ID), {"done": True}, format="json", headers=headers)
    assert_problem(response, 404)
