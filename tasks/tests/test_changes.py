"""GET /tasks/changes: incremental sync for clients that keep a local copy (SPEC section 12)."""

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.tests.helpers import client_for
from api.tests.helpers import assert_problem
from tasks.models import Task, TaskChange
from tasks.serializers import TaskSerializer
from tasks.sync import SyncCursor
from tasks.tests.helpers import as_json, detail_url, list_url, make_task, make_tasks


def changes_url() -> str:
    return reverse("task-changes")


def changes(client: Any, cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """One page of changes, which must be a 200."""
    params = {name: value for name, value in (("cursor", cursor), ("limit", limit)) if value is not None}
    response = client.get(changes_url(), params)
    assert response.status_code == 200, response.content
    return dict(response.json())


class Replica:
    """A local copy kept as SPEC section 12 says: store `tasks`, remove `deleted`, repeat while `more`."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tasks: dict[int, dict[str, Any]] = {}
        self.cursor: str | None = None

    def sync(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Follow the cursor until `more` is false; the pages seen."""
        pages = []
        while True:
            page = changes(self.client, self.cursor, limit)
            pages.append(page)
            self.apply(page)
            if not page["more"]:
                return pages

    def apply(self, page: dict[str, Any]) -> None:
        ids = [task["id"] for task in page["tasks"]] + page["deleted"]
        assert len(ids) == len(set(ids)), f"an id twice in one page: {ids}"
        self.tasks.update((task["id"], task) for task in page["tasks"])
        for task_id in page["deleted"]:
            self.tasks.pop(task_id, None)
        self.cursor = page["cursor"]


def server_copy(owner: Any) -> dict[int, dict[str, Any]]:
    """Every task of `owner` as the API represents it."""
    represent = TaskSerializer().to_representation
    return {task.pk: represent(task) for task in Task.objects.filter(owner=owner)}


def test_first_sync_returns_every_task_of_the_caller_and_no_deleted_ids(api_client, user, other_user):
    """Without a cursor: all the caller's tasks, in their current state; ids deleted before are not news."""
    tasks = make_tasks(3, owner=user)
    make_task(owner=user).delete()
    make_tasks(2, owner=other_user)
    Task.objects.filter(pk=tasks[0].pk).update(title="Changed", done=True)

    page = changes(api_client)

    assert sorted(page["tasks"], key=lambda task: task["id"]) == [as_json(task) for task in tasks]
    assert page["deleted"] == []
    assert page["more"] is False
    assert isinstance(page["cursor"], str) and page["cursor"]


def test_a_caller_with_no_tasks_gets_an_empty_answer_and_a_cursor_that_works(api_client, user):
    """Nothing yet: no tasks, no deleted ids; the cursor then brings the first task."""
    replica = Replica(api_client)
    assert replica.sync() == [{"tasks": [], "deleted": [], "cursor": replica.cursor, "more": False}]

    task = make_task(owner=user)

    assert changes(api_client, replica.cursor)["tasks"] == [as_json(task)]


def test_incremental_sync_brings_exactly_what_was_created_changed_and_deleted_since(api_client, user):
    """After a cursor: created and patched tasks in their new state, deleted ids, nothing unchanged."""
    kept, patched, deleted = make_tasks(3, owner=user)
    replica = Replica(api_client)
    replica.sync()

    created = api_client.post(list_url(), {"title": "New"}, format="json").json()
    api_client.patch(detail_url(patched.pk), {"done": True}, format="json")
    api_client.delete(detail_url(deleted.pk))
    page = changes(api_client, replica.cursor)

    assert {task["id"]: task for task in page["tasks"]} == {
        created["id"]: created,
        patched.pk: as_json(patched),
    }
    assert page["deleted"] == [deleted.pk]
    assert kept.pk not in [task["id"] for task in page["tasks"]]
    replica.apply(page)
    assert replica.tasks == server_copy(user)


def test_each_id_appears_once_in_its_latest_state(api_client, user):
    """A task changed three times is listed once, as it is now; one created then deleted, only as deleted."""
    task = make_task(owner=user)
    replica = Replica(api_client)
    replica.sync()
    for title in ("One", "Two", "Three"):
        api_client.patch(detail_url(task.pk), {"title": title}, format="json")
    fleeting = make_task(owner=user)
    fleeting_id = fleeting.pk
    fleeting.delete()

    page = changes(api_client, replica.cursor)

    assert page["tasks"] == [as_json(task)]
    assert page["tasks"][0]["title"] == "Three"
    assert page["deleted"] == [fleeting_id]


def test_a_cursor_with_nothing_new_returns_nothing_and_an_equivalent_cursor(api_client, user):
    """Calling again without changes in between is empty; the cursor it gives still brings later changes."""
    make_tasks(2, owner=user)
    replica = Replica(api_client)
    replica.sync()

    page = changes(api_client, replica.cursor)
    assert (page["tasks"], page["deleted"], page["more"]) == ([], [], False)
    task = make_task(owner=user)
    assert changes(api_client, page["cursor"])["tasks"] == [as_json(task)]


def test_other_users_changes_never_appear(api_client, user, other_user):
    """Another user's creations, changes and deletions are not in the caller's answers, first or later."""
    theirs = make_tasks(3, owner=other_user)
    replica = Replica(api_client)
    replica.sync()
    assert replica.tasks == {}

    make_task(owner=other_user)
    Task.objects.filter(pk=theirs[0].pk).update(title="Theirs, changed")
    theirs[1].delete()
    mine = make_task(owner=user)

    page = changes(api_client, replica.cursor)
    assert page["tasks"] == [as_json(mine)]
    assert page["deleted"] == []


def test_another_users_cursor_is_400_naming_cursor(api_client, other_user):
    """A cursor is the caller's own: someone else's is refused rather than read."""
    make_task(owner=other_user)
    theirs = changes(client_for(other_user))["cursor"]

    body = assert_problem(api_client.get(changes_url(), {"cursor": theirs}), 400)
    assert [error["parameter"] for error in body["errors"]] == ["cursor"]


def test_small_pages_deliver_every_change_once_and_more_says_when_to_stop(api_client, user):
    """limit=3 over 10 tasks: 4 pages, `more` true on all but the last, every task once."""
    tasks = make_tasks(10, owner=user)
    replica = Replica(api_client)

    pages = replica.sync(limit=3)

    assert [len(page["tasks"]) for page in pages] == [3, 3, 3, 1]
    assert [page["more"] for page in pages] == [True, True, True, False]
    delivered = [task["id"] for page in pages for task in page["tasks"]]
    assert sorted(delivered) == sorted(task.pk for task in tasks)
    assert replica.tasks == server_copy(user)


def test_writes_between_small_pages_are_never_skipped(api_client, user):
    """Changes, creations and deletions made while a client pages through end up in its copy."""
    tasks = make_tasks(12, owner=user)
    replica = Replica(api_client)
    replica.apply(changes(api_client, limit=4))
    replica.apply(changes(api_client, replica.cursor, limit=4))

    Task.objects.filter(pk=tasks[0].pk).update(title="Seen early, changed later")  # already delivered
    Task.objects.filter(pk=tasks[11].pk).update(done=True)  # not yet delivered
    tasks[1].delete()  # delivered, then deleted
    tasks[10].delete()  # never delivered
    make_task(owner=user, title="Late")
    replica.sync(limit=4)

    assert replica.tasks == server_copy(user)


def test_limit_counts_deleted_ids_too(api_client, user):
    """A page holds at most `limit` entries, tasks and deleted ids together."""
    tasks = make_tasks(4, owner=user)
    replica = Replica(api_client)
    replica.sync()
    for task in tasks:
        task.delete()
    make_tasks(2, owner=user)

    pages = replica.sync(limit=3)

    assert [len(page["tasks"]) + len(page["deleted"]) for page in pages] == [3, 3]
    assert replica.tasks == server_copy(user)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "W1sxLDIsMyw0XQ:not-a-signature",
        signing.Signer(salt="tasks.cursor").sign_object([1, 0, 1, None, "x"]),  # a list cursor
        signing.Signer(salt="tasks.sync").sign_object({"seq": 1}),  # signed, wrong shape
    ],
)
def test_malformed_cursor_is_400_naming_cursor(api_client, user, cursor):
    """A cursor this endpoint did not make is a 400 problem naming `cursor`."""
    body = assert_problem(api_client.get(changes_url(), {"cursor": cursor}), 400)
    assert [error["parameter"] for error in body["errors"]] == ["cursor"]


