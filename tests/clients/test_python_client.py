"""SPEC §9: a Python client generated with openapi-python-client from the served
document works unmodified: generation warns about nothing, every module
imports, bodies go out as JSON, and a scenario through every operation passes
using only the generated functions and models."""

import importlib
import os
import pkgutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.live import PASSWORD, USERNAME, Server

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


def test_every_generated_module_imports_and_every_operation_has_its_function(api):
    """Every module imports, and each operationId became one module named after it."""
    operations = {name.rsplit(".", 1)[1] for name in api if name.startswith("api.") and name.count(".") == 2}

    assert operations == {
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
    }


class Recorder:
    """The Content-Type of every request that carries a body."""

    def __init__(self) -> None:
        self.body_types: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        if request.content:
            self.body_types.append(request.headers.get("Content-Type", ""))


def test_scenario_through_every_operation(api, server: Server):
    """Log in; create, list with filters and paging; read, then 304; PATCH with If-Match, then 412 with the
    stale tag; PUT, DELETE, then 404; a 400 as the problem model with `errors`; log out, then 401."""
    ops = {name.rsplit(".", 1)[1]: module for name, module in api.items() if name.startswith("api.")}
    models = api["models"]
    client_module = api["client"]
    recorder = Recorder()
    httpx_args: dict[str, Any] = {"event_hooks": {"request": [recorder]}}
    anonymous = client_module.Client(base_url=server.base_url, httpx_args=httpx_args)

    assert ops["get_health"].sync_detailed(client=anonymous).parsed.status == "ok"
    assert ops["get_readiness"].sync_detailed(client=anonymous).parsed.status == "ok"

    login = ops["login"].sync_detailed(
        client=anonymous, body=models.LoginRequest(username=USERNAME, password=PASSWORD)
    )
    assert login.status_code == HTTPStatus.OK
    assert isinstance(login.parsed, models.Token)
    client = client_module.AuthenticatedClient(
        base_url=server.base_url, token=login.parsed.token, httpx_args=httpx_args
    )

    tag = uuid.uuid4().hex[:8]  # the TypeScript scenario shares the user
    created = ops["create_task"].sync_detailed(
        client=client, body=models.TaskRequest(title=f"{tag} buy milk")
    )
    assert created.status_code == HTTPStatus.CREATED
    task = created.parsed
    assert isinstance(task, models.Task)
    assert task.done is False
    assert created.headers["Location"] == f"/tasks/{task.id}"
    for title, done in [("buy bread", False), ("walk the dog", False), ("buy eggs", True)]:
        more = ops["create_task"].sync_detailed(
            client=client, body=models.TaskRequest(title=f"{tag} {title}", done=done)
        )
        assert more.status_code == HTTPStatus.CREATED

    query = {"done": False, "search": f"{tag} BUY", "ordering": models.ListTasksOrdering.ID_DESC, "limit": 1}
    first = ops["list_tasks"].sync_detailed(client=client, offset=0, **query)
    second = ops["list_tasks"].sync_detailed(client=client, offset=1, **query)
    assert isinstance(first.parsed, models.PaginatedTaskList)
    assert first.parsed.total == 2
    assert [item.title for item in first.parsed.items + second.parsed.items] == [
        f"{tag} buy bread",
        f"{tag} buy milk",
    ]
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

    assert ops["logout"].sync_detailed(client=client).status_code == HTTPStatus.NO_CONTENT
    refused = ops["list_tasks"].sync_detailed(client=client)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert isinstance(refused.parsed, models.Problem)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")

    assert recorder.body_types, "no request carried a body"
    assert set(recorder.body_types) == {"application/json"}
