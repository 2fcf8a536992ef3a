"""The Django admin: staff see, search, filter and edit every user's tasks (SPEC §5)."""

import html
import re
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.tests.factories import PASSWORD, UserFactory
from tasks.models import Task
from tasks.tests.helpers import make_task, make_tasks

CHANGELIST = "/admin/tasks/task/"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def make_user(**kwargs: Any) -> User:
    return cast(User, UserFactory(**kwargs))


@pytest.fixture
def staff_user(db: Any) -> Any:
    return make_user(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(staff_user: Any) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def listed_ids(response: Any) -> set[int]:
    """The ids of the tasks shown as rows of a changelist page."""
    return {int(task_id) for task_id in re.findall(r'href="/admin/tasks/task/(\d+)/change/', response.text)}


def test_staff_user_sees_every_users_tasks(admin_client, user, other_user):
    """The changelist shows tasks of all owners, not only the staff user's own."""
    mine = make_task(owner=user, title="Write report")
    theirs = make_task(owner=other_user, title="Water plants")
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert listed_ids(response) == {mine.id, theirs.id}
    assert "Write report" in response.text
    assert "Water plants" in response.text


def test_non_staff_user_is_redirected_to_the_admin_login(user):
    """A logged-in user without is_staff sees no task list, only the admin login."""
    make_task(owner=user, title="Private thing")
    client = Client()
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={CHANGELIST}"


def test_anonymous_visitor_is_redirected_to_the_admin_login(db):
    """Without a session the changelist redirects to the admin login."""
    response = Client().get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={CHANGELIST}"


@pytest.mark.parametrize("term", ["äpfel", "ÄPFEL", "Äpfel", "pfel k"])
def test_search_by_title_is_case_insensitive_including_non_ascii(admin_client, user, term):
    """?q= matches a substring of the title whatever the case, also for non-ASCII letters."""
    match = make_task(owner=user, title="Äpfel kaufen")
    make_task(owner=user, title="Birnen kaufen")
    make_task(owner=user, title="Apfelsaft")
    response = admin_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    assert listed_ids(response) == {match.id}


def test_search_matches_tasks_of_every_owner(admin_client, user, other_user):
    """The admin search is not limited to one owner."""
    mine = make_task(owner=user, title="Pay rent")
    theirs = make_task(owner=other_user, title="pay taxes")
    make_task(owner=other_user, title="Call mum")
    response = admin_client.get(CHANGELIST, {"q": "PAY"})
    assert listed_ids(response) == {mine.id, theirs.id}


def test_filter_by_done(admin_client, user, other_user):
    """?done__exact=1 lists only done tasks, ?done__exact=0 only open ones."""
    done = [make_task(owner=user, done=True), make_task(owner=other_user, done=True)]
    open_ = [make_task(owner=user, done=False)]
    assert listed_ids(admin_client.get(CHANGELIST, {"done__exact": "1"})) == {t.id for t in done}
    assert listed_ids(admin_client.get(CHANGELIST, {"done__exact": "0"})) == {t.id for t in open_}


def test_filter_by_owner(admin_client, user, other_user):
    """?owner__id__exact= lists only that owner's tasks."""
    theirs = make_tasks(2, owner=other_user)
    make_task(owner=user)
    response = admin_client.get(CHANGELIST, {"owner__id__exact": other_user.id})
    assert response.status_code == 200
    assert listed_ids(response) == {t.id for t in theirs}


def test_owner_filter_links_are_offered(admin_client, user, other_user):
    """The sidebar offers an owner filter link for each user with its id."""
    make_task(owner=user)
    response = admin_client.get(CHANGELIST)
    assert f'href="?owner__id__exact={other_user.id}"' in response.text


def test_filter_by_created_date_uses_the_links_the_changelist_offers(admin_client, user):
    """Following the "Today" link of the created_at date filter hides tasks created long ago."""
    today = make_task(owner=user, title="Fresh")
    old = make_task(owner=user, title="Stale")
    Task.objects.filter(pk=old.pk).update(created_at=LONG_AGO)
    changelist = admin_client.get(CHANGELIST)
    links = re.findall(r'<a href="(\?created_at__gte=[^"]*)">Today</a>', changelist.text)
    assert len(links) == 1
    query = html.unescape(links[0])
    assert "created_at__lt=" in query
    response = admin_client.get(CHANGELIST + query)
    assert response.status_code == 200
    assert listed_ids(response) == {today.id}


def test_filter_by_created_before_a_date(admin_client, user):
    """A created_at__lt bound built like the date filter's lists only older tasks."""
    make_task(owner=user)
    old = make_task(owner=user)
    Task.objects.filter(pk=old.pk).update(created_at=LONG_AGO)
    response = admin_client.get(
        CHANGELIST,
        {"created_at__gte": "2019-12-31 00:00:00+00:00", "created_at__lt": "2020-01-02 00:00:00+00:00"},
    )
    assert response.status_code == 200
    assert listed_ids(response) == {old.id}


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [("mark_done", False, True), ("mark_not_done", True, False)],
)
def test_bulk_action_changes_exactly_the_selected_tasks_and_bumps_updated_at(
    admin_client, user, other_user, action, before, after
):
    """A bulk action sets `done` on the selected tasks only, bumping their updated_at."""
    selected = [make_task(owner=user, done=before), make_task(owner=other_user, done=before)]
    unselected = make_task(owner=user, done=before)
    Task.objects.update(updated_at=LONG_AGO)
    response = admin_client.post(
        CHANGELIST, {"action": action, "_selected_action": [t.id for t in selected]}, follow=True
    )
    assert response.status_code == 200
    expected_message = "2 task(s) marked done." if after else "2 task(s) marked not done."
    assert expected_message in response.text
    for task in selected:
        task.refresh_from_db()
        assert task.done is after
        assert task.updated_at > LONG_AGO
    unselected.refresh_from_db()
    assert unselected.done is before
    assert unselected.updated_at == LONG_AGO


