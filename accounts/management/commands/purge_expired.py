from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import expired_purge


class Command(BaseCommand):
    help = (
        "Delete expired bearer tokens and failed-login counts of past windows. "
        "Safe to run at any time and from several hosts at once (cron: every hour)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        tokens, counts = expired_purge()
        self.stdout.write(f"Purged {tokens} expired token(s) and {counts} failed-login count(s).")
