import re
from typing import Any

from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed

HEX_TOKEN = re.compile(rb"[0-9a-f]{1,128}")


class BearerTokenAuthentication(TokenAuthentication):
    """Knox tokens (stored hashed, expiring) sent as `Authorization: Bearer <token>`.

    Knox finds candidate rows by the token's first characters, compares
    digests in Python and, on every request, reads all the user's tokens to
    delete expired ones. Here one indexed query finds the row by its digest
    (the primary key: a SHA-512 of a 256-bit secret, so the lookup's timing
    reveals nothing usable), and expired tokens are deleted at the owner's
    next login instead.
    """

    def authenticate_credentials(self, token: bytes) -> Any:
        # Knox tokens are hexadecimal. Anything else never reaches the
        # database: non-UTF-8 bytes would crash the hashing, and PostgreSQL
        # refuses NUL characters in a query.
        if not HEX_TOKEN.fullmatch(token):
            raise AuthenticationFailed("Invalid token.")
        auth_token = (
            AuthToken.objects.select_related("user").filter(digest=hash_token(token.decode())).first()
        )
        if auth_token is None or (auth_token.expiry is not None and auth_token.expiry <= timezone.now()):
            raise AuthenticationFailed("Invalid token.")
        return self.validate_user(auth_token)
