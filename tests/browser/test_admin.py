"""The Django admin as staff use it in Chromium: create, find, bulk-complete, edit and delete tasks."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveApp

pytestmark = pytest.mark.browser


def listed_titles(page: Page) -> list[str]:
    """The titles in the change list, as shown (once the page has loaded)."""
    page.wait_for_load_state()
    return sorted(page.locator("#result_list tbody th.field-title a").all_inner_texts())


def open_task(page: Page, title: str) -> None:
    page.locator("#result_list").get_by_role("link", name=title, exact=True).click()
    expect(page.locator("#id_title")).to_have_value(title)


def test_staff_creates_finds_completes_edits_and_deletes_tasks(page: Page, app: LiveApp) -> None:
    """Staff log in, create a task for another user picked by autocomplete, find tasks by search and
    filters, mark several done in bulk, edit one and delete one."""
    for title in ("ficus: water", "ficus: repot", "ficus: fertilise"):
        app.create_task(app.bob, title)
    app.create_task(app.staff, "ficus: buy a pot")  # another owner's, for the owner filter
    app.create_task(app.bob, "cactus: water")  # outside the search

    page.goto("/admin/")
    expect(page).to_have_url(f"{app.base_url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(app.staff.username)
    page.get_by_label("Password").fill(app.staff.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_have_text("Tasks API administration")
    page.locator("#content-main tr.model-task").get_by_role("link", name="Tasks", exact=True).click()
    expect(page.locator("h1")).to_have_text("Select task to change")

    page.get_by_role("link", name="Add task", exact=True).click()
    page.get_by_label("Title").fill("ficus: prune")
    page.locator(".field-owner .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").press_sequentially("bo")
    choices = page.locator(".select2-results__option")
    expect(choices).to_have_text([app.bob.username])
    choices.filter(has_text=app.bob.username).click()
    expect(page.locator(".field-owner .select2-selection__rendered")).to_have_text(app.bob.username)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_have_text(
        "The task “ficus: prune” was added successfully."
    )
    assert [task["title"] for task in app.tasks(app.bob, "search=prune")] == ["ficus: prune"]

    page.locator("#searchbar").fill("ficus")
    page.locator("#changelist-search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/admin/tasks/task/\?q=ficus$"))
    assert listed_titles(page) == [
        "ficus: buy a pot",
        "ficus: fertilise",
        "ficus: prune",
        "ficus: repot",
        "ficus: water",
    ]

    owner_filter = page.locator('#changelist-filter details[data-filter-title="owner"]')
    owner_filter.get_by_role("link", name=app.bob.username, exact=True).click()
    expect(page.locator("#searchbar")).to_have_value("ficus")
    expect(owner_filter.locator("li.selected")).to_have_text(app.bob.username)
    assert listed_titles(page) == ["ficus: fertilise", "ficus: prune", "ficus: repot", "ficus: water"]

    for title in ("ficus: water", "ficus: repot", "ficus: prune"):
        row = page.locator("#result_list tbody tr").filter(
            has=page.get_by_role("link", name=title, exact=True)
        )
        row.locator("input.action-select").check()
    expect(page.locator(".action-counter")).to_have_text("3 of 4 selected")
    page.locator("select[name=action]").select_option(label="Mark selected tasks as done")
    page.get_by_role("button", name="Go", exact=True).click()
    expect(page.locator(".messagelist .success")).to_have_text("3 task(s) marked done.")

    done_filter = page.locator('#changelist-filter details[data-filter-title="done"]')
    done_filter.get_by_role("link", name="Yes", exact=True).click()
    expect(done_filter.locator("li.selected")).to_have_text("Yes")
    expect(page.locator("#searchbar")).to_have_value("ficus")
    assert listed_titles(page) == ["ficus: prune", "ficus: repot", "ficus: water"]
    done_filter.get_by_role("link", name="No", exact=True).click()
    expect(done_filter.locator("li.selected")).to_have_text("No")
    assert listed_titles(page) == ["ficus: fertilise"]

    open_task(page, "ficus: fertilise")
    page.get_by_label("Title").fill("ficus: fertilise monthly")
    page.get_by_label("Done").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_have_text(
        "The task “ficus: fertilise monthly” was changed successfully."
    )
    # Saving returns to the change list with the search and filters kept: now no task is left undone.
    expect(page.locator("#searchbar")).to_have_value("ficus")
    expect(page.locator("#result_list")).to_have_count(0)

    done_filter.get_by_role("link", name="All", exact=True).click()
    open_task(page, "ficus: repot")
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.locator("#content")).to_contain_text("Are you sure you want to delete the task")
    page.get_by_role("button", name="Yes, I\N{RIGHT SINGLE QUOTATION MARK}m sure").click()
    expect(page.locator(".messagelist .success")).to_have_text(
        "The task “ficus: repot” was deleted successfully."
    )
    assert listed_titles(page) == ["ficus: fertilise monthly", "ficus: prune", "ficus: water"]

    # Other tests add tasks of their own to these users: look at this test's plants only.
    plants = app.tasks(app.bob, "search=ficus") + app.tasks(app.bob, "search=cactus")
    assert {task["title"]: task["done"] for task in plants} == {
        "ficus: water": True,
        "ficus: prune": True,
        "ficus: fertilise monthly": True,
        "cactus: water": False,
    }
    staffs = app.tasks(app.staff, "search=ficus")
    assert [(task["title"], task["done"]) for task in staffs] == [("ficus: buy a pot", False)]
