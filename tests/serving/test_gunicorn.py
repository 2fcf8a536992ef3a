"""The service under real gunicorn workers, with production settings."""

import http.client
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.live import (
    PASSWORD,
    ROOT,
    USERNAME,
    Server,
    free_port,
    fresh_database,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)
from tests.serving.conftest import Account

pytestmark = pytest.mark.serving

WRITERS = 12
SECONDS = 4.0


def test_concurrent_creates_patches_and_deletes_lose_nothing(server: Server, account: Account) -> None:
    """Many clients writing at once on several workers: no 5xx, no lock errors, every write kept."""
    created: list[int] = []
    deleted: list[int] = []
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    lock = threading.Lock()

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[int] = []
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            action = rng.choice(["create", "create", "patch", "delete"]) if mine else "create"
            if action == "create":
                reply = server.request(
                    "POST", "/tasks", {"title": f"writer {seed} task"}, headers=account.auth
                )
                if reply.status == 201:
                    mine.append(reply.json()["id"])
            elif action == "patch":
                reply = server.request(
                    "PATCH", f"/tasks/{rng.choice(mine)}", {"done": rng.random() < 0.5}, headers=account.auth
                )
            else:
                task_id = mine.pop(rng.randrange(len(mine)))
                reply = server.request("DELETE", f"/tasks/{task_id}", headers=account.auth)
                if reply.status == 204:
                    with lock:
                        deleted.append(task_id)
            with lock:
                statuses[reply.status] += 1
                if reply.status >= 500 or b"locked" in reply.body:
                    failures.append(f"{action}: {reply.status} {reply.body[:200]!r}")
        with lock:
            created.extend(mine)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert set(statuses) <= {200, 201, 204}, statuses
    assert statuses[201] > WRITERS
    assert "database is locked" not in server.log()

    kept = set(created)
    listed: set[int] = set()
    offset = 0
    while True:
        page = server.request("GET", f"/tasks?limit=100&offset={offset}", headers=account.auth).json()
        listed.update(item["id"] for item in page["items"])
        offset += 100
        if offset >= page["total"]:
            break
    assert page["total"] == len(kept) == statuses[201] - len(deleted)
    assert listed == kept


def test_failed_login_limit_holds_across_workers(server: Server, account: Account) -> None:
    """The failed-login history is shared by all workers, so a new connection cannot reset it."""
    guesser = {"X-Forwarded-For": "198.51.100.7"}  # the client address the proxy reports
    bad = {"username": account.username, "password": "wrong"}
    replies = [server.request("POST", "/auth/token", bad, headers=guesser, auth=False) for _ in range(5)]
    assert [reply.status for reply in replies] == [400] * 5

    good = {"username": account.username, "password": account.password}
    blocked = server.request("POST", "/auth/token", good, headers=guesser, auth=False)
    other_client = server.request(
        "POST", "/auth/token", good, headers={"X-Forwarded-For": "198.51.100.8"}, auth=False
    )

    assert blocked.status == 429
    assert blocked.headers["Content-Type"] == "application/problem+json"
    assert int(blocked.headers["Retry-After"]) > 0
    assert other_client.status == 200


