"""SPEC §9: a Python client generated with openapi-python-client from the served
document works unmodified: generation warns about nothing, every module
imports, bodies go out as JSON, and a scenario through every operation (the
accounts of §11 and the Idempotency-Key of §12 included) passes using only the
generated functions and models."""

import importlib
import os
import pkgutil
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.clients.scenarios import Account, every_operation, operations_reached
from tests.live import Server

pytestmark = pytest.mark.clients

PACKAGE = "tasks_api_client"


@pytest.fixture(scope="module")
def generation(document: bytes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The generated package's folder, on sys.path, and what the generator printed."""
    root = tmp_path_factory.mktemp("python-client")
    (root / "openapi.json").write_bytes(document)
    # The generator formats its output with ruff, which the virtualenv provides.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path=openapi.json",
            "--meta=none",
            f"--output-path={PACKAGE}",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(root))
    try:
        yield root / PACKAGE, output
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def api(generation: tuple[Path, str]) -> dict[str, ModuleType]:
    """Every generated module, imported, by dotted name relative to the package."""
    package = importlib.import_module(PACKAGE)
    modules = {"": package}
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{PACKAGE}."):
        modules[info.name.removeprefix(f"{PACKAGE}.")] = importlib.import_module(info.name)
    return modules


def test_generation_prints_no_warning(generation):
    """openapi-python-client generates the client without a warning or a skipped piece."""
    _, output = generation

    assert "warning" not in output.lower(), output
    assert "skipping" not in output.lower(), output


def test_every_generated_module_imports_and_every_operation_has_its_function(api, document):
    """Every module imports, and each operationId became one module named after it in snake case."""
    operations = {name.rsplit(".", 1)[1] for name in api if name.startswith("api.") and name.count(".") == 2}

    assert operations == {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in every_operation(document)}
    assert {
        "list_tasks",
        "create_task",
        "get_task",
        "replace_task",
        "update_task",
        "delete_task",
        "login",
        "logout",
        "get_health",
        "get_readiness",
        "get_me",
        "list_tokens",
        "revoke_token",
        "revoke_other_tokens",
        "change_password",
    } <= operations