def test_a_tampered_cursor_is_400(api_client, user):
    """Changing a character of a real cursor breaks its signature."""
    make_task(owner=user)
    cursor = changes(api_client)["cursor"]
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert_problem(api_client.get(changes_url(), {"cursor": tampered}), 400)


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "abc", "1.0", "1_0", "٣"])
def test_limit_outside_1_to_1000_or_not_an_integer_is_400_naming_limit(api_client, limit):
    """`limit` is an integer from 1 to 1000 in ASCII digits; anything else is a 400 naming it."""
    body = assert_problem(api_client.get(changes_url(), {"limit": limit}), 400)
    assert [error["parameter"] for error in body["errors"]] == ["limit"]


def test_one_400_names_both_bad_parameters(api_client):
    """A bad cursor and a bad limit are reported together."""
    body = assert_problem(api_client.get(changes_url(), {"limit": "0", "cursor": "x"}), 400)
    assert sorted(error["parameter"] for error in body["errors"]) == ["cursor", "limit"]


@pytest.mark.parametrize(("limit", "expected"), [("1", 1), ("1000", 1000), ("", 500), (None, 500)])
def test_limit_takes_1_to_1000_and_defaults_to_500(api_client, user, limit, expected):
    """The bounds are accepted; absent or empty means 500."""
    Task.objects.bulk_create(Task(owner=user, title=f"t{n}") for n in range(1001))
    page = changes(api_client, limit=limit) if limit is not None else changes(api_client)
    assert len(page["tasks"]) == expected
    assert page["more"] is True


