"""Log lines that name their request, as plain text or one JSON object per line.

RequestContextMiddleware keeps the request being served in `current_request`;
RequestContextFilter adds its id, user id and route to every record logged
meanwhile. Gunicorn's access log runs after the response, outside that
context: it reads the same values from the response's X-Request-ID header
and the WSGI environ keys the middleware leaves (see config/gunicorn.conf.py).

No Django settings are needed at import: gunicorn's config imports this.
"""

import json
import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)

# WSGI environ keys gunicorn's access log reads as %({tasks.route}e)s etc.
ENVIRON_ROUTE = "tasks.route"
ENVIRON_USER_ID = "tasks.user_id"

UNMATCHED = "(unmatched)"
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@lru_cache(maxsize=512)
def _template(route: str) -> str:
    # DRF's routers and re_path() give regular expressions: show `{pk}`
    # where the pattern has a named group, and drop the anchors.
    route = _NAMED_GROUP.sub(r"{\1}", route)
    return "/" + route.replace("^", "").replace("$", "").replace("/?", "")


def route_of(request: HttpRequest) -> str:
    """The URL pattern that matched, e.g. `/tasks/{pk}`: a label of bounded cardinality."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED  # unknown URLs, and static files WhiteNoise answers first
    return _template(match.route)


def user_id_of(request: HttpRequest) -> int | None:
    """The authenticated user's id, without ever running a query to find it."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        # AuthenticationMiddleware's lazy user: only if something already looked.
        wrapped = user._wrapped  # type: ignore[attr-defined]
        user = None if wrapped is empty else wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "pk", None)


class RequestContextFilter(logging.Filter):
    """Adds `request_id`, `user_id` and `route` of the request being served ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs 4xx and 5xx responses after the middleware has finished,
        # naming the request in the record.
        request = current_request.get() or getattr(record, "request", None)
        if not isinstance(request, HttpRequest):
            record.request_id = record.user_id = record.route = "-"
        else:
            record.request_id = getattr(request, "correlation_id", None) or "-"
            record.user_id = user_id_of(request) or "-"
            record.route = route_of(request)
        return True


# Gunicorn access-log atoms worth a field of their own in JSON.
_ACCESS_FIELDS = {
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "h": "remote_addr",
    "a": "user_agent",
    "{x-request-id}o": "request_id",
    "{tasks.route}e": "route",
    "{tasks.user_id}e": "user_id",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request's context."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "user_id", "route"):
            value = getattr(record, key, "-")
            if value != "-":
                document[key] = value
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            for atom, key in _ACCESS_FIELDS.items():
                atom_value = record.args.get(atom)
                if atom_value in (None, "", "-"):
                    continue
                if key in {"status", "user_id"} and str(atom_value).isdigit():
                    atom_value = int(str(atom_value))
                document[key] = atom_value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, default=str, ensure_ascii=False)
