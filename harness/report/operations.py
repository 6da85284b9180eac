"""Requests per step: counts, throughput, failures with throttling apart, SDK retries; totals; throughput over time.

A step's row is keyed like Locust's: (type = DynamoDB operation, name = step). Composite rows
(type Lap) are listed but never added into totals: their GetItem requests are already counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.errors import THROTTLED
from harness.report.load import COMPOSITE_TYPES, RunData

OPERATION_COLUMNS = [
    "type", "name", "composite", "table", "index", "requests", "failures", "throttled_requests", "other_failures",
    "requests_per_s", "error_ratio", "throttle_ratio", "retries", "retries_per_request",
]  # fmt: skip


def operations(data: RunData) -> pd.DataFrame:
    """One row per (type, name), in Locust's order (by name, then type): see OPERATION_COLUMNS."""
    stats = data.stats.set_index(["type", "name"])
    harness = data.requests.groupby(["type", "name"]).sum(numeric_only=True) if data.requests is not None else None
    keys = list(stats.index)
    if harness is not None:
        keys += [key for key in harness.index if key not in stats.index and key[1] != "Aggregated"]
    rows = [_row(data, key, stats, harness) for key in sorted(keys, key=lambda key: (key[1], key[0]))]
    return pd.DataFrame(rows, columns=OPERATION_COLUMNS).astype({"composite": bool})


def _row(data: RunData, key: tuple[str, str], stats: pd.DataFrame, harness: pd.DataFrame | None) -> dict:
    in_stats = key in stats.index
    in_harness = harness is not None and key in harness.index
    requests = stats.at[key, "requests"] if in_stats else harness.at[key, "requests"]
    failures = stats.at[key, "failures"] if in_stats else harness.at[key, "failures"] + harness.at[key, "throttled_requests"]
    if harness is not None:
        throttled = harness.at[key, "throttled_requests"] if in_harness else 0
        retries = harness.at[key, "retries"] if in_harness else 0
    else:
        failed = data.failures
        throttled = failed.loc[(failed["type"] == key[0]) & (failed["name"] == key[1]) & (failed["outcome"] == THROTTLED), "occurrences"].sum()
        retries = np.nan
    step = data.info.step(key[1])
    rate = stats.at[key, "requests_per_s"] if in_stats else np.nan
    return {
        "type": key[0],
        "name": key[1],
        "composite": key[0] in COMPOSITE_TYPES,
        "table": step.table if step else "",
        "index": step.index if step else "",
        "requests": int(requests),
        "failures": int(failures),
        "throttled_requests": int(throttled),
        "other_failures": int(failures - throttled),
        "requests_per_s": float(rate),
        "error_ratio": _ratio(failures, requests),
        "throttle_ratio": _ratio(throttled, requests),
        "retries": retries,
        "retries_per_request": _ratio(retries, requests),
    }


def totals(ops: pd.DataFrame) -> dict:
    """Sums over the non-composite rows: requests, failures, throttled and other failures, req/s, retries, ratios."""
    real = ops[~ops["composite"]]
    requests, failures, throttled = (int(real[column].sum()) for column in ("requests", "failures", "throttled_requests"))
    retries = real["retries"].sum(min_count=1) if len(real) else np.nan
    return {
        "requests": requests,
        "failures": failures,
        "throttled_requests": throttled,
        "other_failures": failures - throttled,
        "requests_per_s": float(real["requests_per_s"].sum()),
        "error_ratio": _ratio(failures, requests),
        "throttle_ratio": _ratio(throttled, requests),
        "retries": retries,
        "retries_per_request": _ratio(retries, requests),
    }


def failure_table(data: RunData) -> pd.DataFrame:
    """locust_failures.csv rows: type, name, outcome, error, occurrences; throttled ones first."""
    failures = data.failures[["type", "name", "outcome", "error", "occurrences"]].copy()
    failures["order"] = failures["outcome"] != THROTTLED
    return failures.sort_values(["order", "name", "type", "occurrences"], ascending=[True, True, True, False]).drop(columns="order")


