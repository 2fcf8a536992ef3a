import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from config.problems import InvalidQueryParameters


class StrictIntegerField(forms.IntegerField):
    """ASCII digits with an optional sign; int() alone would also take "1_0" and "٣"."""

    def to_python(self, value: Any) -> int | None:
        if value not in self.empty_values and not re.fullmatch(r"[+-]?[0-9]+", str(value)):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class PageForm(forms.Form):
    """The paging parameters; TaskFilter's form extends it, so that one 400 names
    every bad parameter, filters and paging alike."""

    limit = StrictIntegerField(required=False, min_value=1, max_value=100)
    offset = StrictIntegerField(required=False, min_value=0, max_value=2**63 - 1)


class TaskPagination(LimitOffsetPagination):
    """Limit/offset pages in the `{items, total, limit, offset, next, previous}` envelope.

    Out-of-range or non-integer values are a 400 naming the parameter; they are
    never clamped to the nearest valid value.
    """

    default_limit = 20
    max_limit = 100

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        form = PageForm(request.query_params)
        if not form.is_valid():
            raise InvalidQueryParameters.from_form_errors(form.errors)
        self.request = request
        self.limit = form.cleaned_data["limit"] or self.default_limit
        self.offset = form.cleaned_data["offset"] or 0
        count_listed = getattr(view, "count_listed", self.get_count)
        self.count = count_listed(queryset)
        self.display_page_controls = self.count > self.limit
        if self.offset >= self.count:
            return []
        return list(queryset[self.offset : self.offset + self.limit])

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["items", "total", "limit", "offset", "next", "previous"],
            "properties": {
                "items": schema,
                "total": {"type": "integer", "minimum": 0, "description": "Matching tasks in all pages."},
                "limit": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
                "offset": {"type": "integer", "minimum": 0},
                "next": {**link, "description": "The next page, or null on the last."},
                "previous": {**link, "description": "The previous page, or null on the first."},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "Number of tasks per page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit, "default": 20},
            },
            {
                "name": "offset",
                "in": "query",
                "required": False,
                "description": "Number of tasks to skip.",
                "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0},
            },
        ]

    def get_results(self, data: dict[str, Any]) -> list[Any]:
        # The browsable API finds the page's items (to build its filter form) here.
        return data["items"]

    def get_paginated_response(self, data: Any) -> Response:
        next_url, previous_url = self.get_next_link(), self.get_previous_link()
        links = [f'<{url}>; rel="{rel}"' for rel, url in (("next", next_url), ("prev", previous_url)) if url]
        return Response(
            {
                "items": data,
                "total": self.count,
                "limit": self.limit,
                "offset": self.offset,
                "next": next_url,
                "previous": previous_url,
            },
            headers={"Link": ", ".join(links)} if links else None,
        )
