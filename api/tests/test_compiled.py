"""CompiledQuery: SQL the ORM compiles once, re-run with new parameters, rows as values_list gives them."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

from accounts.tests.factories import UserFactory
from api.compiled import CompiledQuery
from tasks.models import TASK_FIELDS, Task, owned_task
from tasks.tests.helpers import make_task

pytestmark = pytest.mark.django_db

COLUMNS = ("id", "title", "done", "created_at", "updated_at")
OWNER_MARK = -7_000_000_001
TITLE_MARK = "title-marker"


Rows = QuerySet[Task, tuple[Any, ...]]


def owners_tasks(owner_id: int) -> Rows:
    return Task.objects.filter(owner_id=owner_id).order_by("id").values_list(*COLUMNS)


def titled_tasks(owner_id: int, title: str) -> Rows:
    return Task.objects.filter(owner_id=owner_id, title=title).order_by("-id").values_list(*COLUMNS)


@contextmanager
def counting_compilations() -> Iterator[mock.MagicMock]:
    """Counts the SELECTs the ORM turns into SQL meanwhile (the compiler still runs)."""
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as spy:
        yield spy


@pytest.fixture
def three_owners() -> list[Any]:
    """Three users whose tasks interleave in id order, some done, with distinct timestamps."""
    owners: list[Any] = UserFactory.create_batch(3)
    for n in range(12):
        task = make_task(owner=owners[n % 3], title=f"Task {n % 4}", done=n % 5 == 0)
        moment = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
        Task.objects.filter(pk=task.pk).update(
            created_at=moment, updated_at=moment + dt.timedelta(microseconds=7)
        )
    return owners


def assert_same_rows(compiled: list[tuple[Any, ...]], orm: list[tuple[Any, ...]]) -> None:
    """Equal values of equal types: 1 is not True, and a naive datetime is not an aware one."""
    assert compiled == orm
    assert [tuple(type(value) for value in row) for row in compiled] == [
        tuple(type(value) for value in row) for row in orm
    ]


def test_rows_are_converted_as_values_list_gives_them(three_owners):
    """Booleans come back as bool and datetimes as aware UTC datetimes, on SQLite too."""
    owner = three_owners[0]
    rows = CompiledQuery(owners_tasks, owner_id=OWNER_MARK).rows(owner_id=owner.pk)

    assert_same_rows(rows, list(owners_tasks(owner.pk)))
    assert rows and {type(row[2]) for row in rows} == {bool}
    assert {True, False} == {row[2] for row in rows}
    for row in rows:
        assert row[3].utcoffset() == dt.timedelta(0) and row[4].utcoffset() == dt.timedelta(0)
        assert row[4] - row[3] == dt.timedelta(microseconds=7)


def test_rows_read_another_way_are_converted_as_the_query_converts_its_own(three_owners):
    """convert() takes raw rows of the same columns (what a cursor returns) to what rows() gives."""
    owner = three_owners[0]
    query = CompiledQuery(owners_tasks, owner_id=OWNER_MARK)
    with connection.cursor() as cursor:
        cursor.execute(*owners_tasks(owner.pk).query.sql_with_params())
        raw = cursor.fetchall()

    assert_same_rows(query.convert(raw), query.rows(owner_id=owner.pk))


def test_each_call_runs_with_its_own_parameter_values(three_owners):
    """The marked placeholders take each call's values: different owners and titles give different rows."""
    query = CompiledQuery(titled_tasks, owner_id=OWNER_MARK, title=TITLE_MARK)
    seen = []
    for owner in three_owners:
        for title in ("Task 0", "Task 1", "Task 3"):
            rows = query.rows(owner_id=owner.pk, title=title)
            assert_same_rows(rows, list(titled_tasks(owner.pk, title)))
            seen.append(rows)

    assert sum(bool(rows) for rows in seen) >= 6
    nonempty = [rows for rows in seen if rows]
    assert len({tuple(rows) for rows in nonempty}) == len(nonempty)


def test_the_marker_values_themselves_match_nothing(three_owners):
    """The examples only find the placeholders: a call with other values does not carry them over."""
    query = CompiledQuery(owners_tasks, owner_id=OWNER_MARK)
    assert query.rows(owner_id=OWNER_MARK) == []
    assert query.rows(owner_id=three_owners[1].pk) != []


@pytest.mark.parametrize(
    ("limit", "offset"),
    [(None, 0), (1, 0), (3, 0), (3, 2), (None, 2), (None, 3), (2, 3), (100, 1), (3, 4), (None, 50), (5, 50)],
)
def test_limit_and_offset_slice_like_the_queryset(three_owners, limit, offset):
    """rows(limit=, offset=) gives queryset[offset:offset + limit], or queryset[offset:] without a limit."""
    owner = three_owners[2]
    query = CompiledQuery(owners_tasks, owner_id=OWNER_MARK)
    stop = None if limit is None else offset + limit

    assert_same_rows(
        query.rows(limit=limit, offset=offset, owner_id=owner.pk), list(owners_tasks(owner.pk)[offset:stop])
    )