def test_change_form_edits_title_done_and_owner(admin_client, user, other_user):
    """POSTing the change form saves a new title, done flag and owner."""
    task = make_task(owner=user, title="Old title", done=False)
    Task.objects.filter(pk=task.pk).update(updated_at=LONG_AGO)
    response = admin_client.post(
        f"{CHANGELIST}{task.id}/change/",
        {"title": "New title", "done": "on", "owner": other_user.id, "_save": "Save"},
    )
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    task.refresh_from_db()
    assert (task.title, task.done, task.owner_id) == ("New title", True, other_user.id)
    assert task.updated_at > LONG_AGO


def test_change_form_rejects_a_blank_title_and_changes_nothing(admin_client, user):
    """A change form with an empty title re-renders with an error; the task is unchanged."""
    task = make_task(owner=user, title="Keep me")
    response = admin_client.post(
        f"{CHANGELIST}{task.id}/change/", {"title": "", "owner": user.id, "_save": "Save"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.text
    task.refresh_from_db()
    assert task.title == "Keep me"


def test_add_form_creates_a_task_for_another_user(admin_client, staff_user, other_user):
    """Staff can create a task owned by someone else."""
    response = admin_client.post(f"{CHANGELIST}add/", {"title": "Assigned by staff", "owner": other_user.id})
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.title, task.done, task.owner_id) == ("Assigned by staff", False, other_user.id)
    assert not Task.objects.filter(owner=staff_user).exists()


def test_delete_confirmation_deletes_the_task(admin_client, user):
    """Confirming on the delete page removes that task and no other."""
    task = make_task(owner=user)
    kept = make_task(owner=user)
    confirmation = admin_client.get(f"{CHANGELIST}{task.id}/delete/")
    assert confirmation.status_code == 200
    response = admin_client.post(f"{CHANGELIST}{task.id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert list(Task.objects.values_list("id", flat=True)) == [kept.id]


def test_change_form_picks_the_owner_with_an_autocomplete_widget(admin_client, user):
    """The owner field is an autocomplete select, not a <select> of every user."""
    UserFactory.create_batch(3)
    task = make_task(owner=user)
    response = admin_client.get(f"{CHANGELIST}{task.id}/change/")
    assert response.status_code == 200
    owner_select = re.search(r'<select name="owner"[^>]*>', response.text)
    assert owner_select is not None
    tag = owner_select.group(0)
    assert 'class="admin-autocomplete"' in tag
    assert 'data-ajax--url="/admin/autocomplete/"' in tag
    assert 'data-field-name="owner"' in tag
    # Only the current owner is rendered as an option; others are fetched on demand.
    select_body = response.text[owner_select.end() : response.text.index("</select>", owner_select.end())]
    assert re.findall(r'<option value="(\d+)"', select_body) == [str(user.id)]


def test_owner_autocomplete_endpoint_finds_users_by_part_of_the_username(admin_client):
    """The autocomplete view returns the users whose username contains the term."""
    wanted = make_user(username="gretchen.mueller")
    make_user(username="hans")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "tasks", "model_name": "task", "field_name": "owner", "term": "chen.mu"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "results": [{"id": str(wanted.id), "text": "gretchen.mueller"}],
        "pagination": {"more": False},
    }


def test_owner_autocomplete_endpoint_is_closed_to_non_staff(user):
    """A user without staff rights cannot list usernames through the autocomplete view."""
    client = Client()
    client.force_login(user)
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "tasks", "model_name": "task", "field_name": "owner", "term": "user"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


CHANGELIST_QUERIES = 5


@pytest.mark.parametrize("task_count", [3, 60])
def test_changelist_query_count_does_not_grow_with_the_table(
    admin_client, django_assert_num_queries, task_count
):
    """The changelist costs the same queries for 3 or 60 tasks, and counts no task rows.

    Prevents an N+1 fetching each row's owner (list_select_related), a second
    COUNT over the whole table (show_full_result_count=False), and the paginator's
    own COUNT(*) over every task: the unfiltered total sums the owners' tallies.
    """
    make_tasks(task_count)  # each with its own owner
    with django_assert_num_queries(CHANGELIST_QUERIES) as captured:
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(listed_ids(response)) == task_count
    assert f"{task_count} tasks" in response.text
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts == []
    assert any("tasks_tasktally" in q["sql"] for q in captured.captured_queries)


def test_search_shows_no_full_result_count(admin_client, user, django_assert_num_queries):
    """A filtered changelist counts the matches only, never "(N total)" of the whole table.

    Prevents a second, unfiltered COUNT over the whole table on every search.
    """
    make_tasks(5, owner=user)
    match = make_task(owner=user, title="Needle")
    with django_assert_num_queries(CHANGELIST_QUERIES) as captured:
        response = admin_client.get(CHANGELIST, {"q": "needle"})
    assert response.status_code == 200
    assert listed_ids(response) == {match.id}
    assert "1 result" in response.text
    assert "total)" not in response.text
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1


def test_admin_login_failures_are_throttled_per_client_address(staff_user):
    """After the failed-login limit, the admin login refuses even the right password with 429.

    The admin login form is a password-guessing path like POST /auth/token (SPEC §5).
    """
    client = Client()
    for _ in range(10):
        response = client.post("/admin/login/", {"username": "admin", "password": "wrong", "next": "/admin/"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
