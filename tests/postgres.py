"""A PostgreSQL server of the test's own, to stop and start under a running service.

Found like .ci/with-postgres finds it: initdb on the PATH or Debian's
/usr/lib/postgresql/*/bin. Without it the test skips, except under CI=true.
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live import free_port


def _find_bin() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


@dataclass
class PostgresServer:
    bin: Path
    folder: Path
    port: int
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/tasks"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / program), *args], check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            f"{self.folder}/data",
            "-l",
            f"{self.folder}/server.log",
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        """A fast shutdown: open connections are cut, as when the server restarts."""
        self._run("pg_ctl", "-D", f"{self.folder}/data", "-m", "fast", "-w", "stop")


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    pg_bin = _find_bin()
    if pg_bin is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) missing: no database to stop under the service"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    run_as: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="tasks-pg-outage-"))
    folder.chmod(0o755)
    if os.getuid() == 0:  # initdb refuses to run as root
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(bin=pg_bin, folder=folder, port=free_port(), run_as=run_as)
    try:
        server._run(
            "initdb",
            "-D",
            f"{folder}/data",
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        server.start()
        server._run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "tasks")
        yield server
    finally:
        subprocess.run(
            [*run_as, str(pg_bin / "pg_ctl"), "-D", f"{folder}/data", "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
