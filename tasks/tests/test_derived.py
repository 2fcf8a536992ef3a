"""The triggers survive every migration, readiness reports them missing, verify_derived proves and repairs.

Most AlterFields rebuild the table on SQLite, which drops its triggers: the
`migrate` run that did it must put them back and recount what they missed.
"""

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection
from django.urls import reverse

from api.tests.helpers import assert_problem
from tasks.derived import trigger_problems, uninstall
from tasks.models import Task, TaskTally
from tasks.tests.factories import TaskFactory
from tasks.tests.helpers import make_task
from tasks.tests.test_tally import counted_with_done, tallied
from tasks.triggers import REGISTRY, TASK_TALLY, TASK_VERSION


def rebuild_task_table(max_length: int) -> None:
    """What a migration changing Task.title's max_length does: on SQLite, a new table copied from the old."""
    old = Task._meta.get_field("title")
    new = copy.copy(old)
    new.max_length = max_length
    with connection.schema_editor() as editor:
        editor.alter_field(Task, old, new)


@pytest.fixture
def rebuilt_task_table(transactional_db: Any) -> Iterator[None]:
    """tasks_task rebuilt as by an AlterField (max_length 300), and put back as it was afterwards."""
    rebuild_task_table(300)
    yield
    rebuild_task_table(200)
    call_command("migrate", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_migrate_after_a_table_rebuild_reinstalls_the_triggers_and_recounts(
    rebuilt_task_table: None, api_client: Any, user: Any, other_user: Any
) -> None:
    """After a rebuild, writes the triggers missed are recounted by `migrate`, and later ones counted."""
    missed = make_task(owner=user, done=True)  # written between the rebuild and the end of `migrate`
    version_before = Task.objects.get(pk=missed.pk).version

    call_command("migrate", verbosity=0)

    assert trigger_problems(connection, REGISTRY) == {}
    assert tallied() == counted_with_done() == {user.pk: (1, 1)}
    if connection.vendor == "sqlite":  # PostgreSQL alters the column in place, triggers and all
        assert Task.objects.get(pk=missed.pk).version > version_before  # no ETag from the gap matches
    created = api_client.post(reverse("task-list"), {"title": "after"}, format="json").data["id"]
    TaskFactory.create_batch(2, owner=other_user)
    Task.objects.filter(pk=missed.pk).delete()
    Task.objects.filter(pk=created).update(done=True)
    assert tallied() == counted_with_done() == {user.pk: (1, 1), other_user.pk: (2, 0)}
    assert api_client.get(reverse("task-list"), {"done": "true"}).data["total"] == 1


@pytest.mark.django_db(transaction=True)
def test_readiness_is_503_between_a_table_rebuild_and_migrate(
    rebuilt_task_table: None, anon_client: Any
) -> None:
    """On SQLite the rebuild dropped the triggers: /readyz names them until `migrate` puts them back."""
    if connection.vendor == "sqlite":
        response = anon_client.get(reverse("readyz"))
        assert_problem(response, 503)
        assert "Trigger tasks_tally_insert on tasks_task" in response.json()["detail"]
    call_command("migrate", verbosity=0)
    assert anon_client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db
def test_migrate_reinstalls_a_dropped_trigger_and_recounts(user: Any, anon_client: Any) -> None:
    """Triggers dropped by hand (or by any migration) come back with `migrate`, tallies recounted."""
    uninstall(connection, [TASK_TALLY])
    TaskFactory.create_batch(2, owner=user)
    assert tallied() == {}
    assert_problem(anon_client.get(reverse("readyz")), 503)

    call_command("migrate", verbosity=0)

    assert tallied() == counted_with_done() == {user.pk: (2, 0)}
    assert anon_client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db
def test_readiness_names_each_missing_trigger(anon_client: Any) -> None:
    """Every missing trigger is a cause in the 503 problem document."""
    uninstall(connection, [TASK_VERSION])
    response = anon_client.get(reverse("readyz"))
    assert_problem(response, 503)
    assert response.json()["errors"] == [
        {
            "id": "tasks.E001",
            "detail": "Trigger tasks_task_version on tasks_task (task versions (ETags)) is missing.",
            "hint": "Run manage.py migrate or verify_derived.",
        }
    ]


@pytest.mark.django_db
def test_an_edited_trigger_counts_as_outdated_until_reinstalled(anon_client: Any) -> None:
    """A trigger whose definition is not the registry's is reported, and `migrate` replaces it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER tasks_tally_delete")
            cursor.execute("CREATE TRIGGER tasks_tally_delete AFTER DELETE ON tasks_task BEGIN SELECT 1; END")
        else:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION tasks_tally_delete() RETURNS trigger "
                "AS $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql"
            )
    assert "is outdated" in anon_client.get(reverse("readyz")).json()["detail"]
    call_command("migrate", verbosity=0)
    assert trigger_problems(connection, REGISTRY) == {}


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL can disable a trigger")
def test_a_disabled_trigger_is_reported(anon_client: Any) -> None:
    """ALTER TABLE … DISABLE TRIGGER silently stops a trigger: readiness says so."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE tasks_task DISABLE TRIGGER tasks_tally_insert")
    assert (
        "tasks_tally_insert on tasks_task (task tallies (list totals)) is disabled"
        in (anon_client.get(reverse("readyz")).json()["detail"])
    )


