"""Listing the caller's tasks: the page envelope, paging, links and filters (SPEC section 3)."""

import datetime as dt
import re
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import client_for
from api.tests.helpers import assert_problem
from tasks.models import Task
from tasks.tests.factories import TaskFactory
from tasks.tests.helpers import TASK_FIELDS, as_json, list_url, rfc3339

ENVELOPE_KEYS = {"items", "total", "limit", "offset", "next", "previous"}
ORDERINGS = ["id", "-id", "title", "-title", "created_at", "-created_at", "updated_at", "-updated_at"]
# A fixed instant with microseconds, so "strictly after" is tested at full precision.
MOMENT = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
LINK = re.compile(r'<(?P<url>[^>]*)>; rel="(?P<rel>[^"]*)"')


def make_task(owner: Any, title: str = "Task", done: bool = False, **timestamps: dt.datetime) -> Task:
    """A task of `owner`; `created_at`/`updated_at` given here are written past auto_now."""
    task = cast(Task, TaskFactory(owner=owner, title=title, done=done))
    if timestamps:
        Task.objects.filter(pk=task.pk).update(**timestamps)
        task.refresh_from_db()
    return task


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


def titles(response: Any) -> list[str]:
    return [item["title"] for item in response.json()["items"]]


def parse_link_header(header: str) -> dict[str, str]:
    """RFC 8288 `<url>; rel="next", <url>; rel="prev"` as {rel: url}; anything else fails the test."""
    links = [LINK.fullmatch(part) for part in header.split(", ")]
    assert all(links), f"malformed Link header: {header!r}"
    rels = [link["rel"] for link in links if link]
    assert len(rels) == len(set(rels)), f"repeated rel in Link header: {header!r}"
    return {link["rel"]: link["url"] for link in links if link}


def page_of(url: str) -> dict[str, Any]:
    """An absolute page URL split into its origin, path and query (limit/offset defaults applied)."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
    assert all(len(values) == 1 for values in parse_qs(parts.query).values()), f"repeated parameter: {url}"
    query.setdefault("limit", "20")
    query.setdefault("offset", "0")
    return {"origin": f"{parts.scheme}://{parts.netloc}", "path": parts.path, "query": query}


def assert_invalid_parameters(response: Any, *parameters: str) -> list[dict[str, Any]]:
    """A 400 problem document with one error per named query parameter, and nothing else."""
    body = assert_problem(response, 400)
    assert "items" not in body
    errors = body["errors"]
    assert sorted(error["parameter"] for error in errors) == sorted(parameters)
    assert all(set(error) == {"parameter", "detail"} for error in errors)
    assert all(isinstance(error["detail"], str) and error["detail"] for error in errors)
    return cast(list[dict[str, Any]], errors)


@pytest.fixture
def seven_tasks(user: Any, other_user: Any) -> list[Task]:
    """Seven of the caller's tasks in id order, and three of someone else's that must never show."""
    TaskFactory.create_batch(3, owner=other_user)
    return cast(list[Task], TaskFactory.create_batch(7, owner=user))


# --- The envelope ------------------------------------------------------------


def test_list_envelope_has_exactly_the_page_keys(api_client, seven_tasks):
    """GET /tasks answers 200 with exactly items, total, limit, offset, next and previous."""
    response = api_client.get(list_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == ENVELOPE_KEYS


def test_list_items_are_the_full_task_representations(api_client, seven_tasks):
    """Each item is the task with exactly its public fields, as stored."""
    response = api_client.get(list_url())
    assert response.json()["items"] == [as_json(task) for task in seven_tasks]
    assert all(set(item) == TASK_FIELDS for item in response.json()["items"])


def test_list_defaults_to_limit_20_and_offset_0(api_client, user):
    """Without paging parameters the first 20 tasks are served, with a next link to offset 20."""
    tasks = TaskFactory.create_batch(25, owner=user)
    body = api_client.get(list_url()).json()
    assert body["limit"] == 20
    assert body["offset"] == 0
    assert body["total"] == 25
    assert [item["id"] for item in body["items"]] == [task.pk for task in tasks[:20]]
    assert body["previous"] is None
    assert page_of(body["next"]) == {
        "origin": "http://testserver",
        "path": list_url(),
        "query": {"limit": "20", "offset": "20"},
    }


def test_list_is_ordered_by_id_by_default(api_client, user):
    """Without ordering, items come by ascending id even when titles and timestamps run the other way."""
    tasks = [
        make_task(
            user,
            title=title,
            created_at=MOMENT - dt.timedelta(days=n),
            updated_at=MOMENT - dt.timedelta(days=n),
        )
        for n, title in enumerate(["zulu", "yankee", "x-ray", "whiskey"])
    ]
    response = api_client.get(list_url())
    assert ids(response) == [task.pk for task in tasks]


def test_empty_list_is_an_empty_page(api_client, user, other_user):
    """A caller with no tasks gets an empty page with total 0, no links and no Link header."""
    TaskFactory.create_batch(3, owner=other_user)
    response = api_client.get(list_url())
    assert response.status_code == 200
    assert response.json() == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
        "next": None,
        "previous": None,
    }
    assert "Link" not in response


def test_list_never_shows_or_counts_someone_elses_tasks(api_client, user, other_user):
    """Other users' tasks, even ones matching every filter, never appear in items nor count in total."""
    mine = [make_task(user, title="Buy milk", done=False) for _ in range(3)]
    for _ in range(4):
        make_task(other_user, title="Buy milk", done=False)
    for query in ["", "?done=false", "?search=milk", "?done=false&search=milk&ordering=-id", "?limit=1"]:
        body = api_client.get(list_url() + query).json()
        assert body["total"] == 3, query
        assert {item["id"] for item in body["items"]} <= {task.pk for task in mine}, query
    assert Task.objects.filter(owner=other_user).count() == 4


