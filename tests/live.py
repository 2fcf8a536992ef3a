"""Real gunicorn, real database: helpers for the serving and browser tests and bench/.

Each server runs the production settings (DEBUG off, collected static files,
the checked-in gunicorn config) against a database of its own: a fresh SQLite
file, or a fresh database on the PostgreSQL server that DATABASE_URL names.
Standard library only at import time (psycopg is imported when needed), so the
load benchmark runs without the test dependencies.
"""

import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
USERNAME = "serving-user"
PASSWORD = "serving-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    port: int
    env: dict[str, str]
    log_path: Path
    token: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        https: bool = True,
        auth: bool = True,
    ) -> Reply:
        """One request on a new connection, as the TLS proxy would forward it."""
        all_headers = {"Accept": "application/json"}
        if https:
            all_headers["X-Forwarded-Proto"] = "https"
        if auth and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=payload, headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def fresh_database(tmp_path: Path, *, server_url: str | None = None, template: str = "") -> Iterator[str]:
    """A fresh database, empty or a copy of the `template` URL, removed afterwards.

    On the PostgreSQL server `server_url` names (by default DATABASE_URL), else
    an SQLite file in `tmp_path`.
    """
    url = os.environ.get("DATABASE_URL", "") if server_url is None else server_url
    name = f"serving_{uuid.uuid4().hex[:12]}"
    if not url.startswith(("postgres://", "postgresql://")):
        path = tmp_path / f"{name}.sqlite3"
        if template:
            shutil.copyfile(template.removeprefix("sqlite:///"), path)
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    copy = f' TEMPLATE "{urlsplit(template).path.lstrip("/")}"' if template else ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GUNICORN_")) and key not in {"DATABASE_URL", "WEB_CONCURRENCY"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_STATIC_ROOT=str(static_root),
        DATABASE_URL=database_url,
        GUNICORN_ACCESS_LOG="",
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )


def start_server(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    port: int,
    log_path: Path,
    ready_path: str = "/healthz",
) -> Server:
    """Start `command` listening on `port`; return once GET `ready_path` answers 200."""
    server = Server(port=port, env=env, log_path=log_path)
    with log_path.open("wb") as log:
        server.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited early:\n{server.log()}")
        try:
            if server.request("GET", ready_path, https=False, auth=False).status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"{command[0]} did not answer {ready_path} in time:\n{server.log()}")


def start_gunicorn(env: dict[str, str], log_path: Path) -> Server:
    """This service under gunicorn with the checked-in config, on a free port."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    return start_server(command, cwd=ROOT, env=env, port=port, log_path=log_path)


def stop_server(server: Server) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


stop_gunicorn = stop_server


def deploy(env: dict[str, str]) -> None:
    """What a deploy runs (`migrate`, `collectstatic`, nothing else), and a first user."""
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input")
    manage(
        env | {"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        "createsuperuser",
        "--no-input",
        f"--username={USERNAME}",
        "--email=serving@example.com",
    )


@contextmanager
def serving(tmp_path: Path, static_root: Path, **extra_env: str) -> Iterator[Server]:
    """Gunicorn on a fresh, migrated database with one user, logged in with a bearer token."""
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, static_root, **extra_env)
        deploy(env)
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
