"""The compare-and-swap writes of tasks/services.py, on the objects they return."""

import datetime as dt
from typing import Any

import pytest

from tasks.conditional import PreconditionFailed
from tasks.models import Task
from tasks.services import task_update

pytestmark = pytest.mark.django_db


def columns(task: Task) -> dict[str, Any]:
    """Every column of `task`, by attribute name."""
    return {field.attname: getattr(task, field.attname) for field in Task._meta.concrete_fields}


def stored(task: Task) -> dict[str, Any]:
    """Every column of `task` as the ORM reads it back."""
    return columns(Task.objects.get(pk=task.pk))


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
