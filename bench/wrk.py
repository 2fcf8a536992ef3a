"""The load: the scenarios, wrk driving them with the Lua scripts in scenarios/, and its output."""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.live import Server

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

# name: the request, as the report describes it. Each name has its scenarios/<name>.lua.
SCENARIOS = {
    "list": "GET /tasks?limit=20",
    "list-done": "GET /tasks?limit=20&done=true (half the tasks are done)",
    "deep": "GET /tasks?limit=20&offset=ROWS-20",
    "deep-next": "GET the `next` link of the page at offset ROWS-40, as the server wrote it",
    "retrieve": "GET /tasks/{random id}",
    "create": 'POST /tasks {"title": ...}',
    "patch": 'PATCH /tasks/{random id} {"done": true|false}',
    "mixed": "40% list, 40% retrieve, 10% create, 10% patch",
}
# What a server must offer for a scenario to be measured on it.
RETRIEVE = "GET /tasks/{id}"
DONE_FILTER = "a done= filter"
NEEDS = {"retrieve": RETRIEVE, "list-done": DONE_FILTER}
DEEP_NEXT_OFFSET_FROM_END = 40  # the page before the last, so that it has a `next`
PAGE = 20

WARMUP_SECONDS = 1
WARMUP_SCENARIO = "list"
TIMEOUT = "30s"  # a slower request is a wrk "timeout" and leaves the latency statistics
# The anchors ignore the token; they get the same header so that every server reads the same bytes.
PLACEHOLDER_TOKEN = "0" * 64


@dataclass
class WrkResult:
    requests_per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    non_2xx: int = 0  # statuses >= 300, counted by the Lua scripts
    last_bad_status: int = 0
    socket_errors: int = 0  # connect, read, write and timeout errors


def ensure_wrk() -> None:
    """Install Debian's wrk package when wrk is missing and we may (root)."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        raise SystemExit("bench: wrk is missing: install Debian's wrk package (apt-get install wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)


def version() -> str:
    output = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    return output.split("\n")[0].split()[1]


def threads(connections: int) -> int:
    return max(1, min(os.cpu_count() or 1, connections))


def next_path(server: Server, rows: int) -> tuple[str, str]:
    """The path the deep-next scenario requests, and a note when the server wrote no `next` link."""
    offset = max(rows - DEEP_NEXT_OFFSET_FROM_END, 0)
    reply = server.request("GET", f"/tasks?limit={PAGE}&offset={offset}")
    if reply.status != 200:
        raise RuntimeError(f"GET /tasks?offset={offset} answered {reply.status}: {reply.body[:200]!r}")
    link = reply.json().get("next")
    if not link:
        return f"/tasks?limit={PAGE}&offset={offset + PAGE}", "no next link: the offset URL"
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}", ""


def run(
    server: Server,
    scenario: str,
    *,
    rows: int,
    seconds: int,
    connections: int,
    has_retrieve: bool,
    path: str = "",
) -> WrkResult:
    """Drive `server` with one scenario for `seconds`; `path` is the link deep-next follows."""
    command = [
        "wrk",
        f"-t{threads(connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={TIMEOUT}",
        "--latency",
        "-H",
        f"Authorization: Bearer {server.token or PLACEHOLDER_TOKEN}",
        "-H",
        "X-Forwarded-Proto: https",
        "-H",
        "Accept: application/json",
        "-s",
        f"{scenario}.lua",
        server.base_url,
        "--",
        str(rows),
        "retrieve" if has_retrieve else "noretrieve",
        path,
    ]
    result = subprocess.run(command, cwd=SCENARIO_DIR, capture_output=True, text=True, timeout=seconds + 120)
    if result.returncode != 0 or "Requests/sec" not in result.stdout:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return parse(result.stdout)


TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * TIME_UNITS_MS[match.group(2)]


def parse(output: str) -> WrkResult:
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
