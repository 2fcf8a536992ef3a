from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UnicodeLower(Lower):
    """LOWER() that folds non-ASCII letters on every database."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="unicode_lower", **extra_context)


class TaskQuerySet(models.QuerySet):
    def owned_by(self, user: AbstractBaseUser) -> "TaskQuerySet":
        return self.filter(owner=user)

    def search(self, text: str) -> "TaskQuerySet":
        """Case-insensitive substring match on the title, Unicode-aware."""
        return self.alias(title_lower=UnicodeLower("title")).filter(title_lower__contains=text.lower())

    def set_done(self, done: bool) -> int:
        """Bulk-set `done`; update() skips auto_now, so bump updated_at here."""
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
