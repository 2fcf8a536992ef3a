from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from tasks.sync import sync_log_purge


class Command(BaseCommand):
    help = (
        f"Forget the ids of tasks deleted more than SYNC_RETENTION_DAYS ({settings.SYNC_RETENTION_DAYS}) "
        "days ago; a sync cursor older than them then gets 410. Safe to run at any time, beside the "
        "running service (e.g. daily from cron)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        purged = sync_log_purge()
        self.stdout.write(f"Forgot {purged} deleted task id(s).")
