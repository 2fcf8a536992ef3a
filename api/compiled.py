"""Reads that the ORM compiles to SQL once and then runs with new parameters.

Turning a queryset into SQL costs more than running it: on SQLite about
0.5 ms, against 0.05 ms for an indexed lookup. The few reads that nearly
every request makes (the bearer token, the tally, a page of tasks) differ
from one request to the next only in their parameters, so their SQL is
compiled at first use and kept. The ORM still writes the SQL and converts
the rows (SQLite's datetimes and booleans), and the statements still run
through Django's cursor, so errors, query timing and outage handling are
the same as for any other query.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet

# Parameters are marked by example values and found again by equality in the
# compiled parameters, so only types that compile to themselves may be marked.
MARKABLE = (int, str)


# For each column that needs converting: its position, and the ORM's
# converters for it with the expression they convert.
Converters = list[tuple[int, tuple[list[Callable[..., Any]], Any]]]


def convert_rows(
    rows: list[tuple[Any, ...]], converters: Converters, connection: BaseDatabaseWrapper
) -> list[tuple[Any, ...]]:
    """Rows as the ORM gives them (on SQLite, datetimes arrive as text and booleans as integers)."""
    if not converters:
        return rows
    converted = []
    for row in rows:
        converting = list(row)
        for position, (functions, expression) in converters:
            for convert in functions:
                converting[position] = convert(converting[position], expression, connection)
        converted.append(tuple(converting))
    return converted


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: dict[str, int]  # parameter name -> its position in params
    converters: Converters


class CompiledQuery:
    """`build(**examples)` as SQL compiled once; `rows(**params)` runs it with other values.

    `examples` give each parameter a value that appears nowhere else in the
    query, by which its placeholder is found. `build` must return a queryset
    of `values_list()` rows, unsliced; `rows()` appends LIMIT and OFFSET.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], **examples: int | str) -> None:
        self.build = build
        self.examples = examples
        self._by_alias: dict[str, _Compiled] = {}

    def compiled(self, alias: str = DEFAULT_DB_ALIAS) -> _Compiled:
        try:
            return self._by_alias[alias]
        except KeyError:
            pass
        queryset = self.build(**self.examples)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = {}
        for name, example in self.examples.items():
            assert isinstance(example, MARKABLE), f"{name}: only int and str parameters can be marked"
            found = [i for i, value in enumerate(params) if type(value) is type(example) and value == example]
            assert len(found) == 1, f"{name}={example!r} must occur once among the parameters {params!r}"
            slots[name] = found[0]
        converters = compiler.get_converters([column for column, _, _ in compiler.select])
        compiled = _Compiled(sql, tuple(params), slots, list(converters.items()))
        self._by_alias[alias] = compiled
        return compiled

    def rows(
        self, *, limit: int | None = None, offset: int = 0, using: str = DEFAULT_DB_ALIAS, **values: int | str
    ) -> list[tuple[Any, ...]]:
        """The rows for these parameter values, from `offset`, at most `limit` of them."""
        return self._run(values, limit=limit, offset=offset, using=using)

    def first(
        self, *, offset: int = 0, using: str = DEFAULT_DB_ALIAS, **values: int | str
    ) -> tuple[Any, ...] | None:
        """The row at `offset` (the first by default), or None."""
        rows = self._run(values, limit=1, offset=offset, using=using)
        return rows[0] if rows else None

    def convert(self, rows: list[tuple[Any, ...]], *, using: str = DEFAULT_DB_ALIAS) -> list[tuple[Any, ...]]:
        """Rows of this query's columns, read another way (RETURNING, say), converted as its own are."""
        return convert_rows(rows, self.compiled(using).converters, connections[using])

    def _run(
        self, values: dict[str, int | str], *, limit: int | None, offset: int, using: str
    ) -> list[tuple[Any, ...]]:
        compiled = self.compiled(using)
        params = list(compiled.params)
        for name, position in compiled.slots.items():
            params[position] = values[name]
        sql = compiled.sql
        connection = connections[using]
        if limit is not None or offset:
            high = None if limit is None else offset + limit
            sql = f"{sql} {connection.ops.limit_offset_sql(offset, high)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return convert_rows(rows, compiled.converters, connection)
