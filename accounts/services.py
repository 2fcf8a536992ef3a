"""Issuing, using and revoking bearer tokens; changing passwords; purging what has expired."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import LoginFailureCount, TokenDetail

# How stale `last_used_at` may be: writing it on every request would turn
# every read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def token_issue(*, user: AbstractBaseUser, user_agent: str) -> tuple[AuthToken, str]:
    """A new token for `user` (one per device) and its secret, which is never stored.

    The user's expired tokens go at the same time: authentication never
    reads them to clean up, as knox's own does.
    """
    with transaction.atomic():
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        token, secret = AuthToken.objects.create(user)
        TokenDetail.objects.create(
            token=token, user_agent=user_agent.replace("\x00", "")[:256], last_used_at=token.created
        )
    return token, secret


def token_mark_used(*, token: AuthToken, now: datetime, recorded: bool) -> None:
    """Record that `token` authenticated a request now, unless that is already known to the minute.

    `recorded`: the token has its detail row. The WHERE clause makes the
    write conditional in the database too, so workers racing on one token
    write once.
    """
    if not recorded:
        # A token issued some other way (knox directly): give it its row.
        TokenDetail.objects.bulk_create([TokenDetail(token=token, last_used_at=now)], ignore_conflicts=True)
        return
    TokenDetail.objects.filter(token=token, last_used_at__lte=now - LAST_USED_PRECISION).update(
        last_used_at=now
    )


def tokens_live(*, user: AbstractBaseUser) -> QuerySet[AuthToken]:
    """`user`'s tokens that still authenticate, newest first."""
    return (
        AuthToken.objects.filter(user=user)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))
        .select_related("detail")
        .order_by("-created", "-token_key")
    )


def token_revoke(*, user: AbstractBaseUser, token_id: str) -> bool:
    """Revoke `user`'s live token `token_id`; False when there is none (someone else's included)."""
    _, deleted = tokens_live(user=user).filter(token_key=token_id).delete()
    return deleted.get(AuthToken._meta.label, 0) > 0


def tokens_revoke(*, user: AbstractBaseUser, keep: AuthToken | None = None) -> None:
    """Revoke every token of `user`, but `keep` when given."""
    tokens = AuthToken.objects.filter(user=user)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    tokens.delete()


def password_change(*, user: AbstractBaseUser, password: str, keep: AuthToken | None = None) -> None:
    """Set `user`'s password and revoke all their tokens but `keep`.

    Sessions need no work: Django ends every session whose stored password
    hash no longer matches (the caller keeps its own with update_session_auth_hash).
    """
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        tokens_revoke(user=user, keep=keep)


def expired_purge() -> tuple[int, int]:
    """Delete expired tokens and login-failure counts of past windows; how many of each went."""
    _, deleted = AuthToken.objects.filter(expiry__lte=timezone.now()).delete()
    window_ms = settings.LOGIN_FAILURE_WINDOW_SECONDS * 1000
    now_ms = int(timezone.now().timestamp() * 1000)
    counts, _ = LoginFailureCount.objects.filter(window_start__lte=now_ms - window_ms).delete()
    return deleted.get(AuthToken._meta.label, 0), counts
