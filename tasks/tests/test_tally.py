"""The per-owner task tally behind an unfiltered list's `total`, kept by database triggers."""

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import reverse

from accounts.tests.factories import UserFactory
from tasks.models import Task, TaskTally
from tasks.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def tallies() -> dict[int, int]:
    return dict(TaskTally.objects.filter(total__gt=0).values_list("owner_id", "total"))


def counted() -> dict[int, int]:
    return dict(Task.objects.values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"))


def test_tally_follows_api_creates_and_deletes(api_client: Any, user: Any) -> None:
    """Creating and deleting through the API moves the tally by one each time."""
    ids = [
        api_client.post(reverse("task-list"), {"title": f"t{n}"}, format="json").data["id"] for n in range(3)
    ]
    api_client.delete(reverse("task-detail", args=[ids[0]]))
    assert TaskTally.count_of(user) == 2
    assert tallies() == counted()


def test_tally_follows_bulk_operations_and_owner_changes(user: Any, other_user: Any) -> None:
    """bulk_create, QuerySet.delete() and moving a task to another owner all keep the tally exact."""
    Task.objects.bulk_create([Task(owner=user, title=f"bulk {n}") for n in range(5)])
    TaskFactory.create_batch(2, owner=other_user)
    Task.objects.filter(owner=user, title__in=["bulk 0", "bulk 1"]).delete()
    moved = Task.objects.filter(owner=user).first()
    assert moved is not None
    moved.owner = other_user
    moved.save()
    Task.objects.filter(owner=other_user).update(title="renamed")  # not a move: no change

    assert (TaskTally.count_of(user), TaskTally.count_of(other_user)) == (2, 3)
    assert tallies() == counted()


def test_tally_goes_with_a_deleted_user(user: Any, other_user: Any) -> None:
    """Deleting a user cascades to their tasks and their tally; others are untouched."""
    TaskFactory.create_batch(3, owner=user)
    TaskFactory.create_batch(2, owner=other_user)
    get_user_model().objects.filter(pk=user.pk).delete()
    assert not TaskTally.objects.filter(owner_id=user.pk).exists()
    assert tallies() == counted() == {other_user.pk: 2}


def test_unfiltered_list_total_reads_the_tally(
    api_client: Any, user: Any, django_assert_num_queries: Any
) -> None:
    """The unfiltered total comes from the tally (one row), not from COUNT(*) over the tasks."""
    TaskFactory.create_batch(4, owner=user)
    TaskFactory.create_batch(3, owner=UserFactory())
    with django_assert_num_queries(3) as captured:
        response = api_client.get(reverse("task-list"), {"ordering": "-title", "limit": 2})
    assert response.data["total"] == 4
    assert not any("COUNT(" in query["sql"].upper() for query in captured.captured_queries)
    assert any("tasks_tasktally" in query["sql"] for query in captured.captured_queries)


def test_filtered_list_total_counts_the_matching_tasks(api_client: Any, user: Any) -> None:
    """With a filter, total is the number of matching tasks, not the owner's tally."""
    TaskFactory.create_batch(3, owner=user, done=True)
    TaskFactory.create_batch(2, owner=user, done=False)
    assert api_client.get(reverse("task-list"), {"done": "true"}).data["total"] == 3
    assert api_client.get(reverse("task-list"), {"done": ""}).data["total"] == 5
