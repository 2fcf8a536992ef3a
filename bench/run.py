"""Load benchmark of issue 6: this service against the two anchors in ../shared/anchors.

    make bench                                                  # the whole run
    python3 bench/run.py --duration 3 --repeats 1 --no-scale    # a quick smoke run

Starts every server itself on a fresh copy of a seeded database, drives it
with wrk and the Lua scripts in bench/scenarios/, and prints a markdown
report (see bench/README.md). Python standard library only: this service runs
from the project's .venv, each anchor from a virtualenv of its own.
"""

import argparse
import http.client
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import seed_sqlite

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "bench" / "scenarios"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
ANCHORS = Path(os.environ.get("BENCH_ANCHORS", str(ROOT.parent / "shared" / "anchors"))).resolve()
# The anchors' virtualenvs, created on first use and reused while their requirements.txt is unchanged.
VENV_ROOT = Path(os.environ.get("BENCH_VENV_DIR", "/tmp/tasks-bench-venvs"))

SCENARIOS = {
    "list": "GET /tasks?limit=20",
    "deep": "GET /tasks?limit=20&offset=ROWS-20",
    "retrieve": "GET /tasks/{random id}",
    "create": 'POST /tasks {"title": ...}',
    "patch": 'PATCH /tasks/{random id} {"done": true|false}',
    "mixed": "40% list, 40% retrieve, 10% create, 10% patch",
}
WRITE_SCENARIOS = ("create", "patch", "mixed")
SERVERS = ("ours", "bare", "fastapi")
OURS_ON_POSTGRES = "ours-pg"
SERVER_LABELS = {
    "ours": "this service (SQLite)",
    OURS_ON_POSTGRES: "this service (PostgreSQL)",
    "bare": "bare_wsgi anchor",
    "fastapi": "seed_fastapi anchor",
}
SCALE_SIZES = (1_000, 100_000, 1_000_000)
SCALE_SCENARIOS = ("list", "deep")

WARMUP_SECONDS = 1
WRK_TIMEOUT = "30s"  # a slower request is a wrk "timeout" and leaves the latency statistics
# The anchors ignore the token; they get the same header so that every server reads the same bytes.
PLACEHOLDER_TOKEN = "0" * 64

# Issue 6's targets.
MIN_RATIO_TO_BARE = 0.5
MIN_RATIO_TO_FASTAPI = 8.0
MAX_WRITE_P99_MS = 50.0
MAX_SCALE_RATIO = 2.0
MAX_WORKER_RSS_MB = 80.0


def log(message: str) -> None:
    """Progress goes to stderr; the report to stdout."""
    print(message, file=sys.stderr, flush=True)


def fail(message: str) -> NoReturn:
    log(f"bench: {message}")
    raise SystemExit(2)


# --- data --------------------------------------------------------------------------------------


@dataclass
class Database:
    """A seeded database. Every run works on a copy of it, so each run starts from the same rows."""

    kind: str  # "sqlite" (location: a file) or "postgres" (location: a database name)
    location: str
    rows: int
    token: str = ""  # this service's bearer token; empty for the anchors


@dataclass
class Running:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path


@dataclass
class WrkResult:
    requests_per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    non_2xx: int = 0  # statuses >= 300, counted by the Lua scripts
    last_bad_status: int = 0
    socket_errors: int = 0  # connect, read, write and timeout errors


@dataclass
class Measurement:
    server: str
    scenario: str
    repeat: int
    rows: int
    wrk: WrkResult
    worker_rss_mb: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Bench:
    """What every run needs: the options, a scratch folder and the seeded databases."""

    args: argparse.Namespace
    workdir: Path
    secret_key: str
    postgres_url: str = ""  # a server's URL when this service also runs on PostgreSQL
    databases: dict[str, Database] = field(default_factory=dict)  # by server name, --rows tasks
    scale_databases: dict[int, Database] = field(default_factory=dict)  # by size
    copy_count: int = 0


