"""The database cache's table (the failed-login throttle's store), so that `migrate` alone deploys.

The same as `manage.py createcachetable`, which creates a table for every
DatabaseCache in CACHES and skips those that exist: running it again, or
with another cache backend (the tests' in-memory one), changes nothing.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