class Recorder:
    """The method and path of every request, and the Content-Type of every one that carries a body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.body_types: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append((request.method, request.url.path))
        if request.content:
            self.body_types.append(request.headers.get("Content-Type", ""))


@dataclass
class Generated:
    """The generated package as an application uses it: operations by name, models, and clients."""

    api: dict[str, ModuleType]
    base_url: str
    recorder: Recorder = field(default_factory=Recorder)

    @property
    def ops(self) -> dict[str, ModuleType]:
        return {
            name.rsplit(".", 1)[1]: module for name, module in self.api.items() if name.startswith("api.")
        }

    @property
    def models(self) -> ModuleType:
        return self.api["models"]

    def _options(self, device: str) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "headers": {"User-Agent": device},
            "httpx_args": {"event_hooks": {"request": [self.recorder]}},
        }

    def anonymous(self, device: str = "tasks-laptop/1.0") -> Any:
        return self.api["client"].Client(**self._options(device))

    def log_in(self, account: Account, device: str, password: str | None = None) -> Any:
        """An authenticated client for `device`, with a token of its own."""
        body = self.models.LoginRequest(username=account.username, password=password or account.password)
        login = self.ops["login"].sync_detailed(client=self.anonymous(device), body=body)
        assert login.status_code == HTTPStatus.OK, login.content
        assert isinstance(login.parsed, self.models.Token)
        return self.api["client"].AuthenticatedClient(token=login.parsed.token, **self._options(device))


def assert_refused(gen: Generated, response: Any) -> None:
    """A 401 parsed as the problem model, with the Bearer challenge."""
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(response.parsed, gen.models.Problem)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def probe(gen: Generated) -> None:
    """The health and readiness checks answer without a token."""
    anonymous = gen.anonymous()
    assert gen.ops["get_health"].sync_detailed(client=anonymous).parsed.status == "ok"
    assert gen.ops["get_readiness"].sync_detailed(client=anonymous).parsed.status == "ok"


def tasks(gen: Generated, client: Any) -> None:
    """Create, list with filters and paging; read, then 304; PATCH with If-Match, then 412 with the stale
    tag; PUT, DELETE, then 404; a 400 as the problem model with `errors`."""
    ops, models = gen.ops, gen.models
    created = ops["create_task"].sync_detailed(client=client, body=models.TaskRequest(title="buy milk"))
    assert created.status_code == HTTPStatus.CREATED
    task = created.parsed
    assert isinstance(task, models.Task)
    assert task.done is False
    assert created.headers["Location"] == f"/tasks/{task.id}"
    for title, done in [("buy bread", False), ("walk the dog", False), ("buy eggs", True)]:
        more = ops["create_task"].sync_detailed(
            client=client, body=models.TaskRequest(title=title, done=done)
        )
        assert more.status_code == HTTPStatus.CREATED

    query = {"done": False, "search": "BUY", "ordering": models.ListTasksOrdering.ID_DESC, "limit": 1}
    first = ops["list_tasks"].sync_detailed(client=client, offset=0, **query)
    second = ops["list_tasks"].sync_detailed(client=client, offset=1, **query)
    assert isinstance(first.parsed, models.PaginatedTaskList)
    assert first.parsed.total == 2
    assert [item.title for item in first.parsed.items + second.parsed.items] == ["buy bread", "buy milk"]
    assert first.parsed.next_ is not None and first.parsed.previous is None  # `next` is a builtin
    assert 'rel="next"' in first.headers["Link"]

    read = ops["get_task"].sync_detailed(client=client, id=task.id)
    assert isinstance(read.parsed, models.Task)
    etag = read.headers["ETag"]
    unchanged = ops["get_task"].sync_detailed(client=client, id=task.id, if_none_match=etag)
    assert unchanged.status_code == HTTPStatus.NOT_MODIFIED
    assert unchanged.parsed is None and unchanged.content == b""
    assert unchanged.headers["ETag"] == etag

    updated = ops["update_task"].sync_detailed(
        client=client, id=task.id, body=models.PatchedTaskRequest(done=True), if_match=etag
    )
    assert isinstance(updated.parsed, models.Task)
    assert updated.parsed.done is True
    assert updated.headers["ETag"] != etag
    stale = ops["update_task"].sync_detailed(
        client=client, id=task.id, body=models.PatchedTaskRequest(title="Lost update"), if_match=etag
    )
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert isinstance(stale.parsed, models.Problem)
    assert stale.parsed.status == 412

    replaced = ops["replace_task"].sync_detailed(
        client=client, id=task.id, body=models.TaskRequest(title="Buy oat milk")
    )
    assert isinstance(replaced.parsed, models.Task)
    assert (replaced.parsed.title, replaced.parsed.done) == ("Buy oat milk", False)

    assert ops["delete_task"].sync_detailed(client=client, id=task.id).status_code == HTTPStatus.NO_CONTENT
    gone = ops["get_task"].sync_detailed(client=client, id=task.id)
    assert gone.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(gone.parsed, models.Problem)

    invalid = ops["create_task"].sync_detailed(client=client, body=models.TaskRequest(title="x" * 201))
    assert invalid.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(invalid.parsed, models.Problem)
    assert [error.pointer for error in invalid.parsed.errors] == ["#/title"]


def retried_create(gen: Generated, client: Any) -> None:
    """A create repeated with its Idempotency-Key replays the first 201 and creates nothing; the same key
    with another body is a 422 problem."""
    ops, models = gen.ops, gen.models
    key = str(uuid.uuid4())
    first = ops["create_task"].sync_detailed(
        client=client, body=models.TaskRequest(title="water the plants"), idempotency_key=key
    )
    retry = ops["create_task"].sync_detailed(
        client=client, body=models.TaskRequest(title="water the plants"), idempotency_key=key
    )
    assert first.status_code == retry.status_code == HTTPStatus.CREATED
    assert isinstance(first.parsed, models.Task) and isinstance(retry.parsed, models.Task)
    assert retry.parsed.id == first.parsed.id
    assert retry.headers["Location"] == first.headers["Location"] == f"/tasks/{first.parsed.id}"
    assert retry.headers["ETag"] == first.headers["ETag"]

    misused = ops["create_task"].sync_detailed(
        client=client, body=models.TaskRequest(title="water the garden"), idempotency_key=key
    )
    assert misused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(misused.parsed, models.Problem)
    assert misused.parsed.status == 422

    listed = ops["list_tasks"].sync_detailed(client=client, search="water")
    assert isinstance(listed.parsed, models.PaginatedTaskList)
    assert [item.id for item in listed.parsed.items] == [first.parsed.id]


def sync(gen: Generated, client: Any) -> None:
    """A local copy kept by listChanges, a few changes a page: it ends equal to the list, and an
    incremental sync brings a create, a change and a deletion; a made-up cursor is a 400 problem."""
    ops, models = gen.ops, gen.models
    copy: dict[int, Any] = {}

    def drain(cursor: str | None = None) -> str:
        while True:
            since = {"cursor": cursor} if cursor else {}  # from the beginning without one
            page = ops["list_changes"].sync_detailed(client=client, limit=2, **since)
            assert isinstance(page.parsed, models.TaskChanges), page.content
            copy.update({task.id: task for task in page.parsed.tasks})
            for deleted in page.parsed.deleted:
                copy.pop(deleted, None)
            cursor = page.parsed.cursor
            if not page.parsed.more:
                return page.parsed.cursor

    def server_tasks() -> dict[int, Any]:
        listed = ops["list_tasks"].sync_detailed(client=client, limit=100)
        assert isinstance(listed.parsed, models.PaginatedTaskList)
        return {task.id: task.to_dict() for task in listed.parsed.items}

    cursor = drain()
    assert {task_id: task.to_dict() for task_id, task in copy.items()} == server_tasks()

    added = ops["create_task"].sync_detailed(client=client, body=models.TaskRequest(title="sync me"))
    assert isinstance(added.parsed, models.Task)
    some = next(task_id for task_id in copy if task_id != added.parsed.id)
    ops["update_task"].sync_detailed(client=client, id=some, body=models.PatchedTaskRequest(done=True))
    ops["delete_task"].sync_detailed(client=client, id=added.parsed.id)
    drain(cursor)
    assert {task_id: task.to_dict() for task_id, task in copy.items()} == server_tasks()
    assert copy[some].done is True and added.parsed.id not in copy

    made_up = ops["list_changes"].sync_detailed(client=client, cursor="made-up")
    assert made_up.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(made_up.parsed, models.Problem)
    assert [error.parameter for error in made_up.parsed.errors] == ["cursor"]


def sessions(gen: Generated, client: Any, account: Account) -> None:
    """getMe names the user; a second device's login makes two tokens, exactly one of them current;
    revoking it by id ends it (401); revoking the others ends a third device's."""
    ops, models = gen.ops, gen.models
    me = ops["get_me"].sync_detailed(client=client)
    assert isinstance(me.parsed, models.Me)
    assert (me.parsed.username, me.parsed.is_staff) == (account.username, False)
    assert me.headers["Cache-Control"] == "no-store"

    phone = gen.log_in(account, device="tasks-phone/2.0")
    listed = ops["list_tokens"].sync_detailed(client=client)
    assert listed.status_code == HTTPStatus.OK
    tokens = listed.parsed
    assert all(isinstance(token, models.TokenListItem) for token in tokens)
    assert [(token.user_agent, token.current) for token in tokens] == [  # newest first
        ("tasks-phone/2.0", False),
        ("tasks-laptop/1.0", True),
    ]
    seen_by_phone = ops["list_tokens"].sync_detailed(client=phone).parsed
    assert [token.id for token in seen_by_phone if token.current] == [tokens[0].id]

    revoked = ops["revoke_token"].sync_detailed(client=client, id=tokens[0].id)
    assert revoked.status_code == HTTPStatus.NO_CONTENT
    assert_refused(gen, ops["get_me"].sync_detailed(client=phone))
    again = ops["revoke_token"].sync_detailed(client=client, id=tokens[0].id)
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(again.parsed, models.Problem)

    tablet = gen.log_in(account, device="tasks-tablet/3.0")
    assert ops["revoke_other_tokens"].sync_detailed(client=client).status_code == HTTPStatus.NO_CONTENT
    assert_refused(gen, ops["get_me"].sync_detailed(client=tablet))
    remaining = ops["list_tokens"].sync_detailed(client=client).parsed
    assert [(token.user_agent, token.current) for token in remaining] == [("tasks-laptop/1.0", True)]


