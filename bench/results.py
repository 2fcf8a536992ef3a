"""What one run measured, and the selections the report and the targets make of the runs."""

import statistics
from dataclasses import dataclass, field

from bench.wrk import WrkResult


@dataclass
class Measurement:
    server: str
    scenario: str
    repeat: int
    rows: int
    wrk: WrkResult
    worker_rss_mb: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def select(
    measurements: list[Measurement], server: str, scenario: str, rows: int | None = None
) -> list[Measurement]:
    return [
        m
        for m in measurements
        if m.server == server and m.scenario == scenario and (rows is None or m.rows == rows)
    ]


def median_rate(runs: list[Measurement]) -> float:
    return median([m.wrk.requests_per_second for m in runs])


def median_p50(runs: list[Measurement]) -> float:
    return median([m.wrk.p50_ms for m in runs])


def median_p99(runs: list[Measurement]) -> float:
    return median([m.wrk.p99_ms for m in runs])


def ratios(ours: list[Measurement], anchor: list[Measurement]) -> list[float]:
    """ours / anchor requests per second, pairing the runs of the same repeat."""
    anchor_by_repeat = {m.repeat: m.wrk.requests_per_second for m in anchor}
    return [
        m.wrk.requests_per_second / anchor_by_repeat[m.repeat] for m in ours if anchor_by_repeat.get(m.repeat)
    ]


def errors(runs: list[Measurement]) -> int:
    """Responses of 300 or more and socket errors, over the runs."""
    return sum(m.wrk.non_2xx + m.wrk.socket_errors for m in runs)


def served(runs: list[Measurement]) -> bool:
    """Every run completed requests: a run with none has no latency to compare."""
    return all(m.wrk.requests for m in runs)


def crashed(runs: list[Measurement]) -> bool:
    """A server exited during a run."""
    return any(note.startswith("server exited") for m in runs for note in m.notes)
