"""Load benchmark: this service against the anchors in ../shared/anchors.

    make bench                                                    # the whole run
    make bench BENCH_ARGS="--duration 1 --repeats 1 --no-scale"   # a smoke run

The command line and the order of the runs. Every run starts its server
(servers.py) on a fresh copy of a seeded database (databases.py), drives it
with wrk (wrk.py, scenarios/); the report (report.py) checks targets.toml
(targets.py). Runs with the project's virtualenv, from the repository root
(`.venv/bin/python -m bench.run`); each anchor from a virtualenv of its own.
"""

import argparse
import importlib.util
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from bench import report, targets, wrk
from bench.databases import Database, fresh_copy, postgres_url_from_env, seed_anchors, seed_service
from bench.results import Measurement
from bench.servers import (
    ANCHOR_SERVERS,
    OURS,
    OURS_ON_POSTGRES,
    SERVERS,
    anchor_venv,
    features,
    is_ours,
    log_tail,
    rss_mb,
    start,
    worker_pids,
)
from tests.live import ROOT, stop_server

SCALE_SIZES = (1_000, 100_000, 1_000_000)
SCALE_SCENARIOS = ("list", "list-done", "deep", "deep-next")


def log(message: str) -> None:
    """Progress goes to stderr; the report to stdout."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class Bench:
    """What every run needs: the options, a scratch folder, the anchors' virtualenvs, the seeded data."""

    args: argparse.Namespace
    workdir: Path
    venvs: dict[str, Path]
    databases: dict[str, Database] = field(default_factory=dict)  # by server, --rows tasks
    scale_databases: dict[int, Database] = field(default_factory=dict)  # by size


def measure(bench: Bench, server: str, database: Database, scenario: str, repeat: int) -> Measurement:
    """Start `server` on a fresh copy of `database`, warm it up, run the scenario, stop it."""
    has_retrieve = wrk.RETRIEVE in features(server)
    with fresh_copy(database, bench.workdir) as url:
        running = start(server, url, bench.workdir, bench.venvs, database.token)
        try:
            path, note = wrk.next_path(running, database.rows) if scenario == "deep-next" else ("", "")
            load = {
                "rows": database.rows,
                "connections": bench.args.connections,
                "has_retrieve": has_retrieve,
            }
            wrk.run(running, wrk.WARMUP_SCENARIO, seconds=wrk.WARMUP_SECONDS, **load)
            workers_before = worker_pids(running) if is_ours(server) else []
            result = wrk.run(running, scenario, seconds=bench.args.duration, path=path, **load)
            measurement = Measurement(server, scenario, repeat, database.rows, result)
            problems = []
            if is_ours(server):
                workers_after = worker_pids(running)
                measurement.worker_rss_mb = [rss_mb(pid) for pid in workers_after]
                if workers_after != workers_before:
                    problems.append("workers restarted during the run")  # max_requests in the config
            if not result.requests:
                problems.append("no request completed")
            assert running.process is not None
            if running.process.poll() is not None:
                problems.append(f"server exited with {running.process.returncode}")
            if result.non_2xx or result.socket_errors or problems:
                log(
                    f"  {server} {scenario}: {result.non_2xx} non-2xx (last status "
                    f"{result.last_bad_status}), {result.socket_errors} socket errors; "
                    f"server log ends with:\n{log_tail(running)}"
                )
            measurement.notes = [*problems, note] if note else problems
        finally:
            stop_server(running)
    log(
        f"  repeat {repeat + 1} {scenario:9} {server:7} rows={database.rows:>9,} "
        f"{result.requests_per_second:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  "
        f"non-2xx {result.non_2xx}  socket errors {result.socket_errors}"
    )
    return measurement


def offers(server: str, scenario: str) -> bool:
    need = wrk.NEEDS.get(scenario)
    return need is None or need in features(server)


def run_scenarios(bench: Bench, servers: list[str]) -> list[Measurement]:
    """Every scenario on every server, the servers taking turns within each scenario, `repeats` times.

    So a noisy moment shows as a spread rather than as a difference between servers.
    """
    measurements = []
    for repeat in range(bench.args.repeats):
        for scenario in bench.args.scenarios:
            for server in servers:
                if offers(server, scenario):
                    measurements.append(measure(bench, server, bench.databases[server], scenario, repeat))
    return measurements


