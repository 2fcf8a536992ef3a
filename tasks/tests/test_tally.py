"""The per-owner task tally (total and done) behind a list's `total`, kept by database triggers."""

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from tasks.models import Task, TaskTally
from tasks.tests.factories import TaskFactory
from tasks.tests.helpers import make_task

pytestmark = pytest.mark.django_db


def tallies() -> dict[int, int]:
    return dict(TaskTally.objects.filter(total__gt=0).values_list("owner_id", "total"))


def counted() -> dict[int, int]:
    return dict(Task.objects.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"))


def tallied() -> dict[int, tuple[int, int]]:
    """Each owner's (total, done) as the tally keeps them, owners with no tasks left out."""
    rows = TaskTally.objects.filter(total__gt=0).values_list("owner_id", "total", "done")
    return {owner: (total, done) for owner, total, done in rows}


def counted_with_done() -> dict[int, tuple[int, int]]:
    """Each owner's (total, done) counted from the tasks themselves."""
    rows = Task.objects.values("owner_id").annotate(n=Count("id"), d=Count("id", filter=Q(done=True)))
    return {row["owner_id"]: (row["n"], row["d"]) for row in rows}


def test_tally_follows_api_creates_and_deletes(api_client: Any, user: Any) -> None:
    """Creating and deleting through the API moves the tally by one each time."""
    ids = [
        api_client.post(reverse("task-list"), {"title": f"t{n}"}, format="json").data["id"] for n in range(3)
    ]
    api_client.delete(reverse("task-detail", args=[ids[0]]))
    assert TaskTally.count_of(user) == 2
    assert tallies() == counted()


def test_tally_follows_bulk_operations_and_owner_changes(user: Any, other_user: Any) -> None:
    """bulk_create, QuerySet.delete() and moving a task to another owner all keep the tally exact."""
    Task.objects.bulk_create([Task(owner=user, title=f"bulk {n}") for n in range(5)])
    TaskFactory.create_batch(2, owner=other_user)
    Task.objects.filter(owner=user, title__in=["bulk 0", "bulk 1"]).delete()
    moved = Task.objects.filter(owner=user).first()
    assert moved is not None
    moved.owner = other_user
    moved.save()
    Task.objects.filter(owner=other_user).update(title="renamed")  # not a move: no change

    assert (TaskTally.count_of(user), TaskTally.count_of(other_user)) == (2, 3)
    assert tallies() == counted()


def test_tally_goes_with_a_deleted_user(user: Any, other_user: Any) -> None:
    """Deleting a user cascades to their tasks and their tally; others are untouched."""
    TaskFactory.create_batch(3, owner=user)
    TaskFactory.create_batch(2, owner=other_user)
    get_user_model().objects.filter(pk=user.pk).delete()
    assert not TaskTally.objects.filter(owner_id=user.pk).exists()
    assert tallies() == counted() == {other_user.pk: 2}


def test_unfiltered_list_total_reads_the_tally(
    api_client: Any, user: Any, django_assert_num_queries: Any
) -> None:
    """The unfiltered total comes from the tally (one row), not from COUNT(*) over the tasks."""
    TaskFactory.create_batch(4, owner=user)
    TaskFactory.create_batch(3, owner=UserFactory())
    with django_assert_num_queries(3) as captured:
        response = api_client.get(reverse("task-list"), {"ordering": "-title", "limit": 2})
    assert response.data["total"] == 4
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)
    assert any("tasks_tasktally" in query["sql"] for query in captured.captured_queries)


def test_filtered_list_total_counts_the_matching_tasks(api_client: Any, user: Any) -> None:
    """With a filter, total is the number of matching tasks, not the owner's tally."""
    TaskFactory.create_batch(3, owner=user, done=True)
    TaskFactory.create_batch(2, owner=user, done=False)
    assert api_client.get(reverse("task-list"), {"done": "true"}).data["total"] == 3
    assert api_client.get(reverse("task-list"), {"done": ""}).data["total"] == 5


def test_tally_counts_done_tasks_through_every_kind_of_write(user: Any, other_user: Any) -> None:
    """Creates, done flips (one by one, in bulk, by raw SQL), moves and deletes keep done counts exact."""
    tasks = TaskFactory.create_batch(4, owner=user)
    Task.objects.filter(pk__in=[tasks[0].pk, tasks[1].pk]).update(done=True)
    tasks[2].done = True
    tasks[2].save()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tasks_task SET done = %s WHERE id = %s", [False, tasks[0].pk])
        cursor.execute(
            "INSERT INTO tasks_task (owner_id, title, done, created_at, updated_at, version) "
            "VALUES (%s, 'raw', %s, %s, %s, 1)",
            [other_user.pk, True, timezone.now(), timezone.now()],
        )
    Task.objects.filter(pk=tasks[1].pk).update(owner=other_user)  # a done task moves
    Task.objects.filter(pk=tasks[3].pk).delete()

    assert tallied() == counted_with_done() == {user.pk: (2, 1), other_user.pk: (2, 2)}


