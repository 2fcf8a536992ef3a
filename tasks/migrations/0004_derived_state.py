"""The tally counts done tasks too, and leaves Django's management to the triggers.

The triggers themselves are not created here: tasks.derived installs every
trigger of tasks/triggers.py after each `migrate` (and recomputes what they
keep), so that a later migration that rebuilds tasks_task, which drops its
triggers on SQLite, is repaired by the same run. This migration drops the
triggers of 0003, which the registry replaces.

The tally becomes unmanaged (with tasks.routers, dumpdata and loaddata skip
it, so a restore neither overwrites nor double-counts it) and loses its
foreign key (flushing users on PostgreSQL would refuse to truncate a
referenced table). Its operations come before AlterModelOptions, while the
model is still managed, so that they run.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

OLD_TRIGGERS = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS tasks_tally_insert",
        "DROP TRIGGER IF EXISTS tasks_tally_delete",
        "DROP TRIGGER IF EXISTS tasks_tally_move",
    ],
    "postgresql": ["DROP FUNCTION IF EXISTS tasks_tally() CASCADE"],
}


def drop_old_triggers(apps, schema_editor):
    for statement in OLD_TRIGGERS[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


def restore_old_triggers(apps, schema_editor):
    schema_editor.execute("DELETE FROM tasks_tasktally")
    importlib.import_module("tasks.migrations.0003_task_tally").create_triggers(apps, schema_editor)


def drop_registry_triggers(apps, schema_editor):
    """Going back: the triggers post_migrate installed use the columns about to go."""
    from tasks.derived import uninstall

    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("tasks", "0003_task_tally"),
    ]

    operations = [
        migrations.RunPython(drop_old_triggers, restore_old_triggers),
        migrations.AlterField(
            model_name="tasktally",
            name="owner",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="+",
                serialize=False,
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="tasktally",
            name="done",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AlterModelOptions(name="tasktally", options={"managed": False}),
        migrations.RunPython(migrations.RunPython.noop, drop_registry_triggers),
    ]
