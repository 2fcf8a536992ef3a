"""Keep Django's hands off the tables that database triggers keep (tasks/triggers.py)."""

from typing import Any


class DerivedTablesRouter:
    """Models Django does not manage (the task tally) are never dumped, loaded or migrated.

    dumpdata and loaddata ask the routers' allow_migrate() about each model:
    a tally in a fixture would overwrite the triggers' counts, or be counted
    twice on top of the tasks loaded with it. The triggers recount it instead.
    Migrations pass their historical models, managed until migration 0004,
    so 0003 and 0004 still create and alter the table.
    """

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        model = hints.get("model")
        if model is not None and not model._meta.managed:
            return False
        return None
