"""The change log behind GET /tasks/changes: every write path logs it, migrations keep it, staff see it.

Like the tally (test_tally.py, test_derived.py), it is kept by triggers: the
API, the admin, QuerySet.update(), raw SQL and cascades all log, and the
triggers come back with `migrate` after a table rebuild.
"""

from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import client_for
from api.tests.helpers import assert_problem
from tasks.derived import trigger_problems, uninstall
from tasks.models import ChangeCounter, Task, TaskChange
from tasks.tests.helpers import as_json, make_task, make_tasks
from tasks.tests.test_changes import Replica, changes, changes_url, server_copy
from tasks.tests.test_derived import rebuild_task_table
from tasks.triggers import CHANGE_LOG, REGISTRY, SYNCED_COLUMNS


def logged(owner: Any) -> dict[int, bool]:
    """The owner's log: task id -> deleted."""
    return dict(TaskChange.objects.filter(owner=owner).values_list("task_id", "deleted"))


@pytest.fixture
def admin_client(db: Any) -> Client:
    client = Client()
    client.force_login(cast(User, UserFactory(is_staff=True, is_superuser=True)))
    return client


def test_the_update_trigger_watches_every_column_of_a_task_but_its_version():
    """A column added to Task must be added to SYNCED_COLUMNS, or changes to it alone would go unsynced."""
    columns = {field.column for field in Task._meta.concrete_fields}
    assert set(SYNCED_COLUMNS) == columns - {"version"}


def test_each_write_takes_the_next_number_of_its_owners_counter(user, other_user):
    """Insert, update and delete each number one change, per owner, with no gaps in between."""
    first, second = make_tasks(2, owner=user)
    make_task(owner=other_user)
    Task.objects.filter(pk=first.pk).update(done=True)
    Task.objects.filter(pk=second.pk).delete()

    entries = TaskChange.objects.filter(owner=user).order_by("seq")
    assert list(entries.values_list("task_id", "seq", "deleted")) == [
        (first.pk, 3, False),
        (second.pk, 4, True),
    ]
    assert ChangeCounter.objects.get(owner=user).seq == 4
    assert ChangeCounter.objects.get(owner=other_user).seq == 1


def test_a_version_bump_alone_is_no_change_for_sync(user):
    """The version trigger's own UPDATE (or a repair raising every version) numbers nothing on SQLite.

    On PostgreSQL every UPDATE counts: a client is sent the same task again, which is harmless.
    """
    task = make_task(owner=user)
    Task.objects.filter(pk=task.pk).update(title="Changed")
    assert TaskChange.objects.get(task=task).seq == 2
    if connection.vendor == "sqlite":
        Task.objects.filter(pk=task.pk).update(version=99)
        assert TaskChange.objects.get(task=task).seq == 2


def test_queryset_update_and_save_are_logged(api_client, user):
    """update() of some columns and save() of all, with a stale copy in memory, both count."""
    task = make_task(owner=user)
    replica = Replica(api_client)
    replica.sync()
    stale = Task.objects.get(pk=task.pk)
    Task.objects.filter(pk=task.pk).set_done(True)
    stale.title = "Saved over"
    stale.save()

    assert changes(api_client, replica.cursor)["tasks"] == [as_json(task)]


def test_raw_sql_delete_is_logged_as_a_deletion(api_client, user):
    """A DELETE that bypasses Django entirely still reaches clients."""
    tasks = make_tasks(2, owner=user)
    replica = Replica(api_client)
    replica.sync()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tasks_task WHERE id = %s", [tasks[0].pk])

    assert changes(api_client, replica.cursor)["deleted"] == [tasks[0].pk]


def test_admin_bulk_delete_is_logged_as_deletions(admin_client, api_client, user):
    """The admin's "Delete selected tasks" action: every id reaches the owner's clients as deleted."""
    tasks = make_tasks(3, owner=user)
    replica = Replica(api_client)
    replica.sync()
    chosen = sorted(task.pk for task in tasks[:2])

    response = admin_client.post(
        "/admin/tasks/task/", {"action": "delete_selected", "_selected_action": chosen, "post": "yes"}
    )

    assert response.status_code == 302
    page = changes(api_client, replica.cursor)
    assert sorted(page["deleted"]) == chosen
    replica.apply(page)
    assert replica.tasks == server_copy(user)


