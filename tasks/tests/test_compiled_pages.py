"""Lists in id order read their page with compiled SQL: the same pages as the ORM's, at the same cost."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

from tasks.cursor import edge_cursor
from tasks.filters import TaskFilter, TaskListForm
from tasks.models import Task
from tasks.pagination import id_ordered_pages, queryset_pages
from tasks.tests.helpers import as_json, detail_url, list_url

MOMENT = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
COLUMNS = ("id", "title", "done", "created_at", "updated_at")
OWN = 30
LIMIT = 7
DONE_CHOICES = [None, True, False]


@contextmanager
def counting_compilations() -> Iterator[mock.MagicMock]:
    """Counts the SELECTs the ORM turns into SQL meanwhile (the compiler still runs)."""
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as spy:
        yield spy


@pytest.fixture
def interleaved(user: Any, other_user: Any) -> list[Task]:
    """OWN tasks of the caller, every third done, each followed in id order by one of someone else's."""
    for n in range(OWN):
        Task.objects.create(owner=user, title=f"Mine {n % 4}", done=n % 3 == 0)
        Task.objects.create(owner=other_user, title=f"Theirs {n}", done=n % 2 == 0)
    for n, task in enumerate(Task.objects.order_by("id")):
        Task.objects.filter(pk=task.pk).update(
            created_at=MOMENT - dt.timedelta(hours=n), updated_at=MOMENT + dt.timedelta(microseconds=n)
        )
    return list(Task.objects.filter(owner=user).order_by("id"))


def list_query(
    user: Any, done: bool | None, ordering: str, cursor: str | None = None
) -> tuple[TaskListForm, QuerySet[Task]]:
    """The parameters validated as GET /tasks validates them, and the ORM's list for them."""
    data = {"ordering": ordering, "limit": str(LIMIT)}
    if done is not None:
        data["done"] = str(done).lower()
    if cursor is not None:
        data["cursor"] = cursor
    form = TaskFilter.query_form(data)
    assert form.is_valid(), form.errors
    return form, TaskFilter(data, queryset=Task.objects.owned_by(user)).qs


def fields(page: list[Any]) -> list[tuple[tuple[Any, type], ...]]:
    """Each task's listed fields, with their types (1 is not True, a naive datetime not an aware one)."""
    return [tuple((getattr(task, name), type(getattr(task, name))) for name in COLUMNS) for task in page]


def assert_same_page(
    user: Any, done: bool | None, ordering: str, cursor: str | None, offset: int
) -> list[Any]:
    """The compiled page equals the ORM's, field by field; it is returned."""
    form, tasks = list_query(user, done, ordering, cursor)
    paging = form.paging
    fast = id_ordered_pages(owner_id=user.pk, done=done, paging=paging)(paging.cursor, offset)
    slow = queryset_pages(tasks, paging=paging)(paging.cursor, offset)
    assert fields(fast) == fields(slow), (done, ordering, cursor, offset)
    return fast


@pytest.mark.parametrize("ordering", ["id", "-id"])
@pytest.mark.parametrize("done", DONE_CHOICES, ids=["all", "done", "open"])
def test_offset_pages_equal_the_orms(user, interleaved, done, ordering):
    """From any offset, in either id order, with or without done: the ORM's page exactly."""
    matching = [task.pk for task in interleaved if done is None or task.done == done]
    if ordering == "-id":
        matching.reverse()
    for offset in (0, 1, 7, 9, 19, 29, 30, 100):
        page = assert_same_page(user, done, ordering, None, offset)
        assert [task.pk for task in page] == matching[offset : offset + LIMIT]


