from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _register_unicode_lower(sender, connection, **kwargs) -> None:
    # SQLite's LOWER() and LIKE fold ASCII letters only, so "Ä" would not
    # match "ä". Give SQLite Python's lower() under its own name.
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "unicode_lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True
        )


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self) -> None:
        connection_created.connect(_register_unicode_lower)