@pytest.mark.django_db
def test_deploy_check_on_the_database_fails_while_a_trigger_is_missing() -> None:
    """`manage.py check --deploy --database default` runs the readiness checks: an Error stops it."""
    uninstall(connection, [TASK_TALLY])
    with pytest.raises(SystemCheckError, match=r"tasks\.E001"):
        call_command("check", "--deploy", "--database", "default")


@pytest.mark.django_db
def test_verify_derived_reports_exact_state(user: Any, capsys: Any) -> None:
    """With nothing wrong, --check passes and says what it proved."""
    TaskFactory.create_batch(2, owner=user)
    call_command("verify_derived", "--check")
    exact = "Exact: task versions (ETags), task tallies (list totals), change log (sync)."
    assert exact in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_derived_check_exits_nonzero_on_drift_and_changes_nothing(user: Any, capsys: Any) -> None:
    """A tally changed behind the triggers' back is drift: --check names it, fails, and leaves it."""
    TaskFactory.create_batch(3, owner=user)
    TaskTally.objects.filter(owner=user).update(total=7)
    with pytest.raises(CommandError, match="drifted"):
        call_command("verify_derived", "--check")
    assert f"Owner {user.pk} has 3 tasks (0 done); the tally says 7 (0 done)." in capsys.readouterr().err
    assert TaskTally.count_of(user) == 7


@pytest.mark.django_db
def test_verify_derived_check_fails_on_a_missing_trigger(user: Any) -> None:
    """A missing trigger is drift too, even before any value is wrong."""
    uninstall(connection, [TASK_VERSION])
    with pytest.raises(CommandError):
        call_command("verify_derived", "--check")
    assert trigger_problems(connection, REGISTRY) != {}


@pytest.mark.django_db
def test_verify_derived_repairs_values_and_triggers(user: Any, other_user: Any, capsys: Any) -> None:
    """Without --check: triggers back, tallies recounted, and the next --check passes."""
    TaskFactory.create_batch(2, owner=user, done=True)
    uninstall(connection, [TASK_TALLY])
    TaskFactory(owner=other_user)
    TaskTally.objects.filter(owner=user).update(total=9, done=0)

    call_command("verify_derived")

    assert "Repaired: task tallies (list totals)." in capsys.readouterr().out
    assert tallied() == counted_with_done() == {user.pk: (2, 2), other_user.pk: (1, 0)}
    call_command("verify_derived", "--check")


@pytest.mark.django_db(transaction=True)
def test_migration_0004_goes_back_and_forth_leaving_exact_state(user: Any) -> None:
    """Unapplying 0004 restores 0003's triggers; applying it again ends exact, new triggers in place."""
    TaskFactory.create_batch(2, owner=user, done=True)
    call_command("migrate", "tasks", "0003", verbosity=0)
    TaskFactory(owner=user)  # counted by 0003's triggers
    call_command("migrate", verbosity=0)
    assert trigger_problems(connection, REGISTRY) == {}
    assert tallied() == counted_with_done() == {user.pk: (3, 2)}
    call_command("verify_derived", "--check")