def test_total_counts_only_the_tasks_matching_the_filters(api_client, user, other_user):
    """total is the number of the caller's tasks matching the filters, not the page size nor all tasks."""
    for n in range(5):
        make_task(user, title=f"done {n}", done=True)
    for n in range(3):
        make_task(user, title=f"open {n}", done=False)
    make_task(other_user, title="done elsewhere", done=True)
    body = api_client.get(list_url(), {"done": "true", "limit": 2}).json()
    assert body["total"] == 5
    assert len(body["items"]) == 2
    assert api_client.get(list_url(), {"done": "false"}).json()["total"] == 3
    assert api_client.get(list_url()).json()["total"] == 8


# --- limit and offset ---------------------------------------------------------


def test_limit_1_is_accepted_and_serves_one_task(api_client, seven_tasks):
    """limit=1 is the smallest page: one task, total unchanged."""
    body = api_client.get(list_url(), {"limit": 1}).json()
    assert body["limit"] == 1
    assert body["total"] == 7
    assert [item["id"] for item in body["items"]] == [seven_tasks[0].pk]


def test_limit_100_is_accepted_and_serves_a_hundred_tasks(api_client, user):
    """limit=100 is the largest page: exactly 100 tasks, with a next link to the 101st."""
    tasks = TaskFactory.create_batch(101, owner=user)
    response = api_client.get(list_url(), {"limit": 100})
    body = response.json()
    assert response.status_code == 200
    assert body["limit"] == 100
    assert body["total"] == 101
    assert [item["id"] for item in body["items"]] == [task.pk for task in tasks[:100]]
    assert page_of(body["next"])["query"] == {"limit": "100", "offset": "100"}


def test_offset_0_is_accepted(api_client, seven_tasks):
    """offset=0 is the first page."""
    body = api_client.get(list_url(), {"offset": 0, "limit": 3}).json()
    assert body["offset"] == 0
    assert [item["id"] for item in body["items"]] == [task.pk for task in seven_tasks[:3]]


