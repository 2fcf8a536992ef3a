"""SPEC §9: a TypeScript client generated with openapi-typescript from the served
document, used through openapi-fetch the natural way (ids straight from a task
into a path, a create with only a title), type-checks under `tsc --strict`
and runs a scenario through every operation against the live service."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.scenarios import Account, every_operation, operations_reached
from tests.live import Server

pytestmark = pytest.mark.clients

PROJECT = Path(__file__).resolve().parent / "ts"
BIN = PROJECT / "node_modules" / ".bin"


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def node() -> str:
    """node, with the pinned packages installed from package-lock.json (npm ci) when they are missing."""
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are required in CI (.ci/run installs them)")
        pytest.skip("node and npm are not installed")
    if not (BIN / "tsc").exists() or not (BIN / "openapi-typescript").exists():
        installed = run("npm", "ci", "--no-audit", "--no-fund")
        assert installed.returncode == 0, installed.stdout + installed.stderr
    return node


@pytest.fixture(scope="module")
def generation(node: str, document: bytes) -> str:
    """openapi-typescript's output for the served document, written to generated/schema.ts."""
    (PROJECT / "generated").mkdir(exist_ok=True)
    (PROJECT / "generated" / "openapi.json").write_bytes(document)
    result = run(str(BIN / "openapi-typescript"), "generated/openapi.json", "-o", "generated/schema.ts")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_generation_prints_no_warning(generation):
    """openapi-typescript (and the Redocly linter inside it) warns about nothing in the document."""
    assert "schema.ts" in generation
    assert "warn" not in generation.lower(), generation
    assert "⚠" not in generation, generation


def test_scenario_type_checks_under_strict_and_passes_against_the_live_service(
    generation, node, server: Server, account: Account, document: bytes
):
    """tsc --strict accepts scenario.ts as written; run under node it reaches every operation in the
    document: health and readiness; log in; create, list with filters and paging; read, then 304; PATCH with
    If-Match, then 412 with the stale tag; PUT, DELETE, then 404; a 400 as a problem with `errors`; a create
    retried with its Idempotency-Key, then the key with another body (422); getMe; the tokens of three
    devices, one revoked by id, then all the others; a password change (a wrong old one is a 400, then 204,
    and only the new one logs in); log out, then 401."""
    compiled = run(str(BIN / "tsc"), "-p", ".")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr

    env = {
        **os.environ,
        "TASKS_API_URL": server.base_url,
        "TASKS_API_USERNAME": account.username,
        "TASKS_API_PASSWORD": account.password,
    }
    result = run(node, "build/scenario.js", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    requests = [(line[1], line[2]) for line in lines if line[0] == "request"]
    assert operations_reached(document, requests) == every_operation(document), result.stdout
    steps = {" ".join(line[1:-1]) for line in lines if line[0] == "ok"}
    assert {
        "createTask Idempotency-Key repeated",
        "createTask Idempotency-Key another body",
        "revokeToken",
        "revokeOtherTokens",
        "changePassword wrong old password",
        "changePassword",
        "bodies json",
    } <= steps, result.stdout
