"""Deep pages: next and prev links seek with an opaque cursor instead of skipping rows (SPEC section 3)."""

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.helpers import client_for
from api.tests.helpers import assert_problem
from tasks.models import Task
from tasks.tests.helpers import list_url

ORDERINGS = ["id", "-id", "title", "-title", "created_at", "-created_at", "updated_at", "-updated_at"]
MOMENT = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
TASKS = 250
LIMIT = 17  # 250 is not a multiple: the last page is short


def make_tasks(owner: Any, count: int) -> list[int]:
    """`count` tasks of `owner` with many equal titles and timestamps, so ties need the id; their ids."""
    Task.objects.bulk_create(Task(owner=owner, title="t", done=n % 4 == 0) for n in range(count))
    pks = list(Task.objects.filter(owner=owner).order_by("id").values_list("id", flat=True))
    for group in range(7):
        Task.objects.filter(pk__in=pks[group::7]).update(
            title=f"Title {(group * 3) % 7} ä",
            created_at=MOMENT + dt.timedelta(days=group % 3),
            updated_at=MOMENT - dt.timedelta(microseconds=group % 5),
        )
    return pks


def in_order(owner: Any, ordering: str, **filters: Any) -> list[int]:
    """The ids of `owner`'s tasks in the list's total order."""
    tie = "-id" if ordering.startswith("-") else "id"
    tasks = Task.objects.filter(owner=owner, **filters).order_by(ordering, tie)
    return list(tasks.values_list("id", flat=True))


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def walk(client: Any, url: str | None, link: str) -> list[dict[str, Any]]:
    """Every page from `url` on, following `link` ("next" or "previous") until it is null."""
    pages = []
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body)
        url = body[link]
    return pages


def ids_of(page: dict[str, Any]) -> list[int]:
    return [item["id"] for item in page["items"]]


@pytest.fixture
def many_tasks(user: Any, other_user: Any) -> list[int]:
    """TASKS tasks of the caller with ties in every sort key, and as many of someone else's."""
    make_tasks(other_user, TASKS)
    return make_tasks(user, TASKS)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_following_next_visits_every_task_once_in_order_with_right_offsets(
    api_client, user, many_tasks, ordering
):
    """From the first page to the last, next gives each task exactly once, in order; offset counts up."""
    pages = walk(api_client, f"{list_url()}?ordering={ordering}&limit={LIMIT}", "next")

    assert [page["offset"] for page in pages] == list(range(0, TASKS, LIMIT))
    assert all(page["total"] == TASKS and page["limit"] == LIMIT for page in pages)
    assert [task for page in pages for task in ids_of(page)] == in_order(user, ordering)
    assert all("offset" not in query_of(page["next"]) for page in pages[:-1])
    assert all("cursor" in query_of(page["next"]) for page in pages[:-1])


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_following_previous_from_the_last_page_gives_the_same_pages_backwards(
    api_client, many_tasks, ordering
):
    """previous links go back page by page: the same items and offsets as going forward, ending at 0."""
    forward = walk(api_client, f"{list_url()}?ordering={ordering}&limit={LIMIT}", "next")
    backward = walk(api_client, forward[-1]["previous"], "previous")

    assert [(page["offset"], ids_of(page)) for page in backward] == [
        (page["offset"], ids_of(page)) for page in reversed(forward[:-1])
    ]


def test_cursor_pages_keep_the_filters(api_client, user, many_tasks):
    """A cursor combined with done, search and updated_after pages through exactly the matches."""
    filters = "done=false&search=TITLE+3+%C3%84&updated_after=2000-01-01T00:00:00Z&ordering=-created_at"
    pages = walk(api_client, f"{list_url()}?{filters}&limit=5", "next")
    expected = in_order(user, "-created_at", done=False, title="Title 3 ä")

    assert len(pages) > 2
    assert [task for page in pages for task in ids_of(page)] == expected
    assert [page["offset"] for page in pages] == list(range(0, len(expected), 5))
    assert all(page["total"] == len(expected) for page in pages)
    for page in pages[:-1]:
        assert {"done", "search", "updated_after", "ordering"} <= set(query_of(page["next"]))


def test_a_cursor_may_be_followed_with_another_limit(api_client, user, many_tasks):
    """A cursor marks a place, not a page size: a next link with another limit starts at the right task."""
    first = api_client.get(list_url(), {"ordering": "title", "limit": 10}).json()
    bigger = api_client.get(first["next"].replace("limit=10", "limit=30")).json()

    assert (bigger["offset"], bigger["limit"]) == (10, 30)
    assert ids_of(bigger) == in_order(user, "title")[10:40]


def test_a_hand_written_offset_still_works_and_its_links_seek(api_client, user, many_tasks):
    """?offset=n serves the page at n; its next and previous links are cursors that continue from there."""
    page = api_client.get(list_url(), {"ordering": "-updated_at", "limit": 20, "offset": 100}).json()
    order = in_order(user, "-updated_at")

    assert (page["offset"], ids_of(page)) == (100, order[100:120])
    following = api_client.get(page["next"]).json()
    preceding = api_client.get(page["previous"]).json()
    assert (following["offset"], ids_of(following)) == (120, order[120:140])
    assert (preceding["offset"], ids_of(preceding)) == (80, order[80:100])


