"""Seed this service's database for the benchmark: one user, ROWS tasks, a bearer token.

Run by bench/run.py with the project's virtualenv, in the server's environment
(DJANGO_SETTINGS_MODULE, DATABASE_URL, ...), after `manage.py migrate`:

    .venv/bin/python bench/seed_service.py ROWS TOKEN_FILE

The tasks get ids 1..ROWS; the even ids are done, so that a done= filter
matches half of them. The first is created through the ORM, so every column
gets its model default; the others are copied from it by one INSERT ... SELECT
(only the title and done differ), which writes a million rows in seconds on
SQLite and PostgreSQL alike, and keeps working when a column is added to the
model.
"""

import argparse
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "bench"

# Numbers 2..ROWS, each joined to the template task: title "Task <n>", done when n is even
# (%% is a literal % beside the query parameters).
COPY_TASKS_SQL = """
WITH RECURSIVE numbers(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM numbers WHERE n < %s)
INSERT INTO {table} ({title}, {done}, {columns})
SELECT 'Task ' || numbers.n, numbers.n %% 2 = 0, {template_columns}
FROM numbers, {table} AS template
WHERE template.{id} = %s
"""


def seed(rows: int) -> str:
    """Create the user and the tasks; return a bearer token that never expires."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from knox.models import AuthToken

    from tasks.models import Task

    with transaction.atomic():
        user = get_user_model().objects.create_user(USERNAME)
        template = Task.objects.create(owner=user, title="Task 1")
        if template.pk != 1:
            raise SystemExit(f"the first task got id {template.pk}; the database must be fresh")
        quote = connection.ops.quote_name
        copied = [f.column for f in Task._meta.concrete_fields if f.name not in ("id", "title", "done")]
        sql = COPY_TASKS_SQL.format(
            table=quote(Task._meta.db_table),
            id=quote(Task._meta.pk.column),
            title=quote(Task._meta.get_field("title").column),
            done=quote(Task._meta.get_field("done").column),
            columns=", ".join(quote(column) for column in copied),
            template_columns=", ".join(f"template.{quote(column)}" for column in copied),
        )
        if rows > 1:
            with connection.cursor() as cursor:
                cursor.execute(sql, [rows, template.pk])
        _, token = AuthToken.objects.create(user, expiry=None)
    if connection.vendor == "postgresql":
        # What autovacuum would soon do on a server in use: give the planner statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    count = Task.objects.filter(owner=user).count()
    last_id = Task.objects.order_by("-id").values_list("id", flat=True).first()
    if count != rows or last_id != rows:
        raise SystemExit(f"seeded {count} tasks with ids up to {last_id}, expected ids 1..{rows}")
    return str(token)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("rows", type=int)
    parser.add_argument("token_file", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    django.setup()
    token = seed(args.rows)
    args.token_file.write_text(token + "\n")


if __name__ == "__main__":
    main()