def test_offset_skips_that_many_tasks(api_client, seven_tasks):
    """offset=n starts the page at the (n+1)th task in order."""
    body = api_client.get(list_url(), {"offset": 2, "limit": 3}).json()
    assert body["offset"] == 2
    assert [item["id"] for item in body["items"]] == [task.pk for task in seven_tasks[2:5]]


@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_empty_paging_parameter_means_its_default(api_client, seven_tasks, parameter):
    """An empty limit= or offset= is treated as absent: limit 20, offset 0."""
    body = api_client.get(list_url(), {parameter: ""}).json()
    assert (body["limit"], body["offset"]) == (20, 0)
    assert [item["id"] for item in body["items"]] == [task.pk for task in seven_tasks]


@pytest.mark.parametrize(
    "value",
    ["0", "101", "-1", "abc", "1.5", "1e1", "1_0", "\u0663", "1000000000000000000000"],
    ids=["zero", "101", "negative", "letters", "fraction", "exponent", "underscore", "arabic-digit", "huge"],
)
def test_bad_limit_returns_400_naming_limit(api_client, seven_tasks, value):
    """A limit out of 1-100 or not a plain integer is a 400 problem naming limit."""
    assert_invalid_parameters(api_client.get(list_url(), {"limit": value}), "limit")


@pytest.mark.parametrize(
    "value", ["-1", "x", "1.5", "1_0"], ids=["negative", "letters", "fraction", "underscore"]
)
def test_bad_offset_returns_400_naming_offset(api_client, seven_tasks, value):
    """An offset below 0 or not a plain integer is a 400 problem naming offset."""
    assert_invalid_parameters(api_client.get(list_url(), {"offset": value}), "offset")


def test_limit_above_100_is_rejected_not_clamped(api_client, user):
    """limit=101 with more than 100 tasks is a 400, never a page silently served with limit 100."""
    TaskFactory.create_batch(101, owner=user)
    response = api_client.get(list_url(), {"limit": 101})
    errors = assert_invalid_parameters(response, "limit")
    assert "100" in errors[0]["detail"]


def test_offset_beyond_64_bits_returns_400_naming_offset(api_client, seven_tasks):
    """No database can skip more than 2**63 - 1 rows: a larger offset is out of range, not an empty page."""
    assert_invalid_parameters(api_client.get(list_url(), {"offset": 2**63}), "offset")


def test_bad_limit_and_bad_offset_are_both_named(api_client, seven_tasks):
    """limit=0 and offset=-1 together produce one error for each."""
    assert_invalid_parameters(api_client.get(list_url(), {"limit": 0, "offset": -1}), "limit", "offset")


@pytest.mark.parametrize("offset", [7, 8, 1_000_000, 2**63 - 1])
def test_offset_past_the_end_returns_an_empty_page_with_the_total(api_client, seven_tasks, offset):
    """An offset at or beyond the last task is 200 with no items, the true total and no next page."""
    response = api_client.get(list_url(), {"offset": offset, "limit": 3})
    body = response.json()
    assert response.status_code == 200
    assert body["items"] == []
    assert body["total"] == 7
    assert (body["limit"], body["offset"]) == (3, offset)
    assert body["next"] is None


# --- next, previous and the Link header ----------------------------------------


def test_first_page_has_next_only(api_client, seven_tasks):
    """The first of several pages links to the next page only, in the body and the Link header."""
    response = api_client.get(list_url(), {"limit": 3})
    body = response.json()
    assert body["previous"] is None
    assert page_of(body["next"]) == {
        "origin": "http://testserver",
        "path": list_url(),
        "query": {"limit": "3", "offset": "3"},
    }
    assert parse_link_header(response["Link"]) == {"next": body["next"]}


def test_middle_page_has_next_and_previous(api_client, seven_tasks):
    """A middle page links both ways, in the body and the Link header (rel="next" and rel="prev")."""
    response = api_client.get(list_url(), {"limit": 3, "offset": 3})
    body = response.json()
    assert page_of(body["next"])["query"] == {"limit": "3", "offset": "6"}
    assert page_of(body["previous"])["query"] == {"limit": "3", "offset": "0"}
    assert parse_link_header(response["Link"]) == {"next": body["next"], "prev": body["previous"]}


