"""The targets of targets.toml checked against the runs: each check met or not met."""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.results import (
    Measurement,
    crashed,
    errors,
    median,
    median_p50,
    median_p99,
    ratios,
    select,
    served,
)
from bench.servers import ANCHOR_SERVERS, OURS, OURS_ON_POSTGRES

TARGETS: dict[str, Any] = tomllib.loads((Path(__file__).resolve().parent / "targets.toml").read_text())
NO_ERRORS = "every run served requests: no response of 300 or more, no socket error, no server exit"


@dataclass(frozen=True)
class Check:
    target: str  # in words; the checks of one target share it
    short: str  # the target in a few words, for the summary tables
    where: str  # the scenario, or the data size
    measured: str
    met: bool


def database_name(ours: str) -> str:
    return "SQLite" if ours == OURS else "PostgreSQL"


def ratio_checks(measurements: list[Measurement], scenario: str) -> list[Check]:
    """This service on SQLite against each anchor with a minimum ratio."""
    runs = select(measurements, OURS, scenario)
    checks = []
    for anchor, minimum in TARGETS["min_ratio"].items():
        values = ratios(runs, select(measurements, anchor, scenario))
        if values:
            value = median(values)
            target = f"requests/s on SQLite >= {minimum}x {ANCHOR_SERVERS[anchor].folder}'s"
            checks.append(
                Check(target, f"< {minimum}x {anchor}", scenario, f"{value:.2f}x", value >= minimum)
            )
    return checks


def write_p99_check(runs: list[Measurement], ours: str, scenario: str, connections: int) -> list[Check]:
    limits = TARGETS["write_p99"]
    if scenario not in limits["scenarios"] or connections != limits["connections"] or not runs:
        return []
    p99 = median_p99(runs)
    target = f"write p99 < {limits['max_ms']:.0f} ms at {connections} connections ({database_name(ours)})"
    short = f"p99 >= {limits['max_ms']:.0f} ms"
    return [Check(target, short, scenario, f"{p99:.1f} ms", served(runs) and p99 < limits["max_ms"])]


def p50_ratio_check(
    target: str, short: str, where: str, runs: list[Measurement], reference: list[Measurement], maximum: float
) -> list[Check]:
    """p50 of `runs` over p50 of `reference`, at most `maximum`."""
    if not runs or not reference:
        return []
    if not served(runs) or not served(reference):
        return [Check(target, short, where, "a run served no request", False)]
    ratio = median_p50(runs) / median_p50(reference)
    return [Check(target, short, where, f"{ratio:.2f}x", ratio <= maximum)]


def depth_check(measurements: list[Measurement], ours: str, rows: int, where: str) -> list[Check]:
    """Following `next` from a deep page against the first page, on the same data."""
    depth = TARGETS["depth"]
    target = (
        f"{depth['scenario']} p50 <= {depth['max_ratio']:.0f}x {depth['reference']} p50 "
        f"({database_name(ours)})"
    )
    short = f"> {depth['max_ratio']:.0f}x {depth['reference']}"
    deep = select(measurements, ours, depth["scenario"], rows)
    first = select(measurements, ours, depth["reference"], rows)
    return p50_ratio_check(target, short, where, deep, first, depth["max_ratio"])


def errors_check(runs: list[Measurement], where: str) -> list[Check]:
    if not served(runs):
        return [Check(NO_ERRORS, "no request served", where, "a run served no request", False)]
    if crashed(runs):
        return [Check(NO_ERRORS, "server exited", where, "the server exited", False)]
    bad = errors(runs)
    return [Check(NO_ERRORS, "errors", where, f"{bad} errors", not bad)]


def scenario_checks(
    measurements: list[Measurement], ours: str, scenario: str, connections: int
) -> list[Check]:
    """Every check one scenario of the main runs takes, for this service on one database."""
    runs = select(measurements, ours, scenario)
    if not runs:
        return []
    checks = ratio_checks(measurements, scenario) if ours == OURS else []
    checks += write_p99_check(runs, ours, scenario, connections)
    if scenario == TARGETS["depth"]["scenario"]:
        checks += depth_check(measurements, ours, runs[0].rows, f"{runs[0].rows:,} tasks")
    return checks + errors_check(runs, f"{scenario} on {database_name(ours)}")


def scale_checks(measurements: list[Measurement], sizes: tuple[int, ...]) -> list[Check]:
    """p50 at the largest size over the smallest, the depth target at every size, and errors."""
    smallest, largest = sizes[0], sizes[-1]
    limits = TARGETS["scale"]
    target = f"p50 at {largest:,} tasks <= {limits['max_ratio']:.0f}x p50 at {smallest:,} (SQLite)"
    checks = []
    for scenario in limits["scenarios"]:
        top = select(measurements, OURS, scenario, largest)
        base = select(measurements, OURS, scenario, smallest)
        checks += p50_ratio_check(
            target, f"> {limits['max_ratio']:.0f}x", scenario, top, base, limits["max_ratio"]
        )
    for size in sizes:
        checks += depth_check(measurements, OURS, size, f"{size:,} tasks")
    for scenario in dict.fromkeys(m.scenario for m in measurements):
        checks += errors_check(select(measurements, OURS, scenario), f"{scenario} at scale")
    return checks


def memory_check(measurements: list[Measurement]) -> list[Check]:
    limit = TARGETS["memory"]["max_worker_rss_mb"]
    values = [value for m in measurements for value in m.worker_rss_mb]
    if not values:
        return []
    largest = max(values)
    target = f"worker RSS < {limit:.0f} MB"
    return [Check(target, f"RSS >= {limit:.0f} MB", "every run", f"{largest:.1f} MB", largest < limit)]


def all_checks(
    measurements: list[Measurement],
    scale_measurements: list[Measurement],
    scenarios: list[str],
    connections: int,
    sizes: tuple[int, ...],
) -> list[Check]:
    checks = []
    for ours in (OURS, OURS_ON_POSTGRES):
        for scenario in scenarios:
            checks += scenario_checks(measurements, ours, scenario, connections)
    if scale_measurements:
        checks += scale_checks(scale_measurements, sizes)
    return checks + memory_check(measurements + scale_measurements)


def verdict(checks: list[Check]) -> str:
    """`met`, or `not met` and the targets missed, in short."""
    missed = [check.short for check in checks if not check.met]
    return "not met: " + ", ".join(missed) if missed else "met"