@pytest.mark.parametrize("ordering", ["id", "-id"])
@pytest.mark.parametrize("done", DONE_CHOICES, ids=["all", "done", "open"])
@pytest.mark.parametrize("forward", [True, False], ids=["next", "previous"])
def test_cursor_pages_equal_the_orms(user, other_user, interleaved, done, ordering, forward):
    """Beyond any edge (first, middle, last, someone else's, a deleted task), either way: the ORM's page."""
    theirs = list(Task.objects.filter(owner=other_user).order_by("id"))
    edges = [interleaved[0], interleaved[1], interleaved[14], interleaved[-2], interleaved[-1]]
    edges += [theirs[0], theirs[15], theirs[-1]]
    gone = interleaved[20]
    Task.objects.filter(pk=gone.pk).delete()
    edges.append(gone)
    scope = list_query(user, done, ordering)[0].paging.scope
    pages = 0
    for edge in edges:
        cursor = edge_cursor(edge, forward=forward, offset=LIMIT, ordering=ordering, scope=scope)
        for offset in (0, 3):
            pages += bool(assert_same_page(user, done, ordering, cursor, offset))
    assert pages >= 6  # most edges have tasks beyond them


def ids_of(page: dict[str, Any]) -> list[int]:
    return [item["id"] for item in page["items"]]


def walk(client: Any, url: str | None, link: str) -> list[dict[str, Any]]:
    """Every page from `url` on, following `link` until it is null."""
    pages = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1][link]
    return pages


@pytest.mark.parametrize(
    "params",
    [
        {"done": "true"},
        {"done": "false"},
        {"done": "true", "ordering": "-id"},
        {"done": "false", "ordering": "-id"},
    ],
    ids=["done", "open", "done-descending", "open-descending"],
)
def test_following_links_of_a_done_list_visits_each_match_once_and_back(api_client, interleaved, params):
    """next links give every matching task once, in order, as stored; previous links return page by page."""
    matching = [task for task in interleaved if task.done == (params["done"] == "true")]
    if params.get("ordering") == "-id":
        matching.reverse()
    forward = walk(api_client, f"{list_url()}?{urlencode({**params, 'limit': 3})}", "next")

    assert len(forward) == -(-len(matching) // 3) > 2
    assert [item for page in forward for item in page["items"]] == [as_json(task) for task in matching]
    assert [page["offset"] for page in forward] == list(range(0, len(matching), 3))
    assert all(page["total"] == len(matching) for page in forward)
    assert all("cursor" in parse_qs(urlsplit(page["next"]).query) for page in forward[:-1])
    backward = walk(api_client, forward[-1]["previous"], "previous")
    assert [(page["offset"], ids_of(page)) for page in backward] == [
        (page["offset"], ids_of(page)) for page in reversed(forward[:-1])
    ]


@pytest.mark.parametrize("ordering", ["id", "-id"])
def test_fast_list_items_are_the_full_task_representations(api_client, interleaved, ordering):
    """A page read by compiled SQL serializes each task exactly as the ORM's would."""
    expected = [as_json(task) for task in interleaved]
    if ordering == "-id":
        expected.reverse()
    response = api_client.get(list_url(), {"ordering": ordering, "limit": 100})
    assert response.json()["items"] == expected


@pytest.mark.parametrize(
    ("params", "ordering", "keep"),
    [
        ({"search": "mine 1"}, "id", lambda task: task.title == "Mine 1"),
        ({"search": "MINE 2", "done": "false"}, "-id", lambda task: task.title == "Mine 2" and not task.done),
        (
            {"updated_after": "2024-05-06T07:08:09.123470Z"},
            "-id",
            lambda task: task.updated_at > MOMENT + dt.timedelta(microseconds=14),
        ),
        ({"done": "true"}, "title", lambda task: task.done),
        ({}, "-created_at", lambda task: True),
    ],
    ids=[
        "search-by-id",
        "search-and-done-by-id-descending",
        "updated-after-by-id-descending",
        "done-by-title",
        "unfiltered-by-created",
    ],
)
def test_lists_beyond_the_fast_path_still_page_correctly(api_client, interleaved, params, ordering, keep):
    """Other filters, or another ordering, read through the ORM: the right tasks, total and order."""
    tie = "-id" if ordering.startswith("-") else "id"
    expected = [
        task.pk
        for task in Task.objects.filter(pk__in=[task.pk for task in interleaved]).order_by(ordering, tie)
        if keep(task)
    ]
    url = f"{list_url()}?{urlencode({**params, 'ordering': ordering, 'limit': 4})}"
    forward = walk(api_client, url, "next")
    assert 0 < len(expected) <= OWN
    assert [task for page in forward for task in ids_of(page)] == expected
    assert all(page["total"] == len(expected) for page in forward)


# --- Cost --------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{"ordering": "-id"}, {"done": "true", "ordering": "-id"}, {"done": "false", "ordering": "id"}],
    ids=["descending", "done-descending", "open"],
)
@pytest.mark.parametrize("link", [None, "next", "previous"], ids=["first-page", "next", "previous"])
def test_fast_list_pages_run_three_queries(api_client, interleaved, params, link, django_assert_num_queries):
    """The token, the tally row and the page: no COUNT and no per-item query, a link page included."""
    url = f"{list_url()}?{urlencode({**params, 'limit': 3})}"
    if link is not None:
        url = api_client.get(list_url(), {**params, "limit": 3, "offset": 6}).json()[link]
        assert "cursor" in parse_qs(urlsplit(url).query)
    with django_assert_num_queries(3) as captured:
        response = api_client.get(url)
    assert response.status_code == 200
    assert response.json()["items"]
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)


