import re
from datetime import UTC, datetime
from typing import Any, NoReturn

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.request import Request

from tasks.cursor import PageCursor, Paging, cursor_scope, load_cursor
from tasks.models import Task, TaskQuerySet
from tasks.sync import SyncCursor, load_sync_cursor

ORDERING_FIELDS = ["id", "title", "created_at", "updated_at"]


class StrictIntegerField(forms.IntegerField):
    """ASCII digits with an optional sign; int() alone would also take "1_0" and "٣"."""

    def to_python(self, value: Any) -> int | None:
        if value not in self.empty_values and not re.fullmatch(r"[+-]?[0-9]+", str(value)):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class CursorField(forms.Field):
    """An opaque cursor from a next or prev link: one this service signed, or a 400."""

    def to_python(self, value: Any) -> PageCursor | None:
        return None if value in self.empty_values else load_cursor(str(value))


class SharedFields(dict[str, forms.Field]):
    """A form's fields, used as they are by every instance of it.

    Django deep-copies a form's fields for each instance, in case one changes
    them; the list's form never does, and the copy was a tenth of a list
    request.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> "SharedFields":
        return self


# The list's parameters that leave no task out.
NARROWING_NOTHING = frozenset({"limit", "offset", "cursor", "ordering", "done"})


class TaskListForm(forms.Form):
    """The paging parameters; TaskFilter adds a field per filter, so that one
    form validates every parameter of the list and one 400 names them all."""

    default_limit = 20
    limit = StrictIntegerField(required=False, min_value=1, max_value=100)
    offset = StrictIntegerField(required=False, min_value=0, max_value=2**63 - 1)
    cursor = CursorField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cursor = cleaned.get("cursor")
        if cursor is not None and cleaned.get("offset") is not None:
            self.add_error("cursor", "Give either cursor or offset, not both.")
        elif cursor is not None and not self.errors and cursor.scope != self.scope():
            self.add_error("cursor", "This cursor belongs to other filters or another ordering; start again.")
        return cleaned

    def ordering(self) -> str:
        return self.cleaned_data.get("ordering") or "id"

    @property
    def narrows_beyond_done(self) -> bool:
        """A filter other than `done` leaves tasks out (ordering leaves none out); empty is not given."""
        return any(self.data.get(name) for name in self.fields if name not in NARROWING_NOTHING)

    @property
    def done_given(self) -> bool | None:
        """The `done` filter's value; None when not given."""
        value = self.cleaned_data.get("done")
        return value if isinstance(value, bool) else None

    @property
    def paging(self) -> Paging:
        cleaned = self.cleaned_data
        return Paging(
            limit=cleaned["limit"] or self.default_limit,
            offset=cleaned["offset"] or 0,
            cursor=cleaned["cursor"],
            ordering=self.ordering(),
            scope=self.scope(),
        )

    def scope(self) -> str:
        """The digest of this list's ordering and filters that its cursors carry."""
        paging = {"limit", "offset", "cursor", "ordering"}
        filters = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in paging and value not in (None, "")
        }
        return cursor_scope(ordering=self.ordering(), filters=filters)


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(filters.TypedChoiceFilter):
    """`true` or `false`, and nothing else (django-filter's own ignores other values)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[("", "---------"), ("true", "true"), ("false", "false")],
            coerce=lambda value: value == "true",
            **kwargs,
        )


class RFC3339DateTimeField(forms.DateTimeField):
    """An RFC 3339 date-time: date, time and an offset (Z or ±hh:mm), nothing looser."""

    pattern = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip().upper()  # RFC 3339 allows "t" and "z"
        try:
            parsed = parse_datetime(text) if self.pattern.fullmatch(text) else None
            # In UTC: PostgreSQL refuses offsets beyond ±15:59, RFC 3339 allows ±23:59.
            return parsed.astimezone(UTC) if parsed else self.reject()
        except (ValueError, OverflowError):  # impossible (hour 25) or beyond year 1..9999 in UTC
            return self.reject()

    def reject(self) -> NoReturn:
        raise ValidationError("Enter an RFC 3339 date-time with an offset, e.g. 2024-05-06T07:08:09Z.")


class RFC3339DateTimeFilter(filters.Filter):
    field_class = RFC3339DateTimeField


class TaskFilter(filters.FilterSet):
    done = BooleanFilter(
        help_text="Only tasks that are done (true) or not done (false).",
    )
    search = filters.CharFilter(
        method="filter_search",
        label="Search",
        help_text="Case-insensitive substring of the title (at most 200 characters, as a title).",
        # No title is longer, so a longer search matches nothing; SQLite also
        # refuses LIKE patterns over 50,000 bytes.
        max_length=200,
    )
    updated_after = RFC3339DateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        label="Updated after",
        help_text="Only tasks updated after this RFC 3339 timestamp.",
    )
    ordering = filters.ChoiceFilter(
        choices=[(f"{sign}{name}", f"{sign}{name}") for name in ORDERING_FIELDS for sign in ("", "-")],
        method="filter_ordering",
        label="Ordering",
        help_text="Sort key; prefix with - for descending. Ties are broken by id.",
    )

    class Meta:
        model = Task
        fields = ["done", "search", "updated_after", "ordering"]
        form = TaskListForm

    form_class: type[TaskListForm] | None = None

    @classmethod
    def query_form(cls, data: Any) -> TaskListForm:
        """A form for every parameter of the list, paging and filters, bound to `data`."""
        if cls.form_class is None:
            # django-filter builds this class per request; these filters' fields
            # never depend on the request, so one class serves them all.
            form_class = cls(queryset=Task.objects.none()).get_form_class()
            assert issubclass(form_class, TaskListForm)
            form_class.base_fields = SharedFields(form_class.base_fields)
            cls.form_class = form_class
        return cls.form_class(data)

    def get_form_class(self) -> type[forms.Form]:
        return type(self).form_class or super().get_form_class()

    def filter_queryset(self, queryset: QuerySet[Task]) -> QuerySet[Task]:
        # The form also holds the paging parameters, which filter nothing.
        for name, task_filter in self.filters.items():
            queryset = task_filter.filter(queryset, self.form.cleaned_data.get(name))
        return queryset

    def filter_search(self, queryset: TaskQuerySet, name: str, value: str) -> QuerySet[Task]:
        return queryset.search(value)

    def filter_ordering(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        # The id tie-break makes the order total, so pages never overlap.
        return queryset.order_by(value, "-id" if value.startswith("-") else "id")


class TaskFilterBackend(filters.DjangoFilterBackend):
    """The browsable API's filter form and the filters' schema parameters.

    The list validates and applies TaskFilter itself (TaskViewSet.list); a
    single task's URL takes no query parameters, so nothing is filtered here.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        return queryset


class SyncCursorField(forms.Field):
    """A cursor from an earlier GET /tasks/changes, or a 400."""

    def to_python(self, value: Any) -> SyncCursor | None:
        return None if value in self.empty_values else load_sync_cursor(str(value))


class ChangesForm(forms.Form):
    """Every query parameter of GET /tasks/changes, validated at once: one 400 names them all."""

    default_limit = 500
    max_limit = 1000
    cursor = SyncCursorField(required=False)
    limit = StrictIntegerField(required=False, min_value=1, max_value=max_limit)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_cursor(self) -> SyncCursor | None:
        cursor = self.cleaned_data.get("cursor")
        if cursor is not None and cursor.owner != self.owner.pk:
            raise ValidationError("This cursor belongs to another user; sync from the beginning.")
        return cursor
