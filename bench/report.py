"""The markdown report: header, targets, summary, per-scenario, scale and memory tables."""

import argparse
import os
import platform
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import targets, wrk
from bench.results import Measurement, median, median_p50, median_p99, median_rate, ratios, select
from bench.servers import ANCHOR_SERVERS, LABELS, OURS, OURS_ON_POSTGRES, OURS_PACKAGES, package_versions


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def rate(value: float) -> str:
    return f"{value:,.0f}"


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ratio_text(values: list[float]) -> str:
    if not values:
        return "n/a"
    text = f"{median(values):.2f}x"
    if len(values) > 1:
        text += f", {min(values):.2f}-{max(values):.2f}"
    return text


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    return f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.1f} GiB RAM, Linux {platform.release()}"


def header(args: argparse.Namespace, venvs: dict[str, Path]) -> list[str]:
    connections = args.connections
    lines = [
        "# Tasks API load benchmark",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, wrk {wrk.version()}",
        "- This service: " + package_versions(Path(sys.executable), OURS_PACKAGES),
    ]
    for server, bin_folder in venvs.items():
        anchor = ANCHOR_SERVERS[server]
        lines.append(f"- {anchor.folder} anchor: " + package_versions(bin_folder / "python", anchor.packages))
    lines.append(
        f"- Runs: {connections} connections, {args.duration} s per run after a {wrk.WARMUP_SECONDS} s "
        f"warm-up, {args.repeats} repeat(s), wrk -t{wrk.threads(connections)} --latency; every run on a "
        "fresh copy of the seeded database"
        + ("" if args.scale_only else f"; {args.rows:,} tasks of one user outside the scale section")
    )
    return [*lines, ""]


LONGEST_FIGURE_LIST = 8  # beyond it, a target's row lists only the checks missed


def targets_table(checks: list[targets.Check]) -> list[str]:
    """One line per target: met when every check of it is, with each check's figure."""
    lines = ["## Targets", "", "| target | result | measured |", "|---|---|---|"]
    by_target: dict[str, list[targets.Check]] = {}
    for check in checks:
        by_target.setdefault(check.target, []).append(check)
    for target, group in by_target.items():
        result = "met" if all(check.met for check in group) else "**not met**"
        figures = [
            f"{check.where} {check.measured}" if check.met else f"{check.where} **{check.measured}**"
            for check in group
        ]
        missed = [figure for figure, check in zip(figures, group, strict=True) if not check.met]
        if len(group) > 1 and len({(check.measured, check.met) for check in group}) == 1:
            figures = [f"{group[0].measured} in each of the {len(group)} checks"]
        elif len(group) > LONGEST_FIGURE_LIST:
            figures = [*missed, f"the other {len(group) - len(missed)} met"]
        lines.append(row([target, result, ", ".join(figures)]))
    return [*lines, ""]


def summary_table(
    measurements: list[Measurement], ours: str, scenarios: list[str], connections: int
) -> list[str]:
    minimums = targets.TARGETS["min_ratio"]
    anchors = [name for name in ANCHOR_SERVERS if any(m.server == name for m in measurements)]
    titles = [
        f"{ANCHOR_SERVERS[name].folder} req/s (ours/it"
        + (f", >= {minimums[name]}" if name in minimums else "")
        + ")"
        for name in anchors
    ]
    lines = [
        f"## Summary: {LABELS[ours]} against the anchors",
        "",
        "Medians of the repeats; a ratio is this service's requests/s over the anchor's in the same "
        "repeat (median, and min-max over the repeats)."
        + (" The ratio targets are for SQLite: shown here for information." if ours != OURS else ""),
        "",
        row(["scenario", "this service req/s", *titles, "p99 ms", "non-2xx", "targets"]),
        "|---|--:|" + "--:|" * len(anchors) + "--:|--:|---|",
    ]
    for scenario in scenarios:
        runs = select(measurements, ours, scenario)
        if not runs:
            continue
        cells = [scenario, rate(median_rate(runs))]
        for name in anchors:
            anchor_runs = select(measurements, name, scenario)
            cells.append(
                f"{rate(median_rate(anchor_runs))} ({ratio_text(ratios(runs, anchor_runs))})"
                if anchor_runs
                else "n/a"
            )
        checks = targets.scenario_checks(measurements, ours, scenario, connections)
        cells += [ms(median_p99(runs)), str(sum(m.wrk.non_2xx for m in runs)), targets.verdict(checks)]
        lines.append(row(cells))
    return [*lines, ""]


