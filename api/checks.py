"""Readiness checks on what every app relies on: migrations applied, cache tables present.

Tagged "readiness" and registered as deployment checks, so that neither
`migrate` (which runs the checks first) nor `check` refuses to run on an
unmigrated database; /readyz runs them, as does
`manage.py check --deploy --database default`. Each app registers its own
(tasks: its triggers), and every check touches only the databases it is asked about.
"""

import functools
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.cache.backends.db import DatabaseCache
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils.module_loading import import_string


@functools.cache
def migrations_on_disk() -> frozenset[tuple[str, str]]:
    """Every migration of the installed apps; read once, since the files do not change while serving."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


@checks.register("readiness", deploy=True)
def check_migrations_applied(
    databases: Iterable[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Every migration on disk is applied (one query on django_migrations per database)."""
    errors: list[checks.CheckMessage] = []
    for alias in databases or ():
        unapplied = migrations_on_disk() - set(MigrationRecorder(connections[alias]).applied_migrations())
        if unapplied:
            names = ", ".join(f"{app}.{name}" for app, name in sorted(unapplied))
            errors.append(
                checks.Error(
                    f"{len(unapplied)} migration(s) not applied on database {alias!r}: {names}.",
                    hint="Run manage.py migrate.",
                    id="api.E001",
                )
            )
    return errors


@checks.register("readiness", deploy=True)
def check_cache_tables(databases: Iterable[str] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The table of every database cache exists (a migration creates it)."""
    if not databases:
        return []
    errors: list[checks.CheckMessage] = []
    for alias, cache in settings.CACHES.items():
        if not issubclass(import_string(cache["BACKEND"]), DatabaseCache):
            continue
        table = cache["LOCATION"]
        for database in databases:
            if table not in connections[database].introspection.table_names():
                errors.append(
                    checks.Error(
                        f"The table {table!r} of cache {alias!r} is missing on database {database!r}.",
                        hint="Run manage.py migrate.",
                        id="api.E002",
                    )
                )
    return errors
