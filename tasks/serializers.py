import copy
from datetime import UTC, datetime
from typing import Any, cast

from rest_framework import serializers

from api.serializers import (
    RejectUnknownFieldsMixin,
    StrictBooleanField,
    StrictCharField,
    reject_control_characters,
)
from tasks.models import Task


def rfc3339(moment: datetime) -> str:
    """UTC, as DRF's DateTimeField writes it: 2024-05-06T07:08:09.123456Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def task_representation(task: Any) -> dict[str, Any]:
    """A task (a model or any row with its fields) as TaskSerializer's declared fields show it.

    Built directly: DRF's per-field machinery was a third of the time of a
    list request, and lists call this without building serializers at all.
    """
    return {
        "id": task.id,
        "title": task.title,
        "done": task.done,
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
    }


class TaskSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    # Declared rather than derived from the model (ModelSerializer): DRF
    # rebuilt the derived fields for every request, most of a write's
    # validation time. The bounds are the model's.
    id = serializers.IntegerField(read_only=True)
    title = StrictCharField(
        max_length=cast(int, Task._meta.get_field("title").max_length), validators=[reject_control_characters]
    )
    done = StrictBooleanField(
        required=False,
        help_text="Left out of a POST or PUT body, false; left out of a PATCH body, unchanged.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # DRF deep-copies the declared fields for every serializer, running
        # each field's __init__ again: several percent of a write request.
        # These fields are flat and stay unbound on the class, so a shallow
        # copy of each is as good (binding sets attributes on the copy).
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def to_representation(self, task: Task) -> dict[str, Any]:
        return task_representation(task)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not self.partial:
            # PUT replaces the whole task: an omitted `done` is reset.
            attrs.setdefault("done", False)
        return attrs


class TaskChangesSerializer(serializers.Serializer):
    """The answer of GET /tasks/changes (documents it; the view builds the dict itself)."""

    tasks = TaskSerializer(
        many=True, help_text="Tasks created or changed since the cursor, in their latest state."
    )
    deleted = serializers.ListField(
        child=serializers.IntegerField(min_value=1), help_text="Ids of the tasks deleted since the cursor."
    )
    cursor = serializers.CharField(help_text="Opaque: send it back as `cursor` to get what changes next.")
    more = serializers.BooleanField(help_text="More changes are waiting: call again now with `cursor`.")
