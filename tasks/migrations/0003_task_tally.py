"""Per-owner task counts, kept exact by triggers on tasks_task.

Triggers rather than application code, so that every path that writes
tasks keeps the count: the API, the admin's forms and bulk actions,
QuerySet.update()/delete(), cascades from deleting a user, raw SQL.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER tasks_tally_insert AFTER INSERT ON tasks_task BEGIN
        INSERT INTO tasks_tasktally (owner_id, total) VALUES (NEW.owner_id, 1)
        ON CONFLICT (owner_id) DO UPDATE SET total = total + 1;
    END
    """,
    """
    CREATE TRIGGER tasks_tally_delete AFTER DELETE ON tasks_task BEGIN
        UPDATE tasks_tasktally SET total = total - 1 WHERE owner_id = OLD.owner_id;
    END
    """,
    """
    CREATE TRIGGER tasks_tally_move AFTER UPDATE OF owner_id ON tasks_task
    WHEN OLD.owner_id <> NEW.owner_id BEGIN
        UPDATE tasks_tasktally SET total = total - 1 WHERE owner_id = OLD.owner_id;
        INSERT INTO tasks_tasktally (owner_id, total) VALUES (NEW.owner_id, 1)
        ON CONFLICT (owner_id) DO UPDATE SET total = total + 1;
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS tasks_tally_insert",
    "DROP TRIGGER IF EXISTS tasks_tally_delete",
    "DROP TRIGGER IF EXISTS tasks_tally_move",
]

POSTGRESQL_TRIGGERS = [
    """
    CREATE FUNCTION tasks_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE tasks_tasktally SET total = total - 1 WHERE owner_id = OLD.owner_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO tasks_tasktally (owner_id, total) VALUES (NEW.owner_id, 1)
            ON CONFLICT (owner_id) DO UPDATE SET total = tasks_tasktally.total + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER tasks_tally AFTER INSERT OR DELETE ON tasks_task
    FOR EACH ROW EXECUTE FUNCTION tasks_tally()
    """,
    """
    CREATE TRIGGER tasks_tally_move AFTER UPDATE OF owner_id ON tasks_task
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION tasks_tally()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS tasks_tally_move ON tasks_task",
    "DROP TRIGGER IF EXISTS tasks_tally ON tasks_task",
    "DROP FUNCTION IF EXISTS tasks_tally()",
]

BACKFILL = (
    "INSERT INTO tasks_tasktally (owner_id, total) "
    "SELECT owner_id, COUNT(*) FROM tasks_task GROUP BY owner_id"
)


def _statements(vendor, sqlite, postgresql):
    if vendor == "sqlite":
        return sqlite
    if vendor == "postgresql":
        return postgresql
    raise NotImplementedError(f"No task-tally triggers for the {vendor} database.")


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, SQLITE_TRIGGERS, POSTGRESQL_TRIGGERS):
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor, SQLITE_DROP, POSTGRESQL_DROP):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("tasks", "0002_task_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="TaskTally",
            fields=[
                (
                    "owner",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("total", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
