import re
from typing import Any

from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

HEX_TOKEN = re.compile(rb"[0-9a-f]{1,128}")


class BearerTokenAuthentication(TokenAuthentication):
    """Knox tokens (stored hashed, expiring) sent as `Authorization: Bearer <token>`."""

    def authenticate_credentials(self, token: bytes) -> Any:
        # Knox tokens are hexadecimal. Anything else never reaches the
        # database: non-UTF-8 bytes would crash knox, and PostgreSQL refuses
        # NUL characters in a query.
        if not HEX_TOKEN.fullmatch(token):
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)
