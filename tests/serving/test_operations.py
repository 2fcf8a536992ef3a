"""Operations under real gunicorn: outages, reloads, request ids, metrics and JSON logs."""

import json
import os
import re
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import (
    PASSWORD,
    USERNAME,
    Reply,
    Server,
    deploy,
    fresh_database,
    manage,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)
from tests.postgres import postgres_server

pytestmark = pytest.mark.serving

MEMBER = "serving-member"
HEX_ID = re.compile(r"[0-9a-f]{32}")


def wait_for(condition: Callable[[], Any], what: str, seconds: float = 60) -> Any:
    """Poll until `condition()` is truthy (log lines are written after the response is sent)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


def log_in(server: Server, username: str = USERNAME) -> str:
    reply = server.request("POST", "/auth/token", {"username": username, "password": PASSWORD}, auth=False)
    assert reply.status == 200, reply.body
    return str(reply.json()["token"])


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory, static_root: Path) -> Iterator[Server]:
    """Two workers, JSON logs with the access log, metrics in a folder the test can see."""
    tmp_path = tmp_path_factory.mktemp("operations")
    with fresh_database(tmp_path) as database_url:
        env = production_env(
            database_url,
            static_root,
            WEB_CONCURRENCY="2",
            DJANGO_LOG_FORMAT="json",
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        ) | {"GUNICORN_ACCESS_LOG": "-"}
        (tmp_path / "metrics").mkdir()
        deploy(env)
        manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            f"User.objects.create_user({MEMBER!r}, password={PASSWORD!r})",
        )
        running = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            running.token = log_in(running)
            yield running
        finally:
            stop_gunicorn(running)


def workers(server: Server) -> set[int]:
    assert server.process is not None
    pid = server.process.pid
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_sighup_under_concurrent_writers_fails_no_request_and_loses_no_write(ops_server: Server) -> None:
    """A configuration reload replaces every worker while 8 clients write: all answered, all kept."""
    server = ops_server
    old_workers = workers(server)
    created: list[int] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def writer(number: int) -> None:
        while not stop.is_set():
            try:
                reply = server.request("POST", "/tasks", {"title": f"reload writer {number}"})
                outcome = str(reply.status)
            except OSError as exc:  # a refused or reset connection is a failed request too
                outcome = type(exc).__name__
            with lock:
                statuses[outcome] += 1
                if outcome == "201":
                    created.append(reply.json()["id"])

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: statuses["201"] >= 20, "writes before the reload")
        assert server.process is not None
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(workers(server)) == 2 and not workers(server) & old_workers, "new workers")
        reloaded_at = sum(statuses.values())
        wait_for(lambda: sum(statuses.values()) >= reloaded_at + 20, "writes after the reload")
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert set(statuses) == {"201"}, statuses
    listed: set[int] = set()
    offset = 0
    while True:
        page = server.request("GET", f"/tasks?limit=100&offset={offset}&search=reload+writer").json()
        listed.update(item["id"] for item in page["items"])
        offset += 100
        if offset >= page["total"]:
            break
    assert listed == set(created)


def scrape(server: Server) -> dict[str, float]:
    reply = server.request("GET", "/metrics", https=False)
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for line in reply.body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


HEALTHZ_COUNT = 'http_requests_total{method="GET",route="/healthz",status="200"}'


def test_metrics_add_up_the_requests_of_every_worker(ops_server: Server) -> None:
    """Requests spread over both workers are all counted, whichever worker answers the scrape."""
    before = scrape(ops_server).get(HEALTHZ_COUNT, 0)

    def probe() -> None:
        for _ in range(10):
            assert ops_server.request("GET", "/healthz", auth=False).status == 200

    threads = [threading.Thread(target=probe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert scrape(ops_server)[HEALTHZ_COUNT] == before + 40
    assert scrape(ops_server)[HEALTHZ_COUNT] == before + 40  # and again, from any worker
    # Each worker writes its own file; both have answered.
    files = Path(ops_server.env["PROMETHEUS_MULTIPROC_DIR"]).glob("counter_*.db")
    assert len({file.stem.rsplit("_", 1)[1] for file in files}) >= 2


def test_metrics_also_show_latency_and_database_time(ops_server: Server) -> None:
    """Latency histograms, query counts and query time per route, and the outage counter."""
    assert ops_server.request("GET", "/tasks").status == 200
    samples = scrape(ops_server)
    assert samples['http_request_duration_seconds_count{method="GET",route="/tasks"}'] >= 1
    assert samples['http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/tasks"}'] >= 1
    assert samples['db_queries_total{route="/tasks"}'] >= 1
    assert samples['db_query_duration_seconds_total{route="/tasks"}'] > 0
    assert "database_unavailable_responses_total" in samples


def test_metrics_refuse_anonymous_and_non_staff_callers(ops_server: Server) -> None:
    """/metrics is for staff: 401 without credentials, 403 for a user who is not staff."""
    anonymous = ops_server.request("GET", "/metrics", auth=False)
    member = ops_server.request(
        "GET", "/metrics", auth=False, headers={"Authorization": f"Bearer {log_in(ops_server, MEMBER)}"}
    )
    assert (anonymous.status, member.status) == (401, 403)
    assert b"http_requests_total" not in anonymous.body + member.body
    assert anonymous.json()["status"] == 401
    assert member.json()["status"] == 403


def json_log(server: Server) -> list[dict[str, Any]]:
    """Every line of the service's output, each of which must be a JSON object."""
    return [json.loads(line) for line in server.log().splitlines() if line.strip()]


