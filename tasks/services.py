"""The task writes: each one statement, updates and deletes compare-and-swap.

A create is one INSERT … RETURNING. An UPDATE or DELETE applies only while
the row has a version If-Match named, and the UPDATE returns the row as
written. Of two writers holding one ETag exactly one wins,
no lock is held while Python validates and serializes, and nothing is read
first. Only a write that touched no row costs a second query, to tell a task
that is gone (404) from one that changed (412).

The SQL is plain text built from the model's metadata: compiling the same
ORM query on every request cost more than running it.
"""

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NoReturn

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import Http404
from django.utils import timezone

from tasks.conditional import PreconditionFailed
from tasks.models import OWNED_TASK, TASK_FIELDS, Task, owned_task

# Every column of a task, in the order of TASK_FIELDS (what RETURNING gives).
_FIELDS = Task._meta.concrete_fields
_FIELD = {field.name: field for field in _FIELDS}


def task_create(*, owner_id: int, fields: dict[str, Any]) -> Task:
    """Insert a task of `owner_id` with validated `fields`; returns it as stored."""
    connection = connections[router.db_for_write(Task)]
    now = timezone.now()
    written = {"owner": owner_id, "done": False, **fields, "created_at": now, "updated_at": now, "version": 1}
    params = [_FIELD[name].get_db_prep_save(value, connection) for name, value in written.items()]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor, tuple(written)), params)
        row = cursor.fetchone()
    return _task_from_row(row, connection)


def task_update(*, owner_id: int, pk: int, changes: dict[str, Any], versions: Sequence[int] | None) -> Task:
    """Write validated `changes` to the owner's task `pk`, if its version is one of `versions`.

    `versions` None: whatever version it has. Returns the task as now stored,
    for the response and its ETag; 404 if the owner has no such task, 412 if
    its version is not one of `versions`.
    """
    connection = connections[router.db_for_write(Task)]
    written = {**changes, "updated_at": timezone.now()}
    params = [_FIELD[name].get_db_prep_save(v, connection) for name, v in written.items()]
    sql = _update_sql(connection.vendor, tuple(written), len(versions or ()))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk, owner_id, *(versions or ())])
        rows = cursor.fetchall()
    if not rows:
        _refuse(owner_id=owner_id, pk=pk, conditional=versions is not None)
    return _task_from_row(rows[0], connection)


def task_delete(*, owner_id: int, pk: int, versions: Sequence[int] | None) -> None:
    """Delete the owner's task `pk`, if its version is one of `versions` (None: whatever it is).

    404 if the owner has no such task, 412 if its version is not one of `versions`.
    """
    connection = connections[router.db_for_write(Task)]
    sql = _delete_sql(connection.vendor, len(versions or ()))
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, owner_id, *(versions or ())])
        deleted = cursor.rowcount
    if deleted == 0:
        _refuse(owner_id=owner_id, pk=pk, conditional=versions is not None)


def task_write_refused(*, owner_id: int, pk: int) -> NoReturn:
    """A write If-Match allows no version of: 412 if the owner has task `pk`, 404 if not."""
    _refuse(owner_id=owner_id, pk=pk, conditional=True)


def _refuse(*, owner_id: int, pk: int, conditional: bool) -> NoReturn:
    """Nothing written: the task is gone (or never was the owner's), or, if
    the write was `conditional`, maybe another write changed its version."""
    if conditional and owned_task(owner_id=owner_id, pk=pk) is not None:
        raise PreconditionFailed
    raise Http404


def _columns(connection: BaseDatabaseWrapper) -> tuple[str, dict[str, str]]:
    """The quoted table name, and the quoted column of each field by name."""
    quote = connection.ops.quote_name
    return quote(Task._meta.db_table), {field.name: quote(field.column) for field in _FIELDS}


def _where(connection: BaseDatabaseWrapper, versions: int) -> str:
    _, column = _columns(connection)
    where = f"{column['id']} = %s AND {column['owner']} = %s"
    if versions:
        where += f" AND {column['version']} IN ({', '.join(['%s'] * versions)})"
    return where


@lru_cache(maxsize=64)
def _insert_sql(vendor: str, names: tuple[str, ...]) -> str:
    connection = connections[router.db_for_write(Task)]
    table, column = _columns(connection)
    returned = ", ".join(column[field.name] for field in _FIELDS)
    return (
        f"INSERT INTO {table} ({', '.join(column[name] for name in names)})"
        f" VALUES ({', '.join(['%s'] * len(names))}) RETURNING {returned}"
    )


@lru_cache(maxsize=64)
def _update_sql(vendor: str, names: tuple[str, ...], versions: int) -> str:
    """UPDATE … RETURNING the whole row; it raises the version itself, so the
    version trigger (tasks/triggers.py) leaves it, and RETURNING shows it on
    SQLite too, where the trigger's own UPDATE would not be seen."""
    connection = connections[router.db_for_write(Task)]
    table, column = _columns(connection)
    assignments = ", ".join(f"{column[name]} = %s" for name in names)
    returned = ", ".join(column[field.name] for field in _FIELDS)
    return (
        f"UPDATE {table} SET {assignments}, {column['version']} = {column['version']} + 1"
        f" WHERE {_where(connection, versions)} RETURNING {returned}"
    )


@lru_cache(maxsize=64)
def _delete_sql(vendor: str, versions: int) -> str:
    connection = connections[router.db_for_write(Task)]
    table, _ = _columns(connection)
    return f"DELETE FROM {table} WHERE {_where(connection, versions)}"


def _task_from_row(row: Sequence[Any], connection: BaseDatabaseWrapper) -> Task:
    """A Task from a row of every column, converted as GET /tasks/{id}'s read converts its row."""
    [values] = OWNED_TASK.convert([tuple(row)], using=connection.alias)
    return Task.from_db(connection.alias, TASK_FIELDS, values)
