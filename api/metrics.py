"""Prometheus metrics: requests by route and status, latency, database queries, outages.

Under gunicorn every worker writes its values to files in
PROMETHEUS_MULTIPROC_DIR (config/gunicorn.conf.py sets it up) and a scrape
adds up all workers' files, so the numbers hold whichever worker answers.
"""

import os
import time
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to produce the response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_QUERIES = Counter("db_queries", "Database queries run while answering requests, by route.", ["route"])
DB_SECONDS = Counter(
    "db_query_duration_seconds",
    "Time spent in database queries while answering requests, by route.",
    ["route"],
)
DATABASE_UNAVAILABLE = Counter(
    "database_unavailable_responses", "Requests answered 503 because the database could not be reached."
)


class QueryTimer:
    """A connection.execute_wrapper that counts and times one request's queries."""

    __slots__ = ("count", "seconds")

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


# labels() validates and locks on every call; the set of routes is small and
# fixed, so each combination's children are looked up once per process.
_children: dict[tuple[str, str, int], tuple[Any, Any, Any, Any]] = {}


def observe(*, method: str, route: str, status: int, seconds: float, queries: QueryTimer) -> None:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
            DB_QUERIES.labels(route),
            DB_SECONDS.labels(route),
        )
    requests, latency, db_queries, db_seconds = children
    requests.inc()
    latency.observe(seconds)
    if queries.count:
        db_queries.inc(queries.count)
        db_seconds.inc(queries.seconds)


def exposition() -> bytes:
    """The text exposition format, summed over every worker's files when there are several."""
    # prometheus-client's own variable, read where the library reads it: its
    # presence decided at import whether values go to files.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return generate_latest(registry)
