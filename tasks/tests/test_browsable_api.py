"""The browsable API for people in a browser: Django sessions, HTML pages and forms (SPEC §5)."""

import html
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import PASSWORD
from api.tests.helpers import problem_body
from tasks.models import Task
from tasks.tests.helpers import make_task, make_tasks

HTML = "text/html"
# What the browsable API's ajax-form.js sends with PUT, PATCH and DELETE.
AJAX_ACCEPT = "text/html; q=1.0, */*"
FORM_ENCODED = "application/x-www-form-urlencoded"


@pytest.fixture
def browser(user: Any) -> Client:
    """A browser logged in as `user` by session, with CSRF checks enforced as in production."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token_from(response: Any) -> str:
    """The CSRF token a page's forms carry, as a browser would submit it."""
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


def shown_titles(response: Any) -> list[str]:
    """The task titles in the response body the page shows (HTML-escaped JSON)."""
    body = re.search(r'<div class="response-info".*?</div>', response.text, re.S)
    assert body is not None, "the page shows no response body"
    return [html.unescape(t) for t in re.findall(r"&quot;title&quot;: &quot;(.*?)&quot;", body.group(0))]


def test_list_page_shows_the_users_tasks_and_never_anothers(browser, user, other_user):
    """GET /tasks as HTML with a session lists the caller's tasks only."""
    make_task(owner=user, title="Buy milk")
    make_task(owner=user, title="Walk dog")
    make_task(owner=other_user, title="Secret plan")
    response = browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert shown_titles(response) == ["Buy milk", "Walk dog"]
    assert "Secret plan" not in response.text


def test_detail_page_of_another_users_task_is_404_and_shows_nothing_of_it(browser, other_user):
    """Someone else's task is 404 in the browser too, and its title never appears."""
    task = make_task(owner=other_user, title="Secret plan")
    response = browser.get(reverse("task-detail", args=[task.id]), HTTP_ACCEPT=HTML)
    assert response.status_code == 404
    assert "Secret plan" not in response.text


def test_list_page_has_pagination_controls_when_there_is_more_than_one_page(browser, user):
    """With 25 tasks the first page shows DRF's pagination links: page 2 at offset 20, and next."""
    tasks = make_tasks(25, owner=user)
    response = browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    nav = re.search(r'<ul class="pagination">(.*?)</ul>', response.text, re.S)
    assert nav is not None
    links = [html.unescape(href) for href in re.findall(r'href="([^"#]+)"', nav.group(1))]
    assert "http://testserver/tasks?offset=20" in links
    following = [link for link in links if "cursor=" in link]
    assert len(following) == 1
    assert shown_titles(browser.get(following[0], HTTP_ACCEPT=HTML)) == [t.title for t in tasks[20:]]
    assert len(shown_titles(response)) == 20


