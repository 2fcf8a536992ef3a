from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest
from django.utils.functional import cached_property

from tasks.models import ChangeCounter, Task, TaskChange, TaskQuerySet, TaskTally


class TaskPaginator(Paginator):
    """For the unfiltered changelist, the total is the sum of the owners' tallies
    (one row per user) instead of COUNT(*) over every task."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet) and not self.object_list.query.where:
            return TaskTally.objects.aggregate(total=Sum("total"))["total"] or 0
        return super().count


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "done", "owner", "created_at", "updated_at", "change_seq"]
    list_filter = ["done", "owner", "created_at", "updated_at"]
    search_fields = ["title"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at", "change_seq"]
    list_select_related = ["owner"]
    paginator = TaskPaginator
    actions = ["mark_done", "mark_not_done"]
    # One count per page, not a second one over the whole table.
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        # The number of each task's latest change in the sync log, in the same query.
        entry = TaskChange.objects.filter(owner=OuterRef("owner"), task=OuterRef("pk"), deleted=False)
        return super().get_queryset(request).annotate(change_seq=Subquery(entry.values("seq")))

    @admin.display(description="change #", ordering="change_seq")
    def change_seq(self, task: Task) -> int | None:
        """The number GET /tasks/changes gave the task's latest change (a cursor's position)."""
        return getattr(task, "change_seq", None)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Task], search_term: str
    ) -> tuple[QuerySet[Task], bool]:
        # The same Unicode-aware match as the API's `search` filter.
        if not search_term:
            return queryset, False
        assert isinstance(queryset, TaskQuerySet)
        return queryset.search(search_term), False

    @admin.action(description="Mark selected tasks as done")
    def mark_done(self, request: HttpRequest, queryset: TaskQuerySet) -> None:
        updated = queryset.set_done(True)
        self.message_user(request, f"{updated} task(s) marked done.", messages.SUCCESS)

    @admin.action(description="Mark selected tasks as not done")
    def mark_not_done(self, request: HttpRequest, queryset: TaskQuerySet) -> None:
        updated = queryset.set_done(False)
        self.message_user(request, f"{updated} task(s) marked not done.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look; only the database triggers write (tasks/triggers.py)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TaskChange)
class TaskChangeAdmin(ReadOnlyAdmin):
    """Each task's latest change as sync serves it, and the deletions kept for SYNC_RETENTION_DAYS."""

    list_display = ["seq", "owner", "task_id", "deleted", "changed_at"]
    list_filter = ["deleted", "owner"]
    search_fields = ["owner__username", "=task__id"]
    list_select_related = ["owner"]
    ordering = ["-changed_at"]


@admin.register(ChangeCounter)
class ChangeCounterAdmin(ReadOnlyAdmin):
    """Each owner's latest change number, the highest purged one (older cursors are 410) and the epoch."""

    list_display = ["owner", "seq", "purged_seq", "epoch"]
    search_fields = ["owner__username"]
    list_select_related = ["owner"]
