"""task_representation: a task as TaskSerializer's declared fields show it, built directly."""

import datetime as dt

import pytest
from rest_framework import serializers

from accounts.tests.factories import UserFactory
from tasks.pagination import TaskRow
from tasks.serializers import TaskSerializer, task_representation
from tasks.tests.helpers import make_task

pytestmark = pytest.mark.django_db


def by_declared_fields(task: object) -> dict[str, object]:
    """What DRF's own per-field machinery gives for the declared fields."""
    return dict(serializers.Serializer.to_representation(TaskSerializer(), task))


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),  # no microseconds: none written
        dt.datetime(2024, 5, 6, 9, 8, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),  # written in UTC
    ],
)
def test_matches_the_declared_fields(moment: dt.datetime) -> None:
    task = make_task(owner=UserFactory(), title="Écrire ✓", done=True)
    task.created_at = task.updated_at = moment
    assert task_representation(task) == by_declared_fields(task)
    assert task_representation(task)["created_at"].endswith("Z")


def test_a_row_reads_as_its_model() -> None:
    task = make_task(owner=UserFactory())
    row = TaskRow(task.id, task.title, task.done, task.created_at, task.updated_at)
    assert task_representation(row) == TaskSerializer(task).data == by_declared_fields(task)


def test_each_serializer_binds_copies_of_the_declared_fields() -> None:
    first, second = TaskSerializer(data={"title": "a"}), TaskSerializer(data={"title": ""})
    assert first.is_valid() and not second.is_valid()
    declared = TaskSerializer._declared_fields
    for name, field in declared.items():
        assert first.fields[name] is not field and first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert field.parent is None  # the class's own fields are never bound
    assert second.errors == {"title": ["This field may not be blank."]}
    assert first.validated_data == {"title": "a", "done": False}