def test_upsert_by_raw_sql_keeps_the_tally_exact(user: Any, other_user: Any) -> None:
    """INSERT … ON CONFLICT DO UPDATE that moves an existing task is counted as the move it is."""
    task = make_task(owner=user)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tasks_task (id, owner_id, title, done, created_at, updated_at, version) "
            "VALUES (%s, %s, 'upsert', %s, %s, %s, 1) "
            "ON CONFLICT (id) DO UPDATE SET owner_id = excluded.owner_id, done = excluded.done",
            [task.pk, other_user.pk, True, timezone.now(), timezone.now()],
        )
    assert tallied() == counted_with_done() == {other_user.pk: (1, 1)}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="INSERT OR REPLACE is SQLite's")
def test_sqlite_insert_or_replace_counts_the_replaced_row_as_deleted(user: Any, other_user: Any) -> None:
    """REPLACE deletes the old row first; with recursive_triggers on, the tally sees that delete."""
    task = make_task(owner=user, done=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT OR REPLACE INTO tasks_task (id, owner_id, title, done, created_at, updated_at, version) "
            "VALUES (%s, %s, 'replaced', 0, %s, %s, 1)",
            [task.pk, other_user.pk, timezone.now(), timezone.now()],
        )
    assert tallied() == counted_with_done() == {other_user.pk: (1, 0)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # TRUNCATE refuses a table with deferred FK checks pending
def test_postgresql_truncate_resets_the_tallies(api_client: Any, user: Any) -> None:
    """TRUNCATE fires no row triggers; its statement trigger empties the tally, which then counts anew."""
    TaskFactory.create_batch(3, owner=user, done=True)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tasks_task")
    assert api_client.get(reverse("task-list")).data["total"] == 0
    TaskFactory(owner=user)
    assert api_client.get(reverse("task-list"), {"done": "false"}).data["total"] == 1
    assert tallied() == counted_with_done() == {user.pk: (1, 0)}


def test_dumpdata_leaves_out_the_tally_and_loaddata_keeps_it_exact(user: Any, tmp_path: Any) -> None:
    """A restore over the same rows neither overwrites nor double-counts; into an empty table, counts once."""
    TaskFactory.create_batch(3, owner=user)
    TaskFactory(owner=user, done=True)
    fixture = tmp_path / "tasks.json"
    call_command("dumpdata", "tasks", output=str(fixture), verbosity=0)
    assert "tasktally" not in fixture.read_text()

    call_command("loaddata", str(fixture), verbosity=0)
    assert tallied() == counted_with_done() == {user.pk: (4, 1)}
    Task.objects.all().delete()
    call_command("loaddata", str(fixture), verbosity=0)
    assert tallied() == counted_with_done() == {user.pk: (4, 1)}


@pytest.mark.parametrize(("done", "expected"), [("true", 2), ("false", 3)])
def test_list_filtered_by_done_alone_reads_the_tally_not_count(
    api_client: Any, user: Any, django_assert_num_queries: Any, done: str, expected: int
) -> None:
    """done=true|false totals come from the tally too: the token, the tally row and the page; no COUNT."""
    TaskFactory.create_batch(2, owner=user, done=True)
    TaskFactory.create_batch(3, owner=user, done=False)
    TaskFactory.create_batch(4, owner=UserFactory(), done=True)
    with django_assert_num_queries(3) as captured:
        response = api_client.get(reverse("task-list"), {"done": done, "limit": 1})
    assert response.data["total"] == expected
    assert len(response.data["items"]) == 1
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)


def test_list_with_another_filter_still_counts_the_matches(api_client: Any, user: Any) -> None:
    """done together with search cannot come from the tally: it counts the matching tasks."""
    TaskFactory(owner=user, title="milk", done=True)
    TaskFactory(owner=user, title="bread", done=True)
    response = api_client.get(reverse("task-list"), {"done": "true", "search": "milk"})
    assert response.data["total"] == 1


def test_loaddata_skips_tally_rows_of_an_old_dump(user: Any, tmp_path: Any) -> None:
    """A fixture dumped before the tally was left out still loads; its tally rows are ignored."""
    task = make_task(owner=user)
    fixture = tmp_path / "old.json"
    fixture.write_text(
        json.dumps([{"model": "tasks.tasktally", "pk": user.pk, "fields": {"total": 40, "done": 7}}])
    )
    call_command("loaddata", str(fixture), verbosity=0)
    assert tallied() == counted_with_done() == {user.pk: (1, 0)}
    assert Task.objects.filter(pk=task.pk).exists()
