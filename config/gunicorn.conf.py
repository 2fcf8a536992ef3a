"""Gunicorn configuration: `gunicorn -c config/gunicorn.conf.py`.

Every value comes from the environment, with defaults for a small host.
https://docs.gunicorn.org/en/stable/settings.html
"""

import json
import os
import shutil
import tempfile
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.glogging import Logger  # type: ignore[import-untyped]

# Every worker writes its metrics to files here and a scrape adds them up
# (prometheus-client's multiprocess mode). It must be set before the app, and
# so prometheus_client, is imported. A configuration reload (SIGHUP) reruns
# this file and keeps the folder.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tasks-metrics-")
    os.environ["TASKS_OWN_METRICS_DIR"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Sync workers, measured against gthread with keep-alive (2 cores, 2 workers,
# SQLite, 10,000 tasks, wrk with 32 connections, 2026-11-29): gthread with 2 or
# 4 threads served no more requests/s (list 456-411 against 469, create 214-402
# against 370-401, patch 376-413 against 381-432) and its p99 was 1.3 to 2 times
# sync's (list 136 against 95 ms, patch 158-200 against 107 ms): the threads of
# a worker queue on one interpreter lock, and a request waits behind whichever
# thread holds it. Sync workers also keep a stuck request to one process.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM, requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Load the app once in the master: workers fork ready to serve (a recycled
# worker costs a fork, not an import of Django) and share its memory pages.
# No database connection is opened before the fork.
preload_app = True
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "5000"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# The request id is the response's X-Request-ID; the route and user id are
# WSGI environ keys the app sets (api/logs.py).
access_log_format = os.environ.get(
    "GUNICORN_ACCESS_LOG_FORMAT",
    '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" '
    "request_id=%({x-request-id}o)s route=%({tasks.route}e)s user_id=%({tasks.user_id}e)s",
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Trust X-Forwarded-* only from the proxy on this host.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# What the API needs, and no more: its longest request line (a listing with
# every filter and a 200-character search, percent-encoded) is under 3 KB; a
# browser sends about 20 header fields, the proxy adds a few; the largest
# field is a Cookie or Referer. Beyond these gunicorn refuses the request
# itself (414, 431), before the app reads it.
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", "4094"))
limit_request_fields = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELDS", "50"))
limit_request_field_size = int(os.environ.get("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "8190"))


def write_problem(sock: object, status_int: int, reason: str, mesg: str) -> None:
    """Gunicorn's own error responses (a request line too long, too many header
    fields, a malformed request) as problem documents, like every other error
    (SPEC §6), instead of its HTML page."""
    try:
        title = HTTPStatus(status_int).phrase  # as api.problems titles every problem
    except ValueError:
        title = reason
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status_int, "detail": mesg or f"{reason}."}
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


# Workers call util.write_error by name at the moment they answer, so this
# reaches them all; tests/serving/test_gunicorn_limits.py holds it to that.
util.write_error = write_problem


class JsonLogger(Logger):
    """Gunicorn's error and access logs as one JSON object per line, like the app's."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from api.logs import JsonFormatter

        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())


# DJANGO_LOG_FORMAT is checked by the settings, which refuse anything else.
if os.environ.get("DJANGO_LOG_FORMAT") == "json":
    logger_class = JsonLogger


def on_starting(server: Any) -> None:
    """Counts left by an earlier run would be added to this one's: start from none."""
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's counters stay in the sum; its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the metrics folder this file made (not one the environment named)."""
    if os.environ.get("TASKS_OWN_METRICS_DIR") == os.environ["PROMETHEUS_MULTIPROC_DIR"]:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