def access_line(server: Server, request_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        lines = [
            line
            for line in json_log(server)
            if line["logger"] == "gunicorn.access" and line.get("request_id") == request_id
        ]
        return lines[0] if lines else None

    return wait_for(find, f"the access log line of {request_id}")


def test_request_id_travels_from_header_to_response_problem_and_log_lines(ops_server: Server) -> None:
    """A sane X-Request-ID is echoed, named in the problem document and in every log line of the request."""
    reply = ops_server.request("GET", "/tasks/999999", headers={"X-Request-ID": "trace-me-42"})

    assert reply.status == 404
    assert reply.headers["X-Request-ID"] == "trace-me-42"
    assert reply.json()["request_id"] == "trace-me-42"
    access = access_line(ops_server, "trace-me-42")
    assert access["status"] == 404
    assert access["route"] == "/tasks/{pk}"
    assert isinstance(access["user_id"], int)
    warning = [line for line in json_log(ops_server) if line["logger"] == "django.request"]
    assert any(
        line.get("request_id") == "trace-me-42" and line["message"] == "Not Found: /tasks/999999"
        for line in warning
    )


@pytest.mark.parametrize("sent", ["x" * 129, "two words", 'quote"d', "tab\there"])
def test_insane_request_id_is_replaced_everywhere(ops_server: Server, sent: str) -> None:
    """An X-Request-ID too long or with odd characters is replaced by a new one, in the log too."""
    reply = ops_server.request("GET", "/nothing-here", headers={"X-Request-ID": sent})

    new = reply.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(new)
    assert reply.json()["request_id"] == new
    assert access_line(ops_server, new)["path"] == "/nothing-here"


def test_every_log_line_is_a_json_object(ops_server: Server) -> None:
    """With DJANGO_LOG_FORMAT=json the whole output (gunicorn's and the app's) is JSON lines."""
    ops_server.request("GET", "/healthz", headers={"X-Request-ID": "json-line-check"}, auth=False)
    access_line(ops_server, "json-line-check")
    for line in json_log(ops_server):
        assert {"time", "level", "logger", "message"} <= set(line)
        assert PASSWORD not in json.dumps(line)
        assert ops_server.token not in json.dumps(line)


def assert_outage(reply: Reply) -> None:
    assert reply.status == 503, reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert 0 < int(reply.headers["Retry-After"]) <= 30
    body = reply.json()
    assert body["status"] == 503
    assert body["request_id"] == reply.headers["X-Request-ID"]


def test_postgresql_outage_is_503_and_the_service_recovers_by_itself(
    tmp_path: Path, static_root: Path
) -> None:
    """PostgreSQL stops under gunicorn: 503 + Retry-After problems, one log line each; back when it is."""
    with postgres_server() as postgres:
        env = production_env(postgres.url, static_root, WEB_CONCURRENCY="2")
        deploy(env)
        server = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            server.token = log_in(server)
            task = server.request("POST", "/tasks", {"title": "before the outage"}).json()

            postgres.stop()
            outage = {
                "list": server.request("GET", "/tasks"),
                "create": server.request("POST", "/tasks", {"title": "during the outage"}),
                "retrieve": server.request("GET", f"/tasks/{task['id']}"),
                "login": server.request("POST", "/auth/token", {"username": USERNAME, "password": PASSWORD}),
            }
            for reply in outage.values():
                assert_outage(reply)
            assert server.request("GET", "/readyz", auth=False).status == 503
            assert server.request("GET", "/healthz", auth=False).status == 200

            postgres.start()
            assert server.request("GET", f"/tasks/{task['id']}").json() == task
            assert server.request("POST", "/tasks", {"title": "after the outage"}).status == 201
            assert server.request("GET", "/tasks").json()["total"] == 2
            log_in(server)
        finally:
            stop_gunicorn(server)
    log = server.log()
    assert "Traceback" not in log
    assert log.count("Database unavailable, answered 503") == len(outage)


def test_sqlite_locked_past_its_busy_timeout_is_503(tmp_path: Path, static_root: Path) -> None:
    """A write that waits out SQLite's busy timeout behind another writer is an outage, not a bug."""
    database = tmp_path / "locked.sqlite3"
    env = production_env(f"sqlite:///{database}", static_root, WEB_CONCURRENCY="1")
    deploy(env)
    server = start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        server.token = log_in(server)
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            assert_outage(server.request("POST", "/tasks", {"title": "blocked"}))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert server.request("POST", "/tasks", {"title": "unblocked"}).status == 201
    finally:
        stop_gunicorn(server)
    assert "Traceback" not in server.log()
    assert "Database unavailable, answered 503: POST /tasks: database is locked" in server.log()


def test_metrics_folder_is_emptied_at_start(tmp_path: Path, static_root: Path) -> None:
    """Counts left in PROMETHEUS_MULTIPROC_DIR by an earlier run are not added to this one's."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"stale")
    env = production_env(
        f"sqlite:///{tmp_path / 'db.sqlite3'}", static_root, PROMETHEUS_MULTIPROC_DIR=str(folder)
    )
    server = start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        assert not (folder / "counter_1.db").exists()
    finally:
        stop_gunicorn(server)
    assert os.path.isdir(folder)  # a folder the environment named is left in place
