"""When the run started and how long it lasted, from the best source the folder has."""

from __future__ import annotations

import math

from harness.report.load import RunData


def run_seconds(data: RunData) -> float | None:
    """The load's duration: harness_run.json's window, else Locust's (requests / req/s), else the history's span."""
    info = data.info
    if info.start_time is not None and info.end_time is not None and info.end_time > info.start_time:
        return info.end_time - info.start_time
    total = data.stats_total
    if total is not None and total["requests_per_s"] > 0:
        return float(total["requests"] / total["requests_per_s"])
    stamps = data.history["timestamp"].dropna()
    if len(stamps):
        return float(stamps.max() - stamps.min() + 1)
    return None


def run_start(data: RunData) -> float | None:
    """The UNIX second the plots count from: the run's start, else the first second any file recorded."""
    if data.info.start_time is not None:
        return float(math.floor(data.info.start_time))
    firsts = [frame["timestamp"].min() for frame in (data.history, data.throttles, data.capacity) if frame is not None and len(frame)]
    firsts = [value for value in firsts if value == value]  # NaN-free
    return float(min(firsts)) if firsts else None
