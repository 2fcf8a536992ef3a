"""The servers: this service under gunicorn, and each anchor from a virtualenv of its own."""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.wrk import DONE_FILTER, RETRIEVE
from tests.live import ROOT, Server, free_port, production_env, start_gunicorn, start_server

ANCHORS = Path(os.environ.get("BENCH_ANCHORS", str(ROOT.parent / "shared" / "anchors"))).resolve()
# The anchors' virtualenvs, created on first use and reused while their requirements.txt is unchanged.
VENV_ROOT = Path(os.environ.get("BENCH_VENV_DIR", "/tmp/tasks-bench-venvs"))

OURS = "ours"
OURS_ON_POSTGRES = "ours-pg"
OURS_FEATURES = frozenset({RETRIEVE, DONE_FILTER})
OURS_PACKAGES = ("Django", "djangorestframework", "django-rest-knox", "gunicorn", "orjson", "psycopg")
WORKERS = "2"


@dataclass(frozen=True)
class Anchor:
    """How to serve one anchor, as its README in the anchors folder says.

    In `command`, {bin} is the anchor's virtualenv bin folder and {port} the port;
    in `env`, {db} is the path of the SQLite file.
    """

    folder: str
    label: str
    command: tuple[str, ...]
    env: dict[str, str]
    packages: tuple[str, ...]
    features: frozenset[str]


def gunicorn(app: str) -> tuple[str, ...]:
    return ("{bin}/gunicorn", "-w", WORKERS, "-b", "127.0.0.1:{port}", "--log-level", "warning", app)


SAME_DURABILITY = "NORMAL"  # synchronous=NORMAL in WAL mode, as this service's settings
# In the report's column order, after this service.
ANCHOR_SERVERS = {
    "drf": Anchor(
        "drf_plain",
        "drf_plain anchor",
        gunicorn("drfplain.wsgi:application"),
        {"TASKS_DB": "{db}", "TASKS_SYNC": SAME_DURABILITY},
        ("Django", "djangorestframework", "django-filter", "gunicorn"),
        frozenset({RETRIEVE, DONE_FILTER}),
    ),
    "floor": Anchor(
        "django_floor",
        "django_floor anchor",
        gunicorn("floor.wsgi:application"),
        {"TASKS_DB": "{db}", "TASKS_SYNC": SAME_DURABILITY},
        ("Django", "orjson", "gunicorn"),
        frozenset({RETRIEVE}),
    ),
    "seed": Anchor(
        "seed_fastapi",
        "seed_fastapi anchor (FastAPI)",
        (
            *("{bin}/uvicorn", "app.main:app", "--workers", "1", "--host", "127.0.0.1", "--port", "{port}"),
            *("--log-level", "warning", "--no-access-log"),
        ),
        # As the tutorial leaves it: rollback journal, synchronous=FULL.
        {"DATABASE_URL": "sqlite+aiosqlite:///{db}"},
        ("fastapi", "uvicorn", "sqlalchemy", "aiosqlite", "pydantic"),
        frozenset(),
    ),
    "bare": Anchor(
        "bare_wsgi",
        "bare_wsgi anchor",
        gunicorn("app:application"),
        {"TASKS_DB": "{db}", "BARE_SYNC": SAME_DURABILITY},
        ("gunicorn",),
        frozenset({RETRIEVE}),
    ),
}
SERVERS = (OURS, *ANCHOR_SERVERS)
LABELS = {
    OURS: "this service (SQLite)",
    OURS_ON_POSTGRES: "this service (PostgreSQL)",
    **{name: anchor.label for name, anchor in ANCHOR_SERVERS.items()},
}


def is_ours(server: str) -> bool:
    return server in (OURS, OURS_ON_POSTGRES)


def features(server: str) -> frozenset[str]:
    return OURS_FEATURES if is_ours(server) else ANCHOR_SERVERS[server].features


def anchor_venv(server: str) -> Path:
    """The anchor's virtualenv (its bin folder), created or refreshed from its requirements.txt."""
    folder = ANCHOR_SERVERS[server].folder
    requirements = ANCHORS / folder / "requirements.txt"
    if not requirements.is_file():
        raise SystemExit(f"bench: {requirements} is missing: set BENCH_ANCHORS to the anchors folder")
    venv = VENV_ROOT / folder
    stamp = venv / "installed-requirements.txt"
    wanted = requirements.read_text()
    if stamp.is_file() and stamp.read_text() == wanted:
        return venv / "bin"
    print(f"creating the {folder} virtualenv in {venv}", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    stamp.write_text(wanted)
    return venv / "bin"


def service_env(database_url: str, workdir: Path) -> dict[str, str]:
    """This service's production settings with two workers and no access log (tests/live.py)."""
    static_root = workdir / "static"
    static_root.mkdir(exist_ok=True)
    return production_env(database_url, static_root, WEB_CONCURRENCY=WORKERS)


def start(server: str, database_url: str, workdir: Path, venvs: dict[str, Path], token: str) -> Server:
    """Start `server` on the database; return once it answers."""
    log_path = workdir / f"{server}.log"
    if is_ours(server):
        running = start_gunicorn(service_env(database_url, workdir), log_path)
    else:
        anchor = ANCHOR_SERVERS[server]
        port = free_port()
        fill = {"bin": str(venvs[server]), "port": str(port), "db": database_url.removeprefix("sqlite:///")}
        command = [part.format(**fill) for part in anchor.command]
        # Nothing of this service's configuration (DJANGO_SETTINGS_MODULE above all) reaches an anchor.
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
        env.update((name, value.format(**fill)) for name, value in anchor.env.items())
        cwd = ANCHORS / anchor.folder
        running = start_server(
            command, cwd=cwd, env=env, port=port, log_path=log_path, ready_path="/tasks?limit=1"
        )
    running.token = token
    return running


def worker_pids(server: Server) -> list[int]:
    """A gunicorn master's workers: its children."""
    assert server.process is not None
    pid = server.process.pid
    return sorted(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0  # the process has gone
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def log_tail(server: Server, lines: int = 30) -> str:
    return "\n".join(server.log().splitlines()[-lines:])


def package_versions(python: Path, packages: tuple[str, ...]) -> str:
    code = (
        "import sys, importlib.metadata as m\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        print(name, m.version(name))\n"
        "    except m.PackageNotFoundError:\n"
        "        print(name, 'missing')\n"
    )
    output = subprocess.run([str(python), "-c", code, *packages], capture_output=True, text=True, check=True)
    return ", ".join(output.stdout.split("\n")[:-1])
