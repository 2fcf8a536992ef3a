from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


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