def test_sync_requires_authentication(anon_client):
    """Anonymous: 401 with WWW-Authenticate."""
    response = anon_client.get(changes_url())
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/tasks/changes", "/tasks/changes/"])
def test_sync_answers_with_and_without_a_trailing_slash(api_client, path):
    """Like every path, with no redirect."""
    assert api_client.get(path).status_code == 200


@pytest.mark.parametrize("limit", [1, 50])
def test_sync_costs_three_queries_whatever_the_page_size(api_client, user, django_assert_num_queries, limit):
    """The token, the page of entries joined to their tasks, and the counter: no query per task (no N+1)."""
    tasks = make_tasks(60, owner=user)
    cursor = changes(api_client, limit=5)["cursor"]
    tasks[0].delete()
    with django_assert_num_queries(3):
        page = changes(api_client, cursor, limit=limit)
    assert len(page["tasks"]) + len(page["deleted"]) == limit


# Retention of deleted ids


def age_deletions(days: float) -> None:
    """Make every logged deletion `days` old."""
    TaskChange.objects.filter(deleted=True).update(changed_at=timezone.now() - dt.timedelta(days=days))


def test_a_cursor_older_than_purged_deletions_is_410_and_a_fresh_sync_works(api_client, user):
    """Deletions past the retention are purged; a cursor from before them is 410 Gone, saying what to do."""
    tasks = make_tasks(3, owner=user)
    replica = Replica(api_client)
    replica.sync()
    tasks[0].delete()
    age_deletions(31)

    call_command("purge_sync_log", verbosity=0)

    response = api_client.get(changes_url(), {"cursor": replica.cursor})
    body = assert_problem(response, 410)
    assert "from the beginning" in body["detail"]
    fresh = Replica(api_client)
    fresh.sync(limit=1)
    assert fresh.tasks == server_copy(user)