def test_last_page_has_previous_only(api_client, seven_tasks):
    """The last page links back only, in the body and the Link header."""
    response = api_client.get(list_url(), {"limit": 3, "offset": 6})
    body = response.json()
    assert [item["id"] for item in body["items"]] == [seven_tasks[6].pk]
    assert body["next"] is None
    assert page_of(body["previous"])["query"] == {"limit": "3", "offset": "3"}
    assert parse_link_header(response["Link"]) == {"prev": body["previous"]}


def test_previous_of_an_unaligned_offset_starts_at_zero(api_client, seven_tasks):
    """With offset smaller than limit, previous points at offset 0, never a negative offset."""
    body = api_client.get(list_url(), {"limit": 3, "offset": 2}).json()
    assert page_of(body["previous"])["query"] == {"limit": "3", "offset": "0"}


@pytest.mark.parametrize("limit", [7, 20, 100])
def test_single_page_has_no_links_and_no_link_header(api_client, seven_tasks, limit):
    """When everything fits on one page, next and previous are null and there is no Link header."""
    response = api_client.get(list_url(), {"limit": limit})
    body = response.json()
    assert len(body["items"]) == 7
    assert (body["next"], body["previous"]) == (None, None)
    assert "Link" not in response


def test_links_are_absolute_and_preserve_every_filter(api_client, user):
    """next and previous are absolute URLs to the same path keeping done, search, ordering, updated_after."""
    for n in range(8):
        make_task(user, title=f"Äpfel {n}", done=False)
    make_task(user, title="Äpfel done", done=True)
    make_task(user, title="Birnen", done=False)
    filters = {
        "done": "false",
        "search": "äpfel",
        "ordering": "-title",
        "updated_after": "2000-01-01T00:00:00Z",
    }
    response = api_client.get(list_url(), {**filters, "limit": 2, "offset": 2})
    body = response.json()
    assert body["total"] == 8
    assert page_of(body["next"]) == {
        "origin": "http://testserver",
        "path": list_url(),
        "query": {**filters, "limit": "2", "offset": "4"},
    }
    assert page_of(body["previous"]) == {
        "origin": "http://testserver",
        "path": list_url(),
        "query": {**filters, "limit": "2", "offset": "0"},
    }
    assert parse_link_header(response["Link"]) == {"next": body["next"], "prev": body["previous"]}


def test_following_next_links_visits_every_matching_task_once(api_client, user, other_user):
    """Walking next from the first page yields each matching task exactly once, in order, then stops."""
    expected = [make_task(user, title=f"Äpfel {n:02}") for n in range(11)]
    make_task(user, title="Birnen")
    make_task(other_user, title="Äpfel elsewhere")
    seen: list[str] = []
    url: str | None = list_url() + "?search=%C3%A4pfel&ordering=-title&limit=3"
    pages = 0
    while url is not None:
        body = api_client.get(url).json()
        assert body["total"] == 11
        seen.extend(item["title"] for item in body["items"])
        url = body["next"]
        pages += 1
    assert pages == 4
    assert seen == sorted((task.title for task in expected), reverse=True)


def test_following_previous_links_returns_to_the_first_page(api_client, seven_tasks):
    """Walking previous from the last page visits the earlier pages and ends at offset 0."""
    url: str | None = list_url() + "?limit=3&offset=6&ordering=-id"
    offsets = []
    while url is not None:
        body = api_client.get(url).json()
        offsets.append(body["offset"])
        url = body["previous"]
    assert offsets == [6, 3, 0]


# --- Filters -----------------------------------------------------------------