def throughput_over_time(data: RunData, start: float) -> pd.DataFrame:
    """Requests/s and failures/s per step over time: second (since start), type, name, requests_per_s, failures_per_s.

    Counted from the history's cumulative totals. The totals move when Locust hears of new requests:
    every second standalone, at each worker report on a master. Each increase is spread evenly over
    the seconds since the previous one (at most two reporting intervals, so a stall still shows as zero).
    """
    history = data.history.dropna(subset=["timestamp", "total_requests"])
    steps = history[history["type"] != ""]
    if steps.empty:
        return pd.DataFrame(columns=["second", "type", "name", "requests_per_s", "failures_per_s"])
    interval = update_interval(data)
    seconds = np.arange(int(start), int(history["timestamp"].max()) + 1)
    clock = _report_clock(history, seconds)
    frames = []
    for (kind, name), rows in steps.groupby(["type", "name"], sort=False):
        rows = rows.drop_duplicates("timestamp", keep="last").set_index("timestamp")
        cumulative = rows[["total_requests", "total_failures"]].reindex(seconds).ffill().fillna(0).to_numpy()
        rates = _spread(cumulative, clock, interval)
        frames.append(pd.DataFrame({
            "second": seconds - start, "type": kind, "name": name, "requests_per_s": rates[:, 0], "failures_per_s": rates[:, 1],
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def failure_periods(throughput: pd.DataFrame) -> pd.DataFrame:
    """When each step failed: type, name, first and last second (since start) with failures, failing seconds, failures.

    Read from the per-second series of throughput_over_time, so the times are as exact as Locust's
    history (to the second standalone, to a worker report interval on a master).
    """
    columns = ["type", "name", "first_second", "last_second", "failing_seconds", "failures"]
    failing = throughput[throughput["failures_per_s"] > 0] if len(throughput) else throughput
    if failing.empty:
        return pd.DataFrame(columns=columns)
    grouped = failing.groupby(["type", "name"], sort=False)
    periods = grouped.agg(first_second=("second", "min"), last_second=("second", "max"), failing_seconds=("second", "size"), failures=("failures_per_s", "sum"))
    return periods.reset_index().sort_values(["first_second", "type", "name"])[columns].reset_index(drop=True)


def _report_clock(history: pd.DataFrame, seconds: np.ndarray) -> np.ndarray:
    """Positions in `seconds` at which the Aggregated request count changed (when Locust heard of requests)."""
    total = history[history["type"] == ""].drop_duplicates("timestamp", keep="last").set_index("timestamp")["total_requests"]
    total = total.reindex(seconds).ffill().fillna(0)
    return np.flatnonzero(np.diff(total.to_numpy(), prepend=0.0) != 0)


def _spread(cumulative: np.ndarray, clock: np.ndarray, interval: int) -> np.ndarray:
    """Per-second rates from cumulative counts read at the positions of `clock`."""
    rates = np.zeros_like(cumulative, dtype=float)
    previous_position, previous = -1, np.zeros(cumulative.shape[1])
    for position in clock:
        gap = position - previous_position
        span = gap if gap <= 2 * interval else interval
        rates[position - span + 1 : position + 1] = (cumulative[position] - previous) / span
        previous_position, previous = position, cumulative[position]
    return rates


def update_interval(data: RunData) -> int:
    """Typical seconds between changes of the Aggregated request count (1 standalone; a master hears from workers every few)."""
    total = data.history[(data.history["type"] == "") & data.history["total_requests"].notna()].sort_values("timestamp")
    changed = total.loc[total["total_requests"].diff() > 0, "timestamp"]
    if len(changed) < 3:
        return 1
    return max(1, int(round(float(changed.diff().median()))))


def _ratio(part, whole) -> float:
    return float(part) / float(whole) if whole and part == part else float("nan")
