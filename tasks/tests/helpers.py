"""Helpers shared by the test modules of the tasks app."""

import datetime as dt
from typing import Any, cast

from django.urls import reverse

from tasks.models import Task
from tasks.tests.factories import TaskFactory

TASK_FIELDS = {"id", "title", "done", "created_at", "updated_at"}
LONG_AGO = dt.datetime(2020, 1, 2, 3, 4, 5, 678900, tzinfo=dt.UTC)
MISSING_ID = 999_999_999_999_999_999  # fits the 18-digit id pattern, never assigned in a test


def list_url() -> str:
    """The URL of the task collection, /tasks."""
    return reverse("task-list")


def detail_url(pk: int) -> str:
    """The URL of the task with id `pk`, /tasks/{pk}."""
    return reverse("task-detail", args=[pk])


def rfc3339(value: dt.datetime) -> str:
    """`value` as the API writes a timestamp: RFC 3339 in UTC, with a Z suffix."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def as_json(task: Task) -> dict[str, Any]:
    """The representation the API must give of `task`, as stored in the database now."""
    task.refresh_from_db()
    return {
        "id": task.pk,
        "title": task.title,
        "done": task.done,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
    }


def snapshot(task: Task) -> dict[str, Any]:
    """Every stored column of `task` (title, done, version, updated_at, …), re-read from the database."""
    return Task.objects.filter(pk=task.pk).values().get()


def make_task(**kwargs: Any) -> Task:
    """A task built by TaskFactory with `kwargs`, saved to the database."""
    return cast(Task, TaskFactory(**kwargs))


def make_tasks(count: int, **kwargs: Any) -> list[Task]:
    """`count` tasks built by TaskFactory with `kwargs`, saved to the database."""
    return cast(list[Task], TaskFactory.create_batch(count, **kwargs))


def aged_task(**kwargs: Any) -> Task:
    """A task whose timestamps lie in the past, so any write visibly moves updated_at."""
    task = make_task(**kwargs)
    Task.objects.filter(pk=task.pk).update(created_at=LONG_AGO, updated_at=LONG_AGO)
    task.refresh_from_db()
    return task
