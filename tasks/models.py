from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models.functions import Lower
from django.utils import timezone

from api.compiled import CompiledQuery


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


TASK_FIELDS = [field.attname for field in Task._meta.concrete_fields]
# GET /tasks/{id}'s read, compiled once (api/compiled.py).
OWNED_TASK = CompiledQuery(
    lambda owner_id, pk: Task.objects.filter(owner_id=owner_id, pk=pk).values_list(*TASK_FIELDS),
    owner_id=-7_000_000_001,
    pk=-7_000_000_002,
)


def owned_task(*, owner_id: int, pk: int) -> Task | None:
    """The task `pk` if `owner_id` owns it."""
    row = OWNED_TASK.first(owner_id=owner_id, pk=pk)
    return None if row is None else Task.from_db(DEFAULT_DB_ALIAS, TASK_FIELDS, row)


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
        total, done_count = TALLY_OF_OWNER.first(owner_id=owner.pk) or (0, 0)
        if done is None:
            return total
        return done_count if done else total - done_count


# Read on every list request: compiled once (api/compiled.py).
TALLY_OF_OWNER = CompiledQuery(
    lambda owner_id: TaskTally.objects.filter(owner_id=owner_id).values_list("total", "done"),
    owner_id=-7_000_000_001,
)


class IdempotencyKey(models.Model):
    """A POST /tasks made with an Idempotency-Key header, and its response once it has one.

    The unique (owner, key) row is the claim: it is committed before the task
    is created, so a concurrent repeat in any worker process hits the
    constraint and finds the request in flight (`status` still null).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body as canonical JSON.")
    created_at = models.DateTimeField(help_text="When the key was first used; it expires a day later.")
    claimed_at = models.DateTimeField(help_text="When the request now in charge of the key began.")
    claim = models.CharField(max_length=32, help_text="Token of the request in charge of the key.")
    status = models.PositiveSmallIntegerField(
        null=True, help_text="The response's status; null while in flight."
    )
    body = models.JSONField(null=True)
    headers = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.key}"


class ChangeCounter(models.Model):
    """Numbers one owner's task changes for sync (tasks/sync.py); kept by triggers (tasks/triggers.py).

    Each write to a task takes the next number from its owner's row, holding
    the row's lock until commit: one owner's writes commit in the order of
    their numbers. `epoch` is drawn at random when the row is made; TRUNCATE
    and a repair drop the rows, so cursors of an earlier epoch are refused.
    """

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="+",
        db_constraint=False,
    )
    seq = models.PositiveBigIntegerField(default=0, help_text="The number of the owner's latest change.")
    purged_seq = models.PositiveBigIntegerField(
        default=0, help_text="The highest number of a deletion purged; older cursors are refused."
    )
    epoch = models.BigIntegerField()

    class Meta:
        managed = False

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.seq}"


class TaskChange(models.Model):
    """The latest change to one task of one owner: its number, and whether it was a deletion.

    Written only by the triggers of tasks/triggers.py, whatever writes the
    task; a task given to another owner is a deletion for the first. Entries of
    deleted tasks are purged after SYNC_RETENTION_DAYS (manage.py purge_sync_log).
    Not managed by Django, like the tally: dumpdata and loaddata leave it out.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # Nullable only so that select_related() joins with LEFT JOIN: a deleted
    # task's entry outlives the task.
    task = models.ForeignKey(
        Task,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    seq = models.PositiveBigIntegerField(help_text="The number of the change, from the owner's counter.")
    deleted = models.BooleanField(default=False)
    changed_at = models.DateTimeField()

    class Meta:
        managed = False
        constraints = [models.UniqueConstraint(fields=["owner", "task"], name="taskchange_owner_task")]
        indexes = [
            models.Index(fields=["owner", "seq"], name="taskchange_owner_seq"),
            models.Index(
                fields=["owner", "changed_at"], name="taskchange_deleted", condition=models.Q(deleted=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}: task {self.task_id} #{self.seq}{' deleted' if self.deleted else ''}"
