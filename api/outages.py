"""A database that cannot be reached is an outage (503 with Retry-After), not a bug (500).

Django wraps every driver error in its own class and keeps the driver's
exception as `__cause__`; the driver's error code tells an outage apart from
a bug, which both arrive as `django.db.OperationalError` (SQLite reports a
syntax error and a locked database with the same class).
"""

import logging
import sqlite3

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest

from api import metrics

RETRY_AFTER_SECONDS = 5
DETAIL = "The database is unavailable; try again shortly."

logger = logging.getLogger("api.outages")

# SQLite primary result codes (https://www.sqlite.org/rescode.html): the file
# is locked past the busy timeout, cannot be opened, read or written.
_SQLITE_UNAVAILABLE = {
    5,  # SQLITE_BUSY
    6,  # SQLITE_LOCKED
    10,  # SQLITE_IOERR
    13,  # SQLITE_FULL
    14,  # SQLITE_CANTOPEN
    15,  # SQLITE_PROTOCOL
}
# PostgreSQL SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html):
# connection exception, insufficient resources (too many connections, disk
# full), operator intervention (shutdown, starting up, statement timeout),
# system error. Syntax (42), data (22) and integrity (23) errors stay bugs.
_POSTGRES_UNAVAILABLE = {"08", "53", "57", "58"}


def is_database_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached or cannot answer now."""
    if isinstance(exc, InterfaceError):
        message = str(exc)
        return "connection" in message and "closed" in message
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorcode", 0) & 0xFF in _SQLITE_UNAVAILABLE
    # psycopg's errors from the server carry a SQLSTATE; the client library's
    # own (refused, timed out, connection lost) carry none.
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or sqlstate[:2] in _POSTGRES_UNAVAILABLE


def record_outage(request: HttpRequest, exc: BaseException) -> None:
    """Log the outage as one line, without a traceback, and count it."""
    metrics.DATABASE_UNAVAILABLE.inc()
    reason = " ".join(str(exc).split()) or type(exc).__name__
    logger.error("Database unavailable, answered 503: %s %s: %s", request.method, request.path, reason)
