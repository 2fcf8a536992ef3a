from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UnicodeLower(Lower):
    """LOWER() that folds non-ASCII letters on every database."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="unicode_lower", **extra_context)


class VersionField(models.PositiveBigIntegerField):
    """Counts the writes to a row: 1 on insert, one more on every UPDATE.

    A database trigger (tasks/triggers.py) raises it, whatever runs the
    UPDATE: save(), QuerySet.update(), raw SQL. Unlike a timestamp it cannot
    repeat within a clock tick, so it is safe to derive an ETag from.
    """


class TaskQuerySet(models.QuerySet):
    def owned_by(self, user: AbstractBaseUser) -> "TaskQuerySet":
        return self.filter(owner=user)

    def search(self, text: str) -> "TaskQuerySet":
        """Case-insensitive substring match on the title, Unicode-aware."""
        return self.alias(title_lower=UnicodeLower("title")).filter(title_lower__contains=text.lower())

    def set_done(self, done: bool) -> int:
        """Bulk-set `done`; update() skips auto_now, so set updated_at here (a trigger raises version)."""
        return self.update(done=done, updated_at=timezone.now())


class Task(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,  # the composite indexes below all start with owner
    )
    title = models.CharField(max_length=200)
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = VersionField(default=1, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            # Every list query filters by owner, then orders or filters by one
            # of these columns; the trailing id makes the order total.
            models.Index(fields=["owner", "id"], name="task_owner_id"),
            models.Index(fields=["owner", "updated_at", "id"], name="task_owner_updated"),
            models.Index(fields=["owner", "created_at", "id"], name="task_owner_created"),
            models.Index(fields=["owner", "title", "id"], name="task_owner_title"),
            models.Index(fields=["owner", "done", "id"], name="task_owner_done"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def etag(self) -> str:
        """A strong entity tag (RFC 9110 8.8.3) that changes on every write."""
        return f'"{self.pk}-{self.version}"'


class TaskTally(models.Model):
    """How many tasks each owner has, and how many of them are done.

    A list's `total` (unfiltered, or filtered by `done` alone) reads one row
    here instead of running COUNT(*) over the owner's tasks, which grows with
    the table. Database triggers (tasks/triggers.py) keep it exact whatever
    writes the tasks. Not managed by Django, so dumpdata, loaddata (through
    tasks.routers) and flush leave it to the triggers; no foreign key, so
    that flushing users on PostgreSQL does not trip over it (migration 0004).
    """

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        db_constraint=False,
    )
    total = models.BigIntegerField(default=0)
    done = models.BigIntegerField(default=0)

    class Meta:
        managed = False

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.done}/{self.total}"

    @classmethod
    def count_of(cls, owner: AbstractBaseUser, *, done: bool | None = None) -> int:
        """How many tasks `owner` has: all of them, or only those with `done` as given."""
        total, done_count = cls.objects.filter(owner=owner).values_list("total", "done").first() or (0, 0)
        if done is None:
            return total
        return done_count if done else total - done_count