def test_a_task_given_to_another_owner_leaves_one_copy_and_joins_the_other(user, other_user):
    """Changing the owner (the admin can) is a deletion for the first owner and a new task for the second."""
    mine, theirs = Replica(client_for(user)), Replica(client_for(other_user))
    task = make_task(owner=user)
    mine.sync()
    theirs.sync()

    Task.objects.filter(pk=task.pk).update(owner=other_user)

    mine.sync()
    theirs.sync()
    assert mine.tasks == {}
    assert theirs.tasks == {task.pk: as_json(task)}


def test_deleting_a_user_deletes_their_tasks_and_logs_it_without_error(user):
    """The cascade runs the delete trigger; the log has no foreign key to trip over."""
    make_tasks(2, owner=user)
    user_id = user.pk
    User.objects.filter(pk=user_id).delete()

    assert not Task.objects.filter(owner_id=user_id).exists()
    assert set(logged(user_id).values()) == {True}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="INSERT OR REPLACE is SQLite's")
def test_sqlite_insert_or_replace_keeps_one_entry_for_the_id(api_client, user):
    """REPLACE deletes and inserts the same id: the client gets it once, as the new task."""
    task = make_task(owner=user)
    replica = Replica(api_client)
    replica.sync()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT OR REPLACE INTO tasks_task (id, owner_id, title, done, created_at, updated_at, version) "
            "VALUES (%s, %s, 'replaced', 1, %s, %s, 1)",
            [task.pk, user.pk, now, now],
        )

    page = changes(api_client, replica.cursor)
    assert (page["tasks"], page["deleted"]) == ([as_json(task)], [])


def test_dumpdata_leaves_out_the_log_and_loaddata_logs_what_it_writes(api_client, user, tmp_path):
    """The log is derived: a fixture never carries it, and loading a fixture is a change like any other."""
    tasks = make_tasks(2, owner=user)
    fixture = tmp_path / "tasks.json"
    call_command("dumpdata", "tasks", output=str(fixture), verbosity=0)
    assert "taskchange" not in fixture.read_text()
    assert "changecounter" not in fixture.read_text()
    replica = Replica(api_client)
    replica.sync()
    Task.objects.filter(pk=tasks[0].pk).delete()
    Task.objects.filter(pk=tasks[1].pk).update(title="Changed since the dump")

    call_command("loaddata", str(fixture), verbosity=0)

    page = changes(api_client, replica.cursor)
    assert sorted(task["id"] for task in page["tasks"]) == sorted(task.pk for task in tasks)
    assert page["deleted"] == []
    replica.apply(page)
    assert replica.tasks == server_copy(user)


# Surviving migrations, proving and repairing


@pytest.mark.django_db(transaction=True)
def test_migrate_after_a_table_rebuild_brings_the_change_log_back(user):
    """After a rebuild and `migrate`, every write is logged again; on SQLite older cursors are 410."""
    client = client_for(user)
    make_tasks(2, owner=user)
    before = Replica(client)
    before.sync()
    rebuild_task_table(300)  # what an AlterField does; on SQLite it drops the table's triggers
    try:
        unseen = make_task(owner=user)
        call_command("migrate", verbosity=0)

        assert trigger_problems(connection, REGISTRY) == {}
        gone = make_task(owner=user)
        gone_id = gone.pk
        gone.delete()
        if connection.vendor == "sqlite":  # the repair cannot know what the gap missed
            assert_problem(client.get(changes_url(), {"cursor": str(before.cursor)}), 410)
        else:  # PostgreSQL altered the column in place, triggers and all
            before.sync()
            assert unseen.pk in before.tasks and gone_id not in before.tasks
            assert before.tasks == server_copy(user)
        fresh = Replica(client)
        fresh.sync(limit=1)
        assert fresh.tasks == server_copy(user)
        call_command("verify_derived", "--check", verbosity=0)
    finally:
        rebuild_task_table(200)
        call_command("migrate", verbosity=0)


