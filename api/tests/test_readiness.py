"""GET /readyz: 503 with a problem document naming the cause while the service cannot serve (SPEC §10)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings
from django.urls import reverse

from api.tests.helpers import assert_problem

DATABASE_CACHE = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "readiness_cache"}


@pytest.fixture
def database_cache() -> Iterator[None]:
    """CACHES as in production (a database cache), with a table of its own, dropped afterwards."""
    with override_settings(CACHES={"default": DATABASE_CACHE}):
        yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS readiness_cache")


@pytest.mark.django_db
def test_readyz_is_200_when_migrated(anon_client: Any) -> None:
    """Every migration applied, every mechanism in place: ready."""
    response = anon_client.get(reverse("readyz"))
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readyz_is_503_naming_an_unapplied_migration(anon_client: Any) -> None:
    """A migration on disk but not in the database (a deploy that skipped `migrate`) is named."""
    MigrationRecorder.Migration.objects.filter(app="api", name="0001_cache_table").delete()
    body = assert_problem(anon_client.get(reverse("readyz")), 503)
    assert "1 migration(s) not applied on database 'default': api.0001_cache_table." in body["detail"]
    assert body["errors"][0]["id"] == "api.E001"
    assert body["errors"][0]["hint"] == "Run manage.py migrate."


@pytest.mark.django_db
def test_readyz_is_503_naming_a_missing_cache_table(anon_client: Any, database_cache: None) -> None:
    """The login throttle's cache needs its table: without it, not ready (instead of 500 on every login)."""
    body = assert_problem(anon_client.get(reverse("readyz")), 503)
    assert (
        "The table 'readiness_cache' of cache 'default' is missing on database 'default'." in body["detail"]
    )


@pytest.mark.django_db(transaction=True)
def test_migrate_alone_creates_the_cache_table(anon_client: Any, database_cache: None) -> None:
    """The cache's table comes from a migration: no createcachetable step in a deploy."""
    call_command("migrate", "api", "zero", verbosity=0)
    assert "readiness_cache" not in connection.introspection.table_names()
    call_command("migrate", verbosity=0)
    assert "readiness_cache" in connection.introspection.table_names()
    assert anon_client.get(reverse("readyz")).status_code == 200


@pytest.mark.django_db
def test_readiness_checks_cost_a_few_queries_per_probe(
    anon_client: Any, django_assert_max_num_queries: Any
) -> None:
    """A probe every few seconds stays cheap: catalog lookups, no scan of any table."""
    with django_assert_max_num_queries(10) as captured:
        assert anon_client.get(reverse("readyz")).status_code == 200
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)


def test_plain_check_leaves_the_database_alone_so_migrate_can_run() -> None:
    """`manage.py check` (and `migrate`, which runs it first) skip readiness: it needs a migrated database."""
    call_command("check")