def password_change(gen: Generated, client: Any, account: Account) -> None:
    """A wrong old password is a 400 naming #/old_password, a weak new one names #/new_password; the right
    old one and a strong new one: 204, the other devices are logged out, and only the new password logs in."""
    ops, models = gen.ops, gen.models
    new_password = f"correct horse {uuid.uuid4().hex[:8]} staple"
    phone = gen.log_in(account, device="tasks-phone/2.0")

    wrong = ops["change_password"].sync_detailed(
        client=client,
        body=models.PasswordChangeRequest(old_password="not the password", new_password=new_password),
    )
    assert wrong.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(wrong.parsed, models.Problem)
    assert [error.pointer for error in wrong.parsed.errors] == ["#/old_password"]
    weak = ops["change_password"].sync_detailed(
        client=client,
        body=models.PasswordChangeRequest(old_password=account.password, new_password="12345678"),
    )
    assert weak.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(weak.parsed, models.Problem)
    assert {error.pointer for error in weak.parsed.errors} == {"#/new_password"}

    changed = ops["change_password"].sync_detailed(
        client=client,
        body=models.PasswordChangeRequest(old_password=account.password, new_password=new_password),
    )
    assert changed.status_code == HTTPStatus.NO_CONTENT
    assert ops["get_me"].sync_detailed(client=client).status_code == HTTPStatus.OK
    assert_refused(gen, ops["get_me"].sync_detailed(client=phone))

    old = ops["login"].sync_detailed(
        client=gen.anonymous(),
        body=models.LoginRequest(username=account.username, password=account.password),
    )
    assert old.status_code == HTTPStatus.BAD_REQUEST
    assert isinstance(old.parsed, models.Problem)
    renewed = gen.log_in(account, device="tasks-phone/2.0", password=new_password)
    me = ops["get_me"].sync_detailed(client=renewed)
    assert isinstance(me.parsed, models.Me)
    assert me.parsed.username == account.username


def log_out(gen: Generated, client: Any) -> None:
    """Logging out ends the token: the next request is a 401."""
    assert gen.ops["logout"].sync_detailed(client=client).status_code == HTTPStatus.NO_CONTENT
    assert_refused(gen, gen.ops["list_tasks"].sync_detailed(client=client))


def test_scenario_through_every_operation(api, server: Server, account: Account, document: bytes):
    """Health and readiness; log in; the task operations; a retried create; who am I and the tokens of three
    devices; a password change; log out. Every operation in the document is reached, with JSON bodies."""
    gen = Generated(api, server.base_url)

    # One function per step, in order; a new operation gets a step here, or the check below fails.
    probe(gen)
    laptop = gen.log_in(account, device="tasks-laptop/1.0")
    tasks(gen, laptop)
    retried_create(gen, laptop)
    sync(gen, laptop)
    sessions(gen, laptop, account)
    password_change(gen, laptop, account)
    log_out(gen, laptop)

    assert operations_reached(document, gen.recorder.requests) == every_operation(document)
    assert gen.recorder.body_types, "no request carried a body"
    assert set(gen.recorder.body_types) == {"application/json"}