def test_numbered_page_links_of_a_cursor_page_skip_rows_without_the_cursor(browser, user):
    """On a page reached by a cursor, the numbered links are plain offsets (a cursor with offset is a 400)."""
    make_tasks(65, owner=user)
    first = browser.get(reverse("task-list"), HTTP_ACCEPT="application/json").json()
    response = browser.get(first["next"], HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    nav = re.search(r'<ul class="pagination">(.*?)</ul>', response.text, re.S)
    assert nav is not None
    links = [html.unescape(href) for href in re.findall(r'href="([^"#]+)"', nav.group(1))]
    numbered = [link for link in links if "cursor=" not in link]
    assert "http://testserver/tasks?limit=20&offset=40" in numbered
    assert len(numbered) < len(links)  # and next is a cursor
    assert all(browser.get(link, HTTP_ACCEPT=HTML).status_code == 200 for link in links)


def test_second_page_shows_the_remaining_tasks_and_a_link_back(browser, user):
    """Following the offset=20 link shows tasks 21-25 and a link to the first page."""
    tasks = make_tasks(25, owner=user)
    response = browser.get(reverse("task-list"), {"offset": 20}, HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert shown_titles(response) == [t.title for t in tasks[20:]]
    nav = re.search(r'<ul class="pagination">(.*?)</ul>', response.text, re.S)
    assert nav is not None
    assert 'href="http://testserver/tasks?limit=20"' in nav.group(1)


def test_list_page_has_no_pagination_controls_for_a_single_page(browser, user):
    """With 20 tasks or fewer there is nothing to page through."""
    make_tasks(20, owner=user)
    response = browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert 'class="pagination"' not in response.text


def test_list_page_offers_the_filter_form(browser, user):
    """The list page has the "Filters" button and a form with every filter parameter."""
    make_task(owner=user)
    response = browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert 'data-target="#filtersModal"' in response.text
    assert "Filters" in response.text
    for name in ["done", "search", "updated_after", "ordering"]:
        assert re.search(rf'<(input|select)[^>]*name="{name}"', response.text), name


def test_search_filter_in_html_shows_only_matching_tasks(browser, user, other_user):
    """GET /tasks?search= as HTML lists only the caller's tasks whose title matches."""
    make_task(owner=user, title="Buy milk")
    make_task(owner=user, title="Walk dog")
    make_task(owner=user, title="MILKSHAKE")
    make_task(owner=other_user, title="Milk the cow")
    response = browser.get(reverse("task-list"), {"search": "milk"}, HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert shown_titles(response) == ["Buy milk", "MILKSHAKE"]


@pytest.mark.parametrize(("form", "done"), [({"done": "true"}, True), ({}, False)])
def test_html_form_post_creates_a_task_owned_by_the_session_user(browser, user, form, done):
    """A form-encoded POST with the page's CSRF token creates a task for the logged-in user."""
    token = csrf_token_from(browser.get(reverse("task-list"), HTTP_ACCEPT=HTML))
    response = browser.post(
        reverse("task-list"),
        urlencode({"csrfmiddlewaretoken": token, "title": "From the form", **form}),
        content_type=FORM_ENCODED,
        HTTP_ACCEPT=HTML,
    )
    assert response.status_code == 201
    task = Task.objects.get()
    assert (task.title, task.done, task.owner_id) == ("From the form", done, user.id)
    assert response["Location"] == f"/tasks/{task.id}"


def test_multipart_html_form_post_creates_a_task(browser, user):
    """The browsable API's own POST form (multipart, checkbox value "true") creates a task."""
    token = csrf_token_from(browser.get(reverse("task-list"), HTTP_ACCEPT=HTML))
    response = browser.post(
        reverse("task-list"),
        {"csrfmiddlewaretoken": token, "title": "Multipart", "done": "true"},
        HTTP_ACCEPT=HTML,
    )
    assert response.status_code == 201
    task = Task.objects.get()
    assert (task.title, task.done, task.owner_id) == ("Multipart", True, user.id)


def test_html_form_patch_edits_the_task(browser, user):
    """A form-encoded PATCH sent like ajax-form.js (X-CSRFToken header) changes only the sent field."""
    task = make_task(owner=user, title="Old", done=True)
    url = reverse("task-detail", args=[task.id])
    token = csrf_token_from(browser.get(url, HTTP_ACCEPT=HTML))
    response = browser.patch(
        url,
        data=urlencode({"title": "New"}),
        content_type=FORM_ENCODED,
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT=AJAX_ACCEPT,
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    task.refresh_from_db()
    assert (task.title, task.done) == ("New", True)


def test_html_form_put_replaces_the_task(browser, user):
    """A form-encoded PUT with the checkbox unticked replaces title and clears done."""
    task = make_task(owner=user, title="Old", done=True)
    url = reverse("task-detail", args=[task.id])
    token = csrf_token_from(browser.get(url, HTTP_ACCEPT=HTML))
    response = browser.put(
        url,
        data=urlencode({"csrfmiddlewaretoken": token, "title": "Replaced"}),
        content_type=FORM_ENCODED,
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT=AJAX_ACCEPT,
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.title, task.done) == ("Replaced", False)


def test_html_form_delete_removes_the_task(browser, user):
    """DELETE from the detail page's button, with the X-CSRFToken header, removes the task.

    The browsable API answers a browser 200 with a page instead of 204 (DRF's choice).
    """
    task = make_task(owner=user)
    url = reverse("task-detail", args=[task.id])
    token = csrf_token_from(browser.get(url, HTTP_ACCEPT=HTML))
    response = browser.delete(url, HTTP_X_CSRFTOKEN=token, HTTP_ACCEPT=AJAX_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert not Task.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_session_write_without_csrf_token_is_403_problem_and_changes_nothing(browser, user, method):
    """A session-authenticated write without a CSRF token is refused with a 403 problem."""
    task = make_task(owner=user, title="Untouched", done=False)
    browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)  # the CSRF cookie is set, the token not sent
    url = reverse("task-list") if method == "post" else reverse("task-detail", args=[task.id])
    response = getattr(browser, method)(
        url, {"title": "Changed", "done": True}, content_type="application/json"
    )
    assert response.status_code == 403
    assert problem_body(response) == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": "CSRF Failed: CSRF token missing.",
    }
    assert list(Task.objects.values_list("id", "title", "done")) == [(task.id, "Untouched", False)]


def test_session_write_with_a_wrong_csrf_token_is_403(browser, user):
    """A token that is not the session's CSRF secret is refused like a missing one."""
    browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    response = browser.post(
        reverse("task-list"), {"title": "Forged"}, content_type="application/json", HTTP_X_CSRFTOKEN="x" * 64
    )
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed:")
    assert not Task.objects.exists()


@pytest.mark.parametrize("page", ["list", "detail"])
def test_logged_in_pages_have_a_logout_form(browser, user, page):
    """The list and the detail page both offer "Log out" to a logged-in user."""
    task = make_task(owner=user)
    url = reverse("task-list") if page == "list" else reverse("task-detail", args=[task.id])
    response = browser.get(url, HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert f'<form id="logoutForm" method="post" action="/api-auth/logout/?next={url}">' in response.text
    assert ">Log out</button>" in response.text
    assert "/api-auth/login/" not in response.text


@pytest.mark.parametrize("page", ["list", "detail"])
def test_anonymous_pages_have_a_login_link(user, page):
    """An anonymous visitor's list and detail pages are 401 with a "Log in" link back to them."""
    task = make_task(owner=user)
    url = reverse("task-list") if page == "list" else reverse("task-detail", args=[task.id])
    response = Client().get(url, HTTP_ACCEPT=HTML)
    assert response.status_code == 401
    assert f"<a href='/api-auth/login/?next={url}'>Log in</a>" in response.text
    assert "logoutForm" not in response.text
    assert task.title not in response.text


def anonymous_list(client: Client, user: Any) -> Any:
    return client.get(reverse("task-list"), HTTP_ACCEPT=HTML)


def missing_task(client: Client, user: Any) -> Any:
    client.force_login(user)
    return client.get(reverse("task-detail", args=[999999]), HTTP_ACCEPT=HTML)


def blank_title_form(client: Client, user: Any) -> Any:
    client.force_login(user)
    return client.post(reverse("task-list"), {"title": ""}, HTTP_ACCEPT=HTML)


@pytest.mark.parametrize(
    ("request_page", "status"), [(anonymous_list, 401), (missing_task, 404), (blank_title_form, 400)]
)
def test_error_pages_for_a_browser_are_labelled_text_html(user, request_page, status):
    """An error page the browsable API renders as HTML is served as text/html, not as problem+json.

    Otherwise the browser shows the markup as text, and ajax-form.js throws the error page
    away (it only displays text/html responses).
    """
    response = request_page(Client(), user)
    assert response.status_code == status
    assert response.text.lstrip().startswith("<!DOCTYPE html>")
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_blank_title_in_the_html_form_shows_the_error_on_the_page(browser, user):
    """A rejected HTML form answers 400 with the field's error on the re-rendered page."""
    token = csrf_token_from(browser.get(reverse("task-list"), HTTP_ACCEPT=HTML))
    response = browser.post(
        reverse("task-list"), {"csrfmiddlewaretoken": token, "title": ""}, HTTP_ACCEPT=HTML
    )
    assert response.status_code == 400
    assert "This field may not be blank." in response.text
    assert not Task.objects.exists()


def test_pages_carry_no_inline_event_handlers_the_csp_blocks(browser, user):
    """The "Log out" link must work under script-src 'self', which blocks onclick= attributes."""
    make_task(owner=user)
    response = browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert re.findall(r"\son[a-z]+=", response.text) == []


def test_pages_carry_no_inline_style_blocks_the_csp_blocks(browser, user):
    """style-src 'self' blocks <style> elements, so the pages load their styles from files."""
    response = browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    assert "style-src 'self';" in response["Content-Security-Policy"]
    assert "<style" not in response.text


def test_session_login_redirects_to_the_task_list(user):
    """Logging in at /api-auth/login/ with username, password and CSRF token leads to /tasks."""
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get("/api-auth/login/"))
    response = client.post(
        "/api-auth/login/",
        {"csrfmiddlewaretoken": token, "username": user.username, "password": PASSWORD, "next": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == "/tasks"
    page = client.get(response["Location"], HTTP_ACCEPT=HTML)
    assert page.status_code == 200
    assert ">Log out</button>" in page.text


def test_session_login_follows_next(user):
    """The "Log in" link's ?next= brings the user back to the page they came from."""
    task = make_task(owner=user)
    url = reverse("task-detail", args=[task.id])
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get("/api-auth/login/", {"next": url}))
    response = client.post(
        "/api-auth/login/",
        {"csrfmiddlewaretoken": token, "username": user.username, "password": PASSWORD, "next": url},
    )
    assert response.status_code == 302
    assert response["Location"] == url


def test_session_login_with_wrong_password_stays_logged_out(user):
    """A wrong password re-renders the login form and starts no session."""
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get("/api-auth/login/"))
    response = client.post(
        "/api-auth/login/", {"csrfmiddlewaretoken": token, "username": user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.text
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("task-list"), HTTP_ACCEPT=HTML).status_code == 401


def test_session_login_without_csrf_token_is_refused(user):
    """The login form is CSRF-protected (no login CSRF)."""
    client = Client(enforce_csrf_checks=True)
    client.get("/api-auth/login/")
    response = client.post("/api-auth/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_session_login_failures_are_throttled_per_client_address(user):
    """After the failed-login limit, /api-auth/login/ refuses even the right password with 429.

    The session login is a password-guessing path like POST /auth/token (SPEC §5).
    """
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get("/api-auth/login/"))
    for _ in range(10):
        response = client.post(
            "/api-auth/login/", {"csrfmiddlewaretoken": token, "username": user.username, "password": "wrong"}
        )
        assert response.status_code == 200
    response = client.post(
        "/api-auth/login/", {"csrfmiddlewaretoken": token, "username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_logout_form_ends_the_session(browser):
    """Submitting the page's logout form ends the session; the list is 401 afterwards."""
    page = browser.get(reverse("task-list"), HTTP_ACCEPT=HTML)
    action = re.search(r'<form id="logoutForm" method="post" action="([^"]+)">', page.text)
    assert action is not None
    response = browser.post(html.unescape(action.group(1)), {"csrfmiddlewaretoken": csrf_token_from(page)})
    assert response.status_code == 302
    assert response["Location"] == "/tasks"
    assert browser.get(reverse("task-list"), HTTP_ACCEPT=HTML).status_code == 401
