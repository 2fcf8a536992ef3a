import re
from typing import Any

from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import TokenDetail
from accounts.services import LAST_USED_PRECISION, token_mark_used

HEX_TOKEN = re.compile(rb"[0-9a-f]{1,128}")


class BearerTokenAuthentication(TokenAuthentication):
    """Knox tokens (stored hashed, expiring) sent as `Authorization: Bearer <token>`.

    Knox finds candidate rows by the token's first characters, compares
    digests in Python and, on every request, reads all the user's tokens to
    delete expired ones. Here one indexed query finds the row by its digest
    (the primary key: a SHA-512 of a 256-bit secret, so the lookup's timing
    reveals nothing usable), with its user and details joined in; expired
    tokens are deleted at the owner's next login or by `purge_expired`.
    A second query, at most once a minute per token, records its last use.
    """

    def authenticate_credentials(self, token: bytes) -> Any:
        # Knox tokens are hexadecimal. Anything else never reaches the
        # database: non-UTF-8 bytes would crash the hashing, and PostgreSQL
        # refuses NUL characters in a query.
        if not HEX_TOKEN.fullmatch(token):
            raise AuthenticationFailed("Invalid token.")
        auth_token = (
            AuthToken.objects.select_related("user", "detail")
            .filter(digest=hash_token(token.decode()))
            .first()
        )
        now = timezone.now()
        if auth_token is None or (auth_token.expiry is not None and auth_token.expiry <= now):
            raise AuthenticationFailed("Invalid token.")
        result = self.validate_user(auth_token)
        try:
            stale = auth_token.detail.last_used_at <= now - LAST_USED_PRECISION
        except TokenDetail.DoesNotExist:
            stale = True
        if stale:
            token_mark_used(token=auth_token, now=now)
        return result
