"""Installing, checking and repairing the derived state registered in tasks.triggers.

- After every `migrate` (post_migrate), triggers that are missing, outdated or
  disabled are (re)installed and their state recomputed, in one transaction
  that keeps writers out: a migration that rebuilt a table is repaired by the
  same run, including whatever was written while the triggers were gone.
- A system check tagged "readiness" (run by /readyz) fails while any is missing.
- `manage.py verify_derived` compares every derived value with the rows.
"""

import hashlib
from collections.abc import Iterable
from typing import Any

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from tasks.triggers import REGISTRY, Derived, Trigger


def fingerprint(trigger: Trigger, vendor: str) -> str:
    """Identifies a trigger's definition; kept in the PostgreSQL catalog as the trigger's comment."""
    text = f"{trigger.create(vendor)}\n{trigger.body()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def applicable(connection: BaseDatabaseWrapper) -> list[Derived]:
    """The states whose tables exist: their migration is applied on this database."""
    applied = MigrationRecorder(connection).applied_migrations()
    return [derived for derived in REGISTRY if derived.after in applied]


def _installed(connection: BaseDatabaseWrapper) -> dict[str, str]:
    """Each trigger in the database: its name and what marks it current (definition or fingerprint)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            return dict(cursor.fetchall())
        cursor.execute(
            """
            SELECT t.tgname, t.tgenabled, obj_description(t.oid, 'pg_trigger'), p.prosrc
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE NOT t.tgisinternal AND pg_table_is_visible(c.oid)
            """
        )
        return {
            # A disabled trigger (ALTER TABLE … DISABLE TRIGGER) is reported, and reinstalled, as such.
            name: f"{comment}\n{source.strip()}" if enabled == "O" else "disabled"
            for name, enabled, comment, source in cursor.fetchall()
        }


def _expected(trigger: Trigger, vendor: str) -> str | None:
    if vendor == "sqlite":
        return trigger.create(vendor)
    return f"{fingerprint(trigger, vendor)}\n{trigger.body()}" if trigger.create(vendor) else None


def trigger_problems(connection: BaseDatabaseWrapper, states: Iterable[Derived]) -> dict[Derived, list[str]]:
    """For each state, its triggers that are missing, outdated or disabled, as sentences."""
    vendor, installed = connection.vendor, _installed(connection)
    found: dict[Derived, list[str]] = {}
    for derived in states:
        for trigger in derived.triggers:
            expected = _expected(trigger, vendor)
            if expected is None or installed.get(trigger.name) == expected:
                continue
            state = installed.get(trigger.name, "missing")
            state = state if state in ("missing", "disabled") else "outdated"
            found.setdefault(derived, []).append(
                f"Trigger {trigger.name} on {trigger.table} ({derived.name}) is {state}."
            )
    return found


def _install(connection: BaseDatabaseWrapper, trigger: Trigger) -> None:
    vendor = connection.vendor
    create = trigger.create(vendor)
    if create is None:
        return
    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger.name}")
            cursor.execute(create)
            return
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {trigger.name}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $body${trigger.body()}$body$"
        )
        cursor.execute(f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}")
        cursor.execute(create)
        cursor.execute(
            f"COMMENT ON TRIGGER {trigger.name} ON {trigger.table} IS '{fingerprint(trigger, vendor)}'"
        )


def uninstall(connection: BaseDatabaseWrapper, states: Iterable[Derived] = REGISTRY) -> None:
    """Drop the triggers (and PostgreSQL functions) of `states`."""
    with connection.cursor() as cursor:
        for derived in states:
            for trigger in derived.triggers:
                if connection.vendor == "sqlite":
                    cursor.execute(f"DROP TRIGGER IF EXISTS {trigger.name}")
                else:
                    cursor.execute(f"DROP FUNCTION IF EXISTS {trigger.name}() CASCADE")


def _lock_out_writers(connection: BaseDatabaseWrapper, states: Iterable[Derived]) -> None:
    """Hold off writes to the tables until commit, so a recompute misses none.

    SQLite's IMMEDIATE transactions (config/settings/base.py) already hold the
    database's write lock; PostgreSQL still lets readers through.
    """
    if connection.vendor == "postgresql":
        tables = sorted({trigger.table for derived in states for trigger in derived.triggers})
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")


def repair(connection: BaseDatabaseWrapper, states: Iterable[Derived]) -> None:
    """Reinstall the triggers of `states` and recompute them from the rows; call inside a transaction."""
    states = list(states)
    if not states:
        return
    _lock_out_writers(connection, states)
    for derived in states:
        for trigger in derived.triggers:
            _install(connection, trigger)
        with connection.cursor() as cursor:
            for statement in derived.recompute_sql(connection.vendor):
                cursor.execute(statement)


def drift(connection: BaseDatabaseWrapper, derived: Derived) -> list[str]:
    """Each value of `derived` that differs from what the rows say, as a sentence (empty: exact)."""
    if derived.drift is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(derived.drift)
        return [derived.drift_message.format(*row) for row in cursor.fetchall()]


def findings(connection: BaseDatabaseWrapper, states: Iterable[Derived]) -> dict[Derived, list[str]]:
    """Everything wrong with `states`: triggers missing, outdated or disabled, and values that drifted."""
    states = list(states)
    found = trigger_problems(connection, states)
    for derived in states:
        if wrong := drift(connection, derived):
            found.setdefault(derived, []).extend(wrong)
    return found


def sqlite_recursive_triggers_off(connection: BaseDatabaseWrapper) -> bool:
    """INSERT OR REPLACE fires the delete trigger only with recursive_triggers on."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA recursive_triggers")
        return not cursor.fetchone()[0]


def install_after_migrate(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate: (re)install what is missing and recompute it, so `migrate` alone leaves all exact."""
    connection = connections[using]
    states = applicable(connection)
    if not trigger_problems(connection, states):
        return
    with transaction.atomic(using=using):
        repair(connection, list(trigger_problems(connection, states)))


@checks.register("readiness", deploy=True)
def check_derived_state(databases: Iterable[str] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every trigger the derived state needs is in place (tagged "readiness": /readyz runs it)."""
    errors: list[checks.CheckMessage] = []
    for alias in databases or ():  # the database is only touched when asked for
        connection = connections[alias]
        for problems in trigger_problems(connection, applicable(connection)).values():
            errors += [
                checks.Error(problem, hint="Run manage.py migrate or verify_derived.", id="tasks.E001")
                for problem in problems
            ]
        if sqlite_recursive_triggers_off(connection):
            errors.append(
                checks.Error(
                    "SQLite connections lack PRAGMA recursive_triggers=ON.",
                    hint="Keep it in the init_command of config/settings/base.py.",
                    id="tasks.E002",
                )
            )
    return errors
