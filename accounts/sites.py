from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from accounts.throttling import throttle_failed_logins


class ThrottledAdminSite(admin.AdminSite):
    site_header = "Tasks API administration"
    site_title = "Tasks API admin"

    def login(  # type: ignore[override]
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponseBase:
        return throttle_failed_logins(super().login)(request, extra_context)
