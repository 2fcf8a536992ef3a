"""Every write path changes a task's ETag: a database trigger raises its version on every UPDATE."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tasks.models import Task
from tasks.tests.helpers import detail_url, make_task

pytestmark = pytest.mark.django_db


def etag_of(api_client: Any, task: Task) -> str:
    response = api_client.get(detail_url(task.pk))
    assert response.status_code == 200
    return str(response["ETag"])


def raw_sql(task: Task) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tasks_task SET title = %s WHERE id = %s", ["raw", task.pk])


def queryset_update(task: Task) -> None:
    Task.objects.filter(pk=task.pk).update(done=True)


def save_with_update_fields(task: Task) -> None:
    task.title = "saved"
    task.save(update_fields=["title"])


def stale_save(task: Task) -> None:
    """save() of a copy read before another write: it sends the old version back."""
    stale = Task.objects.get(pk=task.pk)
    Task.objects.filter(pk=task.pk).update(title="first")
    stale.title = "second"
    stale.save()


def bulk_update(task: Task) -> None:
    task.title = "bulk"
    Task.objects.bulk_update([task], ["title"])


def no_change_update(task: Task) -> None:
    Task.objects.filter(pk=task.pk).update(title=task.title)


def setting_an_older_version(task: Task) -> None:
    Task.objects.filter(pk=task.pk).update(title="rolled back", version=1)


WRITES: list[Callable[[Task], None]] = [
    raw_sql,
    queryset_update,
    save_with_update_fields,
    stale_save,
    bulk_update,
    no_change_update,
    setting_an_older_version,
]


@pytest.mark.parametrize("write", WRITES, ids=[write.__name__ for write in WRITES])
def test_every_update_path_changes_the_etag_and_the_old_one_no_longer_matches(
    api_client: Any, user: Any, write: Callable[[Task], None]
) -> None:
    """Raw SQL, QuerySet.update(), save(update_fields=…), bulk_update(): each gives a new ETag."""
    task = make_task(owner=user)
    api_client.patch(detail_url(task.pk), {"title": "via the API"}, format="json")  # version 2
    task.refresh_from_db()
    before = etag_of(api_client, task)

    write(task)

    after = etag_of(api_client, task)
    assert after != before
    assert Task.objects.get(pk=task.pk).version > 2
    stale = api_client.patch(detail_url(task.pk), {"done": False}, format="json", HTTP_IF_MATCH=before)
    assert stale.status_code == 412


def test_each_api_write_raises_the_version_by_exactly_one(api_client: Any, user: Any) -> None:
    """The trigger, not Python, counts: PATCH and PUT each add one to the version."""
    task = make_task(owner=user)
    api_client.patch(detail_url(task.pk), {"done": True}, format="json")
    response = api_client.put(detail_url(task.pk), {"title": "put"}, format="json")
    assert response["ETag"] == f'"{task.pk}-3"'
    assert Task.objects.get(pk=task.pk).version == 3


def test_each_conditional_api_write_raises_the_version_by_exactly_one(api_client: Any, user: Any) -> None:
    """A write under If-Match raises the version in its own UPDATE; the trigger adds nothing to it."""
    task = make_task(owner=user)
    patch = api_client.patch(
        detail_url(task.pk), {"done": True}, format="json", headers={"If-Match": task.etag}
    )
    put = api_client.put(
        detail_url(task.pk), {"title": "put"}, format="json", headers={"If-Match": patch["ETag"]}
    )
    assert (patch["ETag"], put["ETag"]) == (f'"{task.pk}-2"', f'"{task.pk}-3"')
    assert Task.objects.get(pk=task.pk).version == 3


@pytest.mark.parametrize("action", ["mark_done", "mark_not_done"])
def test_admin_bulk_actions_and_change_form_change_the_etag(
    api_client: Any, user: Any, admin_user: Any, action: str
) -> None:
    """The admin's bulk actions and its change form are just more UPDATEs: new ETags."""
    admin = Client()
    admin.force_login(admin_user)
    task = make_task(owner=user, done=action == "mark_not_done")
    first = etag_of(api_client, task)
    admin.post("/admin/tasks/task/", {"action": action, "_selected_action": [task.pk]})
    second = etag_of(api_client, task)
    admin.post(
        f"/admin/tasks/task/{task.pk}/change/",
        {"title": "edited", "owner": user.pk, "_save": "Save"},
    )
    third = etag_of(api_client, task)
    assert len({first, second, third}) == 3


def test_loaddata_over_existing_tasks_changes_their_etags(api_client: Any, user: Any, tmp_path: Any) -> None:
    """A restore that overwrites rows is an UPDATE too: ETags handed out before no longer match."""
    task = make_task(owner=user)
    fixture = tmp_path / "tasks.json"
    call_command("dumpdata", "tasks", output=str(fixture), verbosity=0)
    before = etag_of(api_client, task)
    call_command("loaddata", str(fixture), verbosity=0)
    assert etag_of(api_client, task) != before