@pytest.mark.parametrize("done", [True, False])
def test_done_filter_returns_only_tasks_with_that_state(api_client, user, other_user, done):
    """done=true lists only done tasks and done=false only open ones."""
    tasks = [make_task(user, title=f"t{n}", done=n % 3 == 0) for n in range(7)]
    make_task(other_user, done=done)
    response = api_client.get(list_url(), {"done": str(done).lower()})
    assert ids(response) == [task.pk for task in tasks if task.done == done]
    assert response.json()["total"] == sum(task.done == done for task in tasks)


@pytest.mark.parametrize("value", ["maybe", "True", "1", "yes"])
def test_bad_done_returns_400_naming_done(api_client, seven_tasks, value):
    """done is true or false, spelled in lower case; anything else is a 400 problem naming done."""
    assert_invalid_parameters(api_client.get(list_url(), {"done": value}), "done")


SEARCH_TITLES = [
    "Äpfel kaufen",
    "ÄPFEL",
    "bär",
    "Pfeil",
    "100% sure",
    "1000 things",
    "a_b",
    "axb",
]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("äpfel", ["Äpfel kaufen", "ÄPFEL"]),
        ("ÄPFEL", ["Äpfel kaufen", "ÄPFEL"]),
        ("Ä", ["Äpfel kaufen", "ÄPFEL", "bär"]),
        ("ä", ["Äpfel kaufen", "ÄPFEL", "bär"]),
        ("pfe", ["Äpfel kaufen", "ÄPFEL", "Pfeil"]),
        ("PFEIL", ["Pfeil"]),
        ("kaufen", ["Äpfel kaufen"]),
        ("%", ["100% sure"]),
        ("0%", ["100% sure"]),
        ("_", ["a_b"]),
        ("a_b", ["a_b"]),
        ("nothing like it", []),
    ],
)
def test_search_is_a_case_insensitive_literal_substring_of_the_title(
    api_client, user, other_user, search, expected
):
    """search matches title substrings ignoring case, non-ASCII included, with % and _ taken literally."""
    for title in SEARCH_TITLES:
        make_task(user, title=title)
    make_task(other_user, title="Äpfel 100% a_b")
    response = api_client.get(list_url(), {"search": search})
    assert response.status_code == 200
    assert titles(response) == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-06T07:08:09.123456Z",
        "2024-05-06T07:08:09.123456+00:00",
        "2024-05-06T09:08:09.123456+02:00",
        "2024-05-06T02:08:09.123456-05:00",
        "2024-05-06t07:08:09.123456z",
    ],
    ids=["Z", "plus-zero-offset", "plus-two-hours", "minus-five-hours", "lower-case-t-and-z"],
)
def test_updated_after_returns_only_tasks_updated_strictly_after(api_client, user, other_user, value):
    """updated_after=<RFC 3339> keeps tasks updated strictly after that instant, whatever its offset."""
    us = dt.timedelta(microseconds=1)
    make_task(user, title="long before", updated_at=MOMENT - dt.timedelta(days=1))
    make_task(user, title="just before", updated_at=MOMENT - us)
    make_task(user, title="exactly then", updated_at=MOMENT)
    make_task(user, title="just after", updated_at=MOMENT + us)
    make_task(user, title="long after", updated_at=MOMENT + dt.timedelta(days=1))
    make_task(other_user, title="someone else's", updated_at=MOMENT + dt.timedelta(days=1))
    response = api_client.get(list_url(), {"updated_after": value})
    assert response.status_code == 200
    assert titles(response) == ["just after", "long after"]
    assert response.json()["total"] == 2


def test_updated_after_with_a_url_encoded_plus_offset(api_client, user):
    """A +00:00 offset sent percent-encoded as %2B00:00 is read as UTC."""
    make_task(user, title="before", updated_at=MOMENT - dt.timedelta(seconds=1))
    make_task(user, title="after", updated_at=MOMENT + dt.timedelta(seconds=1))
    response = api_client.get(list_url() + "?updated_after=2024-05-06T07:08:09.123456%2B00:00")
    assert response.status_code == 200
    assert titles(response) == ["after"]


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-05-06T25:00:00Z",
        "1714979289",
        "2024-05-06",
        "2024-05-06T07:08:09",
    ],
    ids=["word", "month-13", "hour-25", "unix-seconds", "date-only", "no-offset"],
)
def test_malformed_updated_after_returns_400_naming_it(api_client, seven_tasks, value):
    """updated_after that is not an RFC 3339 date-time with an offset is a 400 problem naming it."""
    assert_invalid_parameters(api_client.get(list_url(), {"updated_after": value}), "updated_after")


