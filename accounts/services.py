"""Issuing bearer tokens."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from knox.models import AuthToken


def token_issue(*, user: AbstractBaseUser) -> tuple[str, datetime]:
    """A new token for `user` (one per device), and its expiry.

    The user's expired tokens go at the same time: authentication no longer
    reads them on every request to clean up, as knox's own does.
    """
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    token, secret = AuthToken.objects.create(user)
    assert token.expiry is not None
    return secret, token.expiry