def test_tasks_added_while_paging_do_not_repeat_a_task(api_client, user):
    """A task created before the cursor's place does not push the last task of a page onto the next one."""
    make_tasks(user, 10)
    first = api_client.get(list_url(), {"ordering": "-id", "limit": 5}).json()
    Task.objects.create(owner=user, title="Newest")
    following = api_client.get(first["next"]).json()

    assert not set(ids_of(first)) & set(ids_of(following))
    assert ids_of(following) == in_order(user, "-id")[6:11]


def test_someone_elses_cursor_shows_only_the_callers_tasks(api_client, user, other_user, many_tasks):
    """A cursor is a place in a list, never a key to tasks: another user following it sees only their own."""
    mine = api_client.get(list_url(), {"limit": 50, "ordering": "-id"}).json()
    theirs = client_for(other_user).get(mine["next"])

    assert theirs.status_code == 200
    items = ids_of(theirs.json())
    assert items
    assert set(items) <= set(Task.objects.filter(owner=other_user).values_list("id", flat=True))
    assert not set(items) & set(many_tasks)


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "a:b", "x" * 3000, "WzEsMjAsMTIzLG51bGwsIjAwIl0:forged", "é:ü"],
    ids=["word", "empty-is-absent", "colon", "long", "forged-signature", "non-ascii"],
)
def test_malformed_cursor_returns_400_naming_cursor(api_client, many_tasks, cursor):
    """A cursor this service did not sign is a 400 problem naming cursor (an empty one means absent)."""
    response = api_client.get(list_url(), {"cursor": cursor})
    if cursor == "":
        assert response.status_code == 200
        return
    body = assert_problem(response, 400)
    assert [error["parameter"] for error in body["errors"]] == ["cursor"]


def test_tampered_cursor_returns_400_naming_cursor(api_client, many_tasks):
    """Changing any character of a real cursor breaks its signature: 400, not another page."""
    cursor = query_of(api_client.get(list_url(), {"limit": 5}).json()["next"])["cursor"]
    for index in (0, len(cursor) // 2, len(cursor) - 1):
        swapped = "A" if cursor[index] != "A" else "B"
        tampered = cursor[:index] + swapped + cursor[index + 1 :]
        body = assert_problem(api_client.get(list_url(), {"cursor": tampered}), 400)
        assert [error["parameter"] for error in body["errors"]] == ["cursor"]


@pytest.mark.parametrize(
    "change",
    [{"ordering": "-id"}, {"done": "true"}, {"search": "x"}, {"updated_after": "2000-01-01T00:00:00Z"}],
    ids=["ordering", "done", "search", "updated_after"],
)
def test_cursor_with_other_filters_or_ordering_returns_400_naming_cursor(api_client, many_tasks, change):
    """A cursor belongs to the ordering and filters of its list: with others its offset would lie, so 400."""
    cursor = query_of(api_client.get(list_url(), {"limit": 5}).json()["next"])["cursor"]
    body = assert_problem(api_client.get(list_url(), {"cursor": cursor, **change}), 400)
    assert [error["parameter"] for error in body["errors"]] == ["cursor"]


def test_cursor_and_offset_together_return_400(api_client, many_tasks):
    """cursor and offset are two ways to say where the page starts: both at once is a 400 naming cursor."""
    cursor = query_of(api_client.get(list_url(), {"limit": 5}).json()["next"])["cursor"]
    body = assert_problem(api_client.get(list_url(), {"cursor": cursor, "offset": 5}), 400)
    assert [error["parameter"] for error in body["errors"]] == ["cursor"]


def test_bad_cursor_and_bad_limit_are_named_together(api_client, many_tasks):
    """One 400 names every bad parameter, a cursor among them."""
    body = assert_problem(api_client.get(list_url(), {"cursor": "garbage", "limit": 0}), 400)
    assert sorted(error["parameter"] for error in body["errors"]) == ["cursor", "limit"]


@pytest.mark.parametrize("link", ["next", "previous"])
@pytest.mark.parametrize(
    "filters", [{}, {"done": "false", "ordering": "-title"}], ids=["unfiltered", "filtered"]
)
def test_cursor_page_runs_the_same_queries_as_the_first(
    api_client, many_tasks, link, filters, django_assert_num_queries
):
    """A cursor page is the token query, the total and one SELECT, like any page: no query for the cursor."""
    page = api_client.get(list_url(), {**filters, "limit": 20, "offset": 100}).json()
    with django_assert_num_queries(3):
        response = api_client.get(page[link])
    assert response.status_code == 200
    assert len(response.json()["items"]) == 20


@pytest.mark.parametrize("ordering", ["id", "-title", "created_at", "-updated_at"])
@pytest.mark.parametrize("link", ["next", "previous"])
def test_cursor_page_seeks_instead_of_skipping_rows(api_client, many_tasks, ordering, link):
    """The SQL of a page reached by a link has no OFFSET: the database seeks to it through the index."""
    page = api_client.get(list_url(), {"ordering": ordering, "limit": 20, "offset": 200}).json()
    with CaptureQueriesContext(connection) as captured:
        assert api_client.get(page[link]).status_code == 200
    selects = [query["sql"] for query in captured if '"tasks_task"."title"' in query["sql"]]
    assert len(selects) == 1
    assert "OFFSET" not in selects[0].upper()
    assert "LIMIT 20" in selects[0].upper()
