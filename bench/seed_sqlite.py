"""Seed an SQLite file for the anchors in ../shared/anchors.

Every anchor uses the same table (the DDL SQLAlchemy's create_all emits for the
FastAPI anchor), so one seeded file fits any. The rows get ids 1..ROWS; the
even ids are done, as in bench/seed_service.py. The journal mode is left at
SQLite's default: each anchor sets its own when it connects (WAL and
synchronous=NORMAL, the FastAPI anchor nothing).

    python3 bench/seed_sqlite.py PATH ROWS
"""

import argparse
import sqlite3
from collections.abc import Iterator
from pathlib import Path

DDL = (
    "CREATE TABLE tasks ("
    "id INTEGER NOT NULL, title VARCHAR(200) NOT NULL, done BOOLEAN NOT NULL, "
    "PRIMARY KEY (id))"
)


def task_rows(count: int) -> Iterator[tuple[int, str, int]]:
    for task_id in range(1, count + 1):
        yield task_id, f"Task {task_id}", int(task_id % 2 == 0)


def seed(path: Path, rows: int) -> None:
    """Create `path` (it must not exist) with `rows` tasks."""
    if path.exists():
        raise FileExistsError(f"{path} exists; the seed wants a fresh file")
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(DDL)
            connection.executemany("INSERT INTO tasks (id, title, done) VALUES (?, ?, ?)", task_rows(rows))
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("rows", type=int)
    args = parser.parse_args()
    seed(args.path, args.rows)


if __name__ == "__main__":
    main()
