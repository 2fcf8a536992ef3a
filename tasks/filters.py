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

from config.problems import InvalidQueryParameters
from tasks.models import Task, TaskQuerySet
from tasks.pagination import PageForm

ORDERING_FIELDS = ["id", "title", "created_at", "updated_at"]


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
        method="filter_search", label="Search", help_text="Case-insensitive substring of the title."
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
        form = PageForm

    def filter_queryset(self, queryset: QuerySet[Task]) -> QuerySet[Task]:
        # The form also holds the paging parameters (Meta.form), which filter nothing.
        for name, task_filter in self.filters.items():
            queryset = task_filter.filter(queryset, self.form.cleaned_data.get(name))
        return queryset

    def filter_search(self, queryset: TaskQuerySet, name: str, value: str) -> QuerySet[Task]:
        return queryset.search(value)

    def filter_ordering(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        # The id tie-break makes the order total, so pages never overlap.
        return queryset.order_by(value, "-id" if value.startswith("-") else "id")


class QueryParameterFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, reporting bad values as query-parameter problems."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not filterset_class.base_filters.keys() & request.query_params.keys():
            return queryset  # nothing to filter; the paginator checks limit and offset itself
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            raise InvalidQueryParameters.from_form_errors(filterset.errors)
        return filterset.qs