def test_purge_keeps_deletions_within_the_retention(api_client, user):
    """Deletions younger than SYNC_RETENTION_DAYS stay, and so does every cursor that needs them."""
    tasks = make_tasks(2, owner=user)
    replica = Replica(api_client)
    replica.sync()
    deleted = tasks[0].pk
    tasks[0].delete()
    age_deletions(29)

    call_command("purge_sync_log", verbosity=0)

    assert changes(api_client, replica.cursor)["deleted"] == [deleted]


def test_a_cursor_newer_than_the_purged_deletions_keeps_working(api_client, user):
    """A client that synced after the deletions it would lose saw them already: no 410."""
    tasks = make_tasks(2, owner=user)
    tasks[0].delete()
    age_deletions(31)
    replica = Replica(api_client)
    replica.sync()

    call_command("purge_sync_log", verbosity=0)
    deleted = tasks[1].pk
    tasks[1].delete()

    assert changes(api_client, replica.cursor)["deleted"] == [deleted]


@override_settings(SYNC_RETENTION_DAYS=0)
def test_a_retention_of_0_days_keeps_no_deletion(api_client, user, capsys):
    """SYNC_RETENTION_DAYS=0: every purge forgets every deletion; cursors from before it are 410."""
    tasks = make_tasks(2, owner=user)
    replica = Replica(api_client)
    replica.sync()
    tasks[0].delete()

    call_command("purge_sync_log")

    assert "Forgot 1 deleted task id(s)." in capsys.readouterr().out
    assert not TaskChange.objects.filter(deleted=True).exists()
    assert_problem(api_client.get(changes_url(), {"cursor": replica.cursor}), 410)


def test_a_sync_from_the_beginning_is_not_refused_by_a_purge_while_it_pages(api_client, user):
    """A client starting afresh holds no deleted task: a purge between its pages does not stop it."""
    tasks = make_tasks(6, owner=user)
    tasks[0].delete()
    replica = Replica(api_client)
    replica.apply(changes(api_client, limit=2))
    age_deletions(31)
    call_command("purge_sync_log", verbosity=0)

    replica.sync(limit=2)

    assert replica.tasks == server_copy(user)


def test_purge_forgets_only_old_deletions_of_every_owner(user, other_user):
    """The purge removes deleted entries past the retention, for all owners, and nothing else."""
    mine, theirs = make_task(owner=user), make_task(owner=other_user)
    live = make_tasks(2, owner=user)
    mine.delete()
    theirs.delete()
    age_deletions(40)
    recent = make_task(owner=other_user).pk
    Task.objects.filter(pk=recent).delete()

    call_command("purge_sync_log", verbosity=0)

    remaining = set(TaskChange.objects.values_list("task_id", "deleted"))
    assert remaining == {(live[0].pk, False), (live[1].pk, False), (recent, True)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # TRUNCATE refuses a table with deferred FK checks pending
def test_a_cursor_from_before_a_truncate_is_410(api_client, user):
    """TRUNCATE fires no row trigger; its statement trigger starts a new epoch, so old cursors are 410."""
    make_tasks(3, owner=user)
    replica = Replica(api_client)
    replica.sync()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tasks_task")
    task = make_task(owner=user)

    assert_problem(api_client.get(changes_url(), {"cursor": replica.cursor}), 410)
    fresh = Replica(api_client)
    fresh.sync()
    assert fresh.tasks == {task.pk: as_json(task)}


def test_a_cursor_made_before_any_change_never_expires(api_client, user):
    """A client that holds nothing has nothing to miss: its cursor stays good through purges."""
    cursor = changes(api_client)["cursor"]
    assert SyncCursor(owner=user.pk, epoch=None, seq=0, floor=0).dumps() == cursor
    make_task(owner=user).delete()
    age_deletions(31)
    call_command("purge_sync_log", verbosity=0)
    task = make_task(owner=user)

    assert changes(api_client, cursor)["tasks"] == [as_json(task)]
