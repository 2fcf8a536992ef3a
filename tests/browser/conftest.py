"""A real Chromium against the app served as in production (see ../serving/live.py).

Gunicorn runs the production settings (DEBUG off, collected static files,
security headers, CSP) on a fresh database. In front of it, a small TLS relay
plays the production proxy: the browser speaks https:// to one origin, so the
Secure cookies, the CSRF origin check and the app's absolute links (the
pagination controls) work as they do for real users. The browser sends
X-Forwarded-Proto itself, as the proxy adds it in production.

Users: `staff` (staff, with the task permissions and view on users, not a
superuser), `alice` and `bob`. Each test touches only the tasks it names with
its own words, so the tests do not depend on their order.
"""

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    WebError,
    expect,
    sync_playwright,
)

from tests.live import (
    ROOT,
    Reply,
    Server,
    fresh_database,
    manage,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium phones home; nothing may
# leave 127.0.0.1.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
TIMEOUT_MS = 10_000
# Assertions wait as long as actions do: CI shares two cores with the server.
expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Account:
    username: str
    password: str


STAFF = Account("staff-sam", "staff-password-5tq9")
ALICE = Account("alice", "alice-password-8kw2")
BOB = Account("bob", "bob-password-3mz7")

CREATE_USERS = f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

User = get_user_model()
staff = User.objects.create_user({STAFF.username!r}, "sam@example.com", {STAFF.password!r}, is_staff=True)
staff.user_permissions.set(
    Permission.objects.filter(content_type__app_label="tasks", content_type__model="task")
    | Permission.objects.filter(content_type__app_label="auth", codename="view_user")
)
User.objects.create_user({ALICE.username!r}, "alice@example.com", {ALICE.password!r})
User.objects.create_user({BOB.username!r}, "bob@example.com", {BOB.password!r})
"""

# Reports every CSP violation of every document to the test (the binding is
# not subject to the page's CSP, and neither is this script).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
});
"""


def require_tool(path: str | None, what: str) -> str:
    """The tool's path; without it, skip on a developer's machine and fail in CI (which installs it)."""
    if path and Path(path).exists():
        return path
    message = f"{what} is not installed; the browser tests need it (CI installs it with apt-get)."
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class TLSRelay:
    """The TLS-terminating proxy's part the browser sees: TLS on a port of its own,
    the bytes passed unchanged to gunicorn."""

    def __init__(self, upstream_port: int, certfile: Path, keyfile: Path) -> None:
        self.upstream_port = upstream_port
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(certfile, keyfile)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="tls-relay", daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(timeout=10)
        self.port: int = self.server.sockets[0].getsockname()[1]

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._relay, "127.0.0.1", 0, ssl=self.tls)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        # Like a real proxy, reach gunicorn only once a request comes: a socket the
        # browser opened ahead of time must not hold a worker.
        try:
            request = await client_reader.read(65536)
            if not request:
                client_writer.close()
                return
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except (ConnectionError, ssl.SSLError, OSError):
            client_writer.close()
            return
        upstream_writer.write(request)
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    async def _shutdown(self) -> None:
        self.server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@dataclass