def test_sql_is_compiled_once_and_each_call_runs_one_query(three_owners, django_assert_num_queries):
    """The first call compiles; later calls, with any values, limit and offset, only run their one query."""
    query = CompiledQuery(titled_tasks, owner_id=OWNER_MARK, title=TITLE_MARK)
    with counting_compilations() as spy, django_assert_num_queries(1):
        query.rows(owner_id=three_owners[0].pk, title="Task 0")
    assert spy.call_count >= 1

    calls = [
        lambda: query.rows(owner_id=three_owners[1].pk, title="Task 1"),
        lambda: query.rows(limit=2, owner_id=three_owners[2].pk, title="Task 2"),
        lambda: query.rows(offset=1, owner_id=three_owners[0].pk, title="Task 0"),
        lambda: query.rows(limit=1, offset=1, owner_id=three_owners[1].pk, title="Task 3"),
        lambda: query.first(owner_id=three_owners[2].pk, title="Task 0"),
        lambda: query.first(owner_id=OWNER_MARK, title="nothing"),
    ]
    for call in calls:
        with counting_compilations() as spy, django_assert_num_queries(1):
            call()
        assert spy.call_count == 0


def test_first_gives_the_first_row_like_the_queryset(three_owners):
    """first() is the first row in the query's order, converted."""
    owner = three_owners[1]
    query = CompiledQuery(titled_tasks, owner_id=OWNER_MARK, title=TITLE_MARK)
    first = query.first(owner_id=owner.pk, title="Task 1")

    assert first is not None
    assert [first] == [titled_tasks(owner.pk, "Task 1")[0]]
    assert [type(value) for value in first] == [type(value) for value in titled_tasks(owner.pk, "Task 1")[0]]


def test_first_gives_none_when_nothing_matches(three_owners, other_user):
    """No matching row: None, not an empty tuple nor an error."""
    query = CompiledQuery(titled_tasks, owner_id=OWNER_MARK, title=TITLE_MARK)
    assert query.first(owner_id=three_owners[0].pk, title="No such title") is None
    assert query.first(owner_id=other_user.pk, title="Task 0") is None


def test_a_marker_that_occurs_twice_fails_at_compile():
    """An example found at two places cannot tell which placeholder it marks: AssertionError, no SQL."""
    query = CompiledQuery(
        lambda owner_id: Task.objects.filter(owner_id=owner_id).exclude(pk=owner_id).values_list("id"),
        owner_id=OWNER_MARK,
    )
    with pytest.raises(AssertionError, match="must occur once"):
        query.rows(owner_id=1)


def test_two_markers_with_the_same_value_fail_at_compile():
    """Two parameters marked by one value are found at the same two places: AssertionError."""
    query = CompiledQuery(
        lambda owner_id, pk: Task.objects.filter(owner_id=owner_id, pk=pk).values_list("id"),
        owner_id=OWNER_MARK,
        pk=OWNER_MARK,
    )
    with pytest.raises(AssertionError, match="must occur once"):
        query.first(owner_id=1, pk=1)


def test_a_marker_missing_from_the_parameters_fails_at_compile():
    """An example the query never uses marks nothing: AssertionError."""
    query = CompiledQuery(
        lambda owner_id: Task.objects.filter(owner_id=1).values_list("id"), owner_id=OWNER_MARK
    )
    with pytest.raises(AssertionError, match="must occur once"):
        query.rows(owner_id=1)


@pytest.mark.parametrize(
    ("lookup", "example"),
    [
        ("id__gt", 1.5),
        ("updated_at__gt", dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)),
        ("updated_at__date", dt.date(2024, 5, 6)),
        ("title", b"bytes"),
    ],
    ids=["float", "datetime", "date", "bytes"],
)
def test_a_marker_of_another_type_than_int_or_str_fails_at_compile(lookup, example):
    """Only ints and strs compile to themselves; another example is an AssertionError naming the parameter."""
    query = CompiledQuery(
        lambda value: Task.objects.filter(**{lookup: value}).values_list("id"),
        value=example,
    )
    with pytest.raises(AssertionError, match="value: only int and str"):
        query.rows(value=example)


def test_owned_task_reads_every_column_as_the_orm_does(three_owners):
    """GET /tasks/{id}'s compiled read builds the task as the ORM does, version and all; None if not owned."""
    owner, stranger = three_owners[0], three_owners[1]
    task = Task.objects.filter(owner=owner).last()
    assert task is not None
    Task.objects.filter(pk=task.pk).update(title="Renamed")  # a trigger raises the version
    expected = Task.objects.get(pk=task.pk)
    assert expected.version > task.version

    read = owned_task(owner_id=owner.pk, pk=task.pk)
    assert read is not None
    assert [getattr(read, name) for name in TASK_FIELDS] == [getattr(expected, name) for name in TASK_FIELDS]
    assert (read.version, read.etag) == (expected.version, expected.etag)
    assert not read._state.adding
    assert owned_task(owner_id=stranger.pk, pk=task.pk) is None