@pytest.fixture
def four_tasks(user: Any, other_user: Any) -> list[Task]:
    """Four tasks whose id, title, created_at and updated_at orders all differ."""
    day = dt.timedelta(days=1)
    specs = [("delta", 2, 3), ("alpha", 4, 1), ("charlie", 1, 4), ("bravo", 3, 2)]
    make_task(other_user, title="aaa", created_at=MOMENT, updated_at=MOMENT)
    return [
        make_task(user, title=title, created_at=MOMENT + created * day, updated_at=MOMENT + updated * day)
        for title, created, updated in specs
    ]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_ordering_sorts_by_that_field_ascending_or_descending(api_client, four_tasks, ordering):
    """ordering=<field> sorts ascending by it and ordering=-<field> descending."""
    field = ordering.removeprefix("-")
    expected = sorted(four_tasks, key=lambda task: getattr(task, field), reverse=ordering.startswith("-"))
    response = api_client.get(list_url(), {"ordering": ordering})
    assert response.status_code == 200
    assert ids(response) == [task.pk for task in expected]
    # The fixture makes every field order differ from id order, so a wrong key cannot pass.
    assert field == "id" or ids(response) != sorted(ids(response), reverse=ordering.startswith("-"))


@pytest.mark.parametrize("value", ["bogus", "owner", "done", "version", "--id", "+id", "id,title", "-", "ID"])
def test_bad_ordering_returns_400_naming_ordering(api_client, seven_tasks, value):
    """ordering is id, title, created_at or updated_at, optionally with -; anything else is 400 naming it."""
    assert_invalid_parameters(api_client.get(list_url(), {"ordering": value}), "ordering")


def test_filters_combine(api_client, user, other_user):
    """done, search, updated_after and ordering apply together, and total counts their intersection."""
    later = MOMENT + dt.timedelta(hours=1)
    wanted = [
        make_task(user, title="Buy MILK", done=False, updated_at=later),
        make_task(user, title="milk the cow", done=False, updated_at=later),
        make_task(user, title="oat milk", done=False, updated_at=later),
    ]
    make_task(user, title="milk (done)", done=True, updated_at=later)
    make_task(user, title="old milk", done=False, updated_at=MOMENT - dt.timedelta(hours=1))
    make_task(user, title="bread", done=False, updated_at=later)
    make_task(other_user, title="their milk", done=False, updated_at=later)
    response = api_client.get(
        list_url(),
        {
            "done": "false",
            "search": "Milk",
            "updated_after": rfc3339(MOMENT),
            "ordering": "-title",
            "limit": 2,
        },
    )
    body = response.json()
    assert response.status_code == 200
    assert body["total"] == 3
    assert [item["title"] for item in body["items"]] == ["oat milk", "milk the cow"]
    assert page_of(body["next"])["query"]["offset"] == "2"
    assert titles(api_client.get(body["next"])) == [wanted[0].title]


@pytest.mark.parametrize("parameter", ["done", "search", "ordering", "updated_after"])
def test_empty_filter_parameter_is_ignored(api_client, seven_tasks, parameter):
    """An empty filter value (done=, search=, …) filters nothing."""
    response = api_client.get(list_url(), {parameter: ""})
    assert response.status_code == 200
    assert ids(response) == [task.pk for task in seven_tasks]


def test_several_bad_filters_are_each_named_once(api_client, seven_tasks):
    """done, ordering and updated_after all malformed give exactly one error entry for each."""
    response = api_client.get(
        list_url(), {"done": "maybe", "ordering": "bogus", "updated_after": "yesterday"}
    )
    assert_invalid_parameters(response, "done", "ordering", "updated_after")


