from typing import Any

from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class BearerTokenAuthentication(TokenAuthentication):
    """Knox tokens (stored hashed, expiring) sent as `Authorization: Bearer <token>`."""

    def authenticate_credentials(self, token: bytes) -> Any:
        try:
            token.decode("ascii")
        except UnicodeDecodeError:
            # Knox would fail to decode it with a 500; no token is non-ASCII.
            raise AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)
