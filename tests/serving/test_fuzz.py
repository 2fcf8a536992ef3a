"""Schema-driven fuzzing of the live service with schemathesis.

Every operation in /openapi.json gets generated valid and invalid requests
(a fixed number per operation, a fixed seed) with a valid bearer token; every
response must be free of server errors and conform to the schema: status
code, content type, headers and body.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import Server

pytestmark = pytest.mark.serving

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def schemathesis(server: Server, tmp_path: Path, *selection: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "st"),
            "run",
            f"{server.base_url}/openapi.json",
            f"--checks={CHECKS}",
            f"--header=Authorization: Bearer {server.token}",
            # As the TLS proxy would forward it: otherwise every answer is the HTTPS redirect.
            "--header=X-Forwarded-Proto: https",
            "--max-examples=100",
            "--seed=20261125",
            "--generation-database=none",
            "--workers=1",
            "--no-color",
            f"--report-dir={tmp_path}",
            *selection,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_every_operation_survives_fuzzing(server: Server, tmp_path: Path) -> None:
    """All operations but log-out, which would revoke the token the others use."""
    result = schemathesis(server, tmp_path, "--exclude-path=/auth/logout")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]


def test_logout_survives_fuzzing(server: Server, tmp_path: Path) -> None:
    """Log-out, fuzzed last and on its own."""
    result = schemathesis(server, tmp_path, "--include-path=/auth/logout")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
