"""Conditional requests on one task: ETag, If-None-Match and If-Match (SPEC §4, RFC 9110 §13)."""

import re
from typing import Any

import pytest

from accounts.tests.helpers import client_for
from api.tests.helpers import PROBLEM, assert_problem
from tasks.models import Task
from tasks.tests.helpers import LONG_AGO, MISSING_ID, detail_url, list_url, snapshot

STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e]+"')  # RFC 9110 8.8.3: quoted etagc, no W/ prefix
WRITES: dict[str, Any] = {
    "patch": {"title": "Changed"},
    "put": {"title": "Replaced", "done": True},
    "delete": None,
}


def current_etag(task: Task) -> str:
    task.refresh_from_db()
    return task.etag


def write(client: Any, method: str, task: Task, **headers: str) -> Any:
    body = WRITES[method]
    if body is None:
        return getattr(client, method)(detail_url(task.pk), headers=headers)
    return getattr(client, method)(detail_url(task.pk), body, format="json", headers=headers)


def assert_strong_etag(response: Any) -> str:
    etag = response["ETag"]
    assert STRONG_ETAG.fullmatch(etag), etag
    return etag


def assert_precondition_failed(response: Any) -> None:
    body = assert_problem(response, 412)
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["title"] == "Precondition Failed"


# --- ETag on every response carrying one task --------------------------------


def test_get_carries_a_strong_etag(api_client, task):
    """GET /tasks/{id} answers with a quoted, strong ETag (no W/ prefix)."""
    response = api_client.get(detail_url(task.pk))
    assert response.status_code == 200
    assert not response["ETag"].startswith("W/")
    assert assert_strong_etag(response) == current_etag(task)


def test_create_carries_the_etag_a_following_get_returns(api_client):
    """POST /tasks answers 201 with a strong ETag equal to the one GET then gives."""
    created = api_client.post(list_url(), {"title": "Buy milk"}, format="json")
    assert created.status_code == 201
    etag = assert_strong_etag(created)
    fetched = api_client.get(created["Location"])
    assert fetched.status_code == 200
    assert fetched["ETag"] == etag


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_carries_the_new_etag_a_following_get_returns(api_client, task, method):
    """PATCH and PUT answer with the ETag of the task as written, which GET then repeats."""
    before = current_etag(task)
    response = write(api_client, method, task)
    assert response.status_code == 200
    etag = assert_strong_etag(response)
    assert etag != before
    assert etag == current_etag(task)
    assert api_client.get(detail_url(task.pk))["ETag"] == etag


@pytest.mark.parametrize("method", ["patch", "put"])
def test_every_update_changes_the_etag(api_client, task, method):
    """Each of three successive writes gives a new ETag, never one seen before."""
    seen = {api_client.get(detail_url(task.pk))["ETag"]}
    for _ in range(3):
        response = write(api_client, method, task)
        assert response.status_code == 200
        assert response["ETag"] not in seen
        seen.add(response["ETag"])


def test_two_identical_patches_back_to_back_give_different_etags(api_client, task):
    """Writing the same values twice in the same clock tick still changes the ETag: the task was written."""
    first = api_client.patch(detail_url(task.pk), {"title": "Same", "done": True}, format="json")
    second = api_client.patch(detail_url(task.pk), {"title": "Same", "done": True}, format="json")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["title"] == second.json()["title"] == "Same"
    assert first["ETag"] != second["ETag"]
    assert second["ETag"] == current_etag(task)


def test_admin_bulk_action_changes_the_etag(api_client, task):
    """The admin's bulk "mark done" (a queryset update) gives the task a new ETag."""
    before = api_client.get(detail_url(task.pk))["ETag"]
    assert Task.objects.filter(pk=task.pk).set_done(True) == 1
    after = api_client.get(detail_url(task.pk))
    assert after.status_code == 200
    assert after.json()["done"] is True
    assert after["ETag"] != before


def test_admin_bulk_action_that_changes_no_value_still_changes_the_etag(api_client, task):
    """A bulk update that writes the value the task already has is still a write, with a new ETag."""
    before = api_client.get(detail_url(task.pk))["ETag"]
    assert Task.objects.filter(pk=task.pk).set_done(False) == 1
    assert api_client.get(detail_url(task.pk))["ETag"] != before


def test_admin_style_save_changes_the_etag(api_client, task):
    """Saving the model, as the admin's change form does, gives the task a new ETag."""
    before = api_client.get(detail_url(task.pk))["ETag"]
    stored = Task.objects.get(pk=task.pk)
    stored.title = "Edited by staff"
    stored.save()
    after = api_client.get(detail_url(task.pk))
    assert after.json()["title"] == "Edited by staff"
    assert after["ETag"] != before


