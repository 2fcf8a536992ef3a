import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed

from accounts.services import LAST_USED_PRECISION, token_mark_used
from api.compiled import CompiledQuery

HEX_TOKEN = re.compile(rb"[0-9a-f]{1,128}")

User = get_user_model()
TOKEN_FIELDS = [field.attname for field in AuthToken._meta.concrete_fields]
USER_FIELDS = [field.attname for field in User._meta.concrete_fields]

# The token, its user and when it was last used, by the token's digest: one
# indexed read, with its SQL compiled once (api/compiled.py).
TOKEN_BY_DIGEST = CompiledQuery(
    lambda digest: AuthToken.objects.filter(digest=digest).values_list(
        *TOKEN_FIELDS, *(f"user__{name}" for name in USER_FIELDS), "detail__last_used_at"
    ),
    digest="digest-placeholder",
)


class BearerTokenAuthentication(TokenAuthentication):
    """Knox tokens (stored hashed, expiring) sent as `Authorization: Bearer <token>`.

    Knox finds candidate rows by the token's first characters, compares
    digests in Python and, on every request, reads all the user's tokens to
    delete expired ones. Here one indexed query finds the row by its digest
    (the primary key: a SHA-512 of a 256-bit secret, so the lookup's timing
    reveals nothing usable), with its user and last use joined in; expired
    tokens are deleted at the owner's next login or by `purge_expired`. A
    revoked token's row is gone, so revocation holds from the next request,
    on every worker and server. A second query, at most once a minute per
    token, records its last use.
    """

    def authenticate_credentials(self, token: bytes) -> Any:
        # Knox tokens are hexadecimal. Anything else never reaches the
        # database: non-UTF-8 bytes would crash the hashing, and PostgreSQL
        # refuses NUL characters in a query.
        if not HEX_TOKEN.fullmatch(token):
            raise AuthenticationFailed("Invalid token.")
        row = TOKEN_BY_DIGEST.first(digest=hash_token(token.decode()))
        if row is None:
            raise AuthenticationFailed("Invalid token.")
        auth_token = AuthToken.from_db(DEFAULT_DB_ALIAS, TOKEN_FIELDS, row[: len(TOKEN_FIELDS)])
        user = User.from_db(DEFAULT_DB_ALIAS, USER_FIELDS, row[len(TOKEN_FIELDS) : -1])
        auth_token.user = user
        last_used_at = row[-1]
        now = timezone.now()
        if auth_token.expiry is not None and auth_token.expiry <= now:
            raise AuthenticationFailed("Invalid token.")
        result = self.validate_user(auth_token)
        if last_used_at is None or last_used_at <= now - LAST_USED_PRECISION:
            token_mark_used(token=auth_token, now=now, recorded=last_used_at is not None)
        return result