@pytest.mark.parametrize("params", [{}, {"ordering": "-id"}, {"done": "true"}], ids=["id", "-id", "done"])
def test_an_offset_page_skips_through_the_index_then_reads_only_its_rows(
    api_client, interleaved, params, django_assert_num_queries
):
    """At an offset: the token, the tally, the id at the offset (read from the index alone, the
    only query with OFFSET), then the page from that id; the same page as the ORM's OFFSET gives."""
    with django_assert_num_queries(4) as captured:
        response = api_client.get(list_url(), {**params, "limit": 3, "offset": 5})
    assert response.status_code == 200
    skip, page = (query["sql"].upper() for query in captured.captured_queries[2:])
    assert "OFFSET 5" in skip and "TITLE" not in skip
    assert "OFFSET" not in page and "TITLE" in page
    tasks = Task.objects.filter(owner=interleaved[0].owner).order_by(params.get("ordering", "id"))
    if "done" in params:
        tasks = tasks.filter(done=True)
    assert [item["id"] for item in response.json()["items"]] == [task.pk for task in tasks[5:8]]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ordering": "-id"},
        {"done": "true"},
        {"done": "false", "ordering": "-id"},
        {"done": "", "ordering": ""},
    ],
    ids=["default", "descending", "done", "open-descending", "empty-parameters"],
)
def test_repeated_fast_lists_compile_no_sql(api_client, interleaved, params):
    """Once warm, an id-ordered list and its next and previous links run SQL compiled before, none anew."""
    first = api_client.get(list_url(), {**params, "limit": 3, "offset": 6}).json()
    for link in ("next", "previous"):
        api_client.get(first[link])  # a link's SQL is compiled at its first use

    for url, query in [
        (list_url(), {**params, "limit": 3, "offset": 6}),
        (first["next"], {}),
        (first["previous"], {}),
    ]:
        with counting_compilations() as spy:
            response = api_client.get(url, query)
        assert response.status_code == 200 and response.json()["items"]
        assert spy.call_count == 0, url


def test_repeated_retrieve_compiles_no_sql(api_client, interleaved):
    """Once warm, GET /tasks/{id} and its authentication run SQL compiled before."""
    api_client.get(detail_url(interleaved[0].pk))
    with counting_compilations() as spy:
        response = api_client.get(detail_url(interleaved[1].pk))
    assert response.json() == as_json(interleaved[1])
    assert spy.call_count == 0