def test_etags_of_different_tasks_differ(api_client, user):
    """Two new tasks (same version) never share an ETag."""
    first = api_client.post(list_url(), {"title": "One"}, format="json")
    second = api_client.post(list_url(), {"title": "One"}, format="json")
    assert first["ETag"] != second["ETag"]


def test_delete_response_carries_no_etag(api_client, task):
    """DELETE 204 describes no task, so it has no ETag."""
    response = api_client.delete(detail_url(task.pk))
    assert response.status_code == 204
    assert "ETag" not in response


def test_list_response_carries_no_etag(api_client, task):
    """The list is not one task: its response carries no per-task ETag."""
    response = api_client.get(list_url())
    assert response.status_code == 200
    assert "ETag" not in response


# --- If-None-Match on GET ----------------------------------------------------


def test_get_with_matching_if_none_match_is_304_with_no_body(api_client, task):
    """A client holding the current ETag gets 304, an empty body and the ETag again."""
    etag = current_etag(task)
    response = api_client.get(detail_url(task.pk), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize(
    "header",
    ["{etag}", "W/{etag}", "*", '"x", {etag}', '"x", W/{etag}', '"x",{etag} , "y"'],
    ids=["exact", "weak", "star", "list", "list-weak", "list-spacing"],
)
def test_get_with_if_none_match_naming_the_current_etag_is_304(api_client, task, header):
    """If-None-Match uses the weak comparison and accepts *, and a list matches if any member does."""
    etag = current_etag(task)
    response = api_client.get(detail_url(task.pk), headers={"If-None-Match": header.format(etag=etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.parametrize("header", ['"stale"', 'W/"stale"', '"x", "y"', "garbage"])
def test_get_with_non_matching_if_none_match_is_200_with_the_task(api_client, task, header):
    """If-None-Match that names no current ETag gets the full task and its ETag."""
    response = api_client.get(detail_url(task.pk), headers={"If-None-Match": header})
    assert response.status_code == 200
    assert response.json()["title"] == "Original"
    assert response["ETag"] == current_etag(task)


def test_old_etag_no_longer_gives_304_after_a_write(api_client, task):
    """After a PATCH the ETag a client cached is stale: GET answers 200 with the new task and ETag."""
    old = api_client.get(detail_url(task.pk))["ETag"]
    patched = api_client.patch(detail_url(task.pk), {"title": "Newer"}, format="json")
    assert patched.status_code == 200
    response = api_client.get(detail_url(task.pk), headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.json()["title"] == "Newer"
    assert response["ETag"] == patched["ETag"] != old


def test_old_etag_no_longer_gives_304_after_a_bulk_update(api_client, task):
    """A change made in the admin also makes a cached ETag stale."""
    old = api_client.get(detail_url(task.pk))["ETag"]
    Task.objects.filter(pk=task.pk).set_done(True)
    response = api_client.get(detail_url(task.pk), headers={"If-None-Match": old})
    assert response.status_code == 200
    assert response.json()["done"] is True


@pytest.mark.parametrize("header", ["*", "{etag}"], ids=["star", "their-etag"])
def test_if_none_match_on_someone_elses_task_is_404(api_client, others_task, header):
    """A conditional GET of someone else's task is 404, never a 304 that would confirm it exists."""
    value = header.format(etag=others_task.etag)
    response = api_client.get(detail_url(others_task.pk), headers={"If-None-Match": value})
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert "ETag" not in response


def test_if_none_match_star_on_a_missing_task_is_404(api_client):
    """If-None-Match: * on a task that does not exist is 404, not 304."""
    response = api_client.get(detail_url(MISSING_ID), headers={"If-None-Match": "*"})
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


# --- If-Match on writes ------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_with_stale_if_match_returns_412_and_changes_nothing(api_client, task, method):
    """PATCH or PUT naming an ETag the task no longer has is 412 and leaves the task as it was."""
    stale = current_etag(task)
    Task.objects.filter(pk=task.pk).set_done(True)  # someone else writes first
    before = snapshot(task)
    response = write(api_client, method, task, **{"If-Match": stale})
    assert_precondition_failed(response)
    assert snapshot(task) == before


def test_delete_with_stale_if_match_returns_412_and_deletes_nothing(api_client, task):
    """DELETE naming an ETag the task no longer has is 412 and the task stays."""
    stale = current_etag(task)
    Task.objects.filter(pk=task.pk).set_done(True)
    before = snapshot(task)
    response = write(api_client, "delete", task, **{"If-Match": stale})
    assert_precondition_failed(response)
    assert snapshot(task) == before


def test_patch_with_etag_from_before_a_previous_patch_returns_412(api_client, task):
    """Of two clients that read the same ETag, the second to write is refused."""
    etag = api_client.get(detail_url(task.pk))["ETag"]
    first = api_client.patch(
        detail_url(task.pk), {"title": "First"}, format="json", headers={"If-Match": etag}
    )
    assert first.status_code == 200
    before = snapshot(task)
    second = api_client.patch(
        detail_url(task.pk), {"title": "Second"}, format="json", headers={"If-Match": etag}
    )
    assert_precondition_failed(second)
    assert snapshot(task) == before
    assert before["title"] == "First"


@pytest.mark.parametrize(
    "header",
    ["W/{etag}", "garbage", "", "{bare}", '"x", "y"', "{etag} garbage"],
    ids=["weak-current", "garbage", "empty", "unquoted", "other-tags", "trailing-junk"],
)
@pytest.mark.parametrize("method", list(WRITES))
def test_write_with_non_matching_if_match_returns_412_and_changes_nothing(api_client, task, method, header):
    """If-Match uses the strong comparison: a weak tag, a malformed value or other tags never match."""
    etag = current_etag(task)
    before = snapshot(task)
    value = header.format(etag=etag, bare=etag.strip('"'))
    response = write(api_client, method, task, **{"If-Match": value})
    assert_precondition_failed(response)
    assert snapshot(task) == before


@pytest.mark.parametrize(
    "header",
    ['"{pk}-0{version}"', '"0{pk}-{version}"', '"{pk}-+{version}"', '"{pk}-{version}.0"', '"{pk}-{huge}"'],
    ids=["zero-padded-version", "zero-padded-id", "signed", "decimal", "beyond-64-bits"],
)
@pytest.mark.parametrize("method", list(WRITES))
def test_if_match_that_only_resembles_the_etag_returns_412(api_client, task, method, header):
    """A tag matches only if it is exactly the ETag: no number parsing lets a look-alike through."""
    current_etag(task)
    before = snapshot(task)
    value = header.format(pk=task.pk, version=task.version, huge=2**64 + task.version)
    response = write(api_client, method, task, **{"If-Match": value})
    assert_precondition_failed(response)
    assert snapshot(task) == before


@pytest.mark.parametrize("method", ["patch", "put"])
def test_if_match_with_several_versions_applies_while_one_is_current(api_client, task, method):
    """If-Match may name several ETags of the task: the write applies while the task has one of them."""
    etag = current_etag(task)
    older = f'"{task.pk}-{task.version - 1}"' if task.version > 1 else '"x"'
    newer = f'"{task.pk}-{task.version + 5}"'
    response = write(api_client, method, task, **{"If-Match": f"{older}, {newer}, {etag}"})
    assert response.status_code == 200
    assert response["ETag"] == current_etag(task) != etag


def test_write_to_a_zero_padded_id_honours_the_tasks_etag(api_client, task):
    """/tasks/007 is task 7: its ETag (with the id as the API writes it) satisfies If-Match."""
    etag = current_etag(task)
    response = api_client.patch(
        f"/tasks/00{task.pk}", {"done": True}, format="json", headers={"If-Match": etag}
    )
    assert response.status_code == 200
    assert response.json()["id"] == task.pk


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("header", ["{etag}", "*", '"x", {etag}'], ids=["current", "star", "list"])
def test_update_with_matching_if_match_succeeds(api_client, task, method, header):
    """PATCH or PUT with the current ETag, *, or a list holding it is applied and answers the new ETag."""
    etag = current_etag(task)
    response = write(api_client, method, task, **{"If-Match": header.format(etag=etag)})
    assert response.status_code == 200
    stored = snapshot(task)
    assert stored["title"] == WRITES[method]["title"]
    assert stored["updated_at"] > LONG_AGO
    assert response["ETag"] == current_etag(task) != etag


@pytest.mark.parametrize("header", ["{etag}", "*", '"x", {etag}'], ids=["current", "star", "list"])
def test_delete_with_matching_if_match_deletes(api_client, task, header):
    """DELETE with the current ETag, *, or a list holding it answers 204 and removes the task."""
    response = write(api_client, "delete", task, **{"If-Match": header.format(etag=current_etag(task))})
    assert response.status_code == 204
    assert response.content == b""
    assert not Task.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_update_without_if_match_lets_the_last_write_win(api_client, task, method):
    """Without If-Match a write over someone else's change is applied (the original design)."""
    Task.objects.filter(pk=task.pk).set_done(True)  # the client never saw this
    response = write(api_client, method, task)
    assert response.status_code == 200
    assert snapshot(task)["title"] == WRITES[method]["title"]


def test_delete_without_if_match_deletes(api_client, task):
    """Without If-Match a DELETE is unconditional."""
    Task.objects.filter(pk=task.pk).set_done(True)
    assert write(api_client, "delete", task).status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()


def test_if_match_with_the_etag_from_a_put_allows_the_next_patch(api_client, task):
    """The ETag a write answers with is the one the next conditional write must send."""
    put = api_client.put(detail_url(task.pk), {"title": "Put"}, format="json")
    patch = api_client.patch(
        detail_url(task.pk), {"done": True}, format="json", headers={"If-Match": put["ETag"]}
    )
    assert patch.status_code == 200
    assert (snapshot(task)["title"], snapshot(task)["done"]) == ("Put", True)


def test_stale_if_match_is_412_even_with_an_invalid_body(api_client, task):
    """The precondition is evaluated before the body: a stale ETag with a bad title is 412, not 400."""
    stale = current_etag(task)
    Task.objects.filter(pk=task.pk).set_done(True)
    before = snapshot(task)
    response = api_client.patch(
        detail_url(task.pk), {"title": ""}, format="json", headers={"If-Match": stale}
    )
    assert_precondition_failed(response)
    assert snapshot(task) == before


@pytest.mark.parametrize("header", ["*", "{etag}", '"stale"'], ids=["star", "their-etag", "stale"])
@pytest.mark.parametrize("method", list(WRITES))
def test_if_match_on_someone_elses_task_is_404_and_changes_nothing(api_client, others_task, method, header):
    """Someone else's task is 404 whatever If-Match says: a 412 would reveal that it exists."""
    before = snapshot(others_task)
    response = write(api_client, method, others_task, **{"If-Match": header.format(etag=others_task.etag)})
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 404
    assert snapshot(others_task) == before


@pytest.mark.parametrize("header", ["*", '"stale"'])
@pytest.mark.parametrize("method", list(WRITES))
def test_if_match_on_a_missing_task_is_404(api_client, method, header):
    """A task that does not exist is 404 whatever If-Match says."""
    path = detail_url(MISSING_ID)
    body = WRITES[method]
    if body is None:
        response = api_client.delete(path, headers={"If-Match": header})
    else:
        response = getattr(api_client, method)(path, body, format="json", headers={"If-Match": header})
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_owner_etag_is_not_usable_by_another_user(user, other_user, task):
    """Knowing a task's current ETag gives another user no access: their conditional PATCH is 404."""
    before = snapshot(task)
    response = client_for(other_user).patch(
        detail_url(task.pk), {"title": "Hijack"}, format="json", headers={"If-Match": task.etag}
    )
    assert response.status_code == 404
    assert snapshot(task) == before


# --- Query counts ------------------------------------------------------------


def test_conditional_get_answering_304_runs_as_many_queries_as_a_plain_get(
    api_client, task, django_assert_num_queries
):
    """GET with a matching If-None-Match: the token query and one select, like a plain GET.

    Guards against loading the task twice (once for the ETag, once for the body) or per-header lookups.
    """
    etag = current_etag(task)
    with django_assert_num_queries(2):
        plain = api_client.get(detail_url(task.pk))
    assert plain.status_code == 200
    with django_assert_num_queries(2):
        conditional = api_client.get(detail_url(task.pk), headers={"If-None-Match": etag})
    assert conditional.status_code == 304


def test_conditional_patch_runs_as_many_queries_as_a_plain_patch(api_client, task, django_assert_num_queries):
    """PATCH with If-Match: the token query and the compare-and-swap UPDATE that returns the row.

    Guards against a separate read of the task for the precondition.
    """
    etag = current_etag(task)
    with django_assert_num_queries(2):
        response = api_client.patch(
            detail_url(task.pk), {"done": True}, format="json", headers={"If-Match": etag}
        )
    assert response.status_code == 200


def test_refused_conditional_patch_writes_nothing(api_client, task, django_assert_num_queries):
    """PATCH with an If-Match no version can match: the token query and one existence check; no UPDATE."""
    with django_assert_num_queries(2) as queries:
        response = api_client.patch(
            detail_url(task.pk), {"done": True}, format="json", headers={"If-Match": '"0-0"'}
        )
    assert response.status_code == 412
    assert not any(query["sql"].startswith("UPDATE") for query in queries.captured_queries)
