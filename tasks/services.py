"""What the task endpoints do beyond plain CRUD: compare-and-swap writes.

Writes are compare-and-swap: the view checks If-Match against the version it
read, and the UPDATE or DELETE here applies only while the row still has that
version. Of two writers holding one ETag exactly one wins, and no lock is held
while Python validates and serializes.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from tasks.conditional import PreconditionFailed
from tasks.models import Task


def task_update(*, task: Task, changes: dict[str, Any], held_to_version: bool) -> Task:
    """Write `changes` to `task`; with `held_to_version`, only if nobody wrote it since it was read.

    Returns the task as now stored, for the response and its ETag.
    """
    # A database trigger raises the version (the ETag) on every UPDATE.
    written = _as_read(task, held_to_version).update(**changes, updated_at=timezone.now())
    _check_written(written, task)
    try:
        task.refresh_from_db()
    except Task.DoesNotExist:  # another request deleted it since the UPDATE
        raise Http404 from None
    return task


def task_delete(*, task: Task, held_to_version: bool) -> None:
    """Delete `task`; with `held_to_version`, only if nobody wrote it since it was read."""
    deleted, _ = _as_read(task, held_to_version).delete()
    _check_written(deleted, task)


def _as_read(task: Task, held_to_version: bool) -> QuerySet[Task]:
    tasks = Task.objects.filter(pk=task.pk, owner_id=task.owner_id)
    return tasks.filter(version=task.version) if held_to_version else tasks


def _check_written(rows: int, task: Task) -> None:
    """Nothing written: another write won since the task was read, or it is gone."""
    if rows == 0:
        still_there = Task.objects.filter(pk=task.pk, owner_id=task.owner_id).exists()
        raise PreconditionFailed if still_there else Http404
