"""The one-statement writes of tasks/services.py, on the objects they return."""

import datetime as dt
from typing import Any

import pytest

from tasks.conditional import PreconditionFailed
from tasks.models import Task, TaskTally
from tasks.services import task_create, task_update

pytestmark = pytest.mark.django_db


def columns(task: Task) -> dict[str, Any]:
    """Every column of `task`, by attribute name."""
    return {field.attname: getattr(task, field.attname) for field in Task._meta.concrete_fields}


def stored(task: Task) -> dict[str, Any]:
    """Every column of `task` as the ORM reads it back."""
    return columns(Task.objects.get(pk=task.pk))


@pytest.mark.parametrize("fields", [{"title": "Née"}, {"title": "Née", "done": True}])
def test_create_returns_the_task_exactly_as_a_re_read_gives_it(user: Any, fields: dict[str, Any]) -> None:
    """The row INSERT … RETURNING gives is the stored row: version 1, one UTC moment for both timestamps,
    `done` false unless given; the triggers count it."""
    created = task_create(owner_id=user.pk, fields=fields)
    assert columns(created) == stored(created)
    assert (created.owner_id, created.title, created.version) == (user.pk, "Née", 1)
    assert created.done is fields.get("done", False)
    assert created.created_at == created.updated_at
    assert created.created_at.utcoffset() == dt.timedelta(0)
    assert created._state.adding is False
    assert TaskTally.count_of(user) == 1
    assert TaskTally.count_of(user, done=True) == int(created.done)


@pytest.mark.parametrize("versions", [None, "current"])
def test_update_returns_the_task_exactly_as_a_re_read_gives_it(task: Task, versions: Any) -> None:
    """The row UPDATE … RETURNING gives is the stored row: same values, aware UTC timestamps."""
    held = None if versions is None else (task.version,)
    written = task_update(
        owner_id=task.owner_id, pk=task.pk, changes={"title": "Née", "done": True}, versions=held
    )
    assert columns(written) == stored(task)
    assert (written.title, written.done, written.version) == ("Née", True, task.version + 1)
    assert written.updated_at.utcoffset() == dt.timedelta(0)
    assert written.created_at.utcoffset() == dt.timedelta(0)
    assert written.updated_at > task.updated_at
    assert written.created_at == task.created_at
    assert written._state.adding is False


def test_update_with_only_other_versions_writes_nothing(task: Task) -> None:
    """Naming only versions the task no longer has is a 412 and leaves the row as it was."""
    before = stored(task)
    with pytest.raises(PreconditionFailed):
        task_update(
            owner_id=task.owner_id, pk=task.pk, changes={"title": "Late"}, versions=(task.version + 1,)
        )
    assert stored(task) == before
