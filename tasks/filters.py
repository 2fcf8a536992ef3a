from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework.request import Request

from config.problems import InvalidQueryParameters
from tasks.models import Task, TaskQuerySet

ORDERING_FIELDS = ["id", "title", "created_at", "updated_at"]


class TaskFilter(filters.FilterSet):
    done = filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
        help_text="Only tasks that are done (true) or not done (false).",
    )
    search = filters.CharFilter(method="filter_search", help_text="Case-insensitive substring of the title.")
    updated_after = filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gt",
        help_text="Only tasks updated after this RFC 3339 timestamp.",
    )
    ordering = filters.ChoiceFilter(
        choices=[(f"{sign}{name}", f"{sign}{name}") for name in ORDERING_FIELDS for sign in ("", "-")],
        method="filter_ordering",
        help_text="Sort key; prefix with - for descending. Ties are broken by id.",
    )

    class Meta:
        model = Task
        fields = ["done", "search", "updated_after", "ordering"]

    def filter_search(self, queryset: TaskQuerySet, name: str, value: str) -> QuerySet[Task]:
        return queryset.search(value)

    def filter_ordering(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        # The id tie-break makes the order total, so pages never overlap.
        return queryset.order_by(value, "-id" if value.startswith("-") else "id")


class QueryParameterFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, reporting bad values as query-parameter problems."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise InvalidQueryParameters.from_form_errors(filterset.errors)
        return filterset.qs
