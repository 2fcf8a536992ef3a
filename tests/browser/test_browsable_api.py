"""The browsable API as a developer uses it in Chromium: log in, page, filter, create, edit, log out."""

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import BrowserWatch, LiveApp

pytestmark = pytest.mark.browser

# Alice's 25 errands: four mention groceries, every fourth is done.
ERRANDS = [
    (f"Errand {n:02d}: buy groceries" if n in (3, 8, 13, 21) else f"Errand {n:02d}", n % 4 == 0)
    for n in range(1, 26)
]
GROCERIES = [
    "Errand 03: buy groceries",
    "Errand 08: buy groceries",
    "Errand 13: buy groceries",
    "Errand 21: buy groceries",
]
# Bob's task: its words must never reach Alice's pages, not even when she searches for groceries.
BOBS_SECRET = "zebra-umbrella"
BOBS_TITLE = f"Bob's groceries: {BOBS_SECRET}"
# The computed transform of a dialog at rest.
IDENTITY = "matrix(1, 0, 0, 1, 0, 0)"


def shown_response(page: Page) -> tuple[str, Any]:
    """The status line and the JSON body the page shows in its response panel."""
    page.wait_for_load_state()
    text = page.locator(".response-info pre").inner_text()
    head, _, body = text.partition("\n\n")
    return head.splitlines()[0], json.loads(body)


def shown_titles(page: Page) -> list[str]:
    status, body = shown_response(page)
    assert status == "HTTP 200 OK"
    return [item["title"] for item in body["items"]]


def assert_no_secret(page: Page) -> None:
    assert BOBS_SECRET not in page.content()


def open_filters(page: Page) -> Locator:
    """Open DRF's Filters modal and wait out Bootstrap's slide-in: a click on the
    form while the dialog still moves can land on the backdrop, which closes it."""
    page.get_by_role("button", name="Filters").click()
    # Not get_by_role: DRF's modal keeps aria-hidden="true" while it is open.
    filters = page.locator("#filtersModal")
    expect(filters).to_be_visible()
    expect(filters.locator(".modal-dialog")).to_have_css("transform", IDENTITY)
    return filters


def test_user_logs_in_pages_filters_creates_edits_and_logs_out(
    page: Page, app: LiveApp, watch: BrowserWatch
) -> None:
    """A user logs in by the Log in link, pages, filters, creates and edits by the HTML forms, logs out,
    and sees only their own tasks throughout."""
    for title, done in ERRANDS:
        app.create_task(app.alice, title, done=done)
    app.create_task(app.bob, BOBS_TITLE)
    assert [task["title"] for task in app.tasks(app.alice)] == [title for title, _ in ERRANDS]
    # Before logging in, and again after logging out, /tasks is the 401 page with a Log in link.
    watch.expect_error_response("/tasks", 401)

    page.goto("/tasks")
    expect(page.locator(".response-info")).to_contain_text("HTTP 401 Unauthorized")
    page.get_by_role("link", name="Log in").click()
    expect(page).to_have_url(f"{app.base_url}/api-auth/login/?next=/tasks")
    page.get_by_label("Username").fill(app.alice.username)
    page.get_by_label("Password").fill(app.alice.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{app.base_url}/tasks")
    expect(page.locator(".navbar")).to_contain_text(app.alice.username)
    status, body = shown_response(page)
    assert status == "HTTP 200 OK"
    assert body["total"] == 25
    assert [item["title"] for item in body["items"]] == [title for title, _ in ERRANDS[:20]]
    assert_no_secret(page)

    pagination = page.locator("ul.pagination")
    expect(pagination.locator("li.active")).to_have_text("1")
    pagination.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"/tasks\?cursor=[^&]+&limit=20$"))  # seeks to page 2
    expect(pagination.locator("li.active")).to_have_text("2")
    assert shown_titles(page) == [title for title, _ in ERRANDS[20:]]
    assert_no_secret(page)
    pagination.get_by_role("link", name="1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/tasks\?limit=20$"))
    expect(pagination.locator("li.active")).to_have_text("1")
    assert shown_titles(page) == [title for title, _ in ERRANDS[:20]]

    filters = open_filters(page)
    expect(filters.get_by_label("Done")).to_have_value("")  # no filter on done until one is chosen
    filters.get_by_label("Search").fill("groceries")
    filters.locator("button", has_text="Submit").click()
    expect(page).to_have_url(re.compile(r"/tasks\?.*search=groceries"))
    assert shown_titles(page) == GROCERIES
    assert_no_secret(page)

    open_filters(page)
    expect(filters.get_by_label("Search")).to_have_value("groceries")
    filters.get_by_label("Done").select_option("true")
    filters.locator("button", has_text="Submit").click()
    expect(page).to_have_url(re.compile(r"/tasks\?.*done=true"))
    assert shown_titles(page) == ["Errand 08: buy groceries"]

    page.goto("/tasks")
    page.get_by_role("link", name="HTML form").first.click()
    # DRF's horizontal form labels are not tied to their inputs, so by name.
    create = page.locator("#post-object-form form")
    create.locator("input[name=title]").fill("Return the library books")
    create.get_by_role("button", name="POST").click()
    expect(page.locator(".request-info")).to_contain_text("POST /tasks")
    status, created = shown_response(page)
    assert status == "HTTP 201 Created"
    assert created["title"] == "Return the library books"
    assert created["done"] is False
    assert app.tasks(app.alice, "search=library") == [created]

    page.goto(f"/tasks/{created['id']}")
    page.get_by_role("link", name="HTML form").first.click()
    edit = page.locator("#put-object-form form")
    expect(edit.locator("input[name=title]")).to_have_value("Return the library books")
    edit.locator("input[name=title]").fill("Return the library books by Friday")
    edit.locator("input[name=done]").check()
    edit.get_by_role("button", name="PUT").click()
    expect(page.locator(".request-info")).to_contain_text("PUT")
    status, edited = shown_response(page)
    assert status == "HTTP 200 OK"
    assert (edited["id"], edited["title"], edited["done"]) == (
        created["id"],
        "Return the library books by Friday",
        True,
    )
    assert app.tasks(app.alice, "search=library") == [edited]
    assert_no_secret(page)

    # Logging out leads back to the page it was on, now the 401 page.
    watch.expect_error_response(f"/tasks/{created['id']}", 401)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{app.base_url}/tasks/{created['id']}")
    expect(page.locator(".response-info")).to_contain_text("HTTP 401 Unauthorized")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    expect(page.locator(".navbar")).not_to_contain_text(app.alice.username)
    assert "library" not in page.content()
    assert_no_secret(page)
