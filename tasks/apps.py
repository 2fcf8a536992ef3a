from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


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
        from tasks.derived import install_after_migrate  # also registers the readiness check

        connection_created.connect(_register_unicode_lower)
        # Every migrate run ends by putting back any trigger a migration dropped.
        post_migrate.connect(install_after_migrate, sender=self)
