"""The failed-login limit, per client network and per username, shared by every worker.

Each attempt raises its two counters *before* the password is checked, in one
upsert statement that returns the new counts, and gives them back when it was
not a failure. So N+1 simultaneous guesses get exactly N tries, whichever
worker or app server each lands on: there is no read-then-write to race.
Windows are fixed (they start at a key's first failure), so a guesser gets at
most twice the limit across one window's end.
"""

import ipaddress
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils.crypto import salted_hmac
from rest_framework.throttling import BaseThrottle

from accounts.models import LoginFailureCount
from api.problems import PROBLEM_CONTENT_TYPE, problem

TOO_MANY = "Too many failed logins from this address or for this username; try again later."


def client_network(request: HttpRequest) -> str:
    """The client's address (NUM_PROXIES decides which one), an IPv6 one widened to its /64.

    An IPv6 subscriber usually holds a whole /64, so counting single
    addresses would give one guesser 2^64 fresh starts.
    """
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]  # reads only request.META
    try:
        address = ipaddress.ip_address(ident)
    except ValueError:
        return ident[:60]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def _username_key(username: str) -> str:
    # Keyed hash: people type passwords into username fields, and the table
    # should not keep them.
    return salted_hmac("accounts.throttling.username", username).hexdigest()[:40]


class LoginAttempt:
    """One login attempt, already counted as a failure until `succeeded()` says otherwise."""

    def __init__(self, request: HttpRequest, username: str) -> None:
        table = connection.ops.quote_name(LoginFailureCount._meta.db_table)
        window = settings.LOGIN_FAILURE_WINDOW_SECONDS * 1000
        now = int(time.time() * 1000)
        limits = {
            f"address:{client_network(request)}": settings.LOGIN_FAILURES_PER_ADDRESS,
            f"username:{_username_key(username)}": settings.LOGIN_FAILURES_PER_USERNAME,
        }
        # The address row is always locked before the username row, so two
        # attempts never wait on each other in a cycle, and both counters see
        # the attempts in the same order.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} ("key", window_start, "count") VALUES (%s, %s, 1), (%s, %s, 1)
                ON CONFLICT ("key") DO UPDATE SET
                    "count" = CASE WHEN {table}.window_start <= %s THEN 1 ELSE {table}."count" + 1 END,
                    window_start = CASE WHEN {table}.window_start <= %s
                                   THEN excluded.window_start ELSE {table}.window_start END
                RETURNING "key", window_start, "count"
                """,
                [*[value for key in limits for value in (key, now)], now - window, now - window],
            )
            rows = cursor.fetchall()
        self._counted = [(key, start) for key, start, _ in rows]
        waits = [start + window - now for key, start, count in rows if count > limits[key]]
        self.retry_after = max(1, math.ceil(max(waits) / 1000)) if waits else 0
        if self.refused:
            self.succeeded()  # a refused attempt checked no password

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    def succeeded(self) -> None:
        """Not a failure after all (a good password, or no password checked): give the counts back."""
        if not self._counted:
            return
        # Only the windows this attempt was counted in: a window that has
        # started since owes it nothing. One row per statement, in the
        # upsert's order: one UPDATE of both rows could lock them in the
        # other order and deadlock with a concurrent attempt on PostgreSQL.
        for key, start in sorted(self._counted, key=lambda row: not row[0].startswith("address:")):
            LoginFailureCount.objects.filter(key=key, window_start=start, count__gt=0).update(
                count=F("count") - 1
            )
        self._counted = []


def throttle_failed_logins(login_view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Give a Django login form (admin, browsable API) the token endpoint's limit.

    A rejected form is re-displayed with 200; a successful login redirects.
    """

    @wraps(login_view)
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        attempt = LoginAttempt(request, username=request.POST.get("username", ""))
        if attempt.refused:
            refusal = JsonResponse(problem(429, TOO_MANY), status=429, content_type=PROBLEM_CONTENT_TYPE)
            refusal["Retry-After"] = str(attempt.retry_after)
            return refusal
        response = login_view(request, *args, **kwargs)
        if response.status_code != 200 or request.user.is_authenticated:
            attempt.succeeded()
        return response

    return view
