from typing import Any

from django.core.management.base import BaseCommand

from tasks.idempotency import KEY_LIFETIME, idempotency_purge


class Command(BaseCommand):
    help = (
        f"Delete Idempotency-Key records older than {KEY_LIFETIME}, with their stored responses. "
        "Safe to run at any time and as often as you like (e.g. hourly from cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_purge()
        self.stdout.write(f"Deleted {deleted} expired idempotency key(s).")
