"""manage.py verify_derived: prove that every value derived from the tasks is exact, or make it so."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from tasks.derived import applicable, findings, repair, sqlite_recursive_triggers_off
from tasks.triggers import REGISTRY


class Command(BaseCommand):
    help = (
        "Compare every derived value (the task tallies) with the rows and check every trigger that "
        "keeps derived state (tasks/triggers.py). Without --check, repair what is wrong in one "
        "transaction: reinstall its triggers and recompute it from the rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 on any drift.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database to verify.")

    def handle(self, *args: Any, check: bool, database: str, **options: Any) -> None:
        connection = connections[database]
        states = applicable(connection)
        unapplied = [
            f"{derived.name}: migration {'.'.join(derived.after)} is not applied."
            for derived in REGISTRY
            if derived not in states
        ]
        if sqlite_recursive_triggers_off(connection):
            unapplied.append(
                "SQLite connections lack PRAGMA recursive_triggers=ON (see config/settings/base.py)."
            )
        found = findings(connection, states)
        for problem in unapplied + [problem for problems in found.values() for problem in problems]:
            self.stderr.write(problem)
        if unapplied:
            raise CommandError("Run manage.py migrate (and fix the settings) first.")
        if not found:
            self.stdout.write(f"Exact: {', '.join(derived.name for derived in states)}.")
            return
        if check:
            raise CommandError("Derived state has drifted; run verify_derived without --check to repair it.")
        with transaction.atomic(using=database):
            repair(connection, found)
            if left := findings(connection, states):
                raise CommandError(f"Still wrong after the repair: {left}")
        self.stdout.write(f"Repaired: {', '.join(derived.name for derived in found)}.")
