"""The seeded databases, and the fresh copy of one that every run works on."""

import os
import subprocess
import sys
import time
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import seed_sqlite
from bench.servers import service_env
from tests.live import ROOT, fresh_database, manage


@dataclass(frozen=True)
class Database:
    """A seeded database: `rows` tasks of one user, ids 1..rows, and that user's bearer token."""

    url: str
    rows: int
    token: str = ""  # empty for the anchors, which have no users

    @property
    def kind(self) -> str:
        return "sqlite" if self.url.startswith("sqlite:") else "postgres"


def seed_service(stack: ExitStack, workdir: Path, rows: int, postgres_url: str = "") -> Database:
    """Migrate a new database (on the PostgreSQL server of `postgres_url`, else SQLite) and seed it.

    The database is dropped when `stack` closes.
    """
    url = stack.enter_context(fresh_database(workdir, server_url=postgres_url))
    env = service_env(url, workdir)
    token_file = workdir / f"token_{time.monotonic_ns()}"
    started = time.monotonic()
    try:
        manage(env, "migrate", "--no-input")
        command = [sys.executable, "bench/seed_service.py", str(rows), str(token_file)]
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"bench: {' '.join(error.cmd)} failed:\n{error.stdout}{error.stderr}") from error
    kind = "PostgreSQL" if postgres_url else "SQLite"
    elapsed = time.monotonic() - started
    print(
        f"seeded this service on {kind} with {rows:,} tasks in {elapsed:.1f} s", file=sys.stderr, flush=True
    )
    return Database(url, rows, token_file.read_text().strip())


def seed_anchors(workdir: Path, rows: int) -> Database:
    """One SQLite file that every anchor serves: they share the table."""
    path = workdir / f"anchors_{rows}.sqlite3"
    seed_sqlite.seed(path, rows)
    return Database(f"sqlite:///{path}", rows)


def fresh_copy(database: Database, workdir: Path) -> AbstractContextManager[str]:
    """A copy of `database` for one run (a file copy, or CREATE DATABASE ... TEMPLATE), removed after it.

    Each run so starts from the same rows, and the writes of one never reach the next.
    """
    return fresh_database(workdir, server_url=database.url, template=database.url)


def postgres_url_from_env() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""