def _post_chunked(server: Server, chunks: int, chunk: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/tasks",
            body=(chunk for _ in range(chunks)),
            headers={
                "X-Forwarded-Proto": "https",
                "Authorization": f"Bearer {server.token}",
                "Content-Type": "application/json",
            },
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, response.read()
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the server closed the connection instead of answering 413")
    finally:
        connection.close()


def test_chunked_body_over_one_mebibyte_is_413(server: Server) -> None:
    """A chunked body (no Content-Length) over the limit is refused like any other."""
    status, body = _post_chunked(server, chunks=30, chunk=b" " * 40_000)
    assert status == 413
    assert b'"status": 413' in body


def test_chunked_body_under_the_limit_is_read(server: Server) -> None:
    """Django sees a chunked body: the task it describes is created."""
    status, body = _post_chunked(server, chunks=1, chunk=b'{"title": "sent in chunks"}')
    assert status == 201, body
    assert b'"title":"sent in chunks"' in body


def test_static_files_are_served_compressed_with_hashed_names(server: Server) -> None:
    """The admin's CSS comes from the app itself, content-hashed, gzipped and cacheable forever."""
    page = server.request("GET", "/admin/login/", headers={"Accept": "text/html"}, auth=False)
    assert page.status == 200
    match = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page.body)
    assert match, page.body[:500]

    css = server.request(
        "GET", match.group(1).decode(), headers={"Accept-Encoding": "gzip", "Accept": "*/*"}, auth=False
    )
    assert css.status == 200
    assert css.headers["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in css.headers["Cache-Control"]


def test_browsable_api_assets_are_served(server: Server) -> None:
    """The browsable API's stylesheet is collected and served with DEBUG off."""
    page = server.request("GET", "/api-auth/login/", headers={"Accept": "text/html"}, auth=False)
    match = re.search(rb'href="(/static/rest_framework/css/bootstrap\.min\.[0-9a-f]{12}\.css)"', page.body)
    assert match, page.body[:500]
    assert server.request("GET", match.group(1).decode(), auth=False).status == 200


def test_plain_http_redirects_to_https(server: Server) -> None:
    """A request the proxy did not mark as HTTPS is redirected there."""
    reply = server.request("GET", "/tasks?limit=5", https=False)
    assert reply.status == 301
    assert reply.headers["Location"] == f"https://127.0.0.1:{server.port}/tasks?limit=5"


def test_https_responses_carry_security_headers_and_secure_cookies(server: Server) -> None:
    """HSTS, nosniff, referrer policy and CSP on responses; cookies marked Secure."""
    reply = server.request("GET", "/admin/login/", headers={"Accept": "text/html"}, auth=False)
    assert reply.status == 200
    assert reply.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in reply.headers["Content-Security-Policy"]
    cookies = reply.headers.get_all("Set-Cookie") or []
    csrf = [cookie for cookie in cookies if cookie.startswith("csrftoken=")]
    assert csrf and "Secure" in csrf[0]


def test_links_in_list_pages_use_https_behind_the_proxy(server: Server) -> None:
    """next/previous URLs follow X-Forwarded-Proto, so clients stay on HTTPS."""
    for title in ("link one", "link two"):
        assert server.request("POST", "/tasks", {"title": title}).status == 201
    page = server.request("GET", "/tasks?limit=1").json()
    assert page["next"].startswith(f"https://127.0.0.1:{server.port}/tasks?")


def test_health_probes_answer_plain_http(server: Server) -> None:
    """Probes reach /healthz and /readyz without TLS: they are exempt from the redirect."""
    assert server.request("GET", "/healthz", https=False, auth=False).status == 200
    ready = server.request("GET", "/readyz", https=False, auth=False)
    assert ready.status == 200
    assert ready.json() == {"status": "ok"}


def _unreachable_database_url(tmp_path: Path, reference: str) -> str:
    if reference.startswith("postgres"):
        return f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    return f"sqlite:///{tmp_path / 'no-such-dir' / 'db.sqlite3'}"


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path, static_root: Path) -> None:
    """With nothing at the database address, /readyz is 503 and /healthz still 200."""
    with fresh_database(tmp_path) as reference:
        env = production_env(_unreachable_database_url(tmp_path, reference), static_root, WEB_CONCURRENCY="1")
        server = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            ready = server.request("GET", "/readyz", auth=False)
            health = server.request("GET", "/healthz", auth=False)
        finally:
            stop_gunicorn(server)
    assert ready.status == 503
    assert ready.headers["Content-Type"] == "application/problem+json"
    assert ready.json()["status"] == 503
    assert health.status == 200


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_gunicorn_refuses_to_start_without_production_settings(
    tmp_path: Path, static_root: Path, missing: str
) -> None:
    """With DEBUG off, a missing secret or host list stops the start with one clear line."""
    env = production_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", static_root)
    del env[missing]
    env["GUNICORN_BIND"] = f"127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"Configuration error: {missing} must be set when DJANGO_DEBUG is off." in result.stderr
    assert "Traceback" not in result.stderr


def test_worker_count_and_bind_address_come_from_the_environment(server: Server) -> None:
    """WEB_CONCURRENCY workers listen on GUNICORN_BIND (the fixture asks for 3 on a free port)."""
    assert server.process is not None
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    assert len(children) == int(server.env["WEB_CONCURRENCY"]) == 3
    assert server.env["GUNICORN_BIND"] == f"127.0.0.1:{server.port}"
    assert server.request("GET", "/healthz", auth=False).status == 200


def test_session_cookie_is_secure_after_an_admin_login(server: Server) -> None:
    """Logging in through the admin behind the proxy sets a Secure, HttpOnly session cookie."""
    page = server.request("GET", "/admin/login/", headers={"Accept": "text/html"}, auth=False)
    csrf_cookie = next(c for c in page.headers.get_all("Set-Cookie") or [] if c.startswith("csrftoken="))
    csrf_token = csrf_cookie.split(";")[0].split("=", 1)[1]
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert match
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/admin/login/?next=/admin/",
            body=f"username={USERNAME}&password={PASSWORD}&csrfmiddlewaretoken={match.group(1).decode()}",
            headers={
                "X-Forwarded-Proto": "https",
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf_token}",
                "Referer": f"https://127.0.0.1:{server.port}/admin/login/",
                "Origin": f"https://127.0.0.1:{server.port}",
            },
        )
        response = connection.getresponse()
        response.read()
        cookies = response.headers.get_all("Set-Cookie") or []
    finally:
        connection.close()
    assert response.status == 302
    session = [cookie for cookie in cookies if cookie.startswith("sessionid=")]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]
