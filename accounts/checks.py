from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from rest_framework.settings import api_settings


@register(Tags.security, deploy=True)
def check_proxy_count(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Behind a proxy, NUM_PROXIES=0 makes every client the proxy's address.

    Trusting X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) says a proxy is in
    front; then the failed-login limit per address would lock every client
    out at once after a few guesses from anywhere.
    """
    if settings.SECURE_PROXY_SSL_HEADER and not api_settings.NUM_PROXIES:
        return [
            Warning(
                "The service trusts X-Forwarded-Proto from a reverse proxy, but NUM_PROXIES is 0: "
                "every client would share the proxy's address in the failed-login limit.",
                hint="Set NUM_PROXIES to the number of proxies that append to X-Forwarded-For (usually 1).",
                id="accounts.W001",
            )
        ]
    return []