def run_scale(bench: Bench) -> list[Measurement]:
    """This service at each size, the sizes taking turns."""
    measurements = []
    for repeat in range(bench.args.repeats):
        for scenario in SCALE_SCENARIOS:
            for size in SCALE_SIZES:
                measurements.append(measure(bench, OURS, bench.scale_databases[size], scenario, repeat))
    return measurements


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench BENCH_ARGS=...",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    parser.add_argument("--repeats", type=int, default=2, help="times every run is repeated (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rows", type=int, default=10_000, help="tasks of the one user (default 10000)")
    parser.add_argument("--scenarios", default=",".join(wrk.SCENARIOS), help="comma-separated (default all)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated (default all)")
    parser.add_argument(
        "--scale",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"also measure {', '.join(SCALE_SCENARIOS)} at {', '.join(f'{n:,}' for n in SCALE_SIZES)} tasks",
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
    args.scenarios = parse_choices(parser, "--scenarios", args.scenarios, list(wrk.SCENARIOS))
    args.servers = parse_choices(parser, "--servers", args.servers, list(SERVERS))
    if min(args.duration, args.repeats, args.connections) < 1:
        parser.error("--duration, --repeats and --connections must be at least 1")
    if args.rows < wrk.DEEP_NEXT_OFFSET_FROM_END:
        parser.error(
            f"--rows must be at least {wrk.DEEP_NEXT_OFFSET_FROM_END} (deep-next reads near the end)"
        )
    return args


def parse_choices(parser: argparse.ArgumentParser, option: str, value: str, known: list[str]) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    if not chosen or any(item not in known for item in chosen):
        parser.error(f"{option}: choose from {', '.join(known)}")
    return [item for item in known if item in chosen]  # in the canonical order


def rerun_under_throwaway_postgres() -> NoReturn:
    """Run the bench again inside .ci/with-postgres, which sets DATABASE_URL."""
    log("starting a throwaway PostgreSQL server with .ci/with-postgres")
    command = ["bash", str(ROOT / ".ci" / "with-postgres"), sys.executable, "-m", "bench.run", *sys.argv[1:]]
    os.chdir(ROOT)
    os.execvp("bash", command)


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the finally blocks that stop the servers


def seed(bench: Bench, stack: ExitStack, servers: list[str]) -> None:
    rows = bench.args.rows
    if OURS in servers:
        bench.databases[OURS] = seed_service(stack, bench.workdir, rows)
    if OURS_ON_POSTGRES in servers:
        bench.databases[OURS_ON_POSTGRES] = seed_service(stack, bench.workdir, rows, postgres_url_from_env())
    if bench.venvs:
        anchors = seed_anchors(bench.workdir, rows)
        bench.databases.update(dict.fromkeys(bench.venvs, anchors))
    if bench.args.scale or bench.args.scale_only:
        for size in SCALE_SIZES:
            bench.scale_databases[size] = seed_service(stack, bench.workdir, size)


def main() -> None:
    args = parse_args()
    if args.postgres and not postgres_url_from_env() and not args.scale_only:
        rerun_under_throwaway_postgres()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    if importlib.util.find_spec("django") is None:
        raise SystemExit("bench: run it with the project's virtualenv: make bench")
    wrk.ensure_wrk()
    servers = [] if args.scale_only else list(args.servers)
    if OURS in servers and postgres_url_from_env():
        servers.insert(1, OURS_ON_POSTGRES)
    venvs = {server: anchor_venv(server) for server in servers if server in ANCHOR_SERVERS}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tasks-bench-") as workdir, ExitStack() as stack:
        bench = Bench(args, Path(workdir), venvs)
        lines = report.header(args, venvs)
        log("\n".join(lines))
        seed(bench, stack, servers)
        measurements = run_scenarios(bench, servers)
        scale = run_scale(bench) if bench.scale_databases else []

    checks = targets.all_checks(measurements, scale, args.scenarios, args.connections, SCALE_SIZES)
    lines += report.targets_table(checks)
    for ours in (OURS, OURS_ON_POSTGRES):
        if ours in servers:
            lines += report.summary_table(measurements, ours, args.scenarios, args.connections)
    if measurements:
        lines += report.scenario_tables(measurements, servers, args.scenarios)
    if scale:
        lines += report.scale_table(scale, SCALE_SCENARIOS, SCALE_SIZES)
    if any(m.worker_rss_mb for m in measurements):
        lines += report.memory_table(measurements, args.scenarios)
    lines.append(f"Total time: {(time.monotonic() - started) / 60:.1f} min.")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)
        log(f"report written to {args.output}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("bench: interrupted; every server it started is stopped")
        sys.exit(130)
    except RuntimeError as error:
        log(f"bench: {error}")
        sys.exit(2)