class LiveApp:
    server: Server
    base_url: str  # https://127.0.0.1:<relay port>, what the browser opens
    certificate_spki: str  # base64 SHA-256 of the relay certificate's public key
    staff: Account = STAFF
    alice: Account = ALICE
    bob: Account = BOB
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def token(self, account: Account) -> str:
        if account.username not in self.tokens:
            credentials = {"username": account.username, "password": account.password}
            reply = self.server.request("POST", "/auth/token", credentials, auth=False)
            assert reply.status == 200, reply.body
            self.tokens[account.username] = reply.json()["token"]
        return self.tokens[account.username]

    def api(self, account: Account, method: str, path: str, body: Any = None) -> Reply:
        """A request straight to gunicorn with the account's bearer token."""
        authorization = {"Authorization": f"Bearer {self.token(account)}"}
        return self.server.request(method, path, body, headers=authorization, auth=False)

    def create_task(self, account: Account, title: str, done: bool = False) -> dict[str, Any]:
        reply = self.api(account, "POST", "/tasks", {"title": title, "done": done})
        assert reply.status == 201, reply.body
        task: dict[str, Any] = reply.json()
        return task

    def tasks(self, account: Account, query: str = "") -> list[dict[str, Any]]:
        """All of the account's tasks matching the query string, in id order."""
        reply = self.api(account, "GET", f"/tasks?limit=100&{query}")
        assert reply.status == 200, reply.body
        items: list[dict[str, Any]] = reply.json()["items"]
        return items


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """Gunicorn with production settings on a fresh database, behind a TLS relay, with three users."""
    require_tool(CHROMIUM, "Chromium (/usr/bin/chromium, Debian package `chromium`)")
    openssl = require_tool(shutil.which("openssl"), "openssl (Debian package `openssl`)")
    tmp_path = tmp_path_factory.mktemp("browser")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(keyfile), "-out", str(certfile)),
        ],
        check=True,
        capture_output=True,
    )
    public_key = subprocess.run(
        [openssl, "pkey", "-in", str(keyfile), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    spki = base64.b64encode(hashlib.sha256(public_key).digest()).decode()
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, tmp_path / "static", WEB_CONCURRENCY="3")
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input")
        manage(env, "shell", "--no-imports", "-c", CREATE_USERS)
        server = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            relay = TLSRelay(server.port, certfile, keyfile)
            try:
                yield LiveApp(server, f"https://127.0.0.1:{relay.port}", certificate_spki=spki)
            finally:
                relay.close()
        finally:
            stop_gunicorn(server)


@pytest.fixture(scope="session")
def browser(app: LiveApp) -> Iterator[Browser]:
    # Chromium trusts the relay's self-signed certificate by its key. (Merely ignoring
    # certificate errors leaves the pages in an error state in which Chromium now and
    # then fails a subresource with ERR_TOO_MANY_RETRIES without sending it.)
    trust = f"--ignore-certificate-errors-spki-list={app.certificate_spki}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, trust], headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


FAILED_RESPONSE = re.compile(r"Failed to load resource: the server responded with a status of (\d+) \(.*\)")


@dataclass
class BrowserWatch:
    """What the pages of one test did: every request, and every console error,
    uncaught exception and CSP violation."""

    host: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (page URL, request URL)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    expected_error_responses: set[tuple[str, int]] = field(default_factory=set)

    def expect_error_response(self, path: str, status: int) -> None:
        """The test navigates to `path` and means to get `status`: Chromium's console line
        "Failed to load resource: ... status of <status>" for that URL is then no problem."""
        self.expected_error_responses.add((f"https://{self.host}{path}", status))

    def on_request(self, request: Request) -> None:
        try:
            page_url = request.frame.page.url
        except Exception:  # a worker's request has no frame
            page_url = "(worker)"
        self.requests.append((page_url, request.url))

    def on_console(self, message: ConsoleMessage) -> None:
        failed = FAILED_RESPONSE.fullmatch(message.text)
        url = message.location.get("url", "")
        if failed and (url, int(failed[1])) in self.expected_error_responses:
            return
        if message.type == "error":
            where = message.page.url if message.page else "(worker)"
            self.console_errors.append(f"{where}: {message.text} [{url}]")

    def on_web_error(self, error: WebError) -> None:
        where = error.page.url if error.page else "(worker)"
        self.page_errors.append(f"{where}: {error.error}")

    def on_csp_violation(self, source: dict[str, Any], violation: dict[str, Any]) -> None:
        self.csp_violations.append(f"{source['page'].url}: {json.dumps(violation)}")

    def off_host_requests(self) -> list[str]:
        """Requests to anywhere but the app; data: URLs load nothing, blob: URLs are the page's own."""
        off_host = []
        for page_url, url in self.requests:
            parts = urlsplit(url.removeprefix("blob:"))
            if parts.scheme == "data" or (parts.scheme == "https" and parts.netloc == self.host):
                continue
            off_host.append(f"{page_url}: {url}")
        return off_host

    def problems(self) -> list[str]:
        return [
            *(f"console error: {line}" for line in self.console_errors),
            *(f"uncaught exception: {line}" for line in self.page_errors),
            *(f"CSP violation: {line}" for line in self.csp_violations),
            *(f"request off the app's host: {line}" for line in self.off_host_requests()),
        ]


@pytest.fixture
def watch(app: LiveApp) -> BrowserWatch:
    return BrowserWatch(host=app.host)


ARTIFACTS_SAVED = pytest.StashKey[list[Path]]()


def save_artifacts(item: pytest.Item, page: Page) -> list[Path]:
    """A full-page screenshot and the HTML of the page as it was, once per test."""
    if ARTIFACTS_SAVED in item.stash:
        return item.stash[ARTIFACTS_SAVED]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / re.sub(r"[^\w.-]+", "_", item.name)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".html")]
    try:
        page.screenshot(path=paths[0], full_page=True)
        paths[1].write_text(page.content())
    except Exception as exc:  # a crashed page still lets the test report its failure
        paths = [Path(f"(could not save the page: {exc})")]
    item.stash[ARTIFACTS_SAVED] = paths
    return paths


@pytest.fixture
def page(
    browser: Browser, app: LiveApp, watch: BrowserWatch, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page in a fresh browser context; at the end, no console errors, uncaught
    exceptions, CSP violations or requests off the app's host."""
    context = browser.new_context(
        base_url=app.base_url,
        extra_http_headers={"X-Forwarded-Proto": "https"},
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.expose_binding("__reportCspViolation", watch.on_csp_violation)
    context.add_init_script(script=CSP_LISTENER)
    context.on("request", watch.on_request)
    context.on("console", watch.on_console)
    context.on("weberror", watch.on_web_error)
    page = context.new_page()
    try:
        yield page
        problems = watch.problems()
        if problems:
            paths = save_artifacts(request.node, page)
            lines = "\n".join(problems)
            pytest.fail(
                f"The pages had problems:\n{lines}\nScreenshot and HTML: {', '.join(map(str, paths))}",
                pytrace=False,
            )
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failing browser test, save the page's screenshot and HTML and name them in the report."""
    report: pytest.TestReport = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and isinstance(page, Page) and not page.is_closed():
        paths = save_artifacts(item, page)
        report.sections.append(("browser artifacts", "\n".join(map(str, paths))))
        print(f"\nbrowser artifacts for {item.nodeid}: {', '.join(map(str, paths))}")
    return report
