"""Incremental sync (SPEC section 12): GET /tasks/changes reads the change log that triggers keep.

Every write to a task gives it the next number of its owner's counter, in the
writing transaction and under the counter row's lock (tasks/triggers.py), so
one owner's changes commit in the order of their numbers: a read that sees
number n sees every lower number too. The log holds one entry per task, its
latest change (or its deletion), so a page is the entries numbered above the
cursor, lowest first, each task at most once and in its latest state. The
cursor is the number of the last entry delivered: nothing below it can still
appear, nothing above it has been skipped.

A cursor also carries the owner's epoch (drawn anew when TRUNCATE or a repair
resets the log) and a floor: deletions numbered up to it concern no task the
client holds (it started from the beginning after them). A cursor is refused
(410) when its epoch has passed or deletions above its floor were purged.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, Subquery
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException

from tasks.models import ChangeCounter, Task, TaskChange

SALT = "tasks.sync"


class CursorExpired(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = (
        "This cursor is too old: deletions it would need were purged, or the task log was reset. "
        "Sync again from the beginning, without a cursor."
    )


@dataclass(frozen=True)
class SyncCursor:
    owner: int
    epoch: int | None  # the owner's epoch when the cursor was made; None before their first change
    seq: int  # every change numbered up to here has been delivered
    floor: int  # every deletion numbered up to here is delivered or concerns no task the client holds

    def dumps(self) -> str:
        return signing.Signer(salt=SALT).sign_object([self.owner, self.epoch, self.seq, self.floor])


def load_sync_cursor(text: str) -> SyncCursor:
    """The cursor `text` stands for; a ValidationError if this service did not make it."""
    try:
        owner, epoch, seq, floor = signing.Signer(salt=SALT).unsign_object(text)
        return SyncCursor(owner=int(owner), epoch=epoch, seq=int(seq), floor=int(floor))
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError("Not a cursor from GET /tasks/changes; sync from the beginning.") from None


@dataclass(frozen=True)
class ChangesPage:
    tasks: list[Task]
    deleted: list[int]
    cursor: SyncCursor
    more: bool


def changes_since(*, owner: User, cursor: SyncCursor | None, limit: int) -> ChangesPage:
    """The owner's tasks changed and ids deleted after `cursor` (all tasks without one), oldest first."""
    counter = ChangeCounter.objects.filter(owner=owner)
    after = cursor.seq if cursor else 0
    # From the beginning, deletions up to the counter's number concern nothing the client holds.
    floor = cursor.floor if cursor else Subquery(counter.values("seq"))
    # One statement, one snapshot: the entries and the counter they were numbered by.
    entries = list(
        TaskChange.objects.filter(owner=owner, seq__gt=after)
        .filter(Q(deleted=False) | Q(seq__gt=floor))
        .annotate(epoch=Subquery(counter.values("epoch")), counter_seq=Subquery(counter.values("seq")))
        .select_related("task")
        .order_by("seq")[: limit + 1]
    )
    # Read after the entries: a purge or a reset that the entries may have
    # missed is seen here.
    epoch, purged = counter.values_list("epoch", "purged_seq").first() or (None, 0)
    if cursor is not None and cursor.floor > 0 and (cursor.epoch != epoch or purged > cursor.floor):
        raise CursorExpired  # a client that holds nothing (floor 0) has nothing to miss
    more, entries = len(entries) > limit, entries[:limit]
    tasks, deleted = [], []
    for entry in entries:
        task = entry.task
        if entry.deleted or task is None or task.owner_id != entry.owner_id:
            assert entry.task_id is not None  # never null; nullable for the join only
            deleted.append(entry.task_id)
        else:
            tasks.append(task)
    seq = entries[-1].seq if entries else after
    start_floor = cursor.floor if cursor else (entries[0].counter_seq if entries else 0)
    return ChangesPage(
        tasks=tasks,
        deleted=deleted,
        cursor=SyncCursor(
            owner=owner.pk,
            epoch=entries[0].epoch if entries else epoch,
            seq=seq,
            floor=max(start_floor, seq),
        ),
        more=more,
    )


def sync_log_purge() -> int:
    """Forget deletions older than SYNC_RETENTION_DAYS, raising each owner's purged_seq past them.

    One transaction per owner, taking the counter row first as every write
    does, so no deletion is logged for that owner meanwhile and no deadlock.
    """
    cutoff = timezone.now() - timedelta(days=settings.SYNC_RETENTION_DAYS)
    old = TaskChange.objects.filter(deleted=True, changed_at__lt=cutoff)
    purged = 0
    for owner_id in old.values_list("owner_id", flat=True).distinct().order_by():
        with transaction.atomic():
            counter = ChangeCounter.objects.select_for_update().filter(owner_id=owner_id)
            list(counter)
            owned = old.filter(owner_id=owner_id)
            highest = owned.aggregate(highest=Max("seq"))["highest"]
            if highest is None:
                continue
            counter.filter(purged_seq__lt=highest).update(purged_seq=highest)
            purged += owned.filter(seq__lte=highest).delete()[0]
    return purged