# --- Total order -------------------------------------------------------------


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_paging_with_ties_visits_every_task_exactly_once(api_client, user, other_user, ordering):
    """With equal titles and timestamps, limit=3 pages for every ordering never overlap nor skip a task."""
    make_task(user, title="Different", created_at=MOMENT - dt.timedelta(days=1))
    TaskFactory.create_batch(10, owner=user, title="Same")
    make_task(user, title="Zzz", created_at=MOMENT + dt.timedelta(days=1))
    make_task(other_user, title="Same")
    Task.objects.filter(owner=user, title="Same").update(created_at=MOMENT, updated_at=MOMENT)
    mine = set(Task.objects.filter(owner=user).values_list("pk", flat=True))
    assert len(mine) == 12

    seen: list[int] = []
    for offset in range(0, 12, 3):
        response = api_client.get(list_url(), {"ordering": ordering, "limit": 3, "offset": offset})
        assert response.json()["total"] == 12
        seen.extend(ids(response))
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == mine
    # Paging agrees with the same ordering served in one page.
    assert seen == ids(api_client.get(list_url(), {"ordering": ordering, "limit": 100}))


# --- Query count -------------------------------------------------------------


@pytest.fixture(params=[1, 60], ids=["1-task", "60-tasks"])
def listed(request, user: Any) -> int:
    """The caller's tasks (and as many of someone else's); returns how many the caller has."""
    owners = [user, UserFactory()]
    for owner in owners:
        Task.objects.bulk_create(Task(owner=owner, title=f"Task {n}") for n in range(request.param))
    return cast(int, request.param)


@pytest.mark.parametrize("limit", [5, 100])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {
            "done": "false",
            "search": "task",
            "updated_after": "2000-01-01T00:00:00Z",
            "ordering": "-updated_at",
        },
    ],
    ids=["unfiltered", "filtered"],
)
def test_list_runs_a_constant_number_of_queries(
    api_client, listed, limit, filters, django_assert_num_queries
):
    """GET /tasks: the token query, the total (the tally row, or a COUNT when filtered) and one SELECT,
    whatever the page size or table size.

    Guards against the N+1 of loading each item's owner (or anything else) per row while serializing.
    """
    with django_assert_num_queries(3):
        response = api_client.get(list_url(), {**filters, "limit": limit})
    assert response.status_code == 200
    assert len(response.json()["items"]) == min(limit, listed)


def test_clients_see_only_their_own_pages(user, other_user):
    """Two users listing at once each get their own tasks and totals."""
    mine = TaskFactory.create_batch(2, owner=user)
    theirs = TaskFactory.create_batch(3, owner=other_user)
    mine_client: APIClient = client_for(user)
    their_client: APIClient = client_for(other_user)
    assert ids(mine_client.get(list_url())) == [task.pk for task in mine]
    assert ids(their_client.get(list_url())) == [task.pk for task in theirs]


def test_bad_filter_and_bad_paging_parameters_are_reported_together(api_client, seven_tasks):
    """One 400 names every bad parameter, filters and paging alike."""
    response = api_client.get(list_url(), {"limit": "0", "offset": "-1", "done": "maybe"})
    assert_invalid_parameters(response, "limit", "offset", "done")


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2024-05-06T07:08:09+17:59", 200),
        ("2024-05-06T07:08:09-23:59", 200),
        ("0001-01-01T00:00:00+01:00", 400),
    ],
    ids=["offset-beyond-postgresql", "largest-negative-offset", "before-year-one-in-utc"],
)
def test_updated_after_takes_any_rfc_3339_offset(api_client, seven_tasks, value, status):
    """Every RFC 3339 offset works on every database; an instant before year 1 is a 400, never a 500."""
    response = api_client.get(list_url(), {"updated_after": value})
    assert response.status_code == status
    if status == 400:
        assert_invalid_parameters(response, "updated_after")