# --- tools and versions ------------------------------------------------------------------------


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        fail("wrk is missing: install Debian's wrk package (apt-get install wrk) or run as root")
    log("wrk is missing: installing Debian's wrk package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    if not shutil.which("wrk"):
        fail("apt-get did not install wrk")


def anchor_venv(anchor: str) -> Path:
    """The anchor's virtualenv (its bin folder), created or refreshed from its requirements.txt."""
    requirements = ANCHORS / anchor / "requirements.txt"
    if not requirements.is_file():
        fail(f"{requirements} is missing: the anchors live in ../shared/anchors (or set BENCH_ANCHORS)")
    venv = VENV_ROOT / anchor
    stamp = venv / "installed-requirements.txt"
    wanted = requirements.read_text()
    if stamp.is_file() and stamp.read_text() == wanted:
        return venv / "bin"
    log(f"creating the {anchor} virtualenv in {venv}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    stamp.write_text(wanted)
    return venv / "bin"


def package_versions(python: Path, packages: list[str]) -> str:
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


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def total_memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def report_header(bench: Bench, venvs: dict[str, Path]) -> list[str]:
    args = bench.args
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    sqlite_version = subprocess.run(
        [str(PROJECT_PYTHON), "-c", "import sqlite3; print(sqlite3.sqlite_version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = [
        "# Tasks API load benchmark (issue 6)",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} CPUs ({cpu_model()}), {total_memory_gib():.1f} GiB RAM, "
        f"Linux {platform.release()}",
        f"- Python {platform.python_version()}, SQLite {sqlite_version}, wrk {wrk_version.split()[1]}",
        "- This service: "
        + package_versions(
            PROJECT_PYTHON,
            ["Django", "djangorestframework", "django-rest-knox", "gunicorn", "orjson", "psycopg"],
        ),
    ]
    if "bare" in venvs:
        lines.append("- bare_wsgi anchor: " + package_versions(venvs["bare"] / "python", ["gunicorn"]))
    if "fastapi" in venvs:
        names = ["fastapi", "uvicorn", "sqlalchemy", "aiosqlite", "pydantic"]
        lines.append("- seed_fastapi anchor: " + package_versions(venvs["fastapi"] / "python", names))
    lines.append(
        f"- Runs: {args.connections} connections, {args.duration} s per run after a {WARMUP_SECONDS} s "
        f"warm-up, {args.repeats} repeat(s), wrk -t{wrk_threads(args.connections)} --latency; every run on "
        "a fresh copy of the seeded database"
        + ("" if args.scale_only else f"; {args.rows:,} tasks of one user outside the scale section")
    )
    return lines


# --- databases ---------------------------------------------------------------------------------


def service_env(bench: Bench, database_url: str) -> dict[str, str]:
    """Production settings, like tasks/tests/serving/live.py: DEBUG off, the checked-in gunicorn config."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GUNICORN_")) and key not in {"DATABASE_URL", "WEB_CONCURRENCY"}
    }
    static_root = bench.workdir / "static"
    static_root.mkdir(exist_ok=True)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DJANGO_SECRET_KEY=bench.secret_key,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_STATIC_ROOT=str(static_root),
        DATABASE_URL=database_url,
        GUNICORN_ACCESS_LOG="",
        WEB_CONCURRENCY="2",
    )
    return env


def database_url(bench: Bench, kind: str, location: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{location}"
    return urlunsplit(urlsplit(bench.postgres_url)._replace(path=f"/{location}"))


def postgres_execute(bench: Bench, sql: str) -> None:
    """One statement on the server's `postgres` database, with psycopg from the project's virtualenv."""
    admin_url = urlunsplit(urlsplit(bench.postgres_url)._replace(path="/postgres"))
    code = (
        "import sys, psycopg\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as connection:\n"
        "    connection.execute(sys.argv[2])\n"
    )
    subprocess.run([str(PROJECT_PYTHON), "-c", code, admin_url, sql], check=True)


def seed_service_database(bench: Bench, kind: str, rows: int) -> Database:
    """Migrate a new database and seed it with bench/seed_service.py."""
    name = f"service_{kind}_{rows}"
    if kind == "sqlite":
        location = str(bench.workdir / f"{name}.sqlite3")
    else:
        location = f"bench_{uuid.uuid4().hex[:12]}"
        postgres_execute(bench, f'CREATE DATABASE "{location}"')
    env = service_env(bench, database_url(bench, kind, location))
    token_file = bench.workdir / f"{name}.token"
    started = time.monotonic()
    run_checked([str(PROJECT_PYTHON), "manage.py", "migrate", "--no-input"], env)
    run_checked([str(PROJECT_PYTHON), "bench/seed_service.py", str(rows), str(token_file)], env)
    log(f"seeded this service on {kind} with {rows:,} tasks in {time.monotonic() - started:.1f} s")
    return Database(kind, location, rows, token_file.read_text().strip())


def seed_anchor_database(bench: Bench, rows: int) -> Database:
    path = bench.workdir / f"anchor_{rows}.sqlite3"
    seed_sqlite.seed(path, rows)
    return Database("sqlite", str(path), rows)


def run_checked(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def copy_database(bench: Bench, database: Database) -> str:
    """A copy of the seeded database for one run: a file copy, or CREATE DATABASE ... TEMPLATE."""
    bench.copy_count += 1
    if database.kind == "sqlite":
        copy = bench.workdir / f"run_{bench.copy_count}.sqlite3"
        shutil.copyfile(database.location, copy)
        return str(copy)
    copy_name = f"bench_run_{uuid.uuid4().hex[:12]}"
    postgres_execute(bench, f'CREATE DATABASE "{copy_name}" TEMPLATE "{database.location}"')
    return copy_name


def remove_database(bench: Bench, kind: str, location: str) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(location + suffix).unlink(missing_ok=True)
    else:
        postgres_execute(bench, f'DROP DATABASE IF EXISTS "{location}" WITH (FORCE)')


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(
    bench: Bench, name: str, port: int, command: list[str], cwd: Path, env: dict[str, str]
) -> Running:
    log_path = bench.workdir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    return Running(name, port, process, log_path)


def start_server(
    bench: Bench, server: str, database: Database, location: str, venvs: dict[str, Path]
) -> Running:
    port = free_port()
    if server in ("ours", OURS_ON_POSTGRES):
        env = service_env(bench, database_url(bench, database.kind, location))
        env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
        command = [str(PROJECT_PYTHON), "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
        running = start_process(bench, server, port, command, ROOT, env)
        ready_path = "/healthz"
    elif server == "bare":
        env = {**os.environ, "TASKS_DB": location, "BARE_SYNC": "NORMAL"}
        gunicorn = str(venvs["bare"] / "gunicorn")
        command = [
            gunicorn,
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "app:application",
        ]
        running = start_process(bench, server, port, command, ANCHORS / "bare_wsgi", env)
        ready_path = "/tasks?limit=1"
    elif server == "fastapi":
        env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{location}"}
        command = [
            str(venvs["fastapi"] / "uvicorn"),
            "app.main:app",
            "--workers",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        running = start_process(bench, server, port, command, ANCHORS / "seed_fastapi", env)
        ready_path = "/tasks?limit=1"
    else:
        raise ValueError(server)
    try:
        wait_until_ready(running, ready_path)
    except BaseException:
        stop_server(running)
        raise
    return running


def wait_until_ready(running: Running, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            fail(f"{running.name} exited while starting:\n{log_tail(running)}")
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    fail(f"{running.name} did not answer GET {path} within 60 s:\n{log_tail(running)}")


def stop_server(running: Running) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if running.process.poll() is None:
        running.process.terminate()
        try:
            running.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


def log_tail(running: Running, lines: int = 30) -> str:
    text = running.log_path.read_text(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is `parent`: a gunicorn master's workers."""
    children = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
        except OSError:
            continue  # the process has gone
        # "pid (command) state ppid ...": the command may contain spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == parent:
            children.append(int(stat_file.parent.name))
    return sorted(children)


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


# --- wrk ---------------------------------------------------------------------------------------


def wrk_threads(connections: int) -> int:
    return max(1, min(os.cpu_count() or 1, connections))


def run_wrk(
    port: int, scenario: str, rows: int, seconds: int, connections: int, token: str, has_retrieve: bool
) -> WrkResult:
    command = [
        "wrk",
        f"-t{wrk_threads(connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={WRK_TIMEOUT}",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        "X-Forwarded-Proto: https",
        "-H",
        "Accept: application/json",
        "-s",
        f"{scenario}.lua",
        f"http://127.0.0.1:{port}",
        "--",
        str(rows),
        "" if has_retrieve else "noretrieve",
    ]
    result = subprocess.run(command, cwd=SCENARIO_DIR, capture_output=True, text=True, timeout=seconds + 120)
    if result.returncode != 0 or "Requests/sec" not in result.stdout:
        fail(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return parse_wrk_output(result.stdout)


TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * TIME_UNITS_MS[match.group(2)]


def parse_wrk_output(output: str) -> WrkResult:
    """Read wrk's summary, its --latency distribution and the BENCH line of the Lua scripts."""
    result = WrkResult()
    if match := re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE):
        result.requests_per_second = float(match.group(1))
    if match := re.search(r"^\s+(\d+) requests in", output, re.MULTILINE):
        result.requests = int(match.group(1))
    if match := re.search(r"^\s+50(?:\.000)?%\s+(\S+)", output, re.MULTILINE):
        result.p50_ms = parse_duration_ms(match.group(1))
    if match := re.search(r"^\s+99(?:\.000)?%\s+(\S+)", output, re.MULTILINE):
        result.p99_ms = parse_duration_ms(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result.socket_errors = sum(int(number) for number in match.groups())
    if match := re.search(r"^BENCH non2xx=(\d+) status=(\d+)", output, re.MULTILINE):
        result.non_2xx = int(match.group(1))
        result.last_bad_status = int(match.group(2))
    elif match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        result.non_2xx = int(match.group(1))  # the scripts' line is missing: wrk's own count (>= 400)
    return result


# --- one run -----------------------------------------------------------------------------------


def measure(
    bench: Bench, server: str, database: Database, scenario: str, repeat: int, venvs: dict[str, Path]
) -> Measurement:
    """Start `server` on a fresh copy of `database`, warm it up, run the scenario, stop it."""
    args = bench.args
    token = database.token or PLACEHOLDER_TOKEN
    has_retrieve = server != "fastapi"
    location = copy_database(bench, database)
    try:
        running = start_server(bench, server, database, location, venvs)
        try:
            run_wrk(
                running.port, "list", database.rows, WARMUP_SECONDS, args.connections, token, has_retrieve
            )
            workers_before = child_pids(running.process.pid)
            wrk = run_wrk(
                running.port, scenario, database.rows, args.duration, args.connections, token, has_retrieve
            )
            measurement = Measurement(server, scenario, repeat, database.rows, wrk)
            if server in ("ours", OURS_ON_POSTGRES):
                workers_after = child_pids(running.process.pid)
                measurement.worker_rss_mb = [rss_mb(pid) for pid in workers_after]
                if workers_after != workers_before:
                    measurement.notes.append("workers restarted during the run")
            if running.process.poll() is not None:
                measurement.notes.append(f"server exited with {running.process.returncode}")
            if wrk.non_2xx or wrk.socket_errors or measurement.notes:
                log(
                    f"  {server} {scenario}: {wrk.non_2xx} non-2xx (last status {wrk.last_bad_status}), "
                    f"{wrk.socket_errors} socket errors; server log ends with:\n{log_tail(running)}"
                )
        finally:
            stop_server(running)
    finally:
        remove_database(bench, database.kind, location)
    log(
        f"  repeat {repeat + 1} {scenario:8} {server:8} rows={database.rows:>9,} "
        f"{wrk.requests_per_second:9.1f} req/s  p50 {wrk.p50_ms:8.2f} ms  p99 {wrk.p99_ms:8.2f} ms  "
        f"non-2xx {wrk.non_2xx}  socket errors {wrk.socket_errors}"
    )
    return measurement


def run_scenarios(bench: Bench, servers: list[str], venvs: dict[str, Path]) -> list[Measurement]:
    """Every scenario on every server, the servers interleaved within each scenario, `repeats` times."""
    measurements = []
    for repeat in range(bench.args.repeats):
        for scenario in bench.args.scenarios:
            for server in servers:
                if scenario == "retrieve" and server == "fastapi":
                    continue  # the FastAPI anchor has no GET /tasks/{id}
                database = bench.databases[server]
                measurements.append(measure(bench, server, database, scenario, repeat, venvs))
    return measurements


def run_scale(bench: Bench, venvs: dict[str, Path]) -> list[Measurement]:
    """List and deep list on this service at each size, the sizes interleaved."""
    measurements = []
    for repeat in range(bench.args.repeats):
        for scenario in SCALE_SCENARIOS:
            for size in SCALE_SIZES:
                database = bench.scale_databases[size]
                measurements.append(measure(bench, "ours", database, scenario, repeat, venvs))
    return measurements


# --- report ------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def format_rate(value: float) -> str:
    return f"{value:,.0f}"


def format_ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def format_ratio(values: list[float]) -> str:
    if not values:
        return "n/a"
    text = f"{median(values):.2f}x"
    if len(values) > 1:
        text += f" ({min(values):.2f}-{max(values):.2f})"
    return text


def select(measurements: list[Measurement], server: str, scenario: str) -> list[Measurement]:
    return [m for m in measurements if m.server == server and m.scenario == scenario]


def ratios(ours: list[Measurement], anchor: list[Measurement]) -> list[float]:
    """ours / anchor requests per second, pairing the runs of the same repeat."""
    anchor_by_repeat = {m.repeat: m.wrk.requests_per_second for m in anchor}
    return [
        m.wrk.requests_per_second / anchor_by_repeat[m.repeat] for m in ours if anchor_by_repeat.get(m.repeat)
    ]


def verdict(scenario: str, runs: list[Measurement], to_bare: list[float], to_fastapi: list[float]) -> str:
    """Issue 6's targets on the median of the repeats; a target with no anchor measured is skipped."""
    failures = []
    if to_bare and median(to_bare) < MIN_RATIO_TO_BARE:
        failures.append(f"< {MIN_RATIO_TO_BARE}x bare")
    if to_fastapi and median(to_fastapi) < MIN_RATIO_TO_FASTAPI:
        failures.append(f"< {MIN_RATIO_TO_FASTAPI:.0f}x fastapi")
    if scenario in WRITE_SCENARIOS and median([m.wrk.p99_ms for m in runs]) >= MAX_WRITE_P99_MS:
        failures.append(f"p99 >= {MAX_WRITE_P99_MS:.0f} ms")
    if sum(m.wrk.non_2xx + m.wrk.socket_errors for m in runs):
        failures.append("non-2xx or socket errors")
    if any(note.startswith("server exited") for m in runs for note in m.notes):
        failures.append("crashed")
    return "FAIL: " + ", ".join(failures) if failures else "PASS"


def summary_table(measurements: list[Measurement], ours: str, scenarios: list[str]) -> list[str]:
    lines = [
        f"## Summary: {SERVER_LABELS[ours]} against the anchors",
        "",
        "Medians of the repeats; ratios are this service's requests/s over the anchor's in the same "
        "repeat (median, and min-max over the repeats).",
        "",
        f"| scenario | ours req/s | bare req/s | fastapi req/s | ours/bare (>= {MIN_RATIO_TO_BARE}) "
        f"| ours/fastapi (>= {MIN_RATIO_TO_FASTAPI:.0f}) | ours p99 ms | ours non-2xx | targets |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for scenario in scenarios:
        runs = select(measurements, ours, scenario)
        if not runs:
            continue
        bare = select(measurements, "bare", scenario)
        fastapi = select(measurements, "fastapi", scenario)
        to_bare, to_fastapi = ratios(runs, bare), ratios(runs, fastapi)
        cells = [
            scenario,
            format_rate(median([m.wrk.requests_per_second for m in runs])),
            format_rate(median([m.wrk.requests_per_second for m in bare])) if bare else "n/a",
            format_rate(median([m.wrk.requests_per_second for m in fastapi])) if fastapi else "n/a",
            format_ratio(to_bare),
            format_ratio(to_fastapi),
            format_ms(median([m.wrk.p99_ms for m in runs])),
            str(sum(m.wrk.non_2xx for m in runs)),
            verdict(scenario, runs, to_bare, to_fastapi),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def scenario_tables(measurements: list[Measurement], servers: list[str], scenarios: list[str]) -> list[str]:
    lines = ["## Per scenario", ""]
    for scenario in scenarios:
        lines += [
            f"### {scenario}: {SCENARIOS[scenario]}",
            "",
            "| server | req/s (median) | req/s (min-max) | p50 ms | p99 ms | non-2xx | socket errors "
            "| notes |",
            "|---|--:|--:|--:|--:|--:|--:|---|",
        ]
        for server in servers:
            runs = select(measurements, server, scenario)
            if not runs:
                lines.append(f"| {SERVER_LABELS[server]} | n/a | | | | | | no such endpoint |")
                continue
            rates = [m.wrk.requests_per_second for m in runs]
            notes = sorted({note for m in runs for note in m.notes})
            bad_statuses = sorted({m.wrk.last_bad_status for m in runs if m.wrk.last_bad_status})
            if bad_statuses:
                notes.append("status " + ", ".join(str(status) for status in bad_statuses))
            cells = [
                SERVER_LABELS[server],
                format_rate(median(rates)),
                f"{format_rate(min(rates))}-{format_rate(max(rates))}",
                format_ms(median([m.wrk.p50_ms for m in runs])),
                format_ms(median([m.wrk.p99_ms for m in runs])),
                str(sum(m.wrk.non_2xx for m in runs)),
                str(sum(m.wrk.socket_errors for m in runs)),
                "; ".join(notes),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def scale_table(measurements: list[Measurement]) -> list[str]:
    lines = [
        "## Scale: this service (SQLite) with 1,000 to 1,000,000 tasks of one user",
        "",
        "Same load as above; deep is the last page (offset = tasks - 20).",
        "",
        "| tasks | list p50 ms | list req/s | deep p50 ms | deep req/s | max worker RSS MB |",
        "|--:|--:|--:|--:|--:|--:|",
    ]
    p50 = {}
    for size in SCALE_SIZES:
        cells = [f"{size:,}"]
        for scenario in SCALE_SCENARIOS:
            runs = [m for m in select(measurements, "ours", scenario) if m.rows == size]
            p50[scenario, size] = median([m.wrk.p50_ms for m in runs])
            cells += [
                format_ms(p50[scenario, size]),
                format_rate(median([m.wrk.requests_per_second for m in runs])),
            ]
        rss = [value for m in measurements if m.rows == size for value in m.worker_rss_mb]
        cells.append(f"{max(rss, default=0):.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    smallest, largest = SCALE_SIZES[0], SCALE_SIZES[-1]
    lines.append("")
    for scenario in SCALE_SCENARIOS:
        base = p50[scenario, smallest]
        ratio = p50[scenario, largest] / base if base else 0.0
        target = ""
        if scenario == "list":
            result = "PASS" if ratio <= MAX_SCALE_RATIO else "FAIL"
            target = f" (target <= {MAX_SCALE_RATIO:.0f}x): {result}"
        lines.append(f"- {scenario} p50 at {largest:,} / at {smallest:,} tasks: {ratio:.2f}x{target}")
    return [*lines, ""]


def memory_table(measurements: list[Measurement], scale_measurements: list[Measurement]) -> list[str]:
    lines = ["## Memory: RSS of this service's gunicorn workers at the end of each run", ""]
    if any(m.worker_rss_mb for m in measurements):
        lines += [
            "| server | scenario | worker RSS MB after the last repeat | max over the repeats |",
            "|---|---|--:|--:|",
        ]
    for server in ("ours", OURS_ON_POSTGRES):
        for scenario in SCENARIOS:
            runs = [m for m in select(measurements, server, scenario) if m.worker_rss_mb]
            if not runs:
                continue
            last = max(runs, key=lambda m: m.repeat)
            cells = [
                SERVER_LABELS[server],
                scenario,
                ", ".join(f"{value:.1f}" for value in last.worker_rss_mb),
                f"{max(value for m in runs for value in m.worker_rss_mb):.1f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    every_run = measurements + scale_measurements
    largest = max((value for m in every_run for value in m.worker_rss_mb), default=0.0)
    result = "PASS" if largest < MAX_WORKER_RSS_MB else "FAIL"
    where = " (scale runs included)" if scale_measurements else ""
    if lines[-1]:
        lines.append("")  # after the table
    lines += [
        f"- Largest worker RSS{where}: {largest:.1f} MB (target < {MAX_WORKER_RSS_MB:.0f} MB): {result}",
        "",
    ]
    return lines


# --- main --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    parser.add_argument("--repeats", type=int, default=2, help="times every run is repeated (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument(
        "--rows", type=int, default=10_000, help="tasks seeded for the one user (default 10000)"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} (default all)",
    )
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help=f"comma-separated, from {','.join(SERVERS)} (default all)",
    )
    parser.add_argument(
        "--scale",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"also measure list p50 at {', '.join(f'{size:,}' for size in SCALE_SIZES)} tasks (default on)",
    )
    parser.add_argument("--scale-only", action="store_true", help="run the scale section alone")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also run this service on PostgreSQL: a throwaway server from .ci/with-postgres, "
        "unless DATABASE_URL already names one (then this is implied)",
    )
    parser.add_argument("--output", type=Path, help="also write the markdown report to this file")
    args = parser.parse_args()
    args.scenarios = parse_choices(parser, "--scenarios", args.scenarios, list(SCENARIOS))
    args.servers = parse_choices(parser, "--servers", args.servers, list(SERVERS))
    if args.duration < 1 or args.repeats < 1 or args.connections < 1:
        parser.error("--duration, --repeats and --connections must be at least 1")
    if args.rows < 20:
        parser.error("--rows must be at least 20 (the deep scenario reads the last 20)")
    return args


def parse_choices(parser: argparse.ArgumentParser, option: str, value: str, known: list[str]) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in known]
    if unknown or not chosen:
        parser.error(f"{option}: choose from {', '.join(known)}")
    return [item for item in known if item in chosen]  # in the canonical order


def postgres_url_from_env() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


def rerun_under_throwaway_postgres() -> NoReturn:
    """Run this script again inside .ci/with-postgres, which sets DATABASE_URL."""
    log("starting a throwaway PostgreSQL server with .ci/with-postgres")
    command = ["bash", str(ROOT / ".ci" / "with-postgres"), sys.executable, str(Path(__file__).resolve())]
    os.execvp("bash", [*command, *sys.argv[1:]])


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the finally blocks that stop the servers


def main() -> None:
    args = parse_args()
    if args.postgres and not postgres_url_from_env() and not args.scale_only:
        rerun_under_throwaway_postgres()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    if not PROJECT_PYTHON.exists():
        fail(f"{PROJECT_PYTHON} is missing: run `make venv` first (or use `make bench`)")
    ensure_wrk()
    servers = [] if args.scale_only else list(args.servers)
    venvs = {}
    if "bare" in servers:
        venvs["bare"] = anchor_venv("bare_wsgi")
    if "fastapi" in servers:
        venvs["fastapi"] = anchor_venv("seed_fastapi")

    workdir = Path(tempfile.mkdtemp(prefix="tasks-bench-"))
    bench = Bench(args, workdir, secrets.token_urlsafe(50), postgres_url_from_env())
    started = time.monotonic()
    try:
        report = report_header(bench, venvs)
        log("\n".join(report))
        measurements = []
        if servers:
            if "ours" in servers:
                bench.databases["ours"] = seed_service_database(bench, "sqlite", args.rows)
            if bench.postgres_url and "ours" in servers:
                servers.append(OURS_ON_POSTGRES)
                bench.databases[OURS_ON_POSTGRES] = seed_service_database(bench, "postgres", args.rows)
            if "bare" in servers or "fastapi" in servers:
                anchor_database = seed_anchor_database(bench, args.rows)
                bench.databases["bare"] = bench.databases["fastapi"] = anchor_database
            measurements = run_scenarios(bench, servers, venvs)
        scale_measurements = []
        if args.scale or args.scale_only:
            for size in SCALE_SIZES:
                bench.scale_databases[size] = seed_service_database(bench, "sqlite", size)
            scale_measurements = run_scale(bench, venvs)

        report.append("")
        if measurements:
            for ours in ("ours", OURS_ON_POSTGRES):
                if ours in servers:
                    report += summary_table(measurements, ours, args.scenarios)
            report += scenario_tables(measurements, servers, args.scenarios)
        if scale_measurements:
            report += scale_table(scale_measurements)
        if any(m.worker_rss_mb for m in measurements + scale_measurements):
            report += memory_table(measurements, scale_measurements)
        report.append(f"Total time: {(time.monotonic() - started) / 60:.1f} min.")
        text = "\n".join(report) + "\n"
        print(text)
        if args.output:
            args.output.write_text(text)
            log(f"report written to {args.output}")
    finally:
        for database in bench.databases.values():
            if database.kind == "postgres":
                remove_database(bench, database.kind, database.location)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("bench: interrupted; every server it started is stopped")
        sys.exit(130)
