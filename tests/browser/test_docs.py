"""The interactive docs in Chromium: Swagger UI at /docs and ReDoc at /redoc, served by the app alone."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import BrowserWatch, LiveApp

pytestmark = pytest.mark.browser

DOCS_TASK = "Read the API docs"


def requested_paths(watch: BrowserWatch) -> set[str]:
    return {urlsplit(url).path for _, url in watch.requests}


def test_swagger_ui_authorizes_with_a_bearer_token_and_runs_the_list_operation(
    page: Page, app: LiveApp, watch: BrowserWatch
) -> None:
    """/docs renders from the app's own host; with a bearer token, "Try it out" on GET /tasks shows a 200
    with the user's tasks."""
    app.create_task(app.bob, DOCS_TASK)
    token = app.token(app.bob)

    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tasks API")
    operation = page.locator("#operations-tasks-listTasks")
    expect(operation).to_be_visible()
    assert {"/docs", "/openapi.json"} <= requested_paths(watch)
    assert {urlsplit(url).netloc for _, url in watch.requests} == {app.host}

    page.locator(".swagger-ui .auth-wrapper").get_by_role("button", name="Authorize").click()
    bearer = page.locator(".auth-container").filter(has_text="bearerAuth")
    bearer.get_by_label("auth-bearer-value").fill(token)
    bearer.get_by_role("button", name="Apply credentials").click()
    expect(bearer.get_by_role("button", name="Remove authorization")).to_be_visible()
    bearer.get_by_role("button", name="Close").click()

    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".live-responses-table .response").first
    expect(response.locator(".response-col_status")).to_have_text("200")
    expect(response.locator(".response-col_description")).to_contain_text(DOCS_TASK)
    expect(operation.locator(".curl-command")).to_contain_text(f"Authorization: Bearer {token}")
    assert "/tasks" in requested_paths(watch)


def test_redoc_renders_the_operations_from_the_apps_own_host(
    page: Page, app: LiveApp, watch: BrowserWatch
) -> None:
    """/redoc shows the API's title and its operations, loading nothing from another host."""
    page.goto("/redoc")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tasks API")
    menu = page.get_by_role("menu").first
    expect(menu).to_contain_text("List the caller's tasks")
    expect(menu).to_contain_text("Exchange a username and password for a bearer token")
    assert {"/redoc", "/openapi.json"} <= requested_paths(watch)