SCENARIO_COLUMNS = ["server", "req/s (median)", "req/s (min-max)", "p50 ms", "p99 ms", "non-2xx"]
SCENARIO_COLUMNS += ["socket errors", "notes"]


def scenario_tables(measurements: list[Measurement], servers: list[str], scenarios: list[str]) -> list[str]:
    lines = ["## Per scenario", ""]
    for scenario in scenarios:
        lines += [
            f"### {scenario}: {wrk.SCENARIOS[scenario]}",
            "",
            row(SCENARIO_COLUMNS),
            "|---|--:|--:|--:|--:|--:|--:|---|",
        ]
        for server in servers:
            runs = select(measurements, server, scenario)
            if not runs:
                lines.append(
                    f"| {LABELS[server]} | n/a | | | | | | no {wrk.NEEDS.get(scenario, 'such')} endpoint |"
                )
                continue
            rates = [m.wrk.requests_per_second for m in runs]
            notes = sorted({note for m in runs for note in m.notes})
            bad_statuses = sorted({m.wrk.last_bad_status for m in runs if m.wrk.last_bad_status})
            if bad_statuses:
                notes.append("status " + ", ".join(str(status) for status in bad_statuses))
            cells = [
                LABELS[server],
                rate(median(rates)),
                f"{rate(min(rates))}-{rate(max(rates))}",
                ms(median_p50(runs)),
                ms(median_p99(runs)),
                str(sum(m.wrk.non_2xx for m in runs)),
                str(sum(m.wrk.socket_errors for m in runs)),
                "; ".join(notes),
            ]
            lines.append(row(cells))
        lines.append("")
    return lines


def scale_table(
    measurements: list[Measurement], scenarios: tuple[str, ...], sizes: tuple[int, ...]
) -> list[str]:
    columns = [f"{scenario} {what}" for scenario in scenarios for what in ("p50 ms", "req/s")]
    lines = [
        f"## Scale: {LABELS[OURS]} with {sizes[0]:,} to {sizes[-1]:,} tasks of one user",
        "",
        "Same load as above; deep is the last page, deep-next the `next` link of the page before it.",
        "",
        row(["tasks", *columns, "max worker RSS MB"]),
        "|--:|" + "--:|" * (len(columns) + 1),
    ]
    for size in sizes:
        cells = [f"{size:,}"]
        for scenario in scenarios:
            runs = select(measurements, OURS, scenario, size)
            cells += [ms(median_p50(runs)), rate(median_rate(runs))]
        rss = [value for m in measurements if m.rows == size for value in m.worker_rss_mb]
        lines.append(row([*cells, f"{max(rss, default=0):.1f}"]))
    lines.append("")
    for scenario in scenarios:
        base = median_p50(select(measurements, OURS, scenario, sizes[0]))
        top = median_p50(select(measurements, OURS, scenario, sizes[-1]))
        ratio = f"{top / base:.2f}x" if base and top else "n/a (a run served no request)"
        lines.append(f"- {scenario} p50 at {sizes[-1]:,} / at {sizes[0]:,} tasks: {ratio}")
    return [*lines, ""]


def memory_table(measurements: list[Measurement], scenarios: list[str]) -> list[str]:
    lines = [
        "## Memory: RSS of this service's gunicorn workers at the end of each run",
        "",
        "| server | scenario | worker RSS MB after the last repeat | max over the repeats |",
        "|---|---|--:|--:|",
    ]
    for server in (OURS, OURS_ON_POSTGRES):
        for scenario in scenarios:
            runs = [m for m in select(measurements, server, scenario) if m.worker_rss_mb]
            if not runs:
                continue
            last = max(runs, key=lambda m: m.repeat)
            cells = [
                LABELS[server],
                scenario,
                ", ".join(f"{value:.1f}" for value in last.worker_rss_mb),
                f"{max(value for m in runs for value in m.worker_rss_mb):.1f}",
            ]
            lines.append(row(cells))
    return [*lines, ""]
