import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param

from api.compiled import CompiledQuery
from tasks.cursor import PageCursor, Paging, edge_cursor, seek, seeks_upward
from tasks.filters import TaskListForm
from tasks.models import Task

# Reads `limit` tasks of a list: those beyond a cursor's edge, nearest first,
# or from an offset.
PageFetcher = Callable[[PageCursor | None, int], list[Any]]


def queryset_pages(tasks: QuerySet[Task], *, paging: Paging) -> PageFetcher:
    """Pages of any filtered and ordered list of tasks, as model instances."""

    def fetch(cursor: PageCursor | None, offset: int) -> list[Task]:
        beyond = tasks if cursor is None else seek(tasks, cursor=cursor, ordering=paging.ordering)
        return list(beyond[offset : offset + paging.limit])

    return fetch


class TaskRow(NamedTuple):
    """A task as a list shows it, read without building a model."""

    id: int
    title: str
    done: bool
    created_at: datetime
    updated_at: datetime

    @property
    def pk(self) -> int:
        return self.id


@functools.cache
def id_ordered_query(
    *, done: bool | None, ascending: bool, seek: str | None, ids_only: bool = False
) -> CompiledQuery:
    """The owner's tasks in id order, maybe only those with `done`, maybe only those beyond an id;
    their rows, or only their ids (read from the index alone)."""

    def build(owner_id: int, pk: int = 0) -> QuerySet[Task]:
        tasks = Task.objects.filter(owner_id=owner_id)
        if done is not None:
            tasks = tasks.filter(done=done)
        if seek is not None:
            tasks = tasks.filter(**{f"id__{seek}": pk})
        columns = ("id",) if ids_only else TaskRow._fields
        return tasks.order_by("id" if ascending else "-id").values_list(*columns)

    examples = {"owner_id": -7_000_000_001} | ({"pk": -7_000_000_002} if seek else {})
    return CompiledQuery(build, **examples)


def id_ordered_pages(*, owner_id: int, done: bool | None, paging: Paging) -> PageFetcher:
    """Pages of a list ordered by id (either way) and filtered by `done` at most, as TaskRows.

    The most common lists, read with SQL compiled once per shape; the same
    rows as queryset_pages() gives for them.
    """
    descending = paging.ordering.startswith("-")

    def fetch(cursor: PageCursor | None, offset: int) -> list[Any]:
        if cursor is None and offset:
            # OFFSET reads the table row of every task it skips. Skipping
            # through the (owner[, done], id) index alone to the page's first
            # id, then reading from there, reads only the page's rows.
            ids = id_ordered_query(done=done, ascending=not descending, seek=None, ids_only=True)
            first = ids.first(offset=offset, owner_id=owner_id)
            if first is None:
                return []
            query = id_ordered_query(done=done, ascending=not descending, seek="lte" if descending else "gte")
            rows = query.rows(limit=paging.limit, owner_id=owner_id, pk=first[0])
        elif cursor is None:
            query = id_ordered_query(done=done, ascending=not descending, seek=None)
            rows = query.rows(limit=paging.limit, owner_id=owner_id)
        else:
            upward = seeks_upward(cursor, ordering=paging.ordering)
            query = id_ordered_query(done=done, ascending=upward, seek="gt" if upward else "lt")
            rows = query.rows(limit=paging.limit, offset=offset, owner_id=owner_id, pk=cursor.pk)
        return [TaskRow(*row) for row in rows]

    return fetch


class TaskPagination(LimitOffsetPagination):
    """Limit/offset pages in the `{items, total, limit, offset, next, previous}` envelope.

    TaskFilter's form validates `limit`, `offset` and `cursor` with the
    filters: out of range or not an integer is a 400 naming the parameter,
    never clamped. The next and prev links of a page carry a cursor that
    seeks to their page (tasks/cursor.py), so following them costs the same
    at any depth; a hand-written offset skips rows as before.
    """

    default_limit = TaskListForm.default_limit
    max_limit = 100
    # Set by paginate() before anything reads them.
    request: Request
    count: int
    limit: int
    offset: int
    paging: Paging
    page: list[Any]

    def paginate(self, request: Request, *, fetch: "PageFetcher", total: int, paging: Paging) -> list[Any]:
        """The page that `paging` asks for, knowing there are `total` tasks; `fetch` reads it."""
        self.request, self.paging = request, paging
        self.count, self.limit = total, paging.limit
        self.display_page_controls = total > paging.limit
        cursor = paging.cursor
        if cursor is None:
            self.offset = paging.offset
            self.page = [] if self.offset >= total else fetch(None, self.offset)
        elif cursor.forward:
            self.offset = cursor.offset
            self.page = [] if self.offset >= total else fetch(cursor, 0)
        else:
            self.page = fetch(cursor, 0)[::-1]
            # A short page reached the start (tasks went away since the link was made).
            self.offset = max(0, cursor.offset - self.limit) if len(self.page) == self.limit else 0
        return self.page

    def get_next_link(self) -> str | None:
        if self.offset + self.limit >= self.count:
            return None
        if not self.page:  # nothing to seek from: skip rows
            return self.page_url(offset=self.offset + self.limit)
        return self.cursor_url(self.page[-1], forward=True, offset=self.offset + len(self.page))

    def get_previous_link(self) -> str | None:
        if self.offset <= 0:
            return None
        if self.offset <= self.limit:  # the first page: no cursor needed
            return self.page_url()
        if not self.page:
            return self.page_url(offset=self.offset - self.limit)
        return self.cursor_url(self.page[0], forward=False, offset=self.offset)

    def page_url(self, **position: int | str) -> str:
        """This page's URL, filters kept, with the limit and `position` (an offset or a cursor), if any.

        Parameters sorted, as DRF's replace_query_param() writes them.
        """
        params = {
            name: values
            for name, values in self.request.query_params.lists()
            if name not in ("offset", "cursor", "limit")
        }
        params["limit"] = [str(self.limit)]
        params.update((name, [str(value)]) for name, value in position.items())
        return f"{self.list_url}?{urlencode(sorted(params.items()), doseq=True)}"

    @functools.cached_property
    def list_url(self) -> str:
        """The list's absolute URL, without a query: built once for both links."""
        return self.request.build_absolute_uri(self.request.path)

    def cursor_url(self, edge: Any, *, forward: bool, offset: int) -> str:
        cursor = edge_cursor(
            edge, forward=forward, offset=offset, ordering=self.paging.ordering, scope=self.paging.scope
        )
        return self.page_url(cursor=cursor)

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
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": (
                    "Where the page starts, as the next and previous links give it: opaque, signed, and "
                    "valid with the filters and ordering of the list it came from (otherwise 400). "
                    "Replaces offset (not both); following links costs the same at any depth."
                ),
                "schema": {"type": "string"},
            },
        ]

    def get_html_context(self) -> Any:
        # The browsable API's numbered page links skip rows by offset; drop the
        # cursor they would otherwise keep from this page's URL.
        context = super().get_html_context()
        context["page_links"] = [
            link._replace(url=link.url and remove_query_param(link.url, "cursor"))
            for link in context["page_links"]
        ]
        return context

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
