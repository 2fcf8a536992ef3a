"""The change log for sync (GET /tasks/changes): a counter per owner and an entry per task.

Triggers fill both tables (tasks/triggers.py); post_migrate installs them
and builds the log of the tasks already there (tasks.derived). The tables are
made while their models are managed, then left to the triggers, as the tally
is (migration 0004): dumpdata and loaddata skip them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("tasks", "0005_idempotency_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeCounter",
            fields=[
                (
                    "owner",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "seq",
                    models.PositiveBigIntegerField(
                        default=0, help_text="The number of the owner's latest change."
                    ),
                ),
                (
                    "purged_seq",
                    models.PositiveBigIntegerField(
                        default=0,
                        help_text="The highest number of a deletion purged; older cursors are refused.",
                    ),
                ),
                ("epoch", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="TaskChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tasks.task",
                    ),
                ),
                (
                    "seq",
                    models.PositiveBigIntegerField(
                        help_text="The number of the change, from the owner's counter."
                    ),
                ),
                ("deleted", models.BooleanField(default=False)),
                ("changed_at", models.DateTimeField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("owner", "task"), name="taskchange_owner_task")
                ],
                "indexes": [
                    models.Index(fields=["owner", "seq"], name="taskchange_owner_seq"),
                    models.Index(
                        condition=models.Q(("deleted", True)),
                        fields=["owner", "changed_at"],
                        name="taskchange_deleted",
                    ),
                ],
            },
        ),
        migrations.AlterModelOptions(name="changecounter", options={"managed": False}),
        migrations.AlterModelOptions(name="taskchange", options={"managed": False}),
    ]
