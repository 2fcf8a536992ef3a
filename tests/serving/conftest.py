"""Fixtures that start real gunicorn on a fresh database (see live.py)."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live import (
    PASSWORD,
    USERNAME,
    Server,
    fresh_database,
    manage,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("static")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, static_root: Path) -> Iterator[Server]:
    """Gunicorn with three workers on a database deployed with `migrate` and `collectstatic` alone,
    and a user's token."""
    tmp_path = tmp_path_factory.mktemp("serving")
    with fresh_database(tmp_path) as database_url:
        env = production_env(
            database_url,
            static_root,
            WEB_CONCURRENCY="3",
            LOGIN_FAILURE_RATE="5/hour",
            # Behind one proxy, as in production: X-Forwarded-For names the client.
            NUM_PROXIES="1",
        )
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input")
        manage(
            env | {"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            "createsuperuser",
            "--no-input",
            f"--username={USERNAME}",
            "--email=serving@example.com",
        )
        running = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            reply = running.request(
                "POST", "/auth/token", {"username": USERNAME, "password": PASSWORD}, auth=False
            )
            assert reply.status == 200, reply.body
            running.token = reply.json()["token"]
            yield running
        finally:
            stop_gunicorn(running)


@dataclass
class Account:
    username: str
    password: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def account(server: Server) -> Account:
    """A user of the running server of this test's own, with a bearer token: its data is its alone."""
    username, password = f"serving-{uuid.uuid4().hex[:12]}", PASSWORD
    manage(
        server.env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({username!r}, password={password!r})",
    )
    reply = server.request("POST", "/auth/token", {"username": username, "password": password}, auth=False)
    assert reply.status == 200, reply.body
    return Account(username, password, reply.json()["token"])
