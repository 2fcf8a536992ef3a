from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils.functional import cached_property

from tasks.models import Task, TaskQuerySet, TaskTally


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
    list_display = ["title", "done", "owner", "created_at", "updated_at"]
    list_filter = ["done", "owner", "created_at", "updated_at"]
    search_fields = ["title"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["owner"]
    paginator = TaskPaginator
    actions = ["mark_done", "mark_not_done"]
    # One count per page, not a second one over the whole table.
    show_full_result_count = False

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
