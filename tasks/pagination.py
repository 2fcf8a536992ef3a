from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from tasks.filters import TaskListForm


class TaskPagination(LimitOffsetPagination):
    """Limit/offset pages in the `{items, total, limit, offset, next, previous}` envelope.

    TaskFilter's form validates `limit` and `offset` with the filters: out of
    range or not an integer is a 400 naming the parameter, never clamped.
    """

    default_limit = TaskListForm.default_limit
    max_limit = 100

    def paginate(
        self, tasks: QuerySet[Any], request: Request, *, total: int, limit: int, offset: int
    ) -> list[Any]:
        """The page of `tasks` at `offset`, knowing there are `total` of them."""
        self.request = request
        self.count, self.limit, self.offset = total, limit, offset
        self.display_page_controls = total > limit
        if offset >= total:
            return []
        return list(tasks[offset : offset + limit])

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
