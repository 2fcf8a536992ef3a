from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.problems import PROBLEM_CONTENT_TYPE, problem


class FailedLoginThrottle(SimpleRateThrottle):
    """Limits failed logins per client address; successful logins cost nothing.

    The history lives in the default cache, which all worker processes share,
    so the limit holds however many workers serve the requests.
    """

    scope = "login_failures"
    num_requests: int
    duration: int

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Request, view: Any) -> bool:
        # SimpleRateThrottle.allow_request without recording this request:
        # only record_failure() counts.
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) < self.num_requests

    def record_failure(self) -> None:
        self.throttle_success()


def throttle_failed_logins(login_view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Give a Django login form (admin, browsable API) the token endpoint's limit.

    A rejected form is re-displayed with 200; a successful login redirects.
    """

    @wraps(login_view)
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        throttle = FailedLoginThrottle()
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            wait = throttle.wait()
            refusal = JsonResponse(
                problem(429, "Too many failed logins from this address; try again later."),
                status=429,
                content_type=PROBLEM_CONTENT_TYPE,
            )
            refusal["Retry-After"] = str(int(wait or 1))
            return refusal
        response = login_view(request, *args, **kwargs)
        if response.status_code == 200 and not request.user.is_authenticated:
            throttle.record_failure()
        return response

    return view