def test_migrate_reinstalls_dropped_change_log_triggers_and_refuses_older_cursors(
    api_client, user, anon_client
):
    """Writes made while the triggers were gone went unlogged: a new epoch makes clients start again."""
    make_tasks(2, owner=user)
    replica = Replica(api_client)
    replica.sync()
    uninstall(connection, [CHANGE_LOG])
    unlogged = make_task(owner=user)
    assert_problem(anon_client.get(reverse("readyz")), 503)

    call_command("migrate", verbosity=0)

    assert anon_client.get(reverse("readyz")).status_code == 200
    assert_problem(api_client.get(changes_url(), {"cursor": replica.cursor}), 410)
    fresh = Replica(api_client)
    fresh.sync()
    assert unlogged.pk in fresh.tasks
    assert fresh.tasks == server_copy(user)


def test_readiness_names_a_missing_change_log_trigger(db, anon_client):
    """Each trigger of the log is a readiness cause of its own."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER tasks_change_delete")
        else:
            cursor.execute("DROP TRIGGER tasks_change_delete ON tasks_task")
    body = assert_problem(anon_client.get(reverse("readyz")), 503)
    assert body["errors"][0]["detail"] == (
        "Trigger tasks_change_delete on tasks_task (change log (sync)) is missing."
    )


def test_verify_derived_finds_a_log_that_drifted_and_rebuilds_it(api_client, user, capsys):
    """A task without an entry, or logged deleted while it exists, is drift: --check fails, a repair fixes."""
    tasks = make_tasks(3, owner=user)
    TaskChange.objects.filter(task=tasks[0]).delete()
    TaskChange.objects.filter(task=tasks[1]).update(deleted=True)

    with pytest.raises(CommandError, match="drifted"):
        call_command("verify_derived", "--check")
    err = capsys.readouterr().err
    assert f"Task {tasks[0].pk} of owner {user.pk} is missing from the change log." in err
    assert f"Task {tasks[1].pk} of owner {user.pk} is logged as deleted but exists." in err

    call_command("verify_derived")

    assert "Repaired: change log (sync)." in capsys.readouterr().out
    call_command("verify_derived", "--check")
    fresh = Replica(api_client)
    fresh.sync(limit=2)
    assert fresh.tasks == server_copy(user)


def test_verify_derived_finds_an_entry_numbered_beyond_its_counter(user, capsys):
    """An entry above its owner's counter could be skipped by a cursor: drift."""
    task = make_task(owner=user)
    TaskChange.objects.filter(task=task).update(seq=99)
    with pytest.raises(CommandError):
        call_command("verify_derived", "--check")
    assert "is numbered beyond the owner's counter" in capsys.readouterr().err


# The admin


def test_staff_see_a_users_changes_and_deletions_read_only(admin_client, user, other_user):
    """The log's changelist, filtered by owner, lists their entries; none can be added, edited or deleted."""
    kept = make_task(owner=user)
    gone = make_task(owner=user)
    gone_id = gone.pk
    gone.delete()
    make_task(owner=other_user)

    response = admin_client.get(
        "/admin/tasks/taskchange/", {"owner__id__exact": user.pk, "deleted__exact": "1"}
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert list(response.context["cl"].result_list.values_list("task_id", flat=True)) == [gone_id]
    listed = admin_client.get("/admin/tasks/taskchange/", {"q": user.username})
    assert {entry.task_id for entry in listed.context["cl"].result_list} == {kept.pk, gone_id}
    entry = TaskChange.objects.get(task_id=kept.pk)
    assert admin_client.get("/admin/tasks/taskchange/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/tasks/taskchange/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert admin_client.post(f"/admin/tasks/taskchange/{entry.pk}/change/", {"seq": 1}).status_code == 403
    assert TaskChange.objects.get(pk=entry.pk).seq == entry.seq
    assert admin_client.get("/admin/tasks/changecounter/").status_code == 200


def test_task_admin_shows_each_tasks_change_number(admin_client, user):
    """The task list and the task page show the number of the task's latest change, in the same query."""
    task = make_task(owner=user)
    Task.objects.filter(pk=task.pk).update(title="Twice")

    listed = admin_client.get("/admin/tasks/task/")
    page = admin_client.get(f"/admin/tasks/task/{task.pk}/change/")

    assert [row.change_seq for row in listed.context["cl"].result_list] == [2]
    assert "Change #" in page.text
