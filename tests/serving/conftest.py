"""Fixtures that start real gunicorn on a fresh database (see live.py)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import Server, serving


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("static")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, static_root: Path) -> Iterator[Server]:
    """Gunicorn with three workers on a migrated database, and a user's token."""
    with serving(
        tmp_path_factory.mktemp("serving"),
        static_root,
        WEB_CONCURRENCY="3",
        LOGIN_FAILURE_RATE="5/hour",
        # Behind one proxy, as in production: X-Forwarded-For names the client.
        NUM_PROXIES="1",
    ) as running:
        yield running
