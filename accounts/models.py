from django.db import models
from knox.models import AuthToken


class TokenDetail(models.Model):
    """What knox does not keep about a token: the client that asked for it and when it was last used."""

    token = models.OneToOneField(AuthToken, on_delete=models.CASCADE, primary_key=True, related_name="detail")
    user_agent = models.CharField(max_length=256, blank=True)
    # Written at most once a minute per token (see authentication.py).
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"details of token {self.token_id}"


class LoginFailureCount(models.Model):
    """Failed logins of one client network or one username in the current window.

    One row per key, counted by a single upsert statement (see throttling.py),
    so every worker of every app server sees the same count.
    """

    key = models.CharField(max_length=100, primary_key=True)
    # Unix time in milliseconds: a plain integer reads and compares the same
    # on every database, in the raw upsert as in the ORM.
    window_start = models.BigIntegerField(db_index=True)
    count = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
